// The table of bad GGUF inputs: each malformed file, made by patching the bytes of a small valid
// one, must be refused with "NAME: " and the exact problem, both from memory and from disk.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <algorithm>

#include <fstream>
#include <functional>
#include <stdexcept>

#include "runtime/gguf.h"
#include "tests/runtime/gguf_bytes.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

using namespace phirun::testing;

constexpr uint64_t kHuge = uint64_t(1) << 60;  // 1152921504606846976

// Keys and tensors that the table patches; names are unique byte strings in the file.
std::vector<uint8_t> small_valid_gguf(std::function<void(GgufWriter&)> extra = {}) {
  static const uint8_t payload[256] = {};
  GgufWriter writer;
  writer.set("test.u32", GgufValue::of_u32(7));
  writer.set("test.string", GgufValue::of_string("hello"));
  writer.set("test.array", GgufValue::of_i32s({1, 2, 3}));
  writer.set("test.bool", GgufValue::of_bool(true));
  writer.set("test.twin_1", GgufValue::of_u32(1));
  writer.set("test.twin_2", GgufValue::of_u32(2));
  if (extra) extra(writer);
  writer.add_tensor("tensor.a", TensorType::F32, {8}, payload, 32);       // data offset 0
  writer.add_tensor("tensor.b", TensorType::Q4_0, {32, 2}, payload, 36);  // data offset 32
  writer.add_tensor("tensor.c", TensorType::F32, {4, 3}, payload, 48);    // data offset 96
  return writer.to_bytes();
}

std::vector<uint8_t> patched(std::function<void(std::vector<uint8_t>&)> patch) {
  std::vector<uint8_t> bytes = small_valid_gguf();
  patch(bytes);
  return bytes;
}

std::vector<uint8_t> with_key(const std::string& key, GgufValue value) {
  return small_valid_gguf([&](GgufWriter& writer) { writer.set(key, value); });
}

// The writer refuses a bad general.alignment, so such files are written under a stand-in key of
// the same length whose name is then patched into place.
std::vector<uint8_t> with_bad_alignment(GgufValue value) {
  const std::string stand_in = "general.alignmenX";
  std::vector<uint8_t> bytes = with_key(stand_in, std::move(value));
  const auto at = std::search(bytes.begin(), bytes.end(), stand_in.begin(), stand_in.end());
  *(at + std::ptrdiff_t(stand_in.size()) - 1) = 't';
  return bytes;
}

// `levels` arrays inside each other, the innermost holding one i32.
GgufValue nested_arrays(int levels) {
  if (levels == 1) return GgufValue::of_i32s({1});
  GgufValue outer;
  outer.type = GgufType::ARRAY;
  outer.element_type = GgufType::ARRAY;
  outer.array_items.push_back(nested_arrays(levels - 1));
  return outer;
}

// One array holding `count` empty arrays of i32.
GgufValue wide_nested_arrays(size_t count) {
  GgufValue outer;
  outer.type = GgufType::ARRAY;
  outer.element_type = GgufType::ARRAY;
  outer.array_items.assign(count, GgufValue::of_i32s({}));
  return outer;
}

struct BadInput {
  std::string name;  // also the test name
  std::function<std::vector<uint8_t>()> make;
  std::string expected;  // must appear in the message, after "NAME: "
};

