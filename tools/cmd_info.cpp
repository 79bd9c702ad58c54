// `phirun info MODEL`: what a GGUF file holds, read from its metadata and tensor table alone,
// so it also describes files whose architecture phirun cannot run.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/thread_pool.h"
#if defined(PHIRUN_HAVE_CUDA)
#include "kernels/cuda/device.h"
#endif
#include "runtime/gguf.h"
#include "tokenizer/chat_template.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace phirun::cli {

namespace {

std::string human_bytes(uint64_t bytes) {
  char text[32];
  if (bytes >= (1ull << 30))
    std::snprintf(text, sizeof text, "%.2f GiB", double(bytes) / double(1ull << 30));
  else if (bytes >= (1ull << 20))
    std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / double(1ull << 20));
  else if (bytes >= (1ull << 10))
    std::snprintf(text, sizeof text, "%.1f KiB", double(bytes) / double(1ull << 10));
  else
    std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  return text;
}

std::string special_token(const GgufFile& file, const char* key) {
  const std::optional<uint64_t> id = file.find_uint(key);
  if (!id) return "";
  std::string text = std::to_string(*id);
  const GgufValue* tokens = file.find("tokenizer.ggml.tokens");
  if (tokens && *id < tokens->string_items.size())
    text += " '" + tokens->string_items[*id] + "'";
  else
    text += " (outside the vocabulary)";
  return text;
}

// `phirun info --system`: the CPU, the features detected and the kernel variant chosen.
int print_system() {
  std::string cpu_name = "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0 || line.rfind("Model name", 0) == 0) {
      cpu_name = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::printf("cpu:            %s\n", cpu_name.c_str());
  std::printf("cores:          %d physical, %u logical\n", ThreadPool::physical_core_count(),
              std::thread::hardware_concurrency());
  std::printf("features:       %s\n", detected_cpu_features().c_str());
  std::string variants;
  for (Isa isa : supported_isas()) variants += (variants.empty() ? "" : " ") + std::string(isa_name(isa));
  std::printf("kernel variants: %s\n", variants.c_str());
  const char* forced = std::getenv("PHIRUN_ISA");
  std::printf("chosen:         %s%s\n", std::string(isa_name(active_isa())).c_str(),
              forced && *forced ? " (forced by PHIRUN_ISA)" : " (the most capable supported)");
#if defined(PHIRUN_HAVE_CUDA)
  std::string why_none;
  const std::vector<CudaDeviceInfo> devices = cuda_devices(&why_none);
  if (devices.empty()) std::printf("cuda devices:   none found (%s)\n", why_none.c_str());
  for (const CudaDeviceInfo& device : devices)
    std::printf("cuda:%d          %s, compute %d.%d, %s, %d multiprocessors\n", device.index, device.name.c_str(),
                device.compute_major, device.compute_minor, human_bytes(device.memory_bytes).c_str(),
                device.multiprocessors);
#else
  std::printf("cuda devices:   built without CUDA (configure with -DPHIRUN_CUDA=ON)\n");
#endif
  return 0;
}

}  // namespace

