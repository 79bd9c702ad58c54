// The phirun binary: dispatches to a subcommand and turns any error into one line on stderr.
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string_view>

#include "runtime/build_info.h"
#include "tools/commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
  const char* example;
};

constexpr Command kCommands[] = {
    {"chat", phirun::cli::chat_command, "chat with the model (its own chat template), or answer one question with -p",
     "phirun chat -p \"What is the capital of France?\""},
    {"generate", phirun::cli::generate_command, "continue a text", "phirun generate -p \"Once upon a time\" -n 64"},
    {"tokenize", phirun::cli::tokenize_command, "print the token ids of a text",
     "phirun tokenize -p \"Hello world\" --pieces"},
    {"info", phirun::cli::info_command, "describe a GGUF model file",
     "phirun info ~/.cache/phirun/models/SmolLM2-135M-Instruct.Q4_1.gguf"},
    {"bench", phirun::cli::bench_command, "measure prompt and decode speed",
     "phirun bench -m model.gguf -p 512 -n 128 -t 1,2 -r 5"},
    {"build", phirun::cli::build_command, "build a GGUF model from a Hugging Face folder or a GGUF file",
     "phirun build -i SmolLM2-135M-Instruct/ -o smollm2-int4.gguf -p int4"},
    {"perplexity", phirun::cli::perplexity_command, "perplexity (and KL divergence) of a model on a text",
     "phirun perplexity -m smollm2-int4.gguf -f wiki.test.raw -c 512"},
};

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "phirun %s: inference for small language models\n\n"
               "usage: phirun COMMAND [options]   (phirun COMMAND --help for its options)\n\ncommands:\n",
               phirun::build_version());
  for (const Command& command : kCommands)
    std::fprintf(out, "  %-10s %s\n             %s\n", command.name, command.summary, command.example);
  std::fprintf(out,
               "\nWithout -m, phirun uses its default model, SmolLM2-135M-Instruct (fetch it with "
               "scripts/fetch-model.sh).\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stdout);
    return 0;
  }
  const std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  if (name == "--version") {
    std::printf("phirun %s (commit %s)\n", phirun::build_version(), phirun::build_commit());
    return 0;
  }
  for (const Command& command : kCommands) {
    if (name != command.name) continue;
    try {
      // The subcommand sees its own name as argv[0].
      return command.run(argc - 1, argv + 1);
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "phirun: error: out of memory\n");
    } catch (const std::exception& error) {
      std::fprintf(stderr, "phirun: error: %s\n", error.what());
    }
    return 1;
  }
  std::fprintf(stderr, "phirun: unknown command '%s'\n\n", argv[1]);
  print_usage(stderr);
  return 2;
}