std::vector<BadInput> bad_inputs() {
  return {
      {"empty", [] { return std::vector<uint8_t>{}; }, "file too small to be GGUF (0 bytes)"},
      {"three_bytes",
       [] {
         return std::vector<uint8_t>{'G', 'G', 'U'};
       },
       "file too small to be GGUF (3 bytes)"},
      {"bad_magic", [] { return patched([](auto& b) { b[3] = 'X'; }); }, "not a GGUF file (bad magic)"},
      {"big_endian", [] { return patched([](auto& b) { poke<uint32_t>(b, kVersionOffset, 0x03000000); }); },
       "big-endian GGUF files are not supported"},
      {"version_1", [] { return patched([](auto& b) { poke<uint32_t>(b, kVersionOffset, 1); }); },
       "unsupported GGUF version 1 (phirun reads version 3)"},
      {"version_4", [] { return patched([](auto& b) { poke<uint32_t>(b, kVersionOffset, 4); }); },
       "unsupported GGUF version 4 (phirun reads version 3)"},
      {"header_cut", [] { return patched([](auto& b) { b.resize(20); }); },
       "truncated while reading metadata count at byte 16 (needs 8 bytes, 4 left)"},
      {"tensor_count_absurd", [] { return patched([](auto& b) { poke<uint64_t>(b, kTensorCountOffset, kHuge); }); },
       "tensor count 1152921504606846976 exceeds the limit of 65536"},
      {"metadata_count_absurd", [] { return patched([](auto& b) { poke<uint64_t>(b, kMetadataCountOffset, kHuge); }); },
       "metadata count 1152921504606846976 exceeds the limit of 65536"},
      {"key_length_absurd",
       [] { return patched([](auto& b) { poke<uint64_t>(b, key_length_offset(b, "test.u32"), kHuge); }); },
       "metadata key #0: string length 1152921504606846976 exceeds the limit of 67108864 bytes"},
      {"string_length_absurd",
       [] { return patched([](auto& b) { poke<uint64_t>(b, value_offset(b, "test.string"), kHuge); }); },
       "value of key test.string: string length 1152921504606846976 exceeds the limit of 67108864 bytes"},
      {"string_past_the_end",
       [] { return patched([](auto& b) { poke<uint64_t>(b, value_offset(b, "test.string"), 1000000); }); },
       "truncated while reading value of key test.string at byte"},
      {"array_count_past_the_end",
       [] { return patched([](auto& b) { poke<uint64_t>(b, value_offset(b, "test.array") + 4, 1000000); }); },
       "truncated: key test.array claims 1000000 array elements but only"},
      {"array_count_absurd",
       [] { return patched([](auto& b) { poke<uint64_t>(b, value_offset(b, "test.array") + 4, kHuge); }); },
       "key test.array: array length 1152921504606846976 exceeds the limit of 16777216"},
      {"unknown_value_type",
       [] { return patched([](auto& b) { poke<uint32_t>(b, value_type_offset(b, "test.u32"), 13); }); },
       "key test.u32: unknown value type 13"},
      {"unknown_array_element_type",
       [] { return patched([](auto& b) { poke<uint32_t>(b, value_offset(b, "test.array"), 13); }); },
       "key test.array: unknown array element type 13"},
      {"bool_value_2", [] { return patched([](auto& b) { poke<uint8_t>(b, value_offset(b, "test.bool"), 2); }); },
       "key test.bool: bool value 2 is neither 0 nor 1"},
      {"duplicate_key", [] { return patched([](auto& b) { b[offset_after(b, "test.twin_2") - 1] = '1'; }); },
       "duplicate metadata key test.twin_1"},
      {"arrays_nested_too_deep", [] { return with_key("test.nested", nested_arrays(5)); },
       "key test.nested: arrays nested too deeply"},
      // 4097 empty nested arrays: 49 KB of file that would take ~750 KB of GgufValues (the cap
      // keeps a file of nested arrays from taking 15 times its size in memory).
      {"too_many_nested_arrays", [] { return with_key("test.nested", wide_nested_arrays(4097)); },
       "key test.nested: the nested arrays of this file hold more than 4096 arrays in all"},
      {"rank_0",
       [] { return patched([](auto& b) { poke<uint32_t>(b, tensor_info_offsets(b, "tensor.a").n_dims, 0); }); },
       "tensor tensor.a: rank 0 (must be 1 to 4)"},
      {"rank_5",
       [] { return patched([](auto& b) { poke<uint32_t>(b, tensor_info_offsets(b, "tensor.a").n_dims, 5); }); },
       "tensor tensor.a: rank 5 (must be 1 to 4)"},
      {"zero_dim",
       [] { return patched([](auto& b) { poke<uint64_t>(b, tensor_info_offsets(b, "tensor.c").first_dim + 8, 0); }); },
       "tensor tensor.c: dimension 1 is 0"},
      {"dim_above_limit",
       [] {
         return patched(
             [](auto& b) { poke<uint64_t>(b, tensor_info_offsets(b, "tensor.c").first_dim, uint64_t(1) << 41); });
       },
       "tensor tensor.c: dimension 0 is 2199023255552"},
      {"dims_product_overflows",
       [] {
         return patched([](auto& b) {
           const size_t dims = tensor_info_offsets(b, "tensor.c").first_dim;
           poke<uint64_t>(b, dims, uint64_t(1) << 35);
           poke<uint64_t>(b, dims + 8, uint64_t(1) << 35);
         });
       },
       "tensor tensor.c: element count overflows"},
      {"tensor_type_q4_k",
       [] { return patched([](auto& b) { poke<uint32_t>(b, tensor_info_offsets(b, "tensor.a").type, 12); }); },
       "tensor tensor.a: unsupported tensor type id 12 (phirun reads F32, F16, BF16, Q8_0, Q4_0, Q4_1)"},
      {"tensor_type_unknown",
       [] { return patched([](auto& b) { poke<uint32_t>(b, tensor_info_offsets(b, "tensor.a").type, 1000); }); },
       "tensor tensor.a: unsupported tensor type id 1000"},
      {"q4_0_partial_block",
       [] { return patched([](auto& b) { poke<uint64_t>(b, tensor_info_offsets(b, "tensor.b").first_dim, 33); }); },
       "tensor tensor.b: row length 33 is not a multiple of the Q4_0 block size"},
      {"misaligned_offset",
       [] { return patched([](auto& b) { poke<uint64_t>(b, tensor_info_offsets(b, "tensor.b").offset, 40); }); },
       "tensor tensor.b: offset 40 is not a multiple of the alignment 32"},
      {"tensor_starts_outside",
       [] { return patched([](auto& b) { poke<uint64_t>(b, tensor_info_offsets(b, "tensor.c").offset, 32000); }); },
       "tensor tensor.c (48 bytes at data offset 32000) lies outside the file (160 bytes of tensor data)"},
      {"tensor_ends_outside",
       [] {
         return patched([](auto& b) { poke<uint64_t>(b, tensor_info_offsets(b, "tensor.c").first_dim + 8, 300); });
       },
       "tensor tensor.c (4800 bytes at data offset 96) lies outside the file (160 bytes of tensor data)"},
      {"tensor_offset_wraps",
       [] {
         return patched([](auto& b) { poke<uint64_t>(b, tensor_info_offsets(b, "tensor.c").offset, ~uint64_t(31)); });
       },
       "tensor tensor.c (48 bytes at data offset 18446744073709551584) lies outside the file"},
      {"duplicate_tensor_name", [] { return patched([](auto& b) { b[offset_after(b, "tensor.b") - 1] = 'a'; }); },
       "duplicate tensor name tensor.a"},
      {"data_section_cut", [] { return patched([](auto& b) { b.resize(b.size() - 160 - 1); }); },
       "truncated: data section starts at byte"},
      {"alignment_48", [] { return with_bad_alignment(GgufValue::of_u32(48)); },
       "general.alignment 48 is not a power of two"},
      {"alignment_0", [] { return with_bad_alignment(GgufValue::of_u32(0)); },
       "general.alignment 0 is not a power of two"},
      {"alignment_u64", [] { return with_bad_alignment(GgufValue::of_u64(32)); }, "general.alignment must be a u32"},
      {"alignment_string", [] { return with_bad_alignment(GgufValue::of_string("32")); },
       "general.alignment must be a u32"},
  };
}

