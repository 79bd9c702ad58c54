// Builds the statement tree of a template from its tokens, with jinja2's grammar (jinja2/parser.py).
// Unknown tags are errors here, and unknown filters and tests where jinja2's compiler rejects them
// (check_filter_and_test_names), before anything renders.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"

namespace phirun::jinja {

// Expressions and blocks may nest this deep (parentheses, filters, if inside for...); deeper is an
// error rather than a risk to the stack. Real chat templates nest well under 20.
inline constexpr int kMaxParseDepth = 100;

// `source` is the normalized source the tokens came from (for error positions). Throws
// TemplateError with the line and column of the first problem.
Body parse_template(std::string_view source, const std::vector<Token>& tokens);

// Unknown filters and tests outside {% if %} and inline ifs are errors (name_check.cpp).
void check_filter_and_test_names(std::string_view source, const Body& body);

}  // namespace phirun::jinja
