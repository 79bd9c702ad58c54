// json.dumps, byte for byte (separators, indentation, escapes, float repr), and a strict JSON
// reader into template values.
#include "tokenizer/jinja/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "tokenizer/jinja/python_string.h"
#include "tokenizer/utf8.h"

namespace phirun::jinja {

namespace {

void append_json_string(std::string& out, std::string_view text, bool ensure_ascii) {
  out += '"';
  char escape[16];
  for (size_t i = 0; i < text.size();) {
    const unsigned char byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x80) {
      const Utf8Char ch = decode_utf8_char(text, i);
      if (!ensure_ascii) {
        out.append(text.substr(i, ch.length));
      } else {
        const char32_t c = ch.status == Utf8Char::Status::Valid ? ch.code_point : U'\ufffd';
        if (c > 0xFFFF) {  // a surrogate pair, as Python writes it
          const char32_t v = c - 0x10000;
          std::snprintf(escape, sizeof escape, "\\u%04x\\u%04x", unsigned(0xD800 + (v >> 10)),
                        unsigned(0xDC00 + (v & 0x3FF)));
        } else {
          std::snprintf(escape, sizeof escape, "\\u%04x", unsigned(c));
        }
        out += escape;
      }
      i += ch.length;
      continue;
    }
    switch (byte) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20 || (ensure_ascii && byte == 0x7F)) {
          std::snprintf(escape, sizeof escape, "\\u%04x", unsigned(byte));
          out += escape;
        } else {
          out += char(byte);
        }
    }
    ++i;
  }
  out += '"';
}

// json.dumps turns dict keys into strings: str as it is, numbers as repr, true/false/null.
std::string json_key(const Value& key) {
  switch (key.kind()) {
    case Value::Kind::String:
      return key.as_string();
    case Value::Kind::Int:
      return std::to_string(key.as_int());
    case Value::Kind::Float: {
      const double number = key.as_float();
      if (std::isnan(number)) return "NaN";
      if (std::isinf(number)) return number < 0 ? "-Infinity" : "Infinity";
      return float_repr(number);
    }
    case Value::Kind::Bool:
      return key.as_bool() ? "true" : "false";
    case Value::Kind::None:
      return "null";
    default:
      fail("TypeError: keys must be str, int, float, bool or None, not " + key.type_name());
  }
}

class JsonWriter {
 public:
  explicit JsonWriter(const JsonOptions& options)
      : options_(options), item_separator_(options.item_separator.value_or(options.indent ? "," : ", ")) {}

  void write(std::string& out, const Value& value, int level) {
    WalkBudget::step();
    WalkBudget::check_text(out.size());
    switch (value.kind()) {
      case Value::Kind::None:
        out += "null";
        return;
      case Value::Kind::Bool:
        out += value.as_bool() ? "true" : "false";
        return;
      case Value::Kind::Int:
        out += std::to_string(value.as_int());
        return;
      case Value::Kind::Float: {
        const double number = value.as_float();
        if (std::isnan(number))
          out += "NaN";
        else if (std::isinf(number))
          out += number < 0 ? "-Infinity" : "Infinity";
        else
          out += float_repr(number);
        return;
      }
      case Value::Kind::String:
        WalkBudget::check_text(out.size() + value.as_string().size());  // before building it
        append_json_string(out, value.as_string(), options_.ensure_ascii);
        WalkBudget::check_text(out.size());
        return;
      case Value::Kind::List:
        write_list(out, value.as_list(), level);
        return;
      case Value::Kind::Dict:
        write_dict(out, value.as_dict(), level);
        return;
      default:
        fail("TypeError: Object of type " + value.type_name() + " is not JSON serializable");
    }
  }

 private:
  void newline(std::string& out, int level) {
    out += '\n';
    for (int i = 0; i < level; ++i) out += *options_.indent;
  }

  void write_list(std::string& out, const std::vector<Value>& items, int level) {
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += item_separator_;
      if (options_.indent) newline(out, level + 1);
      write(out, items[i], level + 1);
    }
    if (options_.indent) newline(out, level);
    out += ']';
  }

  void write_dict(std::string& out, const Dict& dict, int level) {
    if (dict.items.empty()) {
      out += "{}";
      return;
    }
    std::vector<const std::pair<Value, Value>*> items;
    for (const auto& item : dict.items) items.push_back(&item);
    if (options_.sort_keys)  // sorted(dict.items()): by key, before keys become strings
      std::stable_sort(items.begin(), items.end(),
                       [](const auto* a, const auto* b) { return value_less(a->first, b->first); });
    out += '{';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += item_separator_;
      if (options_.indent) newline(out, level + 1);
      append_json_string(out, json_key(items[i]->first), options_.ensure_ascii);
      out += options_.key_separator;
      write(out, items[i]->second, level + 1);
    }
    if (options_.indent) newline(out, level);
    out += '}';
  }

  const JsonOptions& options_;
  std::string item_separator_;
};

