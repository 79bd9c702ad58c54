// Every SIMD variant's matmul kernels against the scalar references, for every weight type, on
// random inputs of awkward sizes (1, 3, 17 activation rows; weight rows that leave a partial
// panel; K not a multiple of the SIMD width or of the float types' unroll), with float and int8
// activations and split int8 ones (--accuracy int16); the activation quantizers bit for bit; results that do not depend
// on threads.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/gemm/packed_layout.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/half.h"

namespace phirun {
namespace {

std::vector<float> random_vector(int64_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

struct Weights {
  std::vector<uint8_t> bytes;  // row-major, as in a file
  MatrixView view;
  WeightBuffer packed_storage;
  MatrixView packed;
};

Weights make_weights(TensorType type, int64_t rows, int64_t cols, std::mt19937& rng) {
  Weights w;
  const std::vector<float> values = random_vector(rows * cols, rng, 0.5f);
  w.bytes.resize(size_t(rows * *row_bytes(type, cols)));
  type_traits(type).quantize(values.data(), w.bytes.data(), rows * cols);
  w.view = {type, rows, cols, w.bytes.data()};
  const auto size = size_t(packed_matrix_bytes(type, rows, cols));
  w.packed_storage.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (size + 63) / 64 * 64)));
  pack_panels(w.view, w.packed_storage.get());
  w.packed = w.view;
  w.packed.data = w.packed_storage.get();
  w.packed.layout = MatrixLayout::CpuPanels16;
  return w;
}

// Bound on the float error of the float-activation kernels: n sums of n products err by at most
// n · 2^-24 of the sum of the magnitudes of what is added, here the weights' codes and offsets
// (kernels add code · x, then subtract offset · Σx) times the activations.
double float_path_magnitude(const Weights& w, int64_t r, const float* x) {
  const TypeTraits& traits = type_traits(w.view.type);
  const int64_t cols = w.view.cols;
  std::vector<float> row(static_cast<size_t>(cols));
  traits.dequantize(static_cast<const uint8_t*>(w.view.data) + r * *row_bytes(w.view.type, cols), row.data(), cols);
  double magnitude = 0;
  for (int64_t c = 0; c < cols; ++c) magnitude += std::fabs(double(row[size_t(c)]) * x[c]);
  if (!is_block_type(w.view.type)) return magnitude;
  // Block types: codes up to 255 (Q8_0 stored + 128) or 15 times d, plus the same offset.
  const auto* bytes = static_cast<const uint8_t*>(w.view.data) + r * *row_bytes(w.view.type, cols);
  double bound = 0;
  for (int64_t b = 0; b < cols / 32; ++b) {
    uint16_t d_bits;
    std::memcpy(&d_bits, bytes + b * traits.block_bytes, 2);
    double x_magnitude = 0;
    for (int j = 0; j < 32; ++j) x_magnitude += std::fabs(x[32 * b + j]);
    const double largest_code = w.view.type == TensorType::Q8_0 ? 256.0 : 16.0;
    bound += 2 * largest_code * std::fabs(double(fp16_to_fp32(d_bits))) * x_magnitude;
    if (w.view.type == TensorType::Q4_1) {
      uint16_t m_bits;
      std::memcpy(&m_bits, bytes + b * traits.block_bytes + 2, 2);
      bound += std::fabs(double(fp16_to_fp32(m_bits))) * x_magnitude;
    }
  }
  return bound + magnitude;
}

struct Case {
  Isa isa;
  TensorType type;
};

std::string case_name(const ::testing::TestParamInfo<Case>& param) {
  return std::string(isa_name(param.param.isa)) + "_" + std::string(type_name(param.param.type));
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (Isa isa : supported_isas())
    if (gemm_kernels(isa))
      for (TensorType type :
           {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1})
        cases.push_back({isa, type});
  return cases;
}

class GemmVariantTest : public ::testing::TestWithParam<Case> {};

