// A template that would run for minutes, fill memory or recurse without end stops with a clear
// error: steps, bytes built, text printed, macro call depth, parse nesting and value nesting are
// all bounded (RenderLimits; the nesting bounds are fixed).
#include <gtest/gtest.h>

#include "tokenizer/jinja/json.h"
#include "tokenizer/jinja/parser.h"
#include "tokenizer/jinja/template.h"

namespace phirun::jinja {
namespace {

std::string render_error(const std::string& source, const RenderLimits& limits = {}) {
  try {
    const std::string output = Template(source).render(Dict{}, limits);
    return "(rendered " + std::to_string(output.size()) + " bytes)";
  } catch (const TemplateError& error) {
    return error.what();
  }
}

TEST(JinjaLimits, EndlessLoopsStopAtTheStepLimit) {
  RenderLimits limits;
  limits.max_steps = 200'000;
  EXPECT_EQ(
      render_error("{% for i in range(100000) %}{% for j in range(1000) %}{{ '' }}{% endfor %}{% endfor %}", limits),
      "line 1, column 32: the template ran more than 200000 steps (a loop that does not end?)");
  // Comparing two lists nested as a DAG of 2^60 leaves walks them element by element: counted too.
  EXPECT_EQ(render_error("{% set ns = namespace(l=[1], m=[1]) %}{% for i in range(60) %}"
                         "{% set ns.l = [ns.l, ns.l] %}{% set ns.m = [ns.m, ns.m] %}{% endfor %}{{ ns.l == ns.m }}",
                         limits),
            "line 1, column 136: the template ran more than 200000 steps (a loop that does not end?)");
}

// Each pass of a loop counts 100 steps, its body or not: two nested range(100000) loops with
// nothing inside stop at the default 20 M steps after 200,000 passes (a fraction of a second;
// counted one step a pass, they ran 4 M passes until the byte limit: 432 s under ASan).
TEST(JinjaLimits, EmptyNestedLoopsOverBigRangesStopAtTheStepLimit) {
  EXPECT_EQ(render_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
            "line 1, column 32: the template ran more than 20000000 steps (a loop that does not end?)");
  RenderLimits limits;
  limits.max_steps = 100 * 1000 + 1000 + 10;  // 1000 passes of an empty loop fit, 1001 do not
  EXPECT_EQ(render_error("{% for i in range(1000) %}{% endfor %}", limits), "(rendered 0 bytes)");
  EXPECT_EQ(render_error("{% for i in range(1001) %}{% endfor %}", limits),
            "line 1, column 4: the template ran more than 101010 steps (a loop that does not end?)");
}

TEST(JinjaLimits, HugeStringsAndListsFailBeforeTheyAreBuilt) {
  // Charged before allocation: no terabyte is ever requested.
  EXPECT_EQ(render_error("{{ 'x' * 1000000000000 }}"),
            "line 1, column 8: the template built more than 128 MiB of text and lists");
  EXPECT_EQ(render_error("{{ [1] * 1000000000000 }}"),
            "line 1, column 8: the template built more than 128 MiB of text and lists");
  RenderLimits limits;
  limits.max_bytes = 1 << 20;
  EXPECT_EQ(
      render_error("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                   limits),
      "line 1, column 72: the template built more than 1 MiB of text and lists");
  // range(30000) builds 30000 values of 32 bytes, just under 1 MiB; the text printed then passes it.
  EXPECT_EQ(render_error("{% for i in range(30000) %}{{ 'abcdefghijklmnopqrstuvwxyz0123456789' }}{% endfor %}", limits),
            "line 1, column 28: the template built more than 1 MiB of text and lists");
  EXPECT_EQ(render_error("{{ 'ab'.replace('', 'x' * 1000) * 1000 }}", limits),
            "line 1, column 33: the template built more than 1 MiB of text and lists");
  // One big string printed a thousand times over, through a list: the text is bounded as it grows.
  EXPECT_EQ(render_error("{% set l = ['x' * 10000] * 1000 %}{{ l }}", limits),
            "line 1, column 35: the text of a value is longer than the render's limit of 1 MiB");
  EXPECT_EQ(render_error("{% set l = ['x' * 10000] * 1000 %}{{ l|tojson }}", limits),
            "line 1, column 40: the text of a value is longer than the render's limit of 1 MiB");
}

TEST(JinjaLimits, RecursionIsBounded) {
  EXPECT_EQ(render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
            "line 1, column 20: macro calls nest more than 100 deep (endless recursion?)");
  RenderLimits limits;
  limits.max_call_depth = 5;
  EXPECT_EQ(render_error("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}.{% endmacro %}{{ f(4) }}", limits),
            "(rendered 5 bytes)");
  EXPECT_EQ(render_error("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}.{% endmacro %}{{ f(5) }}", limits),
            "line 1, column 34: macro calls nest more than 5 deep (endless recursion?)");
}

TEST(JinjaLimits, ParseNestingIsBounded) {
  const std::string deep_parentheses = std::string(1000, '(') + "1" + std::string(1000, ')');
  EXPECT_EQ(render_error("{{ " + deep_parentheses + " }}"),
            "line 1, column 37: the template nests deeper than " + std::to_string(kMaxParseDepth) + " levels");
  std::string deep_ifs;
  for (int i = 0; i < 500; ++i) deep_ifs += "{% if true %}";
  EXPECT_NE(render_error(deep_ifs).find("the template nests deeper than"), std::string::npos);
  EXPECT_NE(render_error("{{ " + std::string(5000, '-') + "1 }}").find("nests deeper"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_NE(render_error("{{ " + nots + "1 }}").find("nests deeper"), std::string::npos);
  // Real templates are far from the bound: 30 levels of parentheses are fine.
  EXPECT_EQ(render_error("{{ " + std::string(30, '(') + "1" + std::string(30, ')') + " }}"), "(rendered 1 bytes)");
}

TEST(JinjaLimits, ValueNestingIsBounded) {
  EXPECT_EQ(render_error("{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set ns.l = [ns.l] %}{% endfor %}"),
            "line 1, column 71: lists and dicts nest more than 256 levels deep");
  EXPECT_THROW(parse_json(std::string(1000, '[') + std::string(1000, ']'), "deep"), std::runtime_error);
}

TEST(JinjaLimits, CyclesThroughNamespacesPrintAndFree) {
  // A namespace holding itself prints as Python prints it, and (under ASan) leaks nothing.
  EXPECT_EQ(Template("{% set ns = namespace() %}{% set ns.a = ns %}{% set ns.b = ns %}{{ ns }}").render(Dict{}),
            "<Namespace {'a': <Namespace {...}>, 'b': <Namespace {...}>}>");
  EXPECT_EQ(Template("{% set ns = namespace() %}{% macro m() %}{{ ns.x }}{% endmacro %}{% set ns.m = m %}"
                     "{% set ns.x = 1 %}{{ ns.m() }}")
                .render(Dict{}),
            "1");
}

TEST(JinjaLimits, ATemplateRendersAgainWithFreshState) {
  const Template counter("{% set j = joiner('+') %}{% for i in range(3) %}{{ j() }}{{ i }}{% endfor %}");
  EXPECT_EQ(counter.render(Dict{}), "0+1+2");
  EXPECT_EQ(counter.render(Dict{}), "0+1+2");
  RenderLimits limits;
  limits.max_steps = 400;  // three passes (100 steps each) and a few more; counted afresh each render
  EXPECT_EQ(counter.render(Dict{}, limits), "0+1+2");
  EXPECT_EQ(counter.render(Dict{}, limits), "0+1+2");
}

}  // namespace
}  // namespace phirun::jinja
