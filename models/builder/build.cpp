// The build pipeline: open the source, optionally calibrate, then stream every tensor through
// read -> quantize (threads split the rows) -> GGUF writer, reporting progress as it goes.
#include "models/builder/build.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "kernels/cpu/thread_pool.h"
#include "models/builder/calibration.h"
#include "models/builder/model_source.h"
#include "models/builder/pipeline.h"
#include "runtime/gguf.h"
#include "runtime/model.h"

namespace phirun::builder {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void check_cancel(const BuildOptions& options) {
  if (options.cancel && options.cancel->load()) throw std::runtime_error(options.output + ": build interrupted");
}

std::unique_ptr<ModelSource> open_source(const BuildOptions& options) {
  if (options.random_weights) {
    if (options.random_config.empty()) throw std::runtime_error("--random-weights needs --config config.json");
    return open_random_weights(options.random_config, options.random_tokenizer, options.seed);
  }
  if (options.input.empty()) throw std::runtime_error("no input: give -i FOLDER|FILE.gguf (or --random-weights)");
  if (!fs::exists(options.input)) throw std::runtime_error(options.input + ": no such file or folder");
  if (fs::is_directory(options.input)) return open_hf_folder(options.input);
  return open_gguf_file(options.input);
}

// Removes a file when it goes out of scope (the calibration copy of a model).
struct RemoveOnExit {
  std::string path;
  ~RemoveOnExit() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// Adds every job's tensor to the writer, its bytes coming from the pipeline unit by unit when the
// writer reaches it. `on_bytes(job, bytes, tensor_done)` reports progress.
void add_tensors(GgufWriter& writer, QuantizePipeline& pipeline, const std::vector<TensorJob>& jobs,
                 const BuildOptions& options, std::function<void(size_t, uint64_t, bool)> on_bytes) {
  for (size_t j = 0; j < jobs.size(); ++j) {
    const TensorPlan& plan = jobs[j].tensor->plan;
    const uint64_t n_bytes = *row_bytes(jobs[j].type, plan.row_length()) * uint64_t(plan.n_rows());
    // The producer runs later, inside writer.write(): it captures what outlives this call.
    writer.add_tensor(plan.name, jobs[j].type, plan.dims, n_bytes,
                      [&pipeline, &options, &jobs, on_bytes, j](const GgufWriter::TensorEmitter& emit) {
                        const size_t end = pipeline.first_unit(j + 1);
                        for (size_t unit = pipeline.first_unit(j); unit < end; ++unit) {
                          check_cancel(options);
                          const std::vector<uint8_t>& bytes = pipeline.wait(unit);
                          emit(bytes.data(), bytes.size());
                          on_bytes(j, bytes.size(), unit + 1 == end);
                          pipeline.release(unit);
                        }
                        if (jobs[j].tensor->release) jobs[j].tensor->release();
                      });
  }
}

// A copy of the source model in its own (exact) types, for the calibration pass to run.
void write_exact_copy(const ModelSource& source, const std::string& path, int threads, const BuildOptions& options) {
  GgufWriter writer;
  for (const auto& [key, value] : source.metadata) writer.set(key, value);
  std::vector<TensorJob> jobs;
  for (const SourceTensor& tensor : source.tensors)
    jobs.push_back({&tensor, tensor.plan.is_matrix() ? tensor.source_type : TensorType::F32, nullptr});
  QuantizePipeline pipeline(jobs, threads, options.search, options.cancel);
  add_tensors(writer, pipeline, jobs, options, [](size_t, uint64_t, bool) {});
  writer.write(path);
}

ActivationStats calibrate(const ModelSource& source, const BuildOptions& options, int threads,
                          Clock::time_point start) {
  RemoveOnExit copy;
  std::string model_path = source.input_path;
  const bool is_gguf = !source.input_path.empty() && !fs::is_directory(source.input_path);
  if (!is_gguf) {
    copy.path = options.output + ".calibration-" + std::to_string(::getpid()) + ".gguf";
    if (options.on_progress) options.on_progress({"preparing calibration", 0, 1, 0, 0, seconds_since(start), "", 0.0});
    write_exact_copy(source, copy.path, threads, options);
    model_path = copy.path;
  }
  LoadOptions load;
  load.n_threads = threads;
  std::unique_ptr<Model> model = Model::load(model_path, load);
  CalibrationOptions calibration;
  calibration.context = options.calibration_context;
  calibration.max_chunks = options.calibration_chunks;
  calibration.cancel = options.cancel;
  calibration.second_moments = options.gptq;
  const Clock::time_point calibration_start = Clock::now();
  calibration.on_chunk = [&](int64_t done, int64_t total) {
    if (options.on_progress)
      options.on_progress(
          {"calibrating", done, total, 0, 0, seconds_since(start), "", seconds_since(calibration_start)});
  };
  return collect_activation_stats(*model, options.calibration_text, calibration);
}

}  // namespace

void check_output_path(const std::string& input, const std::string& output, bool force) {
  if (output.empty()) throw std::runtime_error("no output: give -o FILE.gguf");
  const fs::path out(output);
  std::error_code error;
  if (!input.empty() && fs::exists(input) &&
      (fs::equivalent(input, out, error) || fs::weakly_canonical(input) == fs::weakly_canonical(out)))
    throw std::runtime_error(output + ": the output path is the input: choose another -o");
  if (fs::is_directory(out)) throw std::runtime_error(output + ": is a folder; -o names the .gguf file to write");
  if (fs::exists(out) && !force) throw std::runtime_error(output + ": exists (--force overwrites it)");
  const fs::path folder = out.has_parent_path() ? out.parent_path() : fs::path(".");
  if (!fs::is_directory(folder)) throw std::runtime_error(output + ": folder " + folder.string() + " does not exist");
  if (::access(folder.c_str(), W_OK) != 0)
    throw std::runtime_error(output + ": cannot write into folder " + folder.string() + ": " + std::strerror(errno));
}

BuildSummary build_model(const BuildOptions& options) {
  const Clock::time_point start = Clock::now();
  check_output_path(options.random_weights ? std::string() : options.input, options.output, options.force);
  std::unique_ptr<ModelSource> source = open_source(options);
  const int threads = options.threads > 0 ? options.threads : ThreadPool::physical_core_count();

  BuildSummary summary;
  summary.source = source->description;
  summary.input_bytes = source->input_bytes;
  ActivationStats stats;
  if (!options.calibration_cache.empty() && fs::exists(options.calibration_cache)) {
    stats = read_activation_stats(options.calibration_cache);
    summary.calibration_tokens = stats.tokens;
    // GPTQ needs each matmul's input Gram matrix, which only a --gptq calibration records: without
    // this check the build would quietly fall back to importance weights alone.
    if (options.gptq && stats.second_moments.empty())
      throw std::runtime_error(options.calibration_cache +
                               ": holds no second moments (written by a calibration without --gptq); GPTQ needs "
                               "them: give another --calib-cache, or delete this one to calibrate again");
  } else if (!options.calibration_text.empty()) {
    const Clock::time_point calibration_start = Clock::now();
    stats = calibrate(*source, options, threads, start);
    summary.calibration_seconds = seconds_since(calibration_start);
    summary.calibration_tokens = stats.tokens;
    if (!options.calibration_cache.empty()) write_activation_stats(stats, options.calibration_cache);
  }

  GgufWriter writer;
  for (const auto& [key, value] : source->metadata) writer.set(key, value);
  writer.set("general.file_type", GgufValue::of_u32(options.policy.file_type()));
  bool quantized = false;
  uint64_t bytes_total = 0;
  std::vector<TensorType> types;
  for (const SourceTensor& tensor : source->tensors) {
    const TensorType type = options.policy.type_for(tensor.plan, source->tied_embedding);
    const TensorType wanted = options.policy.type_of(options.policy.precision);
    if (tensor.plan.is_matrix() && type == TensorType::F16 && wanted != TensorType::F16 &&
        type_traits(wanted).block_elements > 1)
      summary.notes.push_back(tensor.plan.name + ": rows of " + std::to_string(tensor.plan.row_length()) +
                              " are not whole 32-blocks, written as F16");
    quantized |= type_traits(type).block_elements > 1;
    types.push_back(type);
    bytes_total += *row_bytes(type, tensor.plan.row_length()) * uint64_t(tensor.plan.n_rows());
    summary.parameters += tensor.plan.n_elements();
    summary.parameters_by_type[std::string(type_name(type))] += tensor.plan.n_elements();
  }
  if (quantized) writer.set("general.quantization_version", GgufValue::of_u32(2));
  writer.set("phirun.build.precision", GgufValue::of_string(std::string(precision_name(options.policy.precision))));
  if (summary.calibration_tokens > 0)
    writer.set("phirun.build.calibration",
               GgufValue::of_string(
                   fs::path(options.calibration_text.empty() ? options.calibration_cache : options.calibration_text)
                       .filename()
                       .string() +
                   ", " + std::to_string(stats.tokens) + " tokens"));

  std::vector<TensorJob> jobs;
  for (size_t i = 0; i < source->tensors.size(); ++i) {
    const SourceTensor& tensor = source->tensors[i];
    const int64_t cols = tensor.plan.row_length();
    const auto found = stats.mean_squares.find(tensor.plan.name);
    const bool usable = found != stats.mean_squares.end() && int64_t(found->second.size()) == cols;
    const auto moment = stats.second_moments.find(tensor.plan.name);
    const bool gptq =
        options.gptq && moment != stats.second_moments.end() && int64_t(moment->second->size()) == cols * cols;
    jobs.push_back(
        {&tensor, types[i], usable ? found->second.data() : nullptr, gptq ? moment->second->data() : nullptr});
  }
  BuildProgress progress{"writing", 0, int64_t(source->tensors.size()), 0, bytes_total, 0.0, "", 0.0};
  const Clock::time_point writing_start = Clock::now();
  QuantizePipeline pipeline(jobs, threads, options.search, options.cancel);
  add_tensors(writer, pipeline, jobs, options, [&](size_t job, uint64_t bytes, bool tensor_done) {
    progress.bytes_written += bytes;
    progress.current = jobs[job].tensor->plan.name;
    progress.done = int64_t(job) + (tensor_done ? 1 : 0);
    progress.elapsed_seconds = seconds_since(start);
    progress.stage_seconds = seconds_since(writing_start);
    if (options.on_progress) options.on_progress(progress);
  });
  writer.write(options.output);
  progress.done = progress.total;
  progress.elapsed_seconds = seconds_since(start);
  if (options.on_progress) options.on_progress(progress);
  summary.file_bytes = fs::file_size(options.output);
  summary.seconds = seconds_since(start);
  return summary;
}

}  // namespace phirun::builder
