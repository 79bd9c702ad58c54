// The builds of `phirun bench --precisions`, cached in --out under a key made of everything that
// changes the bytes built: the input's contents, the phirun commit, and every builder option
// (precision, INT4 block type, embedding and head precision, calibration text and settings,
// quantizer search). A changed option never reuses a stale build.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "models/builder/build.h"

namespace phirun::cli {

// A --precisions name: the builder policy it means, and its rank (the highest-ranked name asked
// for is the KL divergence reference). int4 is the builder's default INT4 block, q4_0.
struct BenchPrecision {
  const char* name;
  builder::Precision precision;
  TensorType int4_type;
  int rank;
};
const BenchPrecision* find_bench_precision(const std::string& name);  // nullptr when unknown

// The builder options shared by every precision of one bench run (the flags of `phirun build`).
struct BenchBuildOptions {
  std::string input;
  std::string embed_precision, lm_head_precision;  // "" : the builder's default
  std::string calibration_text;                    // a file; "" : no calibration
  int64_t calibration_context = 512, calibration_chunks = 0;
  bool gptq = false;
  QuantSearch search;
  int threads = 0;
  uint64_t input_hash = 0, calibration_hash = 0;  // hash_input of each (0: no calibration)
};

// FNV-1a 64 over the bytes of `path` (a file, or every regular file of a folder in name order,
// with its relative name).
uint64_t hash_input(const std::string& path);

// The cache key text of one precision: "key=value;" for each option that changes the file.
std::string build_key(const BenchBuildOptions& options, const std::string& precision);

struct BuiltModel {
  std::string precision, path;
  int64_t parameters = 0;
  bool cached = false;
};

// The cached file of this key when it and its sidecar (holding the same key) exist, unless
// `rebuild`; else a fresh build. `on_tick` is called as the build goes (progress redraws).
BuiltModel build_cached(const BenchBuildOptions& options, const std::string& precision, const std::string& out_dir,
                        bool rebuild, const std::atomic<bool>* cancel, const std::function<void()>& on_tick);

}  // namespace phirun::cli
