// Fuzz target: the C API's entry points for prompts and parameters, driven by the input as a
// script of calls on the tiny model (fuzz/corpus/fuzz_gguf/tiny-llama.gguf): search options by
// any name and value, stop tokens and strings, KV cache types, prompts as text, ids and chat
// messages, generation steps, logits, rewinds, sequence queries. Each call returns a status; a
// finding is a crash, a sanitizer report, a hang, a huge allocation, PHIRUN_ERROR_INTERNAL or a
// failure without a message.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "include/phirun/phirun.h"

namespace {

void check(phirun_status status) {
  if (status == PHIRUN_OK) return;
  if (status == PHIRUN_ERROR_INTERNAL || phirun_last_error()[0] == '\0') {
    std::fprintf(stderr, "fuzz finding: status %s, message '%s'\n", phirun_status_name(status), phirun_last_error());
    std::abort();
  }
}

const phirun_model* tiny_model() {
  static phirun_model* model = [] {
    phirun_model* loaded = nullptr;
    if (phirun_model_load(PHIRUN_SOURCE_DIR "/fuzz/corpus/fuzz_gguf/tiny-llama.gguf", 1, &loaded) != PHIRUN_OK) {
      std::fprintf(stderr, "cannot load the tiny model: %s\n", phirun_last_error());
      std::abort();
    }
    return loaded;
  }();
  return model;
}

constexpr const char* kOptionNames[] = {"max_length",
                                        "min_length",
                                        "do_sample",
                                        "top_k",
                                        "top_p",
                                        "temperature",
                                        "repetition_penalty",
                                        "no_repeat_ngram_size",
                                        "num_beams",
                                        "num_return_sequences",
                                        "length_penalty",
                                        "early_stopping",
                                        "diversity_penalty",
                                        "random_seed",
                                        "batch_size"};

double interesting_number(FuzzedDataProvider& input) {
  switch (input.ConsumeIntegralInRange(0, 3)) {
    case 0:
      return input.ConsumeIntegralInRange<int64_t>(-3, 200);
    case 1:
      return input.ConsumeFloatingPoint<double>();  // NaN, infinities, huge, tiny
    case 2:
      return input.ConsumeProbability<double>() * 4;
    default:
      return double(input.ConsumeIntegral<int64_t>());
  }
}

std::vector<int32_t> ids_from(FuzzedDataProvider& input) {
  std::vector<int32_t> ids(input.ConsumeIntegralInRange<size_t>(0, 12));
  for (int32_t& id : ids)
    id = input.ConsumeBool() ? input.ConsumeIntegralInRange<int32_t>(0, 300) : input.ConsumeIntegral<int32_t>();
  return ids;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const phirun_model* model = tiny_model();
  phirun_tokenizer* tokenizer = nullptr;
  phirun_generator_params* params = nullptr;
  phirun_generator* generator = nullptr;
  phirun_sequences* sequences = nullptr;
  check(phirun_tokenizer_create(model, &tokenizer));
  check(phirun_generator_params_create(model, &params));
  check(phirun_sequences_create(&sequences));
  check(phirun_generator_params_set_search_number(params, "max_length", 24));  // a fast run unless changed

  for (int step = 0; step < 64 && input.remaining_bytes() > 0; ++step) {
    switch (input.ConsumeIntegralInRange(0, 13)) {
      case 0: {
        const std::string name = input.ConsumeBool() ? kOptionNames[input.ConsumeIntegralInRange<size_t>(0, 14)]
                                                     : input.ConsumeRandomLengthString(24);
        const double value = interesting_number(input);
        // The tiny model's context is 128 tokens: max_length is refused past it.
        check(phirun_generator_params_set_search_number(params, name.c_str(), value));
        double read_back = 0;
        check(phirun_generator_params_get_search_number(params, name.c_str(), &read_back));
        break;
      }
      case 1: {
        const std::string name = input.ConsumeRandomLengthString(24);
        check(phirun_generator_params_set_search_bool(params, name.c_str(), input.ConsumeBool()));
        break;
      }
      case 2: {
        const std::vector<int32_t> ids = ids_from(input);
        check(phirun_generator_params_set_stop_token_ids(params, ids.data(), ids.size()));
        break;
      }
      case 3:
        check(phirun_generator_params_add_stop_string(params, input.ConsumeRandomLengthString(16).c_str()));
        break;
      case 4:
        check(phirun_generator_params_set_kv_cache_type(params, input.ConsumeRandomLengthString(8).c_str()));
        break;
      case 5:
        check(phirun_tokenizer_encode(tokenizer, input.ConsumeRandomLengthString(64).c_str(), sequences));
        break;
      case 6: {
        const std::vector<int32_t> ids = ids_from(input);
        char* text = nullptr;
        check(phirun_tokenizer_decode(tokenizer, ids.data(), ids.size(), &text));
        phirun_string_free(text);
        check(phirun_sequences_append(sequences, ids.data(), ids.size()));
        break;
      }
      case 7: {
        std::vector<std::string> roles, contents;
        const size_t count = input.ConsumeIntegralInRange<size_t>(0, 4);
        for (size_t m = 0; m < count; ++m) {
          roles.push_back(input.ConsumeRandomLengthString(12));
          contents.push_back(input.ConsumeRandomLengthString(48));
        }
        std::vector<const char*> role_ptrs, content_ptrs;
        for (size_t m = 0; m < count; ++m) {
          role_ptrs.push_back(roles[m].c_str());
          content_ptrs.push_back(contents[m].c_str());
        }
        char* text = nullptr;
        check(phirun_tokenizer_apply_chat_template(tokenizer, role_ptrs.data(), content_ptrs.data(), count,
                                                   input.ConsumeBool(), &text));
        phirun_string_free(text);
        break;
      }
      case 8:
        phirun_generator_free(generator);
        generator = nullptr;
        check(phirun_generator_create(model, params, &generator));
        break;
      case 9: {
        const std::vector<int32_t> ids = ids_from(input);
        check(phirun_generator_append_tokens(generator, ids.data(), ids.size()));
        break;
      }
      case 10:
        check(phirun_generator_append_token_sequences(generator, sequences));
        break;
      case 11: {
        const int steps = input.ConsumeIntegralInRange(1, 8);
        for (int s = 0; s < steps; ++s) check(phirun_generator_generate_next_token(generator));
        bool done = false;
        check(phirun_generator_is_done(generator, &done));
        break;
      }
      case 12: {
        float* logits = nullptr;
        size_t rows = 0, vocab = 0;
        check(phirun_generator_get_logits(generator, &logits, &rows, &vocab));
        if (logits && rows * vocab > 0) {
          logits[input.ConsumeIntegralInRange<size_t>(0, rows * vocab - 1)] = float(interesting_number(input));
          std::vector<float> copy(logits, logits + rows * vocab);
          check(
              phirun_generator_set_logits(generator, copy.data(), input.ConsumeBool() ? copy.size() : copy.size() / 2));
        }
        break;
      }
      default: {
        const size_t index = input.ConsumeIntegralInRange<size_t>(0, 8);
        check(phirun_generator_rewind_to(generator, input.ConsumeIntegralInRange<size_t>(0, 40)));
        const int32_t* ids = nullptr;
        size_t count = 0;
        check(phirun_generator_get_sequence(generator, index, &ids, &count));
        int32_t last = 0;
        check(phirun_generator_get_last_token(generator, index, &last));
        bool done = false;
        check(phirun_generator_sequence_is_done(generator, index, &done));
        float score = 0;
        check(phirun_generator_get_sequence_score(generator, index, &score));
        size_t n = 0;
        check(phirun_generator_sequence_count(generator, &n));
        const int32_t* sequence_ids = nullptr;
        check(phirun_sequences_get(sequences, index, &sequence_ids, &count));
        break;
      }
    }
  }
  phirun_generator_free(generator);
  phirun_sequences_free(sequences);
  phirun_generator_params_free(params);
  phirun_tokenizer_free(tokenizer);
  return 0;
}
