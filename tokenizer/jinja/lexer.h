// Splits a Jinja template into text and the tokens of its {{ }} and {% %} tags, following jinja2's
// lexer rule for rule with the settings transformers renders chat templates with: trim_blocks
// (the newline after a block tag is dropped), lstrip_blocks (spaces before a block tag on its own
// line are dropped), "-" and "+" whitespace control, comments, {% raw %}, \r\n normalized to \n
// and one trailing newline removed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace phirun::jinja {

enum class TokenType : uint8_t {
  Text,           // template text between tags, whitespace control already applied
  BlockBegin,     // {%
  BlockEnd,       // %}
  VariableBegin,  // {{
  VariableEnd,    // }}
  Name,
  String,
  Integer,
  Float,
  Operator,  // + - / // * % ** ~ [ ] ( ) { } == != > >= < <= = . : | , ;
  End,
};

struct Token {
  TokenType type;
  uint32_t offset;   // into the normalized source, for error positions
  std::string text;  // text, name, operator, or a string literal's value (escapes decoded)
  int64_t integer = 0;
  double number = 0;
};

// The template source as the lexer sees it: newlines normalized and one trailing newline gone.
// Token offsets index this text.
std::string normalize_template_source(std::string_view source);

// Tokens of a normalized source. Throws TemplateError (see error.h) naming the line and column of
// the first problem: an unterminated tag, comment or string, an unexpected character, unbalanced
// brackets.
std::vector<Token> tokenize_template(std::string_view normalized_source);

}  // namespace phirun::jinja
