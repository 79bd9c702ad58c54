// Positions of template errors, counted in the normalized source the lexer and parser see.
#include "tokenizer/jinja/error.h"

#include <algorithm>

namespace phirun::jinja {

namespace {

std::string describe(SourcePosition position, const std::string& problem, bool raised_by_template) {
  const std::string where = "line " + std::to_string(position.line) + ", column " + std::to_string(position.column);
  if (raised_by_template) return "the template raised an error: " + problem + " (" + where + ")";
  return where + ": " + problem;
}

}  // namespace

SourcePosition position_of(std::string_view source, uint32_t offset) {
  offset = std::min<uint32_t>(offset, uint32_t(source.size()));
  SourcePosition position{1, 1};
  for (uint32_t i = 0; i < offset; ++i) {
    if (source[i] == '\n') {
      ++position.line;
      position.column = 1;
    } else if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) {
      ++position.column;  // count characters, not UTF-8 continuation bytes
    }
  }
  return position;
}

TemplateError::TemplateError(SourcePosition position, std::string problem, bool raised_by_template)
    : std::runtime_error(describe(position, problem, raised_by_template)),
      position_(position),
      problem_(std::move(problem)),
      raised_by_template_(raised_by_template) {}

void throw_at(std::string_view source, uint32_t offset, std::string problem) {
  throw TemplateError(position_of(source, offset), std::move(problem));
}

}  // namespace phirun::jinja