class JsonReader {
 public:
  JsonReader(std::string_view text, std::string_view context) : text_(text), context_(context) {}

  Value read_document() {
    skip_space();
    Value value = read_value(0);
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the JSON value");
    return value;
  }

 private:
  [[noreturn]] void error(const std::string& problem) const {
    throw std::runtime_error(std::string(context_) + ": invalid JSON at byte " + std::to_string(pos_) + ": " +
                             (pos_ >= text_.size() ? "unexpected end of text" : problem));
  }

  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool consume_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Value read_value(int depth) {
    if (depth >= Value::kMaxNesting) error("nested more than " + std::to_string(Value::kMaxNesting) + " levels deep");
    if (pos_ >= text_.size()) error("unexpected end of text");
    const char c = text_[pos_];
    if (c == '{') return read_object(depth);
    if (c == '[') return read_array(depth);
    if (c == '"') return Value(read_string());
    if (consume_word("true")) return Value(true);
    if (consume_word("false")) return Value(false);
    if (consume_word("null")) return Value::none();
    if (c == '-' || (c >= '0' && c <= '9')) return read_number();
    error(std::string("unexpected character '") + c + "'");
  }

  Value read_object(int depth) {
    ++pos_;
    Dict dict;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return Value::dict(std::move(dict));
    }
    while (true) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') error("an object key (a string) was expected");
      std::string key = read_string();
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') error("':' was expected after an object key");
      ++pos_;
      skip_space();
      dict.set(std::move(key), read_value(depth + 1));  // a repeated key keeps its place, takes the last value
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return Value::dict(std::move(dict));
      }
      error("',' or '}' was expected in an object");
    }
  }

  Value read_array(int depth) {
    ++pos_;
    std::vector<Value> items;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return Value::list(std::move(items));
    }
    while (true) {
      skip_space();
      items.push_back(read_value(depth + 1));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return Value::list(std::move(items));
      }
      error("',' or ']' was expected in an array");
    }
  }

  unsigned read_hex4() {
    if (pos_ + 4 > text_.size()) error("a \\u escape needs four hex digits");
    unsigned value = 0;
    const auto result = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, value, 16);
    if (result.ptr != text_.data() + pos_ + 4) error("a \\u escape needs four hex digits");
    pos_ += 4;
    return value;
  }

  std::string read_string() {
    ++pos_;  // the opening quote
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) error("unterminated string");
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) error("a control character must be escaped in a string");
      if (c >= 0x80) {
        const Utf8Char ch = decode_utf8_char(text_, pos_);
        if (ch.status != Utf8Char::Status::Valid) error("invalid UTF-8 in a string");
        out.append(text_.substr(pos_, ch.length));
        pos_ += ch.length;
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out += char(c);
        continue;
      }
      if (pos_ >= text_.size()) error("unterminated string");
      const char escape = text_[pos_++];
      switch (escape) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          char32_t code_point = read_hex4();
          if (code_point >= 0xD800 && code_point < 0xDC00) {
            if (!consume_word("\\u")) error("a high surrogate escape must be followed by a low one");
            const unsigned low = read_hex4();
            if (low < 0xDC00 || low >= 0xE000) error("a high surrogate escape must be followed by a low one");
            code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
          } else if (code_point >= 0xDC00 && code_point < 0xE000) {
            error("a lone low surrogate escape is not a character");
          }
          append_utf8(out, code_point);
          break;
        }
        default:
          error(std::string("unknown escape '\\") + escape + "'");
      }
    }
  }

  Value read_number() {
    const size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    auto digits = [&] {
      const size_t first = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - first;
    };
    const size_t integer_start = pos_;
    if (digits() == 0) error("a digit was expected");
    if (text_[integer_start] == '0' && pos_ - integer_start > 1) error("a number cannot start with 0");
    bool is_float = false;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      is_float = true;
      if (digits() == 0) error("a digit was expected after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      is_float = true;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) error("a digit was expected in the exponent");
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (!is_float) {
      int64_t integer = 0;
      const auto result = std::from_chars(first, last, integer);
      if (result.ec == std::errc() && result.ptr == last) return Value(integer);
      error("the integer " + std::string(first, last) + " does not fit in 64 bits");
    }
    double number = 0;
    const auto result = std::from_chars(first, last, number);
    if (result.ec != std::errc() || result.ptr != last)
      error("the number " + std::string(first, last) + " is out of range");
    return Value(number);
  }

  std::string_view text_;
  std::string_view context_;
  size_t pos_ = 0;
};

}  // namespace

std::string to_json(const Value& value, const JsonOptions& options) {
  std::string out;
  JsonWriter(options).write(out, value, 0);
  return out;
}

Value parse_json(std::string_view text, std::string_view context) {
  try {
    return JsonReader(text, context).read_document();
  } catch (const EvalError& error) {  // nesting limits raised while building values
    throw std::runtime_error(std::string(context) + ": " + error.message);
  }
}

}  // namespace phirun::jinja