int info_command(int argc, char** argv) {
  CLI::App app{
      "Describe a GGUF model file.\n"
      "Example: phirun info ~/.cache/phirun/models/SmolLM2-135M-Instruct.Q4_1.gguf   (or: phirun info --system)",
      "phirun info"};
  ModelFlags flags;
  std::string positional;
  app.add_option("MODEL", positional, "GGUF model file (default: SmolLM2-135M-Instruct from the cache)");
  app.add_option("-m,--model", flags.model_path, "GGUF model file (same as MODEL)");
  bool system = false;
  app.add_flag("--system", system, "describe this machine's CPU and the kernel variant chosen instead");
  if (int code = parse_subcommand(app, argc, argv); code >= 0) return code;
  if (system) return print_system();
  if (!positional.empty() && !flags.model_path.empty()) throw std::runtime_error("give the model once: MODEL or -m");
  if (!positional.empty()) flags.model_path = positional;

  const GgufFile file = GgufFile::open(resolve_model_path(flags));
  const std::string architecture = file.find_string("general.architecture").value_or("(not set)");
  const std::string prefix = architecture + ".";
  uint64_t parameters = 0;
  struct TypeUse {
    uint64_t tensors = 0, elements = 0, bytes = 0;
  };
  std::map<std::string, TypeUse> by_type;
  for (const GgufTensor& tensor : file.tensors()) {
    parameters += tensor.n_elements;
    TypeUse& use = by_type[std::string(type_name(tensor.type))];
    ++use.tensors;
    use.elements += tensor.n_elements;
    use.bytes += tensor.n_bytes;
  }

  std::printf("file:           %s (%s, GGUF v%u)\n", file.path().c_str(), human_bytes(file.file_size()).c_str(),
              file.version());
  if (auto name = file.find_string("general.name")) std::printf("name:           %s\n", name->c_str());
  std::printf("architecture:   %s\n", architecture.c_str());
  std::printf("parameters:     %llu (%.1f M)\n", static_cast<unsigned long long>(parameters), double(parameters) / 1e6);
  if (auto layers = file.find_uint(prefix + "block_count"))
    std::printf("layers:         %llu\n", static_cast<unsigned long long>(*layers));
  if (auto width = file.find_uint(prefix + "embedding_length"))
    std::printf("hidden size:    %llu\n", static_cast<unsigned long long>(*width));
  if (auto heads = file.find_uint(prefix + "attention.head_count"))
    std::printf("heads:          %llu (KV heads: %llu)\n", static_cast<unsigned long long>(*heads),
                static_cast<unsigned long long>(file.find_uint(prefix + "attention.head_count_kv").value_or(*heads)));
  if (auto context = file.find_uint(prefix + "context_length"))
    std::printf("context length: %llu\n", static_cast<unsigned long long>(*context));
  std::printf("tensors:        %zu\n", file.tensors().size());
  for (const auto& [type, use] : by_type)
    std::printf("  %-5s %4llu tensors, %12llu weights, %s (%.2f bits per weight)\n", type.c_str(),
                static_cast<unsigned long long>(use.tensors), static_cast<unsigned long long>(use.elements),
                human_bytes(use.bytes).c_str(), use.elements ? 8.0 * double(use.bytes) / double(use.elements) : 0.0);

  const GgufValue* tokens = file.find("tokenizer.ggml.tokens");
  std::printf("tokenizer:      %s (pre-tokenizer %s), %zu tokens, %zu merges\n",
              file.find_string("tokenizer.ggml.model").value_or("(none)").c_str(),
              file.find_string("tokenizer.ggml.pre").value_or("(none)").c_str(),
              tokens ? tokens->string_items.size() : size_t(0),
              file.find("tokenizer.ggml.merges") ? file.find("tokenizer.ggml.merges")->string_items.size() : size_t(0));
  for (const auto& [label, key] : {std::pair{"bos", "tokenizer.ggml.bos_token_id"},
                                   {"eos", "tokenizer.ggml.eos_token_id"},
                                   {"eot", "tokenizer.ggml.eot_token_id"},
                                   {"unknown", "tokenizer.ggml.unknown_token_id"},
                                   {"padding", "tokenizer.ggml.padding_token_id"}}) {
    const std::string text = special_token(file, key);
    if (!text.empty()) std::printf("  %-8s %s\n", label, text.c_str());
  }
  if (auto add_bos = file.find_bool("tokenizer.ggml.add_bos_token"))
    std::printf("  adds BOS: %s\n", *add_bos ? "yes" : "no");
  const std::string chat_template = file.find_string("tokenizer.chat_template").value_or("");
  if (chat_template.empty()) {
    std::printf("chat template:  none\n");
  } else {
    std::printf("chat template:  present (%zu bytes, %s)\n", chat_template.size(),
                chat_template_status(chat_template).c_str());
  }
  return 0;
}

}  // namespace phirun::cli
