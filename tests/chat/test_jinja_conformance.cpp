// Small templates, each pinning down one jinja2 behaviour (whitespace control, scoping, Python's
// arithmetic and printing, filters, tests, methods, errors), against jinja2 in transformers'
// environment: tests/fixtures/jinja_conformance_cases.py, rendered into jinja_cases.json.
#include <gtest/gtest.h>

#include "tests/chat/fixtures.h"
#include "tokenizer/jinja/json.h"
#include "tokenizer/jinja/template.h"

namespace phirun::jinja {
namespace {

TEST(JinjaConformance, SmallTemplatesRenderLikeJinja2) {
  const nlohmann::ordered_json fixture = testing::read_chat_fixture("jinja_cases.json");
  const auto& cases = fixture.at("cases");
  ASSERT_GE(cases.size(), 275u);
  size_t outputs = 0, errors = 0;
  for (const auto& c : cases) {
    const std::string source = c.at("template").get<std::string>();
    SCOPED_TRACE("template: " + source);
    const Value variables = parse_json(c.at("variables").dump(), "variables");
    std::string output;
    try {
      output = Template(source).render(variables.as_dict());
    } catch (const TemplateError& error) {
      if (c.contains("output")) {
        ADD_FAILURE() << "failed: " << error.what() << "\njinja2 rendered: " << c.at("output");
        continue;
      }
      ++errors;
      if (c.at("raised").get<bool>()) {
        EXPECT_TRUE(error.raised_by_template()) << error.what();
        EXPECT_EQ(error.problem(), c.at("error").get<std::string>());
      } else {
        EXPECT_FALSE(error.raised_by_template()) << error.what();
      }
      continue;
    }
    if (c.contains("error")) {
      ADD_FAILURE() << "rendered " << ::testing::PrintToString(output) << " but jinja2 failed: " << c.at("error");
      continue;
    }
    ++outputs;
    EXPECT_EQ(output, c.at("output").get<std::string>());
  }
  EXPECT_EQ(outputs + errors, cases.size());
}

}  // namespace
}  // namespace phirun::jinja
