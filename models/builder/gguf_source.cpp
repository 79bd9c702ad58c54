// A GGUF file as a build source (re-quantization): its metadata is kept, except the keys that
// describe its own precision, and each tensor is dequantized row by row from the mapping.
#include <memory>
#include <stdexcept>

#include "models/builder/model_source.h"
#include "runtime/gguf.h"
#include "runtime/model.h"

namespace phirun::builder {

namespace {

TensorRole role_of(const GgufTensor& tensor) {
  const std::string& name = tensor.name;
  if (name == "token_embd.weight") return TensorRole::TokenEmbedding;
  if (name == "output.weight") return TensorRole::OutputHead;
  if (name.starts_with("rope_factors")) return TensorRole::Constant;
  if (tensor.n_dims < 2) return TensorRole::Norm;
  if (name.find(".attn_") != std::string::npos) return TensorRole::Attention;
  return TensorRole::FeedForward;
}

}  // namespace

std::unique_ptr<ModelSource> open_gguf_file(const std::string& path) {
  auto file = std::make_shared<GgufFile>(GgufFile::open(path));
  // The architecture must be one phirun knows: its config check names the problem if not.
  (void)config_from_gguf(*file);
  auto source = std::make_unique<ModelSource>();
  source->input_path = path;
  source->input_bytes = file->file_size();
  for (const auto& [key, value] : file->metadata())
    if (key != "general.file_type" && key != "general.quantization_version" && key != "general.alignment")
      source->metadata.emplace_back(key, value);
  source->tied_embedding = file->find_tensor("output.weight") == nullptr;
  std::string types;
  for (const GgufTensor& stored : file->tensors()) {
    SourceTensor tensor;
    tensor.plan.name = stored.name;
    tensor.plan.dims.assign(stored.ne.begin(), stored.ne.begin() + stored.n_dims);
    tensor.plan.role = role_of(stored);
    tensor.source_type = stored.type;
    const std::string type(type_name(stored.type));
    if (types.find(type) == std::string::npos) types += (types.empty() ? "" : "/") + type;
    const GgufTensor* pointer = &stored;
    tensor.read_rows = [pointer](int64_t first, int64_t count, float* out) {
      const TypeTraits& traits = type_traits(pointer->type);
      const int64_t length = pointer->ne[0];
      const uint64_t row_bytes = uint64_t(length / traits.block_elements * traits.block_bytes);
      for (int64_t r = 0; r < count; ++r)
        traits.dequantize(pointer->data + uint64_t(first + r) * row_bytes, out + r * length, length);
    };
    source->tensors.push_back(std::move(tensor));
  }
  source->description = "GGUF file " + path + " (" + file->get_string("general.architecture") + ", " +
                        std::to_string(file->tensors().size()) + " tensors in " + types + ")";
  source->keep_alive = file;
  return source;
}

}  // namespace phirun::builder
