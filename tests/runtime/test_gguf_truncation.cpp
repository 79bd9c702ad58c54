// Hostile-input walks over a small tiny-model GGUF: every proper prefix must be refused as
// truncated, and random corruption of the header and metadata must either parse or be refused
// with std::runtime_error, never crash, overread or allocate hugely. Each case parses a buffer of
// exactly its own size, so AddressSanitizer catches any read past the end, and runs under an
// allocation limit far above what a 15 KB file needs, so a size taken from the file shows up.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <random>
#include <stdexcept>

#include "runtime/gguf.h"
#include "runtime/model.h"
#include "tests/common/tiny_model.h"
#include "tests/runtime/allocation_limit.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

using namespace phirun::testing;

// No single allocation while parsing a file of ~15 KB may come near this.
constexpr size_t kMaxAllocationBytes = 1 << 20;

TEST(AllocationLimit, RefusesLargerRequestsWhileAlive) {
  char* volatile keep = nullptr;  // a volatile store: the allocations cannot be elided
  {
    const ScopedAllocationLimit limit(kMaxAllocationBytes);
    EXPECT_THROW(keep = new char[kMaxAllocationBytes + 1], std::bad_alloc);
    keep = new char[kMaxAllocationBytes];
    delete[] keep;
  }
  keep = new char[kMaxAllocationBytes + 1];  // the limit is gone
  delete[] keep;
}

// One layer, hidden 32, no chat template: about 15 KB, so walking every prefix stays fast even
// under the sanitizers. hidden * 4 bytes of F32 output norm (last) keeps the end unpadded.
TinyModelOptions walk_options() {
  TinyModelOptions options;
  options.n_layers = 1;
  options.hidden_size = 32;
  options.n_heads = 2;
  options.n_kv_heads = 1;
  options.ffn_size = 32;
  options.with_chat_template = false;
  return options;
}

// The tiny model's metadata alone (tokenizer arrays included), with no tensors.
std::vector<uint8_t> metadata_only(const std::vector<uint8_t>& model) {
  const GgufFile file = GgufFile::parse(model.data(), model.size(), "model.gguf");
  GgufWriter writer;
  for (const auto& [key, value] : file.metadata()) writer.set(key, value);
  return writer.to_bytes();
}

// Parses `size` bytes from a heap block of exactly that size, for its errors only (the result
// would point into the block, which is gone on return).
void parse_exact(const uint8_t* bytes, size_t size, const std::string& name) {
  const std::vector<uint8_t> exact(bytes, bytes + size);
  GgufFile::parse(exact.data(), exact.size(), name);
}

bool says_truncated(const std::string& message) {
  return message.find("truncated") != std::string::npos || message.find("too small") != std::string::npos ||
         message.find("outside") != std::string::npos;
}

// Parses every proper prefix; returns how many were wrongly accepted or badly refused.
int walk_prefixes(const std::vector<uint8_t>& bytes) {
  const std::string name = "walk.gguf";
  const ScopedAllocationLimit limit(kMaxAllocationBytes);
  int failures = 0;
  for (size_t length = 0; length < bytes.size(); ++length) {
    try {
      parse_exact(bytes.data(), length, name);
      if (++failures <= 5) ADD_FAILURE() << "prefix of " << length << " bytes parsed";
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      if (message.rfind(name + ": ", 0) != 0 || !says_truncated(message))
        if (++failures <= 5) ADD_FAILURE() << "prefix of " << length << " bytes: " << message;
    }
  }
  return failures;
}

TEST(GgufTruncation, WalkFileIsSmallAndEndsWithoutPadding) {
  const std::vector<uint8_t> bytes = make_tiny_llama_gguf(walk_options());
  EXPECT_LT(bytes.size(), 16u * 1024) << "keep the walk fast";
  const GgufFile file = GgufFile::parse(bytes.data(), bytes.size(), "walk.gguf");
  uint64_t data_end = 0;
  for (const GgufTensor& tensor : file.tensors())
    data_end = std::max(data_end, file.data_offset() + tensor.offset + tensor.n_bytes);
  EXPECT_EQ(data_end, bytes.size()) << "every proper prefix must then lack tensor bytes";
}

TEST(GgufTruncation, EveryPrefixOfATinyModelIsRefused) {
  EXPECT_EQ(walk_prefixes(make_tiny_llama_gguf(walk_options())), 0);
}

TEST(GgufTruncation, EveryPrefixOfAFileWithoutTensorsIsRefused) {
  const std::vector<uint8_t> bytes = metadata_only(make_tiny_llama_gguf(walk_options()));
  ASSERT_NO_THROW(GgufFile::parse(bytes.data(), bytes.size(), "metadata.gguf"));
  EXPECT_EQ(walk_prefixes(bytes), 0);
}

