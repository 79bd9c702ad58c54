// Memory the kernels stream through once per token: the repacked weights, and the read-bandwidth
// probe that measures them. Buffers of 2 MiB or more are aligned to 2 MiB and advised onto
// transparent huge pages (Linux), so that a decode step's walk through gigabytes of weights does
// not miss the TLB every 4 KiB; smaller ones are aligned to a cache line.
#pragma once

#include <cstddef>
#include <cstdint>

namespace phirun {

// `bytes` (rounded up to 64) of uninitialized memory, released with free(); nullptr when the
// allocation fails. Only the whole 2 MiB pages inside it are advised: a tail is not rounded up,
// so no memory is resident beyond what is asked for.
uint8_t* allocate_stream_buffer(size_t bytes);

}  // namespace phirun
