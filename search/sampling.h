// Drawing a token from processed scores with phirun's own seeded generator.
#pragma once

#include <cstdint>
#include <span>

#include "search/random.h"

namespace phirun {

// An id drawn with probability softmax(scores)[id]; removed tokens (-infinity) are never drawn.
// One uniform number per draw, the probabilities walked in id order, all in double: the same
// seed and scores give the same id everywhere. Throws std::runtime_error when every token has
// been removed.
int32_t sample_from_scores(std::span<const float> scores, SeededRandom& random);

}  // namespace phirun