// llama.cpp's loader checks tensor bytes, not the padding after the last one; so do we.
TEST(GgufTruncation, PaddingAfterTheLastTensorMayBeCut) {
  const float weights[5] = {1, 2, 3, 4, 5};
  GgufWriter writer;
  writer.add_tensor("w", TensorType::F32, {5}, weights, sizeof weights);
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const GgufFile whole = GgufFile::parse(bytes.data(), bytes.size(), "padded.gguf");
  const uint64_t data_end = whole.data_offset() + sizeof weights;
  ASSERT_LT(data_end, bytes.size());
  for (uint64_t length = data_end; length < bytes.size(); ++length)
    EXPECT_NO_THROW(parse_exact(bytes.data(), size_t(length), "padded.gguf")) << length;
  EXPECT_THROW(parse_exact(bytes.data(), size_t(data_end - 1), "padded.gguf"), std::runtime_error);
}

TEST(GgufTruncation, ModelLoadRefusesSampledPrefixesWrittenToDisk) {
  const std::vector<uint8_t> bytes = make_tiny_llama_gguf(walk_options());
  const GgufFile whole = GgufFile::parse(bytes.data(), bytes.size(), "whole.gguf");
  // Edges of the header and of the data section, then lengths spread over the whole file.
  std::vector<size_t> lengths = {0, 1, 3, 4, 8, 15, 16, 23, 24, 25};
  for (int64_t delta = -2; delta <= 2; ++delta) lengths.push_back(size_t(int64_t(whole.data_offset()) + delta));
  lengths.push_back(bytes.size() - 1);
  for (size_t k = 1; k < 30; ++k) lengths.push_back(bytes.size() * k / 30);

  TempDir dir;
  const std::string whole_path = dir.file("whole.gguf");
  std::ofstream(whole_path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  ASSERT_NO_THROW(Model::load(whole_path, LoadOptions{1})) << "the untruncated file is a good model";
  const ScopedAllocationLimit limit(kMaxAllocationBytes);
  for (size_t length : lengths) {
    const std::string path = dir.file("prefix-" + std::to_string(length) + ".gguf");
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(length));
    try {
      Model::load(path, LoadOptions{1});
      ADD_FAILURE() << "prefix of " << length << " bytes loaded";
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
      EXPECT_TRUE(says_truncated(message)) << message;
    }
  }
}

// A parse of corrupt bytes may succeed (the byte was in a value) or throw runtime_error; it may
// never throw anything else. A successful parse must still keep every tensor inside the buffer.
void expect_parses_or_refuses(const std::vector<uint8_t>& bytes, const std::string& what, int& failures) {
  try {
    const GgufFile file = GgufFile::parse(bytes.data(), bytes.size(), "corrupt.gguf");
    for (const GgufTensor& tensor : file.tensors()) {
      const bool inside = tensor.data >= bytes.data() && tensor.n_bytes <= bytes.size() &&
                          uint64_t(tensor.data - bytes.data()) <= bytes.size() - tensor.n_bytes;
      if (!inside && ++failures <= 5) ADD_FAILURE() << what << ": tensor " << tensor.name << " outside the buffer";
    }
  } catch (const std::runtime_error& error) {
    if (std::string(error.what()).rfind("corrupt.gguf: ", 0) != 0 && ++failures <= 5)
      ADD_FAILURE() << what << ": message without the name: " << error.what();
  } catch (const std::bad_alloc&) {
    if (++failures <= 5) ADD_FAILURE() << what << ": std::bad_alloc (an allocation sized by the file)";
  } catch (const std::length_error& error) {
    if (++failures <= 5) ADD_FAILURE() << what << ": std::length_error " << error.what();
  } catch (const std::exception& error) {
    if (++failures <= 5) ADD_FAILURE() << what << ": unexpected exception " << error.what();
  }
}

TEST(GgufCorruption, RandomSingleBytesInHeaderAndMetadata) {
  const std::vector<uint8_t> good = make_tiny_llama_gguf(walk_options());
  const uint64_t structure_end = GgufFile::parse(good.data(), good.size(), "good.gguf").data_offset();
  std::mt19937 random(20240601);
  const ScopedAllocationLimit limit(kMaxAllocationBytes);
  int failures = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> bytes = good;
    const size_t position = random() % structure_end;
    const uint8_t flip = uint8_t(1 + random() % 255);
    bytes[position] ^= flip;
    expect_parses_or_refuses(bytes, "byte " + std::to_string(position) + " ^= " + std::to_string(flip), failures);
  }
  EXPECT_EQ(failures, 0);
}

// Whole 8-byte windows reach the high bytes of counts and lengths, which single flips rarely
// turn into absurd values.
TEST(GgufCorruption, RandomEightByteWindowsInHeaderAndMetadata) {
  const std::vector<uint8_t> good = make_tiny_llama_gguf(walk_options());
  const uint64_t structure_end = GgufFile::parse(good.data(), good.size(), "good.gguf").data_offset();
  std::mt19937_64 random(77);
  const ScopedAllocationLimit limit(kMaxAllocationBytes);
  int failures = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    std::vector<uint8_t> bytes = good;
    const size_t position = random() % (structure_end - 8);
    uint64_t value = random();
    if (trial % 4 == 0) value >>= random() % 64;  // also middling values, not only huge ones
    std::memcpy(bytes.data() + position, &value, sizeof value);
    expect_parses_or_refuses(bytes, "8 bytes at " + std::to_string(position), failures);
  }
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace phirun