TEST_P(GemmVariantTest, FloatActivationsMatchReference) {
  const auto [isa, type] = GetParam();
  const FamilyKernels& family = gemm_kernels(isa)->family(type);
  std::mt19937 rng(7);
  const std::vector<int64_t> widths =
      is_block_type(type) ? std::vector<int64_t>{32, 96, 608} : std::vector<int64_t>{1, 7, 33, 100};
  for (int64_t rows : {1, 16, 17, 45}) {
    for (int64_t cols : widths) {
      for (int64_t n : {1, 3, 17}) {
        Weights w = make_weights(type, rows, cols, rng);
        const std::vector<float> x = random_vector(n * cols, rng);
        std::vector<float> sums(size_t(n * (cols / 32 + 1)));
        for (int64_t i = 0; i < n * (cols / 32); ++i)
          for (int j = 0; j < 32; ++j) sums[size_t(i)] += x[size_t(32 * i + j)];
        std::vector<float> y(size_t(n * rows), NAN);
        family.float_gemm(w.packed, FloatRows{x.data(), sums.data(), cols}, n, y.data(), rows, 0, panel_count(rows));
        for (int64_t t = 0; t < n; ++t) {
          for (int64_t r = 0; r < rows; ++r) {
            const auto* row = static_cast<const uint8_t*>(w.view.data) + r * *row_bytes(type, cols);
            const float expected = type_traits(type).dot(row, x.data() + t * cols, cols);
            const double tolerance = double(cols + 40) * 0x1p-24 * float_path_magnitude(w, r, x.data() + t * cols);
            ASSERT_NEAR(y[size_t(t * rows + r)], expected, tolerance)
                << "rows " << rows << " cols " << cols << " n " << n << " at t " << t << " r " << r;
          }
        }
      }
    }
  }
}

// Int8 rows and split int8 rows (--accuracy int16: x ≈ s · (hi + lo / 256)).
void check_int8_activations(Isa isa, TensorType type, bool split) {
  const GemmKernels& kernels = *gemm_kernels(isa);
  const FamilyKernels& family = kernels.family(type);
  std::mt19937 rng(split ? 12 : 11);
  for (int64_t rows : {1, 16, 17, 45}) {
    for (int64_t cols : {32, 96, 608}) {
      for (int64_t n : {1, 3, 17}) {
        Weights w = make_weights(type, rows, cols, rng);
        const std::vector<float> x = random_vector(n * cols, rng);
        Int8Buffers simd, reference, signed_reference;
        simd.reserve_rows(n, cols, split);
        reference.reserve_rows(n, cols, split);
        signed_reference.reserve_rows(n, cols, split);
        kernels.quantize_rows(x.data(), n, cols, family.int8_bias, simd.view(cols, split));
        quantize_rows_ref(x.data(), n, cols, family.int8_bias, reference.view(cols, split));
        quantize_rows_ref(x.data(), n, cols, 0, signed_reference.view(cols, split));
        const size_t blocks = size_t(n * cols / 32);
        // The quantizer is exact: the same codes, scales and sums as the reference.
        ASSERT_EQ(std::vector<int8_t>(simd.q.begin(), simd.q.begin() + n * cols),
                  std::vector<int8_t>(reference.q.begin(), reference.q.begin() + n * cols));
        if (split) {
          ASSERT_EQ(std::vector<int8_t>(simd.lo.begin(), simd.lo.begin() + n * cols),
                    std::vector<int8_t>(reference.lo.begin(), reference.lo.begin() + n * cols));
        }
        for (size_t b = 0; b < blocks; ++b) {
          ASSERT_EQ(simd.scale[b], reference.scale[b]);
          ASSERT_EQ(simd.offset[b], reference.offset[b]);
          ASSERT_EQ(simd.scaled_sum[b], reference.scaled_sum[b]);
        }
        std::vector<float> y(size_t(n * rows), NAN);
        family.int8_gemm(w.packed, simd.view(cols, split), n, y.data(), rows, 0, panel_count(rows));
        const Int8Rows ref_rows = signed_reference.view(cols, split);
        for (int64_t t = 0; t < n; ++t) {
          for (int64_t r = 0; r < rows; ++r) {
            const auto* row = static_cast<const uint8_t*>(w.view.data) + r * *row_bytes(type, cols);
            const float expected = dot_int8_ref(type, row, ref_rows, t);
            // Integer block dots are exact; only the float sum of K/32 scaled terms (and the
            // rounding of d_w · d_x and of the int32 block dot to float) differ: (K/32 + 4) ·
            // 2^-23 of the sum of their magnitudes, the code being 256 · hi + lo for split rows.
            double magnitude = 0;
            const TypeTraits& traits = type_traits(type);
            for (int64_t b = 0; b < cols / 32; ++b) {
              uint16_t d_bits;
              std::memcpy(&d_bits, row + b * traits.block_bytes, 2);
              double block = 0;
              for (int j = 0; j < 32; ++j) {
                const int64_t i = t * cols + 32 * b + j;
                const double code = split ? 256.0 * ref_rows.q[i] + ref_rows.lo[i] : double(ref_rows.q[i]);
                block += 255.0 * std::fabs(code);
              }
              magnitude += std::fabs(double(fp16_to_fp32(d_bits)) * ref_rows.scale[t * (cols / 32) + b]) * block;
            }
            const double tolerance = double(cols / 32 + 4) * 0x1p-23 * magnitude;
            ASSERT_NEAR(y[size_t(t * rows + r)], expected, tolerance)
                << "rows " << rows << " cols " << cols << " n " << n << " at t " << t << " r " << r;
          }
        }
      }
    }
  }
}

