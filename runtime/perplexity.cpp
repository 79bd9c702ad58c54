// Perplexity and KL divergence, computed as llama-perplexity computes them so the numbers compare
// one to one: same chunks, same scored positions, same error estimates, same base-file format.
#include "runtime/perplexity.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "runtime/session.h"

namespace phirun {

namespace {

// llama.cpp stores each position's log-probabilities as 16-bit steps over the 16 nats below the
// most likely token: [f32 scale][f32 min_log_prob][n_vocab u16], padded to an even count.
int64_t row_words(int64_t n_vocab) { return 2 * ((n_vocab + 1) / 2) + 4; }

inline int nearest_int(float value) { return int(std::lround(value)); }

struct TokenScore {
  double nll = 0;
  int32_t argmax = 0;
};

// log-softmax of one row of logits: the negative log-likelihood of `token`, the argmax, and
// (when `compressed` is given) the row in llama.cpp's compressed form.
TokenScore score_row(const float* logits, int64_t n_vocab, int32_t token, uint16_t* compressed,
                     std::vector<double>* log_probs) {
  float max_logit = logits[0], min_logit = logits[0];
  int32_t argmax = 0;
  for (int64_t i = 1; i < n_vocab; ++i) {
    if (logits[i] > max_logit) {
      max_logit = logits[i];
      argmax = int32_t(i);
    }
    min_logit = std::min(min_logit, logits[i]);
  }
  double sum_exp = 0.0;
  for (int64_t i = 0; i < n_vocab; ++i) sum_exp += std::exp(double(logits[i]) - double(max_logit));
  const double log_sum_exp = std::log(sum_exp);
  if (log_probs) {
    log_probs->resize(size_t(n_vocab));
    for (int64_t i = 0; i < n_vocab; ++i) (*log_probs)[size_t(i)] = double(logits[i]) - max_logit - log_sum_exp;
  }
  if (compressed) {
    min_logit = std::max(min_logit, max_logit - 16.0f);
    const float scale = (max_logit - min_logit) / 65535.0f;
    const float min_log_prob = float(double(min_logit) - max_logit - log_sum_exp);
    std::memcpy(compressed, &scale, 4);
    std::memcpy(compressed + 2, &min_log_prob, 4);
    uint16_t* values = compressed + 4;
    for (int64_t i = 0; i < n_vocab; ++i)
      values[i] = scale > 0 && logits[i] > min_logit ? uint16_t(nearest_int((logits[i] - min_logit) / scale)) : 0;
    if (n_vocab % 2) values[n_vocab] = 0;
  }
  return {double(max_logit) + log_sum_exp - double(logits[token]), argmax};
}

struct KlSums {
  double nll = 0, nll2 = 0, nll_base = 0, nll_base2 = 0, nll_nll_base = 0;
  double kld = 0, kld2 = 0, p_diff = 0, p_diff2 = 0;
  int64_t same_top = 0, count = 0;
  std::vector<float> kld_values;
};

void add_kl(const std::vector<double>& log_probs, const uint16_t* base, int64_t n_vocab, int32_t token,
            const TokenScore& score, KlSums& sums) {
  float scale, min_log_prob;
  std::memcpy(&scale, base, 4);
  std::memcpy(&min_log_prob, base + 2, 4);
  const uint16_t* values = base + 4;
  const double nll_base = -(double(scale) * values[token] + min_log_prob);
  double kld = 0.0;
  int32_t argmax_base = 0;
  float best_base = 0.0f;
  for (int64_t i = 0; i < n_vocab; ++i) {
    const float log_p_base = scale * float(values[i]) + min_log_prob;
    if (i == 0 || log_p_base > best_base) {
      best_base = log_p_base;
      argmax_base = int32_t(i);
    }
    // Tokens below e^-16 of the base's top carry no resolution in the file: llama.cpp skips them.
    if (log_p_base > -16.0f) kld += std::exp(double(log_p_base)) * (double(log_p_base) - log_probs[size_t(i)]);
  }
  sums.nll += score.nll;
  sums.nll2 += score.nll * score.nll;
  sums.nll_base += nll_base;
  sums.nll_base2 += nll_base * nll_base;
  sums.nll_nll_base += score.nll * nll_base;
  sums.kld += kld;
  sums.kld2 += kld * kld;
  const double p_diff = std::exp(-score.nll) - std::exp(-nll_base);
  sums.p_diff += p_diff;
  sums.p_diff2 += p_diff * p_diff;
  sums.same_top += score.argmax == argmax_base;
  ++sums.count;
  sums.kld_values.push_back(float(kld));
}

// mean and its standard error, as llama-perplexity's mean_and_uncertainty.
std::pair<double, double> mean_and_error(double sum, double sum2, int64_t count) {
  if (count < 1) return {0.0, 0.0};
  const double mean = sum / double(count);
  const double variance = sum2 / double(count) - mean * mean;
  return {mean, variance > 0 && count > 10 ? std::sqrt(variance / double(count - 1)) : 0.0};
}

double percentile(std::vector<float>& sorted, double fraction) {
  if (sorted.empty()) return 0.0;
  const auto index = size_t(std::min<double>(double(sorted.size() - 1), fraction * double(sorted.size() - 1)));
  return sorted[index];
}

KlDivergence finish_kl(KlSums& sums) {
  KlDivergence result;
  const auto kld = mean_and_error(sums.kld, sums.kld2, sums.count);
  result.mean = kld.first;
  result.mean_error = kld.second;
  std::sort(sums.kld_values.begin(), sums.kld_values.end());
  result.median = percentile(sums.kld_values, 0.5);
  result.p90 = percentile(sums.kld_values, 0.9);
  result.p99 = percentile(sums.kld_values, 0.99);
  result.max = sums.kld_values.empty() ? 0.0 : sums.kld_values.back();
  const double n = double(sums.count);
  result.same_top = double(sums.same_top) / n;
  result.same_top_error = sums.count > 1 ? std::sqrt(result.same_top * (1 - result.same_top) / (n - 1)) : 0.0;
  result.delta_p_mean = sums.p_diff / n;
  result.delta_p_rms = std::sqrt(sums.p_diff2 / n);
  const auto log_ppl = mean_and_error(sums.nll, sums.nll2, sums.count);
  const auto log_ppl_base = mean_and_error(sums.nll_base, sums.nll_base2, sums.count);
  result.base_ppl = std::exp(log_ppl_base.first);
  result.base_ppl_error = result.base_ppl * log_ppl_base.second;
  const double covariance =
      sums.count < 10 ? 0.0 : (sums.nll_nll_base / n - (sums.nll / n) * (sums.nll_base / n)) / (n - 1);
  result.ln_ppl_ratio = log_ppl.first - log_ppl_base.first;
  result.ln_ppl_ratio_error = std::sqrt(
      std::max(0.0, log_ppl.second * log_ppl.second + log_ppl_base.second * log_ppl_base.second - 2.0 * covariance));
  return result;
}

// The base file: a header (magic, context, vocabulary, chunks, every chunk's tokens) then one
// compressed row per scored position.
struct BaseHeader {
  uint32_t context = 0;
  int32_t n_vocab = 0;
  int32_t n_chunks = 0;
};

class BaseReader {
 public:
  BaseReader(const std::string& path, int64_t context, int64_t n_vocab, const std::vector<int32_t>& tokens,
             int64_t& chunks)
      : path_(path), in_(path, std::ios::binary) {
    char magic[8];
    BaseHeader header;
    if (!in_.read(magic, 8) || std::memcmp(magic, "_logits_", 8) != 0)
      fail("not a log-probability file (llama-perplexity --kl-divergence-base format)");
    if (!in_.read(reinterpret_cast<char*>(&header.context), 4) ||
        !in_.read(reinterpret_cast<char*>(&header.n_vocab), 4) ||
        !in_.read(reinterpret_cast<char*>(&header.n_chunks), 4))
      fail("truncated header");
    if (int64_t(header.context) != context)
      fail("made with context " + std::to_string(header.context) + ", this run uses " + std::to_string(context));
    if (header.n_vocab != n_vocab)
      fail("made with a vocabulary of " + std::to_string(header.n_vocab) + ", this model has " +
           std::to_string(n_vocab));
    if (header.n_chunks <= 0 || int64_t(header.n_chunks) * context > int64_t(tokens.size()))
      fail("holds " + std::to_string(header.n_chunks) + " chunks, more than this text has");
    chunks = std::min<int64_t>(chunks, header.n_chunks);
    std::vector<int32_t> stored(size_t(int64_t(header.n_chunks) * context));
    if (!in_.read(reinterpret_cast<char*>(stored.data()), std::streamsize(stored.size() * 4))) fail("truncated tokens");
    if (!std::equal(stored.begin(), stored.end(), tokens.begin()))
      fail("was made from other tokens (another text or tokenizer)");
  }
  void read(std::vector<uint16_t>& rows) {
    if (!in_.read(reinterpret_cast<char*>(rows.data()), std::streamsize(rows.size() * 2))) fail("truncated log-probs");
  }

