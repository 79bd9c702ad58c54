// The calibration pass: the model's own forward pass over chunks of the text, with an op set that
// forwards every call to the CPU ops and, on each matmul, adds the squares of the activation rows
// into the statistics of the weight being multiplied (found by its data pointer).
#include "models/builder/calibration.h"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "kernels/cpu/cpu_ops.h"
#include "models/llama.h"

namespace phirun::builder {

namespace {

class RecordingOps final : public Ops {
 public:
  // The loader repacks matmul weights for the kernels, so a matrix is known by its view's data
  // pointer in the model's weights, named after the GGUF tensor it came from.
  RecordingOps(Ops& inner, const Model& model, ThreadPool& pool, const CalibrationOptions& options)
      : inner_(inner), pool_(pool), options_(options) {
    const ModelWeights& weights = model.weights();
    for (size_t l = 0; l < weights.layers.size(); ++l) {
      const LayerWeights& layer = weights.layers[l];
      const std::string block = "blk." + std::to_string(l) + ".";
      const std::pair<const MatrixView*, const char*> named[] = {
          {&layer.wq, "attn_q"},     {&layer.wk, "attn_k"},        {&layer.wv, "attn_v"},
          {&layer.wqkv, "attn_qkv"}, {&layer.wo, "attn_output"},   {&layer.w_gate, "ffn_gate"},
          {&layer.w_up, "ffn_up"},   {&layer.w_gate_up, "ffn_up"}, {&layer.w_down, "ffn_down"}};
      for (const auto& [view, name] : named)
        if (view->data) names_[view->data] = block + name + ".weight";
    }
    // A tied head is the embedding tensor itself.
    names_[weights.output.data] = model.file().find("output.weight") ? "output.weight" : "token_embd.weight";
  }

  MatrixView prepare_weight(const MatrixView& weight, WeightBuffer& storage) override {
    return inner_.prepare_weight(weight, storage);
  }
  void embed(const MatrixView& table, std::span<const int32_t> ids, float* out) override {
    inner_.embed(table, ids, out);
  }
  void rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps, float* out) override {
    inner_.rms_norm(x, weight, n_rows, dim, eps, out);
  }
  void matmul(const MatrixView& weight, const float* x, int64_t n_rows, float* y) override {
    record(weight, x, n_rows);
    inner_.matmul(weight, x, n_rows, y);
  }
  void rope(float* x, int64_t n_rows, int64_t n_heads, int64_t head_dim, int64_t start_position,
            const RopeParams& params) override {
    inner_.rope(x, n_rows, n_heads, head_dim, start_position, params);
  }
  void store_kv(const KvLayerView& cache, const float* k, const float* v, int64_t n_rows,
                int64_t start_position) override {
    inner_.store_kv(cache, k, v, n_rows, start_position);
  }
  void attention(const float* q, int64_t n_rows, int64_t start_position, const KvLayerView& cache,
                 const AttentionParams& params, float* out) override {
    inner_.attention(q, n_rows, start_position, cache, params, out);
  }
  void swiglu(const float* gate, const float* up, int64_t n, float* out) override { inner_.swiglu(gate, up, n, out); }
  void geglu(const float* gate, const float* up, int64_t n, float* out) override { inner_.geglu(gate, up, n, out); }
  void add(float* x, const float* y, int64_t n) override { inner_.add(x, y, n); }

  ActivationStats finish() {
    ActivationStats stats;
    for (const auto& [name, sums] : sums_) {
      std::vector<float> means(sums.size());
      const double rows = double(rows_.at(name));
      for (size_t j = 0; j < sums.size(); ++j) means[j] = float(sums[j] / rows);
      stats.mean_squares[name] = std::move(means);
    }
    // Second moments: the lower triangle was accumulated; mirror it and divide by the rows.
    std::map<const SecondMoment*, std::shared_ptr<const std::vector<float>>> finished;
    for (const auto& [name, moment] : moments_) {
      auto& done = finished[moment.get()];
      if (!done) {
        const int64_t n = moment->cols;
        auto matrix = std::make_shared<std::vector<float>>(size_t(n * n));
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j <= i; ++j)
            (*matrix)[size_t(i * n + j)] = (*matrix)[size_t(j * n + i)] =
                float(double(moment->sums[size_t(i * n + j)]) / double(moment->rows));
        done = std::move(matrix);
      }
      stats.second_moments[name] = done;
    }
    return stats;
  }

 private:
  void record(const MatrixView& weight, const float* x, int64_t n_rows) {
    const auto found = names_.find(weight.data);
    if (found == names_.end()) return;
    std::vector<double>& sums = sums_[found->second];
    sums.resize(size_t(weight.cols), 0.0);
    for (int64_t t = 0; t < n_rows; ++t)
      for (int64_t j = 0; j < weight.cols; ++j) {
        const double value = x[t * weight.cols + j];
        sums[size_t(j)] += value * value;
      }
    rows_[found->second] += n_rows;
    if (options_.second_moments) record_second_moment(found->second, x, n_rows, weight.cols);
  }

  struct SecondMoment {
    int64_t cols = 0;
    int64_t rows = 0;
    std::vector<float> sums;  // lower triangle of sum x xᵀ, [cols][cols]
  };

