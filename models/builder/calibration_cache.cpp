// The calibration cache file: little-endian binary, written atomically (temporary name, rename).
//   "PHIRUNCS" u32 version=1 u64 tokens u64 chunks
//   u32 n_moments, then each: u64 cols, cols*cols f32
//   u32 n_tensors, then each: u32 name length, name, u64 cols, cols f32 (mean squares),
//                             i64 moment index (-1: none)
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>

#include "models/builder/calibration.h"

namespace phirun::builder {

namespace {

constexpr char kMagic[8] = {'P', 'H', 'I', 'R', 'U', 'N', 'C', 'S'};
constexpr uint32_t kVersion = 1;

template <typename T>
void put(std::ofstream& out, T value) {
  out.write(reinterpret_cast<const char*>(&value), sizeof value);
}

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path), in_(path, std::ios::binary | std::ios::ate) {
    if (!in_) throw std::runtime_error(path + ": cannot open the calibration cache");
    size_ = uint64_t(in_.tellg());
    in_.seekg(0);
  }
  template <typename T>
  T get() {
    T value;
    read(&value, sizeof value);
    return value;
  }
  void floats(std::vector<float>& out, uint64_t count) {
    if (count > (size_ - offset_) / 4) fail("a count runs past the end of the file");
    out.resize(size_t(count));
    read(out.data(), count * 4);
  }
  std::string text(uint32_t length) {
    if (length > 4096) fail("a tensor name is too long");
    std::string value(length, '\0');
    read(value.data(), length);
    return value;
  }
  [[noreturn]] void fail(const std::string& problem) const {
    throw std::runtime_error(path_ + ": not a valid calibration cache: " + problem);
  }

 private:
  void read(void* data, uint64_t n) {
    if (n > size_ - offset_ || !in_.read(static_cast<char*>(data), std::streamsize(n))) fail("truncated");
    offset_ += n;
  }
  std::string path_;
  std::ifstream in_;
  uint64_t size_ = 0, offset_ = 0;
};

}  // namespace

void write_activation_stats(const ActivationStats& stats, const std::string& path) {
  std::map<const std::vector<float>*, int64_t> index;
  std::vector<const std::vector<float>*> moments;
  for (const auto& [name, moment] : stats.second_moments)
    if (index.emplace(moment.get(), int64_t(moments.size())).second) moments.push_back(moment.get());
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(kMagic, 8);
    put<uint32_t>(out, kVersion);
    put<uint64_t>(out, uint64_t(stats.tokens));
    put<uint64_t>(out, uint64_t(stats.chunks));
    put<uint32_t>(out, uint32_t(moments.size()));
    for (const std::vector<float>* moment : moments) {
      uint64_t cols = 0;
      while ((cols + 1) * (cols + 1) <= moment->size()) ++cols;
      put<uint64_t>(out, cols);
      out.write(reinterpret_cast<const char*>(moment->data()), std::streamsize(moment->size() * 4));
    }
    put<uint32_t>(out, uint32_t(stats.mean_squares.size()));
    for (const auto& [name, squares] : stats.mean_squares) {
      put<uint32_t>(out, uint32_t(name.size()));
      out.write(name.data(), std::streamsize(name.size()));
      put<uint64_t>(out, uint64_t(squares.size()));
      out.write(reinterpret_cast<const char*>(squares.data()), std::streamsize(squares.size() * 4));
      const auto moment = stats.second_moments.find(name);
      put<int64_t>(out, moment == stats.second_moments.end() ? -1 : index.at(moment->second.get()));
    }
    if (!out) {
      std::remove(temporary.c_str());
      throw std::runtime_error(path + ": could not write the calibration cache");
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw std::runtime_error(path + ": could not write the calibration cache");
  }
}

ActivationStats read_activation_stats(const std::string& path) {
  Reader in(path);
  char magic[8];
  for (char& c : magic) c = in.get<char>();
  if (std::memcmp(magic, kMagic, 8) != 0) in.fail("wrong magic");
  if (in.get<uint32_t>() != kVersion) in.fail("unknown version");
  ActivationStats stats;
  stats.tokens = int64_t(in.get<uint64_t>());
  stats.chunks = int64_t(in.get<uint64_t>());
  const uint32_t n_moments = in.get<uint32_t>();
  std::vector<std::shared_ptr<const std::vector<float>>> moments;
  for (uint32_t m = 0; m < n_moments; ++m) {
    const uint64_t cols = in.get<uint64_t>();
    if (cols == 0 || cols > (uint64_t(1) << 17)) in.fail("a second moment has an impossible size");
    auto moment = std::make_shared<std::vector<float>>();
    in.floats(*moment, cols * cols);
    moments.push_back(std::move(moment));
  }
  const uint32_t n_tensors = in.get<uint32_t>();
  for (uint32_t t = 0; t < n_tensors; ++t) {
    const std::string name = in.text(in.get<uint32_t>());
    std::vector<float> squares;
    in.floats(squares, in.get<uint64_t>());
    const int64_t moment = in.get<int64_t>();
    if (moment >= int64_t(moments.size()) || moment < -1) in.fail("tensor " + name + " names a missing second moment");
    if (moment >= 0) {
      if (moments[size_t(moment)]->size() != squares.size() * squares.size())
        in.fail("tensor " + name + "'s second moment does not match its width");
      stats.second_moments[name] = moments[size_t(moment)];
    }
    stats.mean_squares[name] = std::move(squares);
  }
  return stats;
}

}  // namespace phirun::builder
