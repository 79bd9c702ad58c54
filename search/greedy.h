// Greedy search: the id of the largest logit. Ties go to the lowest id, as torch.argmax does.
#pragma once

#include <cstdint>
#include <span>

namespace phirun {

int32_t argmax(std::span<const float> logits);

}  // namespace phirun
