// GgufWriter -> GgufFile round trips: every metadata value type, tensors of every type and rank
// at alignments 32 and 64, the atomic write to disk, and the typed getters' errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <numbers>
#include <random>
#include <stdexcept>

#include "runtime/gguf.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

using testing::TempDir;
using namespace std::string_literals;

GgufValue unsigned_value(GgufType type, uint64_t value) {
  GgufValue v;
  v.type = type;
  v.u = value;
  return v;
}
GgufValue signed_value(GgufType type, int64_t value) {
  GgufValue v;
  v.type = type;
  v.i = value;
  return v;
}
GgufValue float_value(GgufType type, double value) {
  GgufValue v;
  v.type = type;
  v.f = value;
  return v;
}
GgufValue array_of(GgufType element_type) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.element_type = element_type;
  return v;
}

// `levels` arrays inside each other, the innermost holding one i32.
GgufValue nested_arrays(int levels) {
  if (levels == 1) return GgufValue::of_i32s({42});
  GgufValue outer = array_of(GgufType::ARRAY);
  outer.array_items.push_back(nested_arrays(levels - 1));
  return outer;
}

// One key per scalar type and per array element type, with values at the edges of each type.
std::vector<std::pair<std::string, GgufValue>> every_value_type() {
  std::vector<std::pair<std::string, GgufValue>> values = {
      {"scalar.u8", unsigned_value(GgufType::U8, 200)},
      {"scalar.i8", signed_value(GgufType::I8, -128)},
      {"scalar.u16", unsigned_value(GgufType::U16, 65535)},
      {"scalar.i16", signed_value(GgufType::I16, -30000)},
      {"scalar.u32", unsigned_value(GgufType::U32, 4000000000u)},
      {"scalar.i32", signed_value(GgufType::I32, std::numeric_limits<int32_t>::min())},
      {"scalar.f32", float_value(GgufType::F32, -1.5)},
      {"scalar.bool.true", GgufValue::of_bool(true)},
      {"scalar.bool.false", GgufValue::of_bool(false)},
      {"scalar.string", GgufValue::of_string("UTF-8 \xC4\xA0 and a NUL \0 inside"s)},
      {"scalar.string.empty", GgufValue::of_string("")},
      {"scalar.u64", unsigned_value(GgufType::U64, (uint64_t(1) << 63) + 5)},
      {"scalar.i64", signed_value(GgufType::I64, std::numeric_limits<int64_t>::min())},
      {"scalar.f64", float_value(GgufType::F64, std::numbers::pi)},
  };
  GgufValue u8s = array_of(GgufType::U8), i8s = array_of(GgufType::I8), u16s = array_of(GgufType::U16),
            i16s = array_of(GgufType::I16), u32s = array_of(GgufType::U32), i32s = array_of(GgufType::I32),
            f32s = array_of(GgufType::F32), bools = array_of(GgufType::BOOL), u64s = array_of(GgufType::U64),
            i64s = array_of(GgufType::I64), f64s = array_of(GgufType::F64);
  u8s.unsigned_items = {0, 1, 255};
  i8s.signed_items = {-128, 0, 127};
  u16s.unsigned_items = {0, 65535};
  i16s.signed_items = {-32768, 32767};
  u32s.unsigned_items = {0, 4294967295u};
  i32s.signed_items = {std::numeric_limits<int32_t>::min(), -1, std::numeric_limits<int32_t>::max()};
  f32s.float_items = {0.0, -0.25, double(3.0e38f), double(std::numeric_limits<float>::denorm_min())};
  bools.unsigned_items = {1, 0, 1};
  u64s.unsigned_items = {std::numeric_limits<uint64_t>::max(), 0};
  i64s.signed_items = {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  f64s.float_items = {1e-300, -std::numbers::e};
  GgufValue nested = array_of(GgufType::ARRAY);  // arrays of different element types inside
  nested.array_items = {GgufValue::of_i32s({1, 2}), GgufValue::of_strings({"x", "yz"}), array_of(GgufType::F32)};
  values.insert(values.end(), {
                                  {"array.u8", u8s},
                                  {"array.i8", i8s},
                                  {"array.u16", u16s},
                                  {"array.i16", i16s},
                                  {"array.u32", u32s},
                                  {"array.i32", i32s},
                                  {"array.f32", f32s},
                                  {"array.bool", bools},
                                  {"array.string", GgufValue::of_strings({"", "Ġthe", std::string(300, 'x')})},
                                  {"array.u64", u64s},
                                  {"array.i64", i64s},
                                  {"array.f64", f64s},
                                  {"array.empty", array_of(GgufType::U32)},
                                  {"array.nested", nested},
                                  {"array.nested.deepest_allowed", nested_arrays(4)},
                              });
  return values;
}

void expect_same_value(const GgufValue& want, const GgufValue& got, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(want.type, got.type);
  EXPECT_EQ(want.u, got.u);
  EXPECT_EQ(want.i, got.i);
  EXPECT_EQ(want.string, got.string);
  if (std::isnan(want.f)) {
    EXPECT_TRUE(std::isnan(got.f));
  } else {
    EXPECT_EQ(want.f, got.f);
  }
  if (want.type != GgufType::ARRAY) return;
  EXPECT_EQ(want.element_type, got.element_type);
  EXPECT_EQ(want.unsigned_items, got.unsigned_items);
  EXPECT_EQ(want.signed_items, got.signed_items);
  EXPECT_EQ(want.float_items, got.float_items);
  EXPECT_EQ(want.string_items, got.string_items);
  ASSERT_EQ(want.array_items.size(), got.array_items.size());
  for (size_t k = 0; k < want.array_items.size(); ++k)
    expect_same_value(want.array_items[k], got.array_items[k], where + "[" + std::to_string(k) + "]");
}

TEST(GgufRoundTrip, EveryMetadataValueTypeSurvives) {
  const auto values = every_value_type();
  GgufWriter writer;
  for (const auto& [key, value] : values) writer.set(key, value);
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const GgufFile file = GgufFile::parse(bytes.data(), bytes.size(), "values.gguf");

  EXPECT_EQ(file.version(), 3u);
  EXPECT_TRUE(file.tensors().empty());
  ASSERT_EQ(file.metadata().size(), values.size());
  for (size_t k = 0; k < values.size(); ++k) {
    EXPECT_EQ(file.metadata()[k].first, values[k].first) << "keys keep their order";
    expect_same_value(values[k].second, file.metadata()[k].second, values[k].first);
  }
}

TEST(GgufRoundTrip, SetReplacesAnExistingKeyInPlace) {
  GgufWriter writer;
  writer.set("a", GgufValue::of_u32(1));
  writer.set("b", GgufValue::of_u32(2));
  writer.set("a", GgufValue::of_string("replaced"));
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const GgufFile file = GgufFile::parse(bytes.data(), bytes.size(), "set.gguf");
  ASSERT_EQ(file.metadata().size(), 2u);
  EXPECT_EQ(file.metadata()[0].first, "a");
  EXPECT_EQ(file.get_string("a"), "replaced");
  EXPECT_EQ(file.get_uint("b"), 2u);
}

struct TensorCase {
  std::string name;
  TensorType type;
  std::vector<int64_t> dims;
  uint64_t n_bytes;
};

// Every type phirun reads, ranks 1 to 4, sizes that leave padding after most tensors.
std::vector<TensorCase> tensor_cases() {
  return {
      {"f32.vector", TensorType::F32, {5}, 20},
      {"f16.matrix", TensorType::F16, {3, 2}, 12},
      {"bf16.cube", TensorType::BF16, {2, 2, 2}, 16},
      {"q8_0.matrix", TensorType::Q8_0, {64, 3}, 3 * 2 * 34},
      {"q4_0.rank4", TensorType::Q4_0, {32, 1, 2, 2}, 4 * 18},
      {"q4_1.matrix", TensorType::Q4_1, {32, 5}, 5 * 20},
  };
}

class GgufTensorRoundTrip : public ::testing::TestWithParam<uint64_t> {};

TEST_P(GgufTensorRoundTrip, DimsTypesOffsetsAndBytesSurvive) {
  const uint64_t alignment = GetParam();
  const std::vector<TensorCase> cases = tensor_cases();
  std::mt19937 random(7);
  std::vector<std::vector<uint8_t>> payloads;
  for (const TensorCase& tensor : cases) {
    std::vector<uint8_t> payload(static_cast<size_t>(tensor.n_bytes));
    for (uint8_t& byte : payload) byte = uint8_t(random());
    payloads.push_back(std::move(payload));
  }
  GgufWriter writer(alignment);
  writer.set("general.architecture", GgufValue::of_string("none"));
  for (size_t t = 0; t < cases.size(); ++t)
    writer.add_tensor(cases[t].name, cases[t].type, cases[t].dims, payloads[t].data(), payloads[t].size());
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const GgufFile file = GgufFile::parse(bytes.data(), bytes.size(), "tensors.gguf");

  EXPECT_EQ(file.alignment(), alignment);
  if (alignment == 32) {
    EXPECT_EQ(file.find("general.alignment"), nullptr) << "32 is the default: the writer leaves the key out";
  } else {
    EXPECT_EQ(file.get_uint("general.alignment"), alignment);
  }
  EXPECT_EQ(file.data_offset() % alignment, 0u);
  EXPECT_EQ(file.file_size(), bytes.size());
  EXPECT_EQ(bytes.size() % alignment, 0u) << "the writer pads after the last tensor too";
  ASSERT_EQ(file.tensors().size(), cases.size());
  for (size_t t = 0; t < cases.size(); ++t) {
    const TensorCase& want = cases[t];
    const GgufTensor& got = file.tensors()[t];
    SCOPED_TRACE(want.name);
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(file.find_tensor(want.name), &got);
    EXPECT_EQ(got.type, want.type);
    ASSERT_EQ(got.n_dims, want.dims.size());
    uint64_t elements = 1;
    for (size_t d = 0; d < 4; ++d) {
      const int64_t expected_dim = d < want.dims.size() ? want.dims[d] : 1;
      EXPECT_EQ(got.ne[d], expected_dim) << "dim " << d;
      elements *= uint64_t(expected_dim);
    }
    EXPECT_EQ(got.n_elements, elements);
    EXPECT_EQ(got.rows(), int64_t(elements) / want.dims[0]);
    EXPECT_EQ(got.n_bytes, want.n_bytes);
    EXPECT_EQ(got.offset % alignment, 0u);
    EXPECT_EQ(got.data, bytes.data() + file.data_offset() + got.offset);
    EXPECT_EQ(std::vector<uint8_t>(got.data, got.data + got.n_bytes), payloads[t]);
  }
  EXPECT_EQ(file.find_tensor("absent"), nullptr);
}

INSTANTIATE_TEST_SUITE_P(Alignments, GgufTensorRoundTrip, ::testing::Values(32u, 64u),
                         [](const ::testing::TestParamInfo<uint64_t>& param) {
                           return "Alignment" + std::to_string(param.param);
                         });

std::vector<uint8_t> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(GgufWriterFile, WritesExactlyToBytesAndLeavesNoTemporaryFile) {
  TempDir dir;
  const float weights[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  GgufWriter writer(64);
  writer.set("general.name", GgufValue::of_string("on disk"));
  writer.add_tensor("w", TensorType::F32, {8}, weights, sizeof weights);
  const std::string path = dir.file("model.gguf");
  writer.write(path);

  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.gguf"});
  EXPECT_EQ(read_whole_file(path), writer.to_bytes());
  const GgufFile file = GgufFile::open(path);
  EXPECT_EQ(file.path(), path);
  EXPECT_EQ(file.get_string("general.name"), "on disk");
  ASSERT_NE(file.find_tensor("w"), nullptr);
  EXPECT_EQ(std::memcmp(file.find_tensor("w")->data, weights, sizeof weights), 0);
}

TEST(GgufWriterFile, OverwritingReplacesTheWholeFile) {
  TempDir dir;
  const std::string path = dir.file("model.gguf");
  GgufWriter long_file;
  long_file.set("text", GgufValue::of_string(std::string(5000, 'a')));
  long_file.write(path);
  GgufWriter short_file;
  short_file.set("text", GgufValue::of_string("b"));
  short_file.write(path);

  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.gguf"});
  EXPECT_EQ(read_whole_file(path), short_file.to_bytes()) << "no tail of the longer file may remain";
}

TEST(GgufWriterFile, MissingDirectoryIsAnErrorAndLeavesNothing) {
  TempDir dir;
  const std::string path = (dir.path() / "missing" / "model.gguf").string();
  GgufWriter writer;
  writer.set("general.name", GgufValue::of_string("nowhere"));
  try {
    writer.write(path);
    FAIL() << "writing into a missing directory must throw";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path + ": cannot create", 0), 0u) << error.what();
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(GgufWriterArguments, RejectsWhatItCannotWrite) {
  EXPECT_THROW(GgufWriter(48), std::invalid_argument);
  EXPECT_THROW(GgufWriter(0), std::invalid_argument);
  GgufWriter writer;
  const uint8_t data[64] = {};
  EXPECT_THROW(writer.add_tensor("rank0", TensorType::F32, {}, data, 0), std::invalid_argument);
  EXPECT_THROW(writer.add_tensor("rank5", TensorType::F32, {1, 1, 1, 1, 1}, data, 4), std::invalid_argument);
  EXPECT_THROW(writer.add_tensor("short", TensorType::F32, {8}, data, 31), std::invalid_argument);
  EXPECT_THROW(writer.add_tensor("partial.block", TensorType::Q4_0, {33}, data, 18), std::invalid_argument);
  writer.add_tensor("fits", TensorType::Q4_0, {32, 2}, data, 36);
}

// The typed getters: the messages name the file and the key, and say what was wrong.
class GgufGetters : public ::testing::Test {
 protected:
  void SetUp() override {
    GgufWriter writer;
    writer.set("u8", unsigned_value(GgufType::U8, 7));
    writer.set("i32.negative", GgufValue::of_i32(-3));
    writer.set("i64.positive", signed_value(GgufType::I64, 1234567890123));
    writer.set("f32", GgufValue::of_f32(0.5f));
    writer.set("text", GgufValue::of_string("hello"));
    writer.set("flag", GgufValue::of_bool(true));
    writer.set("list", GgufValue::of_i32s({1}));
    bytes_ = writer.to_bytes();
    file_ = GgufFile::parse(bytes_.data(), bytes_.size(), "getters.gguf");
  }

  template <typename Call>
  void expect_error(Call call, const std::string& message) {
    try {
      call();
      ADD_FAILURE() << "expected the error: " << message;
    } catch (const std::runtime_error& error) {
      EXPECT_EQ(std::string(error.what()), message);
    }
  }

  std::vector<uint8_t> bytes_;
  GgufFile file_;
};

TEST_F(GgufGetters, ReadValuesOfTheRightKind) {
  EXPECT_EQ(file_.get_uint("u8"), 7u);
  EXPECT_EQ(file_.get_uint("i64.positive"), 1234567890123u);
  EXPECT_EQ(file_.get_float("f32"), 0.5);
  EXPECT_EQ(file_.get_float("u8"), 7.0) << "integers are numbers too";
  EXPECT_EQ(file_.get_string("text"), "hello");
  EXPECT_TRUE(file_.get_bool("flag"));
  EXPECT_EQ(file_.find_uint("absent"), std::nullopt);
  EXPECT_EQ(file_.find_float("absent"), std::nullopt);
  EXPECT_EQ(file_.find_string("absent"), std::nullopt);
  EXPECT_EQ(file_.find_bool("absent"), std::nullopt);
}

TEST_F(GgufGetters, NameTheFileAndTheKey) {
  expect_error([&] { file_.get_uint("absent"); }, "getters.gguf: required metadata key absent is missing");
  expect_error([&] { file_.get_string("absent"); }, "getters.gguf: required metadata key absent is missing");
  expect_error([&] { file_.get_uint("i32.negative"); }, "getters.gguf: metadata key i32.negative is negative (-3)");
  expect_error([&] { file_.get_uint("text"); }, "getters.gguf: metadata key text is a string, expected an integer");
  expect_error([&] { file_.get_uint("f32"); }, "getters.gguf: metadata key f32 is a f32, expected an integer");
  expect_error([&] { file_.get_float("list"); }, "getters.gguf: metadata key list is a array, expected a number");
  expect_error([&] { file_.get_string("u8"); }, "getters.gguf: metadata key u8 is a u8, expected a string");
  expect_error([&] { file_.get_bool("u8"); }, "getters.gguf: metadata key u8 is a u8, expected a bool");
}

}  // namespace
}  // namespace phirun

namespace phirun {
namespace {

// The alignment key decides the layout the writer produces, so a bad value is refused there and
// a good one changes where the tensor data goes.
TEST(GgufWriterAlignment, KeyIsCheckedAndFollowed) {
  GgufWriter writer;
  EXPECT_THROW(writer.set("general.alignment", GgufValue::of_u32(48)), std::invalid_argument);
  EXPECT_THROW(writer.set("general.alignment", GgufValue::of_u64(64)), std::invalid_argument);
  const float data[3] = {1, 2, 3};
  writer.add_tensor("a", TensorType::F32, {3}, data, sizeof data);
  writer.add_tensor("b", TensorType::F32, {3}, data, sizeof data);
  writer.set("general.alignment", GgufValue::of_u32(128));
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const GgufFile file = GgufFile::parse(bytes.data(), bytes.size(), "aligned.gguf");
  EXPECT_EQ(file.alignment(), 128u);
  EXPECT_EQ(file.data_offset() % 128, 0u);
  EXPECT_EQ(file.find_tensor("b")->offset, 128u);
}

}  // namespace
}  // namespace phirun
