// What the C API's opaque handles hold, and the guard that turns every exception into a status
// and a per-thread message: nothing is thrown across the C boundary.
#pragma once

#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "include/phirun/phirun.h"
#include "runtime/generator.h"
#include "runtime/memory_budget.h"
#include "runtime/model.h"
#include "tokenizer/streaming_decoder.h"

struct phirun_model {
  std::shared_ptr<const phirun::Model> model;
};

struct phirun_tokenizer {
  std::shared_ptr<const phirun::Model> model;  // the tokenizer lives in the model
};

struct phirun_sequences {
  std::vector<std::vector<int32_t>> sequences;
};

struct phirun_stream_decoder {
  std::shared_ptr<const phirun::Model> model;
  phirun::StreamingDecoder decoder;
  std::string text;  // what the last call returned
};

struct phirun_generator_params {
  std::shared_ptr<const phirun::Model> model;
  phirun::GeneratorParams params;
};

struct phirun_generator {
  std::shared_ptr<const phirun::Model> model;
  std::unique_ptr<phirun::Generator> generator;
};

namespace phirun::api {

// An error with the status the C caller should see.
class ApiError : public std::runtime_error {
 public:
  ApiError(phirun_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  phirun_status status() const { return status_; }

 private:
  phirun_status status_;
};

void set_last_error(const std::string& message) noexcept;
void clear_last_error() noexcept;

// Runs `body`; any exception becomes a status and the thread's last error message.
// std::runtime_error from the library is an invalid argument unless wrapped in an ApiError.
template <typename Body>
phirun_status guarded(Body&& body) noexcept {
  try {
    body();
    clear_last_error();
    return PHIRUN_OK;
  } catch (const ApiError& error) {
    set_last_error(error.what());
    return error.status();
  } catch (const phirun::MemoryBudgetError& error) {
    set_last_error(error.what());
    return PHIRUN_ERROR_OUT_OF_MEMORY;
  } catch (const std::bad_alloc&) {
    set_last_error("out of memory");
    return PHIRUN_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& error) {
    set_last_error(error.what());
    return PHIRUN_ERROR_INVALID_ARGUMENT;
  } catch (...) {
    set_last_error("an unknown error");
    return PHIRUN_ERROR_INTERNAL;
  }
}

// Throws an invalid-argument ApiError naming `what` when `pointer` is NULL.
template <typename T>
T* require(T* pointer, const char* what) {
  if (!pointer) throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT, std::string(what) + " is NULL");
  return pointer;
}

}  // namespace phirun::api
