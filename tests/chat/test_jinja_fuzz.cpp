// Chat templates come from model files: outside input. Real templates and the conformance cases,
// mutated at random (bytes dropped, slices repeated, Jinja tokens inserted), must parse and render
// or fail with one clear error: no crash, no hang, no other exception (ASan/UBSan run this in CI).
// Deterministic: a fixed seed. PHIRUN_JINJA_FUZZ_ROUNDS=N runs N mutations per template (default
// 1000) for a longer search.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "tests/chat/fixtures.h"
#include "tokenizer/jinja/json.h"
#include "tokenizer/jinja/template.h"

namespace phirun::jinja {
namespace {

constexpr const char* kPieces[] = {
    "{%",   "%}",   "{{",     "}}",   "{#",     "#}",    "-",    "+",      "(",        ")",       "[",
    "]",    "{",    "}",      "'",    "\"",     "|",     ",",    ":",      ".",        " is ",    " not ",
    " in ", " if ", " else ", "for ", "endfor", "endif", "set ", "macro ", "endmacro", "loop.",   "ns.",
    "\n",   "0",    "-1",     "*",    "**",     "~",     "raw",  "endraw", "tojson",   "items()", "namespace("};

std::string mutate(std::string text, std::mt19937& random) {
  const int edits = 1 + int(random() % 4);
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const size_t at = random() % text.size();
    switch (random() % 3) {
      case 0:
        text.erase(at, 1 + random() % 8);
        break;
      case 1:
        text.insert(at, text.substr(random() % text.size(), random() % 40));
        break;
      default:
        text.insert(at, kPieces[random() % std::size(kPieces)]);
        break;
    }
  }
  return text;
}

// Renders, allowing only TemplateError (or runtime_error for text that is not UTF-8).
void render_or_fail_cleanly(const std::string& source, const Dict& variables) {
  RenderLimits limits;
  limits.max_steps = 200'000;
  limits.max_bytes = 4 << 20;
  try {
    Template(source).render(variables, limits);
  } catch (const TemplateError& error) {
    if (!error.raised_by_template()) {
      EXPECT_EQ(std::string(error.what()).rfind("line ", 0), 0u) << error.what();
    }
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("invalid UTF-8"), std::string::npos) << error.what();
  }
}

int rounds() {
  const char* value = std::getenv("PHIRUN_JINJA_FUZZ_ROUNDS");
  return value ? std::max(1, std::atoi(value)) : 1000;
}

TEST(JinjaFuzz, MutatedRealTemplatesFailCleanly) {
  const Value variables = parse_json(R"({
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                 {"role": "assistant", "tool_calls": [{"id": "call12345", "type": "function",
                   "function": {"name": "f", "arguments": {"x": 1}}}]},
                 {"role": "tool", "content": "42", "tool_call_id": "call12345"}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"})",
                                     "variables");
  std::mt19937 random(20241209);
  for (const char* file :
       {"smollm2.jinja", "phi-3.jinja", "phi-3.5-mini.jinja", "phi-4-mini.jinja", "llama-3.1.jinja", "llama-3.2.jinja",
        "mistral-nemo.jinja", "qwen2.5.jinja", "gemma-2.jinja", "qwen3.jinja", "smollm3.jinja"}) {
    const std::string original = testing::read_chat_template(file);
    for (int i = 0; i < rounds(); ++i) {
      const std::string source = mutate(original, random);
      SCOPED_TRACE(std::string(file) + " mutation " + std::to_string(i) + ":\n" + source);
      render_or_fail_cleanly(source, variables.as_dict());
    }
  }
}

TEST(JinjaFuzz, MutatedConformanceCasesFailCleanly) {
  const nlohmann::ordered_json fixture = testing::read_chat_fixture("jinja_cases.json");
  std::mt19937 random(7);
  for (const auto& c : fixture.at("cases")) {
    const Value variables = parse_json(c.at("variables").dump(), "variables");
    for (int i = 0; i < 10; ++i) {
      const std::string source = mutate(c.at("template").get<std::string>(), random);
      SCOPED_TRACE(source);
      render_or_fail_cleanly(source, variables.as_dict());
    }
  }
}

}  // namespace
}  // namespace phirun::jinja
