// What a fuzz target may see from phirun: std::runtime_error (the library's one kind of error
// for bad input). Any other exception escaping is a finding: the target aborts, so libFuzzer
// records the input, as it does for a crash, a hang or a huge allocation.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <typeinfo>

namespace phirun::fuzz {

template <typename Body>
void expect_only_runtime_errors(Body&& body) {
  try {
    body();
  } catch (const std::runtime_error&) {
    // the clear error that bad input must give
  } catch (const std::exception& error) {
    std::fprintf(stderr, "fuzz finding: %s escaped: %s\n", typeid(error).name(), error.what());
    std::abort();
  }
}

}  // namespace phirun::fuzz