TEST_P(GemmVariantTest, Int8ActivationsMatchReference) {
  const auto [isa, type] = GetParam();
  if (!is_block_type(type)) {
    EXPECT_EQ(gemm_kernels(isa)->family(type).int8_gemm, nullptr);
    return;
  }
  check_int8_activations(isa, type, false);
}

// Split activations exist for the block types only: their own suite, with only those cases.
class BlockGemmVariantTest : public ::testing::TestWithParam<Case> {};

TEST_P(BlockGemmVariantTest, SplitInt8ActivationsMatchReference) {
  const auto [isa, type] = GetParam();
  check_int8_activations(isa, type, true);
}

// The split reference against float math: each activation is off by at most s · 1.5 / 256 (half
// a step of 1/256, plus one step where a tie at ±128 is clamped to ±127; the float product
// x · 127 / amax adds under 2^-16 of a step), so the dot is off by at most Σ |w| · s · 1.5 / 256
// plus float rounding; plain int8 rows are off by up to 256 times more and are checked to be.
TEST(SplitActivations, ReferenceIsWithinTheFormatsErrorOfFloatMath) {
  std::mt19937 rng(17);
  for (TensorType type : {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q8_0}) {
    const int64_t rows = 9, cols = 224, n = 3;
    Weights w = make_weights(type, rows, cols, rng);
    const std::vector<float> x = random_vector(n * cols, rng);
    Int8Buffers split, plain;
    split.reserve_rows(n, cols, true);
    plain.reserve_rows(n, cols);
    quantize_rows_ref(x.data(), n, cols, 0, split.view(cols, true));
    quantize_rows_ref(x.data(), n, cols, 0, plain.view(cols));
    double worst_split = 0, worst_plain = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const auto* row = static_cast<const uint8_t*>(w.view.data) + r * *row_bytes(type, cols);
      std::vector<float> weights(static_cast<size_t>(cols));
      type_traits(type).dequantize(row, weights.data(), cols);
      for (int64_t t = 0; t < n; ++t) {
        double exact = 0, bound = 0, magnitude = 0;
        for (int64_t c = 0; c < cols; ++c) {
          const double product = double(weights[size_t(c)]) * x[size_t(t * cols + c)];
          exact += product;
          magnitude += std::fabs(product);
          const double s = split.scale[size_t(t * (cols / 32) + c / 32)] * 256.0;
          bound += std::fabs(double(weights[size_t(c)])) * s * 1.5 / 256;
        }
        bound += double(cols) * 0x1p-22 * magnitude;
        const double split_error = std::fabs(dot_int8_ref(type, row, split.view(cols, true), t) - exact);
        ASSERT_LE(split_error, bound) << type_name(type) << " row " << r << " t " << t;
        worst_split = std::max(worst_split, split_error);
        worst_plain = std::max(worst_plain, std::fabs(dot_int8_ref(type, row, plain.view(cols), t) - exact));
      }
    }
    EXPECT_GT(worst_plain, 30 * worst_split) << type_name(type);
  }
}

