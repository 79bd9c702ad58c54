// Python's str semantics over UTF-8. Text is decoded to code points where Python's definitions
// need characters (indexes, case mapping, whitespace); plain byte search is used where UTF-8
// gives the same answer (find, replace, split on a separator).
#include "tokenizer/jinja/python_string.h"

#include <algorithm>
#include <cstdio>

#include "tokenizer/jinja/python_unicode_tables.h"
#include "tokenizer/jinja/value.h"
#include "tokenizer/utf8.h"

namespace phirun::jinja {

namespace {

bool in_ranges(char32_t code_point, const tables::CodePointRange* ranges, size_t count) {
  const tables::CodePointRange* end = ranges + count;
  const auto* it = std::upper_bound(ranges, end, code_point,
                                    [](char32_t cp, const tables::CodePointRange& range) { return cp < range.first; });
  return it != ranges && code_point <= (it - 1)->last;
}

bool is_cased(char32_t code_point) { return in_ranges(code_point, tables::kCased, tables::kCasedCount); }
bool is_case_ignorable(char32_t code_point) {
  return in_ranges(code_point, tables::kCaseIgnorable, tables::kCaseIgnorableCount);
}
bool is_printable(char32_t code_point) { return in_ranges(code_point, tables::kPrintable, tables::kPrintableCount); }

// Appends the full case mapping of one character from a generated table pair.
void append_mapped(std::u32string& out, char32_t code_point, const tables::CaseRun* runs, size_t run_count,
                   const tables::SpecialCase* special, size_t special_count) {
  const tables::SpecialCase* special_end = special + special_count;
  const auto* found =
      std::lower_bound(special, special_end, code_point,
                       [](const tables::SpecialCase& entry, char32_t cp) { return entry.code_point < cp; });
  if (found != special_end && found->code_point == code_point) {
    for (char32_t mapped : found->mapped)
      if (mapped != 0) out.push_back(mapped);
    return;
  }
  const tables::CaseRun* runs_end = runs + run_count;
  const auto* run = std::upper_bound(runs, runs_end, code_point,
                                     [](char32_t cp, const tables::CaseRun& entry) { return cp < entry.first; });
  if (run != runs && code_point <= (run - 1)->last && (code_point - (run - 1)->first) % (run - 1)->stride == 0) {
    out.push_back(static_cast<char32_t>(int64_t(code_point) + (run - 1)->delta));
    return;
  }
  out.push_back(code_point);
}

void append_upper(std::u32string& out, char32_t c) {
  append_mapped(out, c, tables::kUpperRuns, tables::kUpperRunCount, tables::kUpperSpecial, tables::kUpperSpecialCount);
}
void append_title(std::u32string& out, char32_t c) {
  append_mapped(out, c, tables::kTitleRuns, tables::kTitleRunCount, tables::kTitleSpecial, tables::kTitleSpecialCount);
}

// Lowercases text[i], with CPython's Final_Sigma rule for U+03A3: a final sigma when a cased
// letter precedes it and none follows (case-ignorable characters skipped both ways).
void append_lower_at(std::u32string& out, std::u32string_view text, size_t i) {
  const char32_t c = text[i];
  if (c != U'\u03a3') {
    append_mapped(out, c, tables::kLowerRuns, tables::kLowerRunCount, tables::kLowerSpecial,
                  tables::kLowerSpecialCount);
    return;
  }
  size_t j = i;
  while (j > 0 && is_case_ignorable(text[j - 1])) --j;
  bool final_sigma = j > 0 && is_cased(text[j - 1]);
  if (final_sigma) {
    size_t k = i + 1;
    while (k < text.size() && is_case_ignorable(text[k])) ++k;
    final_sigma = k == text.size() || !is_cased(text[k]);
  }
  out.push_back(final_sigma ? U'\u03c2' : U'\u03c3');
}

// Byte offsets of each code point, plus the end.
std::vector<size_t> code_point_offsets(std::string_view text) {
  std::vector<size_t> offsets;
  offsets.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) offsets.push_back(i);
  offsets.push_back(text.size());
  return offsets;
}

bool is_line_break(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}

}  // namespace

std::u32string to_code_points(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const Utf8Char ch = decode_utf8_char(text, i);
    // Inputs are validated before rendering; a stray byte maps to U+FFFD rather than looping.
    out.push_back(ch.status == Utf8Char::Status::Valid ? ch.code_point : U'\ufffd');
    i += ch.length;
  }
  return out;
}

std::string from_code_points(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (char32_t c : code_points) append_utf8(out, c);
  return out;
}

size_t code_point_count(std::string_view text) {
  size_t count = 0;
  for (char byte : text) count += (static_cast<unsigned char>(byte) & 0xC0) != 0x80;
  return count;
}

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool is_python_space(char32_t code_point) { return in_ranges(code_point, tables::kSpace, tables::kSpaceCount); }

