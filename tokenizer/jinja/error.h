// Template errors carry where they happened: "line 3, column 15: unknown filter 'from_json'". An
// exception the template raises itself (raise_exception) keeps its own message apart, so that
// callers can show it as the template's words.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace phirun::jinja {

struct SourcePosition {
  uint32_t line = 0;    // 1-based
  uint32_t column = 0;  // 1-based, in characters
};

// Line and column of a byte offset into the normalized source.
SourcePosition position_of(std::string_view source, uint32_t offset);

class TemplateError : public std::runtime_error {
 public:
  TemplateError(SourcePosition position, std::string problem, bool raised_by_template = false);

  SourcePosition position() const { return position_; }
  const std::string& problem() const { return problem_; }  // without the position
  // True for raise_exception("...") in the template: problem() is the template's message.
  bool raised_by_template() const { return raised_by_template_; }

 private:
  SourcePosition position_;
  std::string problem_;
  bool raised_by_template_;
};

[[noreturn]] void throw_at(std::string_view source, uint32_t offset, std::string problem);

}  // namespace phirun::jinja