// Batched sequences: a row's result must not depend on how many rows are multiplied with it
// (register tiles of different sizes must add in the same order).
TEST_P(GemmVariantTest, RowsEqualTheSameRowsAlone) {
  const auto [isa, type] = GetParam();
  const FamilyKernels& family = gemm_kernels(isa)->family(type);
  std::mt19937 rng(13);
  const int64_t rows = 33, cols = is_block_type(type) ? 96 : 37, n = 7;
  Weights w = make_weights(type, rows, cols, rng);
  const std::vector<float> x = random_vector(n * cols, rng);
  std::vector<float> sums(size_t(n * (cols / 32 + 1)));
  for (int64_t i = 0; i < n * (cols / 32); ++i)
    for (int j = 0; j < 32; ++j) sums[size_t(i)] += x[size_t(32 * i + j)];
  std::vector<float> batch(static_cast<size_t>(n * rows)), alone(static_cast<size_t>(rows));
  family.float_gemm(w.packed, FloatRows{x.data(), sums.data(), cols}, n, batch.data(), rows, 0, panel_count(rows));
  for (int64_t t = 0; t < n; ++t) {
    const FloatRows one{x.data() + t * cols, sums.data() + t * (cols / 32), cols};
    family.float_gemm(w.packed, one, 1, alone.data(), rows, 0, panel_count(rows));
    ASSERT_EQ(std::vector<float>(batch.begin() + t * rows, batch.begin() + (t + 1) * rows), alone) << "row " << t;
  }
  if (!family.int8_gemm) return;
  for (bool split : {false, true}) {
    Int8Buffers q;
    q.reserve_rows(n, cols, split);
    gemm_kernels(isa)->quantize_rows(x.data(), n, cols, family.int8_bias, q.view(cols, split));
    family.int8_gemm(w.packed, q.view(cols, split), n, batch.data(), rows, 0, panel_count(rows));
    for (int64_t t = 0; t < n; ++t) {
      const Int8Rows all = q.view(cols, split);
      const int64_t b = t * (cols / 32);
      const Int8Rows one{all.q + t * cols,   all.scale + b, all.offset + b,
                         all.scaled_sum + b, cols,          split ? all.lo + t * cols : nullptr};
      family.int8_gemm(w.packed, one, 1, alone.data(), rows, 0, panel_count(rows));
      ASSERT_EQ(std::vector<float>(batch.begin() + t * rows, batch.begin() + (t + 1) * rows), alone)
          << (split ? "split " : "int8 ") << "row " << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, GemmVariantTest, ::testing::ValuesIn(all_cases()), case_name);

std::vector<Case> block_cases() {
  std::vector<Case> cases;
  for (const Case& c : all_cases())
    if (is_block_type(c.type)) cases.push_back(c);
  return cases;
}
INSTANTIATE_TEST_SUITE_P(AllVariants, BlockGemmVariantTest, ::testing::ValuesIn(block_cases()), case_name);

// Through CpuOps, with the threads splitting the panels differently: the same bits.
TEST(GemmThreads, ResultsDoNotDependOnThreadCount) {
  std::mt19937 rng(3);
  for (TensorType type : {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q8_0, TensorType::F16}) {
    for (ActivationPrecision precision :
         {ActivationPrecision::Float, ActivationPrecision::Int8, ActivationPrecision::Int16}) {
      const int64_t rows = 200, cols = 320, n = 5;
      Weights w = make_weights(type, rows, cols, rng);
      ThreadPool one(1);
      CpuOps reference_ops(one, precision);
      WeightBuffer storage;
      const MatrixView prepared = reference_ops.prepare_weight(w.view, storage);
      const std::vector<float> x = random_vector(n * cols, rng);
      std::vector<float> expected(size_t(n * rows));
      reference_ops.matmul(prepared, x.data(), n, expected.data());
      for (int threads : {2, 3, 7}) {
        ThreadPool pool(threads);
        CpuOps ops(pool, precision);
        std::vector<float> y(size_t(n * rows));
        ops.matmul(prepared, x.data(), n, y.data());
        ASSERT_EQ(y, expected) << type_name(type) << " with " << threads << " threads";
      }
    }
  }
}

// A group of weights on one activation (Q, K, V; gate, up) gives each weight's own matmul bits,
// whatever the threads and wherever a chunk straddles two weights; a group of mixed types or
// layouts runs each weight on its own path.
TEST(GemmGroup, EqualsEachMatmulAlone) {
  std::mt19937 rng(11);
  const int64_t cols = 96;
  for (TensorType type : {TensorType::Q4_0, TensorType::Q8_0, TensorType::F16}) {
    for (ActivationPrecision precision : {ActivationPrecision::Float, ActivationPrecision::Int16}) {
      Weights a = make_weights(type, 40, cols, rng), b = make_weights(type, 17, cols, rng);
      Weights c = make_weights(TensorType::Q4_1, 33, cols, rng);
      for (int64_t n : {1, 3}) {
        const std::vector<float> x = random_vector(n * cols, rng);
        for (int threads : {1, 2, 3}) {
          ThreadPool pool(threads);
          CpuOps ops(pool, precision);
          std::vector<std::vector<float>> alone(4), grouped(4);
          const MatrixView* views[] = {&a.packed, &b.packed, &c.packed, &a.view};  // the last: row-major
          for (size_t i = 0; i < 4; ++i) {
            alone[i].resize(size_t(n * views[i]->rows));
            grouped[i].assign(alone[i].size(), -1.0f);
            ops.matmul(*views[i], x.data(), n, alone[i].data());
          }
          float* same_type[] = {grouped[0].data(), grouped[1].data()};
          ops.matmul_group(std::span<const MatrixView* const>(views, 2), x.data(), n, same_type);
          EXPECT_EQ(grouped[0], alone[0]) << type_name(type) << " n " << n << " threads " << threads;
          EXPECT_EQ(grouped[1], alone[1]) << type_name(type) << " n " << n << " threads " << threads;
          float* mixed[] = {grouped[0].data(), grouped[1].data(), grouped[2].data(), grouped[3].data()};
          ops.matmul_group(views, x.data(), n, mixed);
          for (size_t i = 0; i < 4; ++i) EXPECT_EQ(grouped[i], alone[i]) << "mixed group, weight " << i;
        }
      }
    }
  }
}

// A tied embedding is looked up from its packed copy: every row must dequantize exactly as the
// file's row does.
TEST(PackedLayout, UnpackedRowsEqualTheFileRows) {
  std::mt19937 rng(5);
  for (TensorType type :
       {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1}) {
    const int64_t rows = 37, cols = 96;
    Weights w = make_weights(type, rows, cols, rng);
    std::vector<float> expected(static_cast<size_t>(cols)), actual(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      type_traits(type).dequantize(static_cast<const uint8_t*>(w.view.data) + r * *row_bytes(type, cols),
                                   expected.data(), cols);
      unpack_row(w.packed, r, actual.data());
      ASSERT_EQ(actual, expected) << type_name(type) << " row " << r;
    }
  }
}

TEST(Isa, NamesRoundTripAndScalarIsAlwaysSupported) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Vnni, Isa::Neon})
    EXPECT_EQ(isa_from_name(isa_name(isa)), isa);
  EXPECT_FALSE(isa_from_name("sse9"));
  EXPECT_EQ(supported_isas().front(), Isa::Scalar);
  EXPECT_FALSE(detected_cpu_features().empty());
}

}  // namespace
}  // namespace phirun
