// `phirun tokenize`: the token ids of a text (with --pieces, each id's piece), for debugging.
#include <cstdio>
#include <stdexcept>

#include "tools/cli_common.h"
#include "tools/commands.h"

namespace phirun::cli {

namespace {

// A piece shown between quotes with control and non-ASCII-safe bytes escaped, so every token is
// visible on one line (a lone byte of a multi-byte character shows as \xNN).
std::string printable(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\\')
      out += "\\\\";
    else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += char(c);
    }
  }
  return out;
}

}  // namespace

int tokenize_command(int argc, char** argv) {
  CLI::App app{"Print the token ids of a text.\nExample: phirun tokenize -p \"Hello world\" --pieces",
               "phirun tokenize"};
  ModelFlags model_flags;
  std::string prompt, prompt_file;
  bool pieces = false, no_special = false;
  app.add_option("-m,--model", model_flags.model_path,
                 "GGUF model file (default: SmolLM2-135M-Instruct from the cache)");
  app.add_option("-p,--prompt", prompt, "the text");
  app.add_option("-f,--file", prompt_file, "read the text from a file");
  app.add_flag("--pieces", pieces, "print each id with its piece, one per line");
  app.add_flag("--no-special", no_special, "treat special-token text as plain text");
  if (int code = parse_subcommand(app, argc, argv); code >= 0) return code;

  const std::string text = read_prompt(prompt, prompt_file);
  model_flags.threads = 1;
  const auto model = load_model(model_flags);
  const Tokenizer& tokenizer = model->tokenizer();
  const std::vector<int32_t> ids = tokenizer.encode(text, !no_special);
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (pieces) {
      out += std::to_string(ids[i]) + "\t'" + printable(tokenizer.token_bytes(ids[i])) + "'\n";
    } else {
      out += (i ? " " : "") + std::to_string(ids[i]);
    }
  }
  if (!pieces) out += "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fprintf(stderr, "phirun: %zu tokens\n", ids.size());
  return 0;
}

}  // namespace phirun::cli
