// The signal handlers behind InterruptGuard: they only set an atomic flag (async-signal-safe).
#include "tools/interrupt_guard.h"

namespace phirun::cli {

namespace {

std::atomic<bool> g_interrupted{false};

void on_signal(int) { g_interrupted.store(true); }

void install(int signal, void (*handler)(int), struct sigaction& previous) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, &previous);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  g_interrupted.store(false);
  install(SIGINT, on_signal, previous_int_);
  install(SIGTERM, on_signal, previous_term_);
  install(SIGXFSZ, SIG_IGN, previous_xfsz_);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &previous_int_, nullptr);
  sigaction(SIGTERM, &previous_term_, nullptr);
  sigaction(SIGXFSZ, &previous_xfsz_, nullptr);
}

const std::atomic<bool>& InterruptGuard::interrupted() { return g_interrupted; }

}  // namespace phirun::cli
