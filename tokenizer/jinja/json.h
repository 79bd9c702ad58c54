// JSON for chat templates: `tojson` writes exactly what Python's json.dumps writes (transformers
// renders tojson with json.dumps, ensure_ascii=False), and parse_json reads tool lists and tool-call
// arguments into template values. No JSON library: the runtime takes no dependency for this.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tokenizer/jinja/value.h"

namespace phirun::jinja {

struct JsonOptions {
  bool ensure_ascii = false;                  // escape every non-ASCII character as \uXXXX
  std::optional<std::string> indent;          // absent: one line; present: newline and this per level
  std::optional<std::string> item_separator;  // default ", " (one line) or "," (indented)
  std::string key_separator = ": ";
  bool sort_keys = false;
};

// json.dumps(value, ...). Undefined values, namespaces and callables raise a TypeError, as in Python.
std::string to_json(const Value& value, const JsonOptions& options = {});

// Parses RFC 8259 JSON text (objects keep their key order; integers that fit 64 bits are ints,
// other numbers floats). Throws std::runtime_error starting with `context` and naming the byte
// offset of the problem.
Value parse_json(std::string_view text, std::string_view context);

}  // namespace phirun::jinja