  // Consecutive matmuls on the same activation pointer (Q, K, V; gate, up) see the same values:
  // they share one accumulator, updated once.
  void record_second_moment(const std::string& name, const float* x, int64_t n_rows, int64_t cols) {
    const bool same_input = x == last_input_ && n_rows == last_rows_ && last_moment_ && last_moment_->cols == cols;
    std::shared_ptr<SecondMoment>& moment = moments_[name];
    if (!moment) {
      if (same_input) {
        moment = last_moment_;
      } else {
        const uint64_t bytes = uint64_t(cols * cols) * sizeof(float);
        if (moment_bytes_ + bytes > options_.second_moment_budget_bytes) {
          moments_.erase(name);
          last_input_ = nullptr;
          return;
        }
        moment_bytes_ += bytes;
        moment = std::make_shared<SecondMoment>();
        moment->cols = cols;
        moment->sums.assign(size_t(cols * cols), 0.0f);
      }
    }
    if (!(same_input && moment == last_moment_)) accumulate(*moment, x, n_rows);
    last_input_ = x;
    last_rows_ = n_rows;
    last_moment_ = moment;
  }

  // sums += xᵀ x for this chunk's rows: the activations transposed so each entry is a dot product
  // of two contiguous columns, rows of the result split over the threads.
  void accumulate(SecondMoment& moment, const float* x, int64_t n_rows) {
    const int64_t cols = moment.cols;
    transposed_.resize(size_t(cols * n_rows));
    for (int64_t t = 0; t < n_rows; ++t)
      for (int64_t j = 0; j < cols; ++j) transposed_[size_t(j * n_rows + t)] = x[t * cols + j];
    // Row i of the lower triangle holds i + 1 entries: rows are dealt in pairs (i, cols - 1 - i)
    // so every thread gets the same amount of work.
    auto add_row = [&](int64_t i) {
      const float* a = transposed_.data() + i * n_rows;
      for (int64_t j = 0; j <= i; ++j)
        moment.sums[size_t(i * cols + j)] += dot_f32(a, transposed_.data() + j * n_rows, n_rows);
    };
    pool_.parallel_for((cols + 1) / 2, [&](int64_t begin, int64_t end) {
      for (int64_t pair = begin; pair < end; ++pair) {
        add_row(pair);
        if (cols - 1 - pair != pair) add_row(cols - 1 - pair);
      }
    });
    moment.rows += n_rows;
  }

  Ops& inner_;
  ThreadPool& pool_;
  const CalibrationOptions& options_;
  std::map<std::string, std::shared_ptr<SecondMoment>> moments_;
  const float* last_input_ = nullptr;
  int64_t last_rows_ = 0;
  std::shared_ptr<SecondMoment> last_moment_;
  uint64_t moment_bytes_ = 0;
  std::vector<float> transposed_;
  std::unordered_map<const void*, std::string> names_;
  std::map<std::string, std::vector<double>> sums_;
  std::map<std::string, int64_t> rows_;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the calibration text");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

ActivationStats collect_activation_stats(const Model& model, const std::string& text_path,
                                         const CalibrationOptions& options) {
  std::vector<int32_t> tokens;
  try {
    // As llama-imatrix: special-token text is plain text, BOS only if the model adds one.
    tokens = model.tokenizer().encode(read_text(text_path), /*parse_special=*/false);
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    throw std::runtime_error(message.starts_with(text_path) ? message : text_path + ": " + message);
  }
  const ModelConfig& config = model.config();
  const int64_t context = std::min(options.context, config.context_length);
  if (context < 2) throw std::runtime_error(text_path + ": calibration context must be at least 2 tokens");
  int64_t chunks = int64_t(tokens.size()) / context;
  if (chunks == 0)
    throw std::runtime_error(text_path + ": " + std::to_string(tokens.size()) + " tokens, fewer than one chunk of " +
                             std::to_string(context));
  if (options.max_chunks > 0) chunks = std::min(chunks, options.max_chunks);

  CpuOps cpu(model.thread_pool());
  RecordingOps ops(cpu, model, model.thread_pool(), options);
  LlamaForward forward(config, model.weights(), ops);
  // An F32 cache: calibration measures the model as exactly as it can.
  const uint64_t half_layer = uint64_t(config.n_kv_heads * context * config.head_dim);
  std::vector<float> cache(2 * half_layer * uint64_t(config.n_layers));
  std::vector<KvLayerView> layers;
  for (int64_t l = 0; l < config.n_layers; ++l) {
    float* base = cache.data() + 2 * half_layer * uint64_t(l);
    layers.push_back({TensorType::F32, config.n_kv_heads, context, config.head_dim, base, base + half_layer});
  }
  std::vector<float> logits(size_t(context * config.vocab_size));
  const int32_t bos = model.tokenizer().vocab().bos_id;
  const bool add_bos = model.tokenizer().vocab().add_bos && bos >= 0;
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    if (options.cancel && options.cancel->load()) throw std::runtime_error("interrupted");
    std::vector<int32_t> window(tokens.begin() + chunk * context, tokens.begin() + (chunk + 1) * context);
    if (add_bos) window[0] = bos;
    // Every token's logits: the output head's input statistics come from every position too.
    forward.forward(window, 0, layers, LogitsFor::EveryToken, logits.data());
    if (options.on_chunk) options.on_chunk(chunk + 1, chunks);
  }
  ActivationStats stats = ops.finish();
  stats.tokens = chunks * context;
  stats.chunks = chunks;
  return stats;
}

}  // namespace phirun::builder