 private:
  [[noreturn]] void fail(const std::string& problem) { throw std::runtime_error(path_ + ": " + problem); }
  std::string path_;
  std::ifstream in_;
};

class BaseWriter {
 public:
  BaseWriter(const std::string& path, int64_t context, int64_t n_vocab, int64_t chunks,
             const std::vector<int32_t>& tokens)
      : path_(path), temporary_(path + ".tmp-" + std::to_string(::getpid())), out_(temporary_, std::ios::binary) {
    if (!out_) throw std::runtime_error(path + ": cannot create " + temporary_);
    const BaseHeader header{uint32_t(context), int32_t(n_vocab), int32_t(chunks)};
    out_.write("_logits_", 8);
    out_.write(reinterpret_cast<const char*>(&header.context), 4);
    out_.write(reinterpret_cast<const char*>(&header.n_vocab), 4);
    out_.write(reinterpret_cast<const char*>(&header.n_chunks), 4);
    out_.write(reinterpret_cast<const char*>(tokens.data()), std::streamsize(chunks * context * 4));
  }
  ~BaseWriter() {
    if (!committed_) {
      out_.close();
      std::remove(temporary_.c_str());
    }
  }
  void write(const std::vector<uint16_t>& rows) {
    out_.write(reinterpret_cast<const char*>(rows.data()), std::streamsize(rows.size() * 2));
  }
  void commit() {
    out_.close();
    if (!out_ || std::rename(temporary_.c_str(), path_.c_str()) != 0)
      throw std::runtime_error(path_ + ": could not write the log-probability file");
    committed_ = true;
  }

