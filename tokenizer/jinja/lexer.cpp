// jinja2's lexer (jinja2/lexer.py, 3.1) without regular expressions: the same states (text, tag,
// comment, raw), the same whitespace rules, the same token shapes. Comments in terms of jinja2's
// rules say which regex each piece stands for.
#include "tokenizer/jinja/lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/python_string.h"
#include "tokenizer/utf8.h"

namespace phirun::jinja {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Python's \s (str.isspace) at a byte offset: the length of the whitespace character there, or 0.
size_t space_at(std::string_view text, size_t pos) {
  if (pos >= text.size()) return 0;
  const unsigned char byte = static_cast<unsigned char>(text[pos]);
  if (byte < 0x80) return is_python_space(byte) ? 1 : 0;
  const Utf8Char ch = decode_utf8_char(text, pos);
  return ch.status == Utf8Char::Status::Valid && is_python_space(ch.code_point) ? ch.length : 0;
}

size_t skip_spaces(std::string_view text, size_t pos) {
  while (size_t length = space_at(text, pos)) pos += length;
  return pos;
}

std::string_view python_rstrip(std::string_view text) {
  // Walk forward, remembering where the last non-space character ended (UTF-8 cannot be walked
  // backwards character by character without re-decoding).
  size_t end = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t space = space_at(text, pos);
    if (space) {
      pos += space;
    } else {
      pos += std::max<size_t>(1, decode_utf8_char(text, pos).length);
      end = pos;
    }
  }
  return text.substr(0, end);
}

bool all_spaces(std::string_view text) {
  if (text.empty()) return false;  // \s+ needs one
  return skip_spaces(text, 0) == text.size();
}

// `(\d+_)*\d+`: digits, single underscores allowed between them. Returns the end, or `pos` if no digit.
size_t match_digits(std::string_view text, size_t pos) {
  if (pos >= text.size() || !is_digit(text[pos])) return pos;
  size_t end = pos;
  while (end < text.size() && is_digit(text[end])) ++end;
  while (end + 1 < text.size() && text[end] == '_' && is_digit(text[end + 1])) {
    ++end;
    while (end < text.size() && is_digit(text[end])) ++end;
  }
  return end;
}

