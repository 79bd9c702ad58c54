// Search flags and the printing of a generation.
#include "tools/search_flags.h"

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "tokenizer/streaming_decoder.h"
#include "tools/stop_string_filter.h"

namespace phirun::cli {

void add_search_flags(CLI::App& app, SearchFlags& flags) {
  const char* group = "Search (defaults: the model's generation config, else onnxruntime-genai's)";
  app.add_option("--max-length", flags.max_length, "most tokens in all, prompt included (overrides -n)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24))
      ->group(group);
  app.add_option("--min-length", flags.min_length, "no end token before this many tokens, prompt included")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 24))
      ->group(group);
  app.add_flag("--do-sample", flags.do_sample, "sample instead of picking the most likely token")->group(group);
  app.add_option("--temperature", flags.temperature, "divide the scores by this before sampling (0: greedy)")
      ->group(group);
  app.add_option("--top-k", flags.top_k, "sample among the k most likely tokens (0: all)")->group(group);
  app.add_option("--top-p", flags.top_p, "sample among the most likely tokens holding this much probability, in (0, 1]")
      ->group(group);
  app.add_option("--repetition-penalty", flags.repetition_penalty,
                 "make tokens already in the text less likely (1: off; transformers' rule)")
      ->group(group);
  app.add_option("--no-repeat-ngram-size", flags.no_repeat_ngram_size, "never repeat an n-gram of this size (0: off)")
      ->group(group);
  app.add_option("--num-beams", flags.num_beams, "beam search with this many beams (1: none; up to 32)")->group(group);
  app.add_option("--num-return-sequences", flags.num_return_sequences,
                 "sequences to return: the best beams, or independent samples")
      ->group(group);
  app.add_option("--length-penalty", flags.length_penalty, "beam scores divide by length^this (> 0 favours long)")
      ->group(group);
  app.add_option("--early-stopping", flags.early_stopping,
                 "beam search stops once num_beams hypotheses are done (true) or when none can improve (false)")
      ->group(group);
  app.add_option("--seed", flags.seed, "random seed for sampling (-1: from the system)")->group(group);
  app.add_option("--stop", flags.stop_strings, "stop when the output holds this text (repeatable)")->group(group);
}

GeneratorParams generator_params(const Model& model, const ModelFlags& model_flags, const SearchFlags& flags,
                                 int64_t prompt_tokens, int64_t new_tokens, bool stop_at_end_tokens) {
  const int64_t trained = model.config().context_length;
  if (model_flags.context > trained)
    throw std::runtime_error("context length " + std::to_string(model_flags.context) +
                             " is out of range: this model was trained for " + std::to_string(trained) + " positions");
  const int64_t context = model_flags.context > 0 ? model_flags.context : std::min<int64_t>(trained, 4096);
  if (prompt_tokens >= context)
    throw std::runtime_error("the prompt has " + std::to_string(prompt_tokens) + " tokens but the context holds " +
                             std::to_string(context) + " (raise it with -c, up to the model's " +
                             std::to_string(trained) + ")");
  GeneratorParams params = default_generator_params(model);
  params.max_length = flags.max_length ? *flags.max_length : std::min(prompt_tokens + new_tokens, context);
  if (flags.min_length) params.min_length = *flags.min_length;
  if (flags.do_sample) params.do_sample = true;
  if (flags.temperature) params.temperature = *flags.temperature;
  if (flags.top_k) params.top_k = *flags.top_k;
  if (flags.top_p) params.top_p = *flags.top_p;
  if (flags.repetition_penalty) params.repetition_penalty = *flags.repetition_penalty;
  if (flags.no_repeat_ngram_size) params.no_repeat_ngram_size = *flags.no_repeat_ngram_size;
  if (flags.num_beams) params.num_beams = *flags.num_beams;
  if (flags.num_return_sequences) params.num_return_sequences = *flags.num_return_sequences;
  if (flags.length_penalty) params.length_penalty = *flags.length_penalty;
  if (flags.early_stopping) params.early_stopping = *flags.early_stopping;
  if (flags.seed) params.random_seed = *flags.seed;
  params.stop_strings = flags.stop_strings;
  if (!stop_at_end_tokens) {
    params.stop_token_ids.clear();
    params.stop_token_ids_given = true;
  }
  params.kv_type = session_options(model_flags).kv_type;
  params.activations = session_options(model_flags).activations;
  params.long_rope = session_options(model_flags).long_rope;
  return params;
}

