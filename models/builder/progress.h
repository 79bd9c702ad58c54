// The build's progress bar as text: stage, a bar, tensors and megabytes done, elapsed time and an
// estimate of the time left. A pure function: the tool decides where and how often to draw it.
#pragma once

#include <string>

#include "models/builder/build.h"

namespace phirun::builder {

// e.g. "writing [##########----------] 136/272 tensors  45.1/91.3 MB  0.8 s, ~0.8 s left  blk.14.ffn_up.weight"
std::string format_progress(const BuildProgress& progress, int bar_width = 24);

// "91.3 MB", "1.21 GB", "512 KB"
std::string format_bytes(uint64_t bytes);

}  // namespace phirun::builder
