// Repacking of a model's matmul weights for the CPU kernels, matrix by matrix, releasing each
// original's pages as soon as its copy is made so that peak memory stays near one model.
#include "runtime/weight_preparation.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "kernels/cpu/cpu_ops.h"

namespace phirun {

namespace {

// The pages wholly inside [data, data + bytes) are dropped; later reads fault them back in from
// the page cache (the mapping is of the file, read-only), so this is safe even for a matrix
// still read elsewhere (a tied embedding).
void release_pages(const void* data, uint64_t bytes) {
  const auto page = uint64_t(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uint64_t>(data) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uint64_t>(data) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void prepare(MatrixView& view, std::vector<WeightBuffer>& storage) {
  WeightBuffer buffer;
  const MatrixView prepared = cpu_prepare_weight(view, buffer);
  if (!buffer) return;
  release_pages(view.data, uint64_t(view.rows) * *row_bytes(view.type, view.cols));
  view = prepared;
  storage.push_back(std::move(buffer));
}

}  // namespace

void prepare_weights_for_cpu(ModelWeights& weights, std::vector<WeightBuffer>& storage) {
  for (LayerWeights& layer : weights.layers)
    for (MatrixView* view : {&layer.wq, &layer.wk, &layer.wv, &layer.wqkv, &layer.wo, &layer.w_gate, &layer.w_up,
                             &layer.w_gate_up, &layer.w_down})
      if (view->data) prepare(*view, storage);  // a fused model has no separate Q, K, V, gate, up (and vice versa)
  // A tied embedding is looked up from the output head's packed copy: the file's is not kept.
  const bool tied = weights.output.data == weights.token_embedding.data;
  prepare(weights.output, storage);
  if (tied) weights.token_embedding = weights.output;
}

}  // namespace phirun