namespace {

void write_out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

StopReason stop_reason_of(FinishReason reason) {
  switch (reason) {
    case FinishReason::EndToken:
      return StopReason::EndOfGeneration;
    case FinishReason::StopString:
      return StopReason::StopString;
    default:
      return StopReason::MaxTokens;
  }
}

std::string ids_text(std::span<const int32_t> ids) {
  std::string text;
  for (int32_t id : ids) text += (text.empty() ? "" : " ") + std::to_string(id);
  return text;
}

}  // namespace

void run_and_print(const Model& model, const GeneratorParams& params, const std::vector<int32_t>& prompt,
                   const OutputOptions& output) {
  using Clock = std::chrono::steady_clock;
  Generator generator(model, params);
  const Tokenizer& tokenizer = model.tokenizer();
  const auto stop_ids = generator.params().stop_token_ids;
  const bool streaming = generator.sequence_count() == 1 && generator.params().num_beams == 1;
  GenerateStats stats;
  stats.prompt_tokens = int64_t(prompt.size());

  const auto prompt_start = Clock::now();
  generator.append_tokens(prompt);
  generator.logits();  // the prompt's forward pass, timed on its own
  stats.prompt_seconds = std::chrono::duration<double>(Clock::now() - prompt_start).count();

  StreamingDecoder decoder(tokenizer);
  StopStringFilter filter(generator.params().stop_strings);
  const auto decode_start = Clock::now();
  int64_t steps = 0;
  while (!generator.is_done()) {
    generator.generate_next_token();
    ++steps;
    if (!streaming) continue;
    const int32_t id = generator.sequence(0).back();
    if (output.print_ids) {
      write_out((generator.sequence(0).size() == prompt.size() + 1 ? "" : " ") + std::to_string(id));
    } else if (std::find(stop_ids.begin(), stop_ids.end(), id) == stop_ids.end() && !filter.stopped()) {
      write_out(filter.push(decoder.push(id)));
    }
  }
  stats.decode_seconds = std::chrono::duration<double>(Clock::now() - decode_start).count();
  stats.decode_steps = std::max<int64_t>(0, steps - 1);
  stats.generated_tokens = steps;
  stats.stop_reason = stop_reason_of(generator.finish_reason(0));

  if (streaming) {
    write_out(output.print_ids ? "\n" : filter.push(decoder.flush()) + filter.flush() + "\n");
  } else {
    const bool beams = generator.params().num_beams > 1;
    for (int64_t i = 0; i < generator.sequence_count(); ++i) {
      const auto generated = generator.sequence(i).subspan(size_t(generator.prompt_length(i)));
      std::string text;
      if (output.print_ids) {
        text = ids_text(generated);
      } else {
        std::vector<int32_t> shown(generated.begin(), generated.end());
        if (!shown.empty() && std::find(stop_ids.begin(), stop_ids.end(), shown.back()) != stop_ids.end())
          shown.pop_back();
        StreamingDecoder whole(tokenizer);  // never half a character, even at a cut
        for (int32_t id : shown) text += whole.push(id);
        text += whole.flush();
        StopStringFilter cut(generator.params().stop_strings);
        text = cut.push(text) + cut.flush();
      }
      char header[96];
      if (beams)
        std::snprintf(header, sizeof header, "[%lld] score %.4f\n", static_cast<long long>(i + 1),
                      generator.sequence_score(i));
      else
        std::snprintf(header, sizeof header, "[%lld]\n", static_cast<long long>(i + 1));
      write_out(std::string(header) + text + "\n");
    }
  }
  std::fprintf(stderr, "phirun: %s\n", summary_line(stats).c_str());
}

}  // namespace phirun::cli