std::string without_underscores(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != '_') out += c;
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : source_(source) {}

  std::vector<Token> run() {
    while (pos_ < source_.size()) lex_text();
    tokens_.push_back(Token{TokenType::End, uint32_t(source_.size()), "", 0, 0});
    return std::move(tokens_);
  }

 private:
  enum class TagKind { Block, Variable, Comment };

  [[noreturn]] void error(size_t offset, std::string problem) {
    throw_at(source_, uint32_t(offset), std::move(problem));
  }

  void emit(TokenType type, size_t offset, std::string text = {}) {
    tokens_.push_back(Token{type, uint32_t(offset), std::move(text), 0, 0});
  }

  // Whitespace control on the text before a tag (jinja2's OptionalLStrip): "-" strips all trailing
  // whitespace; otherwise, with lstrip_blocks, spaces between the last line start and a block or
  // comment tag go, unless the tag says "+".
  std::string_view strip_before_tag(std::string_view text, char sign, bool is_variable) const {
    if (sign == '-') return python_rstrip(text);
    if (sign == '+' || is_variable) return text;
    const size_t line_start = text.rfind('\n') == std::string_view::npos ? 0 : text.rfind('\n') + 1;
    if ((line_start > 0 || line_starting_) && all_spaces(text.substr(line_start))) return text.substr(0, line_start);
    return text;
  }

  // The end of a block tag at `pos` (balanced brackets only): "+%}", "-%}" and the whitespace after
  // it, or "%}" and (trim_blocks) one newline. Returns the end of the match, or 0.
  size_t match_block_end(size_t pos, std::string_view close) const {
    if (source_.compare(pos, 1, "+") == 0 && source_.compare(pos + 1, close.size(), close) == 0)
      return pos + 1 + close.size();
    if (source_.compare(pos, 1, "-") == 0 && source_.compare(pos + 1, close.size(), close) == 0)
      return skip_spaces(source_, pos + 1 + close.size());
    if (source_.compare(pos, close.size(), close) == 0) {
      size_t end = pos + close.size();
      if (end < source_.size() && source_[end] == '\n') ++end;
      return end;
    }
    return 0;
  }

  // `{%(-|+|)\s*raw\s*(-%}\s*|%})` at pos (which holds "{%"); returns its end or 0.
  size_t match_raw_begin(size_t pos) const {
    size_t p = pos + 2;
    if (p < source_.size() && (source_[p] == '-' || source_[p] == '+')) ++p;
    p = skip_spaces(source_, p);
    if (source_.compare(p, 3, "raw") != 0) return 0;
    p = skip_spaces(source_, p + 3);
    if (source_.compare(p, 3, "-%}") == 0) return skip_spaces(source_, p + 3);
    if (source_.compare(p, 2, "%}") == 0) return p + 2;
    return 0;
  }

  void set_line_starting(size_t match_end) { line_starting_ = match_end > 0 && source_[match_end - 1] == '\n'; }

  void lex_text() {
    // The first "{{", "{%" or "{#" from here.
    size_t tag = pos_;
    while (true) {
      tag = source_.find('{', tag);
      if (tag == std::string_view::npos || tag + 1 >= source_.size()) {
        emit_text(source_.substr(pos_), pos_);
        pos_ = source_.size();
        return;
      }
      const char second = source_[tag + 1];
      if (second == '{' || second == '%' || second == '#') break;
      ++tag;
    }
    const char second = source_[tag + 1];
    const char sign =
        tag + 2 < source_.size() && (source_[tag + 2] == '-' || source_[tag + 2] == '+') ? source_[tag + 2] : 0;
    const std::string_view text = strip_before_tag(source_.substr(pos_, tag - pos_), sign, second == '{');
    emit_text(text, pos_);
    size_t after = tag + 2 + (sign ? 1 : 0);
    line_starting_ = false;
    if (second == '%') {
      if (const size_t raw_end = match_raw_begin(tag)) {
        set_line_starting(raw_end);
        pos_ = raw_end;
        lex_raw(tag);
        return;
      }
      pos_ = after;
      lex_tag(TagKind::Block, tag);
    } else if (second == '{') {
      pos_ = after;
      lex_tag(TagKind::Variable, tag);
    } else {
      pos_ = after;
      lex_comment(tag);
    }
  }

  void emit_text(std::string_view text, size_t offset) {
    if (!text.empty()) emit(TokenType::Text, offset, std::string(text));
  }

  // `(.*?)((?:\+#}|\-#}\s*|#}\n?))`
  void lex_comment(size_t begin) {
    for (size_t p = pos_; p < source_.size(); ++p) {
      if (const size_t end = match_block_end(p, "#}")) {
        set_line_starting(end);
        pos_ = end;
        return;
      }
    }
    error(begin, "missing end of comment tag ('#}')");
  }

  // `(.*?)((?:{%(-|+|))\s*endraw\s*(?:\+%}|\-%}\s*|%}\n?))`, the text before it stripped as before a tag.
  void lex_raw(size_t begin) {
    for (size_t p = source_.find("{%", pos_); p != std::string_view::npos; p = source_.find("{%", p + 1)) {
      size_t q = p + 2;
      const char sign = q < source_.size() && (source_[q] == '-' || source_[q] == '+') ? source_[q] : 0;
      if (sign) ++q;
      q = skip_spaces(source_, q);
      if (source_.compare(q, 6, "endraw") != 0) continue;
      q = skip_spaces(source_, q + 6);
      const size_t end = match_block_end(q, "%}");
      if (!end) continue;
      emit_text(strip_before_tag(source_.substr(pos_, p - pos_), sign, false), pos_);
      set_line_starting(end);
      pos_ = end;
      return;
    }
    error(begin, "missing end of raw block ({% endraw %})");
  }

  void lex_tag(TagKind kind, size_t begin) {
    const bool block = kind == TagKind::Block;
    emit(block ? TokenType::BlockBegin : TokenType::VariableBegin, begin);
    std::string brackets;  // the closing brackets still expected
    while (true) {
      if (pos_ >= source_.size())
        error(begin, block ? "unexpected end of template inside a {% %} tag"
                           : "unexpected end of template inside a {{ }} tag");
      if (brackets.empty()) {
        size_t end = 0;
        if (block) {
          end = match_block_end(pos_, "%}");
        } else if (source_.compare(pos_, 3, "-}}") == 0) {
          end = skip_spaces(source_, pos_ + 3);  // no trim_blocks for }}, and no "+}}"
        } else if (source_.compare(pos_, 2, "}}") == 0) {
          end = pos_ + 2;
        }
        if (end) {
          emit(block ? TokenType::BlockEnd : TokenType::VariableEnd, pos_);
          set_line_starting(end);
          pos_ = end;
          return;
        }
      }
      if (const size_t space_end = skip_spaces(source_, pos_); space_end != pos_) {
        pos_ = space_end;
        continue;
      }
      if (lex_number() || lex_name() || lex_string()) continue;
      lex_operator(brackets);
    }
  }

  bool lex_number() {
    const size_t start = pos_;
    if (!is_digit(source_[start])) return false;
    // float_re: (?<!\.)(\d+_)*\d+((\.(\d+_)*\d+)?e[+\-]?(\d+_)*\d+|\.(\d+_)*\d+)
    if (start == 0 || source_[start - 1] != '.') {
      const size_t integer_end = match_digits(source_, start);
      size_t end = integer_end;
      bool has_fraction = false;
      if (end + 1 < source_.size() && source_[end] == '.' && is_digit(source_[end + 1])) {
        end = match_digits(source_, end + 1);
        has_fraction = true;
      }
      size_t exponent_end = 0;
      if (end < source_.size() && (source_[end] == 'e' || source_[end] == 'E')) {
        size_t p = end + 1;
        if (p < source_.size() && (source_[p] == '+' || source_[p] == '-')) ++p;
        if (const size_t digits_end = match_digits(source_, p); digits_end != p) exponent_end = digits_end;
      }
      if (exponent_end || has_fraction) {
        end = exponent_end ? exponent_end : end;
        const std::string text = without_underscores(source_.substr(start, end - start));
        Token token{TokenType::Float, uint32_t(start), text, 0, std::strtod(text.c_str(), nullptr)};
        tokens_.push_back(std::move(token));
        pos_ = end;
        return true;
      }
    }
    // integer_re: 0b.. | 0o.. | 0x.. | [1-9](_?\d)* | 0(_?0)*
    int base = 10;
    size_t digits_start = start;
    if (source_[start] == '0' && start + 1 < source_.size()) {
      const char prefix = char(source_[start + 1] | 0x20);
      if (prefix == 'b' || prefix == 'o' || prefix == 'x') {
        base = prefix == 'b' ? 2 : prefix == 'o' ? 8 : 16;
        digits_start = start + 2;
      }
    }
    auto is_base_digit = [base](char c) {
      if (base == 2) return c == '0' || c == '1';
      if (base == 8) return c >= '0' && c <= '7';
      if (base == 16) return is_digit(c) || (char(c | 0x20) >= 'a' && char(c | 0x20) <= 'f');
      return is_digit(c);
    };
    size_t end = digits_start;
    std::string digits;
    if (base == 10 && source_[start] == '0') {
      // "0(_?0)*": a decimal zero cannot be followed by other digits.
      digits = "0";
      end = start + 1;
      while (end < source_.size() &&
             (source_[end] == '0' || (source_[end] == '_' && end + 1 < source_.size() && source_[end + 1] == '0')))
        ++end;
    } else {
      while (end < source_.size()) {
        if (is_base_digit(source_[end])) {
          digits += source_[end++];
        } else if (source_[end] == '_' && end + 1 < source_.size() && is_base_digit(source_[end + 1]) &&
                   (base != 10 || end > digits_start)) {
          ++end;
        } else {
          break;
        }
      }
      if (digits.empty()) {  // "0x" alone: the 0 is an integer, the x a name
        digits = "0";
        end = start + 1;
        base = 10;
      }
    }
    errno = 0;
    const unsigned long long value = std::strtoull(digits.c_str(), nullptr, base);
    if (errno == ERANGE || value > uint64_t(INT64_MAX))
      error(start, "the integer " + std::string(source_.substr(start, end - start)) + " does not fit in 64 bits");
    tokens_.push_back(
        Token{TokenType::Integer, uint32_t(start), std::string(source_.substr(start, end - start)), int64_t(value), 0});
    pos_ = end;
    return true;
  }

  bool lex_name() {
    if (!is_name_start(source_[pos_])) {
      if (static_cast<unsigned char>(source_[pos_]) >= 0x80 && space_at(source_, pos_) == 0)
        error(pos_, "names in templates must be ASCII (phirun's Jinja does not take Unicode identifiers)");
      return false;
    }
    const size_t start = pos_;
    while (pos_ < source_.size() && is_name_char(source_[pos_])) ++pos_;
    emit(TokenType::Name, start, std::string(source_.substr(start, pos_ - start)));
    return true;
  }

  // Python's unicode-escape decoding of a string literal's body, as jinja2 applies it.
  bool lex_string() {
    const char quote = source_[pos_];
    if (quote != '\'' && quote != '"') return false;
    const size_t start = pos_;
    std::string value;
    size_t p = start + 1;
    while (true) {
      if (p >= source_.size()) error(start, "unterminated string literal");
      const char c = source_[p];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++p;
        continue;
      }
      if (p + 1 >= source_.size()) error(start, "unterminated string literal");
      p = decode_escape(p, value);
    }
    pos_ = p + 1;
    emit(TokenType::String, start, std::move(value));
    return true;
  }

  // Decodes the escape at source_[p] == '\\' into `out`; returns the offset after it.
  size_t decode_escape(size_t p, std::string& out) {
    const char c = source_[p + 1];
    auto hex_escape = [&](size_t digits) {
      if (p + 2 + digits > source_.size()) error(p, "truncated \\" + std::string(1, c) + " escape in a string literal");
      char32_t code_point = 0;
      for (size_t i = 0; i < digits; ++i) {
        const char h = source_[p + 2 + i];
        const int nibble = is_digit(h)                                        ? h - '0'
                           : (char(h | 0x20) >= 'a' && char(h | 0x20) <= 'f') ? char(h | 0x20) - 'a' + 10
                                                                              : -1;
        if (nibble < 0) error(p, "truncated \\" + std::string(1, c) + " escape in a string literal");
        code_point = code_point * 16 + char32_t(nibble);
      }
      if (code_point > 0x10FFFF) error(p, "illegal Unicode character in a string literal escape");
      if (code_point >= 0xD800 && code_point < 0xE000)
        error(p, "a surrogate escape in a string literal is not a character phirun can hold in UTF-8");
      append_utf8(out, code_point);
      return p + 2 + digits;
    };
    switch (c) {
      case '\n':
        return p + 2;  // a backslash-newline continues the line
      case '\\':
        out += '\\';
        return p + 2;
      case '\'':
        out += '\'';
        return p + 2;
      case '"':
        out += '"';
        return p + 2;
      case 'a':
        out += '\a';
        return p + 2;
      case 'b':
        out += '\b';
        return p + 2;
      case 'f':
        out += '\f';
        return p + 2;
      case 'n':
        out += '\n';
        return p + 2;
      case 'r':
        out += '\r';
        return p + 2;
      case 't':
        out += '\t';
        return p + 2;
      case 'v':
        out += '\v';
        return p + 2;
      case 'x':
        return hex_escape(2);
      case 'u':
        return hex_escape(4);
      case 'U':
        return hex_escape(8);
      case 'N':
        error(p, "\\N{...} escapes in string literals are not supported by phirun's Jinja");
      default:
        break;
    }
    if (c >= '0' && c <= '7') {
      char32_t code_point = 0;
      size_t q = p + 1;
      for (int i = 0; i < 3 && q < source_.size() && source_[q] >= '0' && source_[q] <= '7'; ++i, ++q)
        code_point = code_point * 8 + char32_t(source_[q] - '0');
      append_utf8(out, code_point);
      return q;
    }
    // An unknown escape keeps its backslash. jinja2 first turns a non-ASCII character into its own
    // backslash escape (backslashreplace), so "\é" reads as a backslash then "xe9".
    out += '\\';
    if (static_cast<unsigned char>(c) >= 0x80) {
      const Utf8Char ch = decode_utf8_char(source_, p + 1);
      char escape[16];
      const unsigned code_point = unsigned(ch.code_point);
      std::snprintf(escape, sizeof escape,
                    code_point <= 0xFF     ? "x%02x"
                    : code_point <= 0xFFFF ? "u%04x"
                                           : "U%08x",
                    code_point);
      out += escape;
      return p + 1 + ch.length;
    }
    out += c;
    return p + 2;
  }

  void lex_operator(std::string& brackets) {
    static constexpr std::string_view kTwoCharacter[] = {"//", "**", "==", "!=", ">=", "<="};
    static constexpr std::string_view kOneCharacter = "+-/*%~[](){}=><.:|,;";
    std::string op;
    for (std::string_view candidate : kTwoCharacter)
      if (source_.compare(pos_, 2, candidate) == 0) op = candidate;
    if (op.empty() && kOneCharacter.find(source_[pos_]) != std::string_view::npos) op = source_[pos_];
    if (op.empty()) {
      const Utf8Char ch = decode_utf8_char(source_, pos_);
      error(pos_, "unexpected character '" + std::string(source_.substr(pos_, ch.length)) + "' in a tag");
    }
    if (op == "{" || op == "(" || op == "[") {
      brackets.push_back(op == "{" ? '}' : op == "(" ? ')' : ']');
    } else if (op == "}" || op == ")" || op == "]") {
      if (brackets.empty()) error(pos_, "unexpected '" + op + "'");
      if (brackets.back() != op[0])
        error(pos_, "unexpected '" + op + "', expected '" + std::string(1, brackets.back()) + "'");
      brackets.pop_back();
    }
    emit(TokenType::Operator, pos_, op);
    pos_ += op.size();
  }

  std::string_view source_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::string normalize_template_source(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();  // keep_trailing_newline=False
  return out;
}

std::vector<Token> tokenize_template(std::string_view normalized_source) { return Lexer(normalized_source).run(); }

}  // namespace phirun::jinja