std::string python_strip(std::string_view text, const std::optional<std::string>& chars, bool left, bool right) {
  const std::u32string code_points = to_code_points(text);
  const std::u32string strip_set = chars ? to_code_points(*chars) : std::u32string();
  auto strips = [&](char32_t c) { return chars ? strip_set.find(c) != std::u32string::npos : is_python_space(c); };
  size_t begin = 0, end = code_points.size();
  if (left)
    while (begin < end && strips(code_points[begin])) ++begin;
  if (right)
    while (end > begin && strips(code_points[end - 1])) --end;
  return from_code_points(std::u32string_view(code_points).substr(begin, end - begin));
}

std::vector<std::string> python_split(std::string_view text, const std::optional<std::string>& separator,
                                      int64_t max_split) {
  std::vector<std::string> parts;
  if (separator) {
    if (separator->empty()) fail("ValueError: empty separator");
    size_t start = 0;
    while (max_split < 0 || int64_t(parts.size()) < max_split) {
      const size_t found = text.find(*separator, start);
      if (found == std::string_view::npos) break;
      parts.emplace_back(text.substr(start, found - start));
      start = found + separator->size();
    }
    parts.emplace_back(text.substr(start));
    return parts;
  }
  const std::u32string code_points = to_code_points(text);
  size_t i = 0;
  const size_t n = code_points.size();
  while (true) {
    while (i < n && is_python_space(code_points[i])) ++i;
    if (i == n) break;
    if (max_split >= 0 && int64_t(parts.size()) == max_split) {
      // The rest, leading whitespace dropped and trailing whitespace kept, as Python does.
      parts.push_back(from_code_points(std::u32string_view(code_points).substr(i)));
      break;
    }
    const size_t start = i;
    while (i < n && !is_python_space(code_points[i])) ++i;
    parts.push_back(from_code_points(std::u32string_view(code_points).substr(start, i - start)));
  }
  return parts;
}

std::vector<std::string> python_rsplit(std::string_view text, const std::optional<std::string>& separator,
                                       int64_t max_split) {
  std::vector<std::string> parts;
  if (separator) {
    if (separator->empty()) fail("ValueError: empty separator");
    size_t end = text.size();
    while (max_split < 0 || int64_t(parts.size()) < max_split) {
      if (end < separator->size()) break;
      const size_t found = text.rfind(*separator, end - separator->size());
      if (found == std::string_view::npos) break;
      parts.emplace_back(text.substr(found + separator->size(), end - found - separator->size()));
      end = found;
    }
    parts.emplace_back(text.substr(0, end));
    std::reverse(parts.begin(), parts.end());
    return parts;
  }
  const std::u32string code_points = to_code_points(text);
  size_t i = code_points.size();
  while (true) {
    while (i > 0 && is_python_space(code_points[i - 1])) --i;
    if (i == 0) break;
    if (max_split >= 0 && int64_t(parts.size()) == max_split) {
      parts.push_back(from_code_points(std::u32string_view(code_points).substr(0, i)));
      break;
    }
    const size_t end = i;
    while (i > 0 && !is_python_space(code_points[i - 1])) --i;
    parts.push_back(from_code_points(std::u32string_view(code_points).substr(i, end - i)));
  }
  std::reverse(parts.begin(), parts.end());
  return parts;
}

std::string python_replace(std::string_view text, std::string_view old, std::string_view replacement, int64_t count) {
  std::string out;
  int64_t done = 0;
  if (old.empty()) {
    const std::vector<size_t> offsets = code_point_offsets(text);
    for (size_t i = 0; i + 1 < offsets.size(); ++i) {
      if (count < 0 || done < count) {
        out += replacement;
        ++done;
      }
      out += text.substr(offsets[i], offsets[i + 1] - offsets[i]);
    }
    if (count < 0 || done < count) out += replacement;
    return out;
  }
  size_t start = 0;
  while (count < 0 || done < count) {
    const size_t found = text.find(old, start);
    if (found == std::string_view::npos) break;
    out += text.substr(start, found - start);
    out += replacement;
    start = found + old.size();
    ++done;
  }
  out += text.substr(start);
  return out;
}

int64_t python_find(std::string_view text, std::string_view needle, bool from_right) {
  const size_t found = from_right ? text.rfind(needle) : text.find(needle);
  if (found == std::string_view::npos) return -1;
  return int64_t(code_point_count(text.substr(0, found)));
}

int64_t python_count(std::string_view text, std::string_view needle) {
  if (needle.empty()) return int64_t(code_point_count(text)) + 1;
  int64_t count = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

std::vector<std::string> python_splitlines(std::string_view text, bool keep_ends) {
  const std::u32string code_points = to_code_points(text);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < code_points.size(); ++i) {
    if (!is_line_break(code_points[i])) continue;
    size_t end = i + 1;
    if (code_points[i] == '\r' && end < code_points.size() && code_points[end] == '\n') ++end;
    lines.push_back(from_code_points(std::u32string_view(code_points).substr(start, (keep_ends ? end : i) - start)));
    start = end;
    i = end - 1;
  }
  if (start < code_points.size()) lines.push_back(from_code_points(std::u32string_view(code_points).substr(start)));
  return lines;
}

