// Phi-4-mini's tokenizer for the tests, rebuilt without its 6 MB of vocabulary files: o200k_base's
// ranks (fetched by scripts/fetch-test-data.sh) give vocab.json's first 199998 tokens and, by
// byte-pair merging each token's bytes under the lower ranks, every line of merges.txt; the 31
// tokens past o200k and the special ids come from tests/fixtures/tokenizer/phi4_mini_vocab.json.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/common/test_model.h"
#include "tokenizer/vocab.h"

namespace phirun::testing {

// $PHIRUN_O200K_VOCAB, else tokenizers/o200k.vocab in the cache folder fetch-test-data.sh fills.
std::string o200k_vocab_path_for_tests();

// The o200k ranks as raw token bytes, index = rank. Throws std::runtime_error for a malformed file.
std::vector<std::string> read_o200k_ranks(const std::string& path);

// "left right" (byte-level spelled) for every token of two or more bytes, in rank order: the last
// merge of byte-pair merging the token under the ranks below its own (as Hugging Face's tiktoken
// converter derives merges.txt).
std::vector<std::string> merges_from_ranks(const std::vector<std::string>& ranks);

// FNV-1a 64 over each string's bytes followed by a 0 byte, as the fixture script computes it.
uint64_t fnv1a64_of_strings(const std::vector<std::string>& strings);

// Phi-4-mini's vocabulary as phirun's builder writes it (tokenizer.ggml.model "gpt2", pre "gpt-4o",
// Control / UserDefined types and rstrip flags from tokenizer_config.json), before padding.
TokenizerVocab phi4_mini_vocab(const std::string& o200k_path);

}  // namespace phirun::testing

// Use at the top of a test that needs o200k's ranks: sets `path` or skips (fails under
// PHIRUN_REQUIRE_MODEL=1, as CI runs).
#define PHIRUN_REQUIRE_O200K_VOCAB(path)                                                     \
  const std::string path = ::phirun::testing::o200k_vocab_path_for_tests();                  \
  if (!std::filesystem::exists(path)) {                                                      \
    if (::phirun::testing::model_is_required())                                              \
      FAIL() << "o200k ranks missing at " << path << ": run scripts/fetch-test-data.sh";     \
    GTEST_SKIP() << "o200k ranks missing at " << path << ": run scripts/fetch-test-data.sh"; \
  }
