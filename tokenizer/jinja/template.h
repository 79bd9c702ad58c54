// A Jinja template as transformers renders chat templates: jinja2 with trim_blocks and
// lstrip_blocks, in an immutable sandbox, with the loopcontrols extension, `raise_exception`,
// `strftime_now` and json.dumps as `tojson`. Parsed once, rendered any number of times.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/value.h"

namespace phirun::jinja {

// Bounds on one render, so that a hostile or broken template stops with an error instead of
// running for minutes or filling memory. A chat prompt needs a tiny fraction of each.
struct RenderLimits {
  uint64_t max_steps = 20'000'000;    // expressions evaluated and statements run
  uint64_t max_bytes = 128ull << 20;  // text emitted plus strings and lists built, in total
  int max_call_depth = 100;           // macros calling macros
};

class Template {
 public:
  // Parses `source` (UTF-8). Throws TemplateError naming the line and column of a syntax error, an
  // unknown tag, filter or test, or std::runtime_error for text that is not UTF-8.
  explicit Template(std::string_view source);

  // Renders with `variables` as the template's globals. Throws TemplateError (with the line and
  // column) for anything the template cannot do with them, or when it raises an exception itself.
  std::string render(const Dict& variables, const RenderLimits& limits = {}) const;

  const std::string& source() const { return source_; }  // normalized: \n newlines, no trailing newline

 private:
  std::string source_;
  Body body_;
};

}  // namespace phirun::jinja
