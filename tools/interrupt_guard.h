// Ctrl-C (SIGINT) and SIGTERM as a flag that long commands poll, so they stop cleanly: a build
// leaves no half-written file, a benchmark keeps the results measured so far.
#pragma once

#include <atomic>
#include <csignal>

namespace phirun::cli {

// Installs the handlers for the guard's lifetime, restoring the previous ones after. SIGXFSZ (a
// file-size limit reached) is ignored so that write() fails with an error the command reports
// and cleans up after, as it does for a full disk, instead of killing the process.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // Set by the handler; stays set until the next guard is made.
  static const std::atomic<bool>& interrupted();

 private:
  struct sigaction previous_int_ = {}, previous_term_ = {}, previous_xfsz_ = {};
};

}  // namespace phirun::cli
