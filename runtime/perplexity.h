// Perplexity of a model on a text with llama.cpp's method: the text is tokenized once (BOS first
// when the model adds one, special-token text kept as plain text), cut into non-overlapping chunks
// of `context` tokens, each run from an empty cache with BOS in place of its first token when the
// model adds one, and only the second half of each chunk is scored. Optionally the per-token
// log-probabilities are saved to, or compared with, a base file in llama-perplexity's
// --kl-divergence-base format, giving KL divergence, top-1 agreement and Δp against the base.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "kernels/ops.h"
#include "runtime/model.h"

namespace phirun {

struct PerplexityOptions {
  int64_t context = 512;
  int64_t max_chunks = 0;  // 0: every whole chunk
  TensorType kv_type = TensorType::F16;
  // Activations of integer-weight matmuls (--accuracy): int16 as generation does by default; float
  // separates a quantized file's own loss from the activation path's.
  ActivationPrecision activations = ActivationPrecision::Int16;
  // A base file: compared against when it exists, written when it does not.
  std::string kld_base;
  std::function<void(int64_t chunk, int64_t chunks, double running_ppl)> on_chunk;
  const std::atomic<bool>* cancel = nullptr;
};

struct KlDivergence {
  double mean = 0, mean_error = 0;  // nats per token
  double median = 0, p90 = 0, p99 = 0, max = 0;
  double same_top = 0, same_top_error = 0;   // fraction of tokens whose argmax agrees with the base's
  double delta_p_mean = 0, delta_p_rms = 0;  // p(token) minus the base's, over scored tokens
  double base_ppl = 0, base_ppl_error = 0;
  double ln_ppl_ratio = 0, ln_ppl_ratio_error = 0;  // ln(PPL / PPL(base))
};

struct PerplexityResult {
  double ppl = 0, ppl_error = 0;
  int64_t text_tokens = 0;
  int64_t chunks = 0;
  int64_t scored_tokens = 0;
  bool add_bos = false;
  bool wrote_base = false;  // kld_base did not exist and was written
  std::optional<KlDivergence> kld;
};

// `text_name` names the text in errors. Throws std::runtime_error for a text shorter than two
// chunks (as llama.cpp), a context past the model's, or a base file that is malformed or was
// made from other tokens, another vocabulary or another context.
PerplexityResult compute_perplexity(const Model& model, const std::string& text, const std::string& text_name,
                                    const PerplexityOptions& options);

}  // namespace phirun
