// Asks the model one question through its own chat template and streams the answer, with the
// C++ API (RAII handles, exceptions): phirun::api in brief.
//   chat MODEL.gguf "What is the capital of France?" [--sample]
#include <chrono>
#include <cstring>
#include <iostream>
#include <phirun/phirun.hpp>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " MODEL.gguf QUESTION [--sample]\n";
    return 2;
  }
  try {
    phirun::api::Model model(argv[1]);
    phirun::api::Tokenizer tokenizer(model);
    const std::string prompt = tokenizer.apply_chat_template({{"user", argv[2]}});
    const std::vector<int32_t> prompt_ids = tokenizer.encode(prompt);

    phirun::api::GeneratorParams params(model);
    params.set("max_length", int64_t(prompt_ids.size()) + 256);
    if (argc > 3 && std::strcmp(argv[3], "--sample") == 0) {
      params.set("do_sample", true).set("temperature", 0.7).set("top_p", 0.9).set("random_seed", 42);
    }
    phirun::api::Generator generator(model, params);
    phirun::api::StreamDecoder stream(tokenizer);

    const auto start = std::chrono::steady_clock::now();
    generator.append_tokens(prompt_ids);
    size_t generated = 0;
    while (!generator.is_done()) {
      generator.generate_next_token();
      ++generated;
      // The end token is a control token: the stream decoder leaves it out.
      std::cout << stream.decode(generator.last_token()) << std::flush;
    }
    std::cout << stream.flush() << std::endl;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << generated << " tokens in " << seconds << " s: " << double(generated) / seconds
              << " tokens/s (prompt of " << prompt_ids.size() << " tokens included)\n";
  } catch (const phirun::api::Error& error) {
    std::cerr << "error (" << phirun_status_name(error.status()) << "): " << error.what() << "\n";
    return 1;
  }
  return 0;
}