void PrintTo(const BadInput& input, std::ostream* out) { *out << input.name; }

class GgufBadInput : public ::testing::TestWithParam<BadInput> {};

void expect_refused(const std::function<void()>& load, const std::string& name, const std::string& expected) {
  try {
    load();
    ADD_FAILURE() << name << " was accepted; expected: " << expected;
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind(name + ": ", 0), 0u) << "the message must start with the name: " << message;
    EXPECT_NE(message.find(expected), std::string::npos) << "expected \"" << expected << "\" in: " << message;
  }
}

TEST_P(GgufBadInput, IsRefusedFromMemory) {
  const BadInput& input = GetParam();
  const std::vector<uint8_t> bytes = input.make();
  const std::string name = input.name + ".gguf";
  expect_refused([&] { GgufFile::parse(bytes.data(), bytes.size(), name); }, name, input.expected);
}

TEST_P(GgufBadInput, IsRefusedFromDisk) {
  const BadInput& input = GetParam();
  const std::vector<uint8_t> bytes = input.make();
  TempDir dir;
  const std::string path = dir.file(input.name + ".gguf");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  expect_refused([&] { GgufFile::open(path); }, path, input.expected);
}

INSTANTIATE_TEST_SUITE_P(Table, GgufBadInput, ::testing::ValuesIn(bad_inputs()),
                         [](const ::testing::TestParamInfo<BadInput>& param) { return param.param.name; });

// The patches above must hit a file that is otherwise good: the unpatched file and its legal
// variants parse.
TEST(GgufBadInputBase, UnpatchedFileAndLegalNeighboursParse) {
  const std::vector<uint8_t> bytes = small_valid_gguf();
  const GgufFile file = GgufFile::parse(bytes.data(), bytes.size(), "base.gguf");
  EXPECT_EQ(file.tensors().size(), 3u);
  EXPECT_EQ(file.get_uint("test.twin_2"), 2u);
  EXPECT_EQ(file.find_tensor("tensor.c")->offset, 96u);
  EXPECT_EQ(file.file_size() - file.data_offset(), 160u);
  const std::vector<uint8_t> deepest = with_key("test.nested", nested_arrays(4));
  EXPECT_NO_THROW(GgufFile::parse(deepest.data(), deepest.size(), "nested.gguf"));
  const std::vector<uint8_t> widest = with_key("test.nested", wide_nested_arrays(4096));
  EXPECT_NO_THROW(GgufFile::parse(widest.data(), widest.size(), "nested.gguf"));
  std::vector<uint8_t> version_2 = bytes;
  poke<uint32_t>(version_2, kVersionOffset, 2);  // v2 differs from v3 only for big-endian files
  EXPECT_NO_THROW(GgufFile::parse(version_2.data(), version_2.size(), "v2.gguf"));
}

TEST(GgufOpen, MissingFile) {
  TempDir dir;
  const std::string path = dir.file("absent.gguf");
  expect_refused([&] { GgufFile::open(path); }, path, "cannot open: No such file or directory");
}

TEST(GgufOpen, NamedPipeIsRefusedWithoutWaitingForAWriter) {
  TempDir dir;
  const std::string path = dir.file("pipe.gguf");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  expect_refused([&] { GgufFile::open(path); }, path, "not a regular file");
}

TEST(GgufOpen, Directory) {
  TempDir dir;
  expect_refused([&] { GgufFile::open(dir.path().string()); }, dir.path().string(), "not a regular file");
}

}  // namespace
}  // namespace phirun
