// A template phirun cannot render is one clear error naming the construct and where it is. The
// exact message for each kind of mistake, in syntax (found when parsing) and at run time.
#include <gtest/gtest.h>

#include "tokenizer/jinja/json.h"
#include "tokenizer/jinja/template.h"

namespace phirun::jinja {
namespace {

std::string render_error(const std::string& source) {
  const Value variables =
      parse_json(R"({"x": {"a": 1}, "n": null, "messages": [{"role": "user", "content": "hi"}]})", "test");
  try {
    const std::string output = Template(source).render(variables.as_dict());
    return "(rendered: " + output + ")";
  } catch (const TemplateError& error) {
    return error.what();
  }
}

struct ErrorCase {
  const char* source;
  const char* message;
};

TEST(JinjaErrors, SyntaxErrorsNameTheConstructAndPlace) {
  const ErrorCase cases[] = {
      {"{% if %}", "line 1, column 7: expected an expression, got end of statement block (%})"},
      {"{% if x %}oops",
       "line 1, column 15: unexpected end of template: expected 'elif' or 'else' or 'endif' to close a block"},
      {"{% endif %}", "line 1, column 4: unexpected 'endif': no open block takes it here"},
      {"{% for x y %}{% endfor %}", "line 1, column 10: expected 'in' in the for loop, got 'y'"},
      {"{% for x in %}{% endfor %}", "line 1, column 13: expected an expression, got end of statement block (%})"},
      {"{{ 1 + }}", "line 1, column 8: unexpected end of print statement (}})"},
      {"{{ }}", "line 1, column 4: expected an expression, got end of print statement (}})"},
      {"{{ x | nosuch }}", "line 1, column 8: unknown filter 'nosuch'"},
      {"{{ x is nosuch }}", "line 1, column 9: unknown test 'nosuch'"},
      {"{% nosuchtag %}", "line 1, column 4: unknown tag 'nosuchtag'"},
      {"{% break %}", "line 1, column 4: 'break' outside of a for loop"},
      {"{% for x in [1] %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}",
       "line 1, column 37: 'break' outside of a for loop"},
      {"{% for x in y recursive %}{% endfor %}",
       "line 1, column 15: recursive for loops are not supported by phirun's Jinja"},
      {"{{ 'unterminated }}", "line 1, column 4: unterminated string literal"},
      {"{{ (1, 2 }}", "line 1, column 10: unexpected '}', expected ')'"},
      {"{{ [1, 2) }}", "line 1, column 9: unexpected ')', expected ']'"},
      {"text\n{# unterminated", "line 2, column 1: missing end of comment tag ('#}')"},
      {"{% raw %} unterminated", "line 1, column 1: missing end of raw block ({% endraw %})"},
      {"{% include 'x' %}",
       "line 1, column 4: '{% include %}' is not supported: chat templates are rendered alone, without other templates "
       "to load"},
      {"{% do x %}",
       "line 1, column 4: '{% do %}' is not available to chat templates (transformers does not enable it)"},
      {"{{ x @ y }}", "line 1, column 6: unexpected character '@' in a tag"},
      {"{% set 1 = 2 %}", "line 1, column 8: can only assign to names, got a number"},
      {"{% macro m(a=1, b) %}{% endmacro %}",
       "line 1, column 18: a parameter without a default follows one with a default"},
      {"{{ '\\N{BULLET}' }}",
       "line 1, column 5: \\N{...} escapes in string literals are not supported by phirun's Jinja"},
      {"{{ '\\x4' }}", "line 1, column 5: truncated \\x escape in a string literal"},
      {"{{ 99999999999999999999 }}", "line 1, column 4: the integer 99999999999999999999 does not fit in 64 bits"},
      {"{{ \xc3\xa9 }}",
       "line 1, column 4: names in templates must be ASCII (phirun's Jinja does not take Unicode identifiers)"},
      {"{{ a is b is c }}", "line 1, column 11: you cannot chain tests with 'is'"},
  };
  for (const ErrorCase& c : cases) EXPECT_EQ(render_error(c.source), c.message) << c.source;
}

TEST(JinjaErrors, RuntimeErrorsNameTheExpressionAndPlace) {
  const ErrorCase cases[] = {
      {"{{ messages[0].content.nope.deeper }}",
       "line 1, column 28: UndefinedError: 'str object' has no attribute 'nope'"},
      {"line1\n  {{ missing.attr }}", "line 2, column 13: UndefinedError: 'missing' is undefined"},
      {"{{ x.a + 'b' }}", "line 1, column 8: TypeError: unsupported operand type(s) for +: 'int' and 'str'"},
      {"{{ 'b' + x.a }}", "line 1, column 8: TypeError: can only concatenate str (not \"int\") to str"},
      {"{{ n.x.y }}", "line 1, column 7: UndefinedError: 'None' has no attribute 'x'"},
      {"{% for m in n %}{% endfor %}", "line 1, column 13: TypeError: 'NoneType' object is not iterable"},
      {"{% for a, b in [1] %}{% endfor %}", "line 1, column 4: TypeError: cannot unpack non-iterable int object"},
      {"{{ range(200000) }}",
       "line 1, column 4: OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000)."},
      {"{{ 1 // 0 }}", "line 1, column 6: ZeroDivisionError: integer division or modulo by zero"},
      {"{{ 9223372036854775807 + 1 }}", "line 1, column 24: the integer result of '+' does not fit in 64 bits"},
      {"{{ x.pop('a') }}",
       "line 1, column 5: SecurityError: access to attribute 'pop' of 'dict' object is unsafe (templates cannot change "
       "a dict)"},
      {"{{ 'x'.isdigit() }}",
       "line 1, column 7: NotImplementedError: str.isdigit() is not implemented by phirun's Jinja"},
      {"{{ cycler(1) }}", "line 1, column 4: NotImplementedError: 'cycler' is not supported by phirun's Jinja"},
      {"{% set ns.x = 1 %}", "line 1, column 4: cannot assign attribute 'x' on 'ns': it is not a namespace() object"},
      {"{{ {[1]: 2} }}", "line 1, column 4: TypeError: unhashable type: 'list'"},
      {"{{ '%s' % 1 }}",
       "line 1, column 9: printf-style 'string % values' formatting is not supported by phirun's Jinja (use ~ or "
       "format())"},
      {"{% if x %}{{ x | nosuch }}{% endif %}", "line 1, column 18: TemplateRuntimeError: no filter named 'nosuch'"},
      {"{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}",
       "line 1, column 34: TypeError: macro 'm' takes not more than 1 argument(s)"},
      {"{{ x|tojson(indent=2, foo=1) }}",
       "line 1, column 6: TypeError: tojson() got an unexpected keyword argument 'foo'"},
      {"{{ namespace(a=1)|tojson }}",
       "line 1, column 19: TypeError: Object of type Namespace is not JSON serializable"},
  };
  for (const ErrorCase& c : cases) EXPECT_EQ(render_error(c.source), c.message) << c.source;
}

TEST(JinjaErrors, RaiseExceptionKeepsTheTemplatesWords) {
  try {
    Template("{% if messages|length > 0 %}\n  {{ raise_exception('Only ' ~ 2 ~ ' roles allowed') }}\n{% endif %}")
        .render(parse_json(R"({"messages": [1]})", "test").as_dict());
    FAIL() << "rendered";
  } catch (const TemplateError& error) {
    EXPECT_TRUE(error.raised_by_template());
    EXPECT_EQ(error.problem(), "Only 2 roles allowed");
    EXPECT_EQ(error.position().line, 2u);
    EXPECT_EQ(error.position().column, 6u);
    EXPECT_STREQ(error.what(), "the template raised an error: Only 2 roles allowed (line 2, column 6)");
  }
}

TEST(JinjaErrors, TemplateTextMustBeUtf8) { EXPECT_THROW(Template("{{ 'caf\xe9' }}"), std::runtime_error); }

}  // namespace
}  // namespace phirun::jinja