 private:
  std::string path_, temporary_;
  std::ofstream out_;
  bool committed_ = false;
};

}  // namespace

PerplexityResult compute_perplexity(const Model& model, const std::string& text, const std::string& text_name,
                                    const PerplexityOptions& options) {
  const Tokenizer& tokenizer = model.tokenizer();
  std::vector<int32_t> tokens;
  try {
    tokens = tokenizer.encode(text, /*parse_special=*/false);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(text_name + ": " + error.what());
  }
  const int64_t context = options.context;
  if (context < 2 || context > model.config().context_length)
    throw std::runtime_error("context " + std::to_string(context) + " is out of range (2 to the model's " +
                             std::to_string(model.config().context_length) + ")");
  if (int64_t(tokens.size()) < 2 * context)
    throw std::runtime_error(text_name + ": " + std::to_string(tokens.size()) +
                             " tokens; perplexity with a context of " + std::to_string(context) + " needs at least " +
                             std::to_string(2 * context));
  PerplexityResult result;
  result.text_tokens = int64_t(tokens.size());
  int64_t chunks = int64_t(tokens.size()) / context;
  if (options.max_chunks > 0) chunks = std::min(chunks, options.max_chunks);

  const int64_t n_vocab = model.config().vocab_size;
  const int64_t first = context / 2;
  const int64_t scored = context - 1 - first;  // positions first .. context-2 predict the next token
  std::unique_ptr<BaseReader> base_reader;
  std::unique_ptr<BaseWriter> base_writer;
  if (!options.kld_base.empty()) {
    if (std::filesystem::exists(options.kld_base)) {
      base_reader = std::make_unique<BaseReader>(options.kld_base, context, n_vocab, tokens, chunks);
    } else {
      base_writer = std::make_unique<BaseWriter>(options.kld_base, context, n_vocab, chunks, tokens);
    }
  }
  const int32_t bos = tokenizer.vocab().bos_id;
  result.add_bos = tokenizer.vocab().add_bos && bos >= 0;

  SessionOptions session_options;
  session_options.context_length = context;
  session_options.kv_type = options.kv_type;
  session_options.activations = options.activations;
  Session session(model, session_options);
  const int64_t words = row_words(n_vocab);
  std::vector<uint16_t> rows(size_t(scored * words));
  std::vector<TokenScore> scores(static_cast<size_t>(scored));
  std::vector<std::vector<double>> log_probs(static_cast<size_t>(scored));
  double nll = 0.0, nll2 = 0.0;
  int64_t count = 0;
  KlSums kl;
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    if (options.cancel && options.cancel->load()) throw std::runtime_error("perplexity interrupted");
    std::vector<int32_t> window(tokens.begin() + chunk * context, tokens.begin() + (chunk + 1) * context);
    if (result.add_bos) window[0] = bos;
    session.rewind_to(0);
    // The first half only fills the cache; logits are needed from position `first` on.
    session.append(std::span<const int32_t>(window).first(size_t(first)));
    const std::vector<float> logits =
        session.append_all_logits(std::span<const int32_t>(window).subspan(size_t(first)));
    if (base_reader) base_reader->read(rows);
    model.thread_pool().parallel_for(scored, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const float* row = logits.data() + i * n_vocab;
        const int32_t next = window[size_t(first + i + 1)];
        scores[size_t(i)] = score_row(row, n_vocab, next, base_writer ? rows.data() + i * words : nullptr,
                                      base_reader ? &log_probs[size_t(i)] : nullptr);
      }
    });
    for (int64_t i = 0; i < scored; ++i) {
      nll += scores[size_t(i)].nll;
      nll2 += scores[size_t(i)].nll * scores[size_t(i)].nll;
      if (base_reader)
        add_kl(log_probs[size_t(i)], rows.data() + i * words, n_vocab, window[size_t(first + i + 1)], scores[size_t(i)],
               kl);
    }
    if (base_writer) base_writer->write(rows);
    count += scored;
    if (options.on_chunk) options.on_chunk(chunk + 1, chunks, std::exp(nll / double(count)));
  }
  if (base_writer) {
    base_writer->commit();
    result.wrote_base = true;
  }
  result.chunks = chunks;
  result.scored_tokens = count;
  const double mean = nll / double(count);
  result.ppl = std::exp(mean);
  const double variance = nll2 / double(count) - mean * mean;
  result.ppl_error = variance > 0 ? std::sqrt(variance / double(count - 1)) * result.ppl : 0.0;
  if (base_reader) result.kld = finish_kl(kl);
  return result;
}

}  // namespace phirun