std::string python_upper(std::string_view text) {
  std::u32string out;
  for (char32_t c : to_code_points(text)) append_upper(out, c);
  return from_code_points(out);
}

std::string python_lower(std::string_view text) {
  const std::u32string code_points = to_code_points(text);
  std::u32string out;
  for (size_t i = 0; i < code_points.size(); ++i) append_lower_at(out, code_points, i);
  return from_code_points(out);
}

std::string python_title(std::string_view text) {
  const std::u32string code_points = to_code_points(text);
  std::u32string out;
  bool previous_is_cased = false;
  for (size_t i = 0; i < code_points.size(); ++i) {
    if (previous_is_cased)
      append_lower_at(out, code_points, i);
    else
      append_title(out, code_points[i]);
    previous_is_cased = is_cased(code_points[i]);
  }
  return from_code_points(out);
}

std::string python_capitalize(std::string_view text) {
  const std::u32string code_points = to_code_points(text);
  std::u32string out;
  for (size_t i = 0; i < code_points.size(); ++i) {
    if (i == 0)
      append_title(out, code_points[0]);
    else
      append_lower_at(out, code_points, i);
  }
  return from_code_points(out);
}

std::string python_string_repr(std::string_view text) {
  const bool has_single = text.find('\'') != std::string_view::npos;
  const bool has_double = text.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  out.reserve(text.size() + 2);
  char escape[16];
  for (size_t i = 0; i < text.size();) {
    const unsigned char byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {  // ASCII: no decoding needed
      if (byte == static_cast<unsigned char>(quote) || byte == '\\') {
        out += '\\';
        out += char(byte);
      } else if (byte == '\t') {
        out += "\\t";
      } else if (byte == '\n') {
        out += "\\n";
      } else if (byte == '\r') {
        out += "\\r";
      } else if (byte < 0x20 || byte == 0x7F) {
        std::snprintf(escape, sizeof escape, "\\x%02x", unsigned(byte));
        out += escape;
      } else {
        out += char(byte);
      }
      ++i;
      continue;
    }
    const Utf8Char ch = decode_utf8_char(text, i);
    const char32_t c = ch.status == Utf8Char::Status::Valid ? ch.code_point : U'\ufffd';
    if (is_printable(c)) {
      out.append(text.substr(i, ch.length));
    } else {
      std::snprintf(escape, sizeof escape, c <= 0xFF ? "\\x%02x" : c <= 0xFFFF ? "\\u%04x" : "\\U%08x", unsigned(c));
      out += escape;
    }
    i += ch.length;
  }
  out += quote;
  return out;
}

std::string code_point_at(std::string_view text, int64_t index) {
  if (is_ascii(text)) return std::string(1, text[size_t(index)]);
  const std::vector<size_t> offsets = code_point_offsets(text);
  return std::string(text.substr(offsets[size_t(index)], offsets[size_t(index) + 1] - offsets[size_t(index)]));
}

std::string slice_string(std::string_view text, std::optional<int64_t> start, std::optional<int64_t> stop,
                         int64_t step) {
  const bool ascii = is_ascii(text);
  const std::vector<size_t> offsets = ascii ? std::vector<size_t>() : code_point_offsets(text);
  const int64_t length = ascii ? int64_t(text.size()) : int64_t(offsets.size()) - 1;
  std::string out;
  if (step == 1) {  // a contiguous run: copy it in one go
    const std::vector<int64_t> indexes = slice_indexes(length, start, stop, 1);
    if (indexes.empty()) return out;
    const size_t first = size_t(indexes.front()), last = size_t(indexes.back()) + 1;
    return ascii ? std::string(text.substr(first, last - first))
                 : std::string(text.substr(offsets[first], offsets[last] - offsets[first]));
  }
  for (int64_t index : slice_indexes(length, start, stop, step)) {
    if (ascii)
      out += text[size_t(index)];
    else
      out += text.substr(offsets[size_t(index)], offsets[size_t(index) + 1] - offsets[size_t(index)]);
  }
  return out;
}

std::vector<int64_t> slice_indexes(int64_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                   int64_t step) {
  // CPython's PySlice_AdjustIndices.
  int64_t first, last;
  if (step > 0) {
    first = start.value_or(0);
    last = stop.value_or(length);
    if (first < 0) first = std::max<int64_t>(first + length, 0);
    if (first > length) first = length;
    if (last < 0) last = std::max<int64_t>(last + length, 0);
    if (last > length) last = length;
  } else {
    first = start.value_or(length - 1);
    last = stop.has_value() ? *stop : -1 - length;  // "before the beginning"
    if (first < 0) first = std::max<int64_t>(first + length, -1);
    if (first >= length) first = length - 1;
    if (stop.has_value()) {
      if (last < 0) last = std::max<int64_t>(last + length, -1);
      if (last >= length) last = length - 1;
    } else {
      last = -1;
    }
  }
  std::vector<int64_t> indexes;
  if (step > 0)
    for (int64_t i = first; i < last; i += step) indexes.push_back(i);
  else
    for (int64_t i = first; i > last; i += step) indexes.push_back(i);
  return indexes;
}

}  // namespace phirun::jinja
