// Weight preparation at load: every matmul weight of a model repacked once into the CPU kernels'
// layout (when a SIMD variant is active), the file pages of the originals then dropped from the
// process's resident memory so that the model is not held twice.
#pragma once

#include <vector>

#include "models/model_config.h"

namespace phirun {

// Replaces the matmul views of `weights` by prepared ones whose bytes live in `storage`. The
// token embedding keeps the file's layout (rows are looked up, not multiplied), unless it is tied
// to the output head: then both use the head's packed copy.
void prepare_weights_for_cpu(ModelWeights& weights, std::vector<WeightBuffer>& storage);

}  // namespace phirun
