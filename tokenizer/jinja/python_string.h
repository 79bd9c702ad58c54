// Python's str methods over UTF-8 text: lengths, indexes and slices count code points, whitespace
// is str.isspace()'s, and case mapping is Python's full mapping ("ß".upper() == "SS"). Templates
// and their inputs are checked to be well-formed UTF-8 before any of these run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phirun::jinja {

std::u32string to_code_points(std::string_view text);
std::string from_code_points(std::u32string_view code_points);
size_t code_point_count(std::string_view text);
bool is_ascii(std::string_view text);

// Python's str.isspace() for one character: the White_Space property plus U+001C..U+001F.
bool is_python_space(char32_t code_point);

// str.strip / lstrip / rstrip: Python whitespace when `chars` is absent, else any of its characters.
std::string python_strip(std::string_view text, const std::optional<std::string>& chars, bool left, bool right);
// str.split(sep=None, maxsplit=-1): runs of whitespace when `separator` is absent (an empty separator
// raises ValueError, as in Python).
std::vector<std::string> python_split(std::string_view text, const std::optional<std::string>& separator,
                                      int64_t max_split);
// str.rsplit: the same, splitting from the right.
std::vector<std::string> python_rsplit(std::string_view text, const std::optional<std::string>& separator,
                                       int64_t max_split);
// str.replace(old, new, count=-1); an empty `old` inserts `replacement` around every character.
std::string python_replace(std::string_view text, std::string_view old, std::string_view replacement, int64_t count);
// str.find / rfind / count over code point indexes.
int64_t python_find(std::string_view text, std::string_view needle, bool from_right);
int64_t python_count(std::string_view text, std::string_view needle);
std::vector<std::string> python_splitlines(std::string_view text, bool keep_ends);

std::string python_upper(std::string_view text);
std::string python_lower(std::string_view text);
std::string python_title(std::string_view text);       // str.title()
std::string python_capitalize(std::string_view text);  // str.capitalize()

// repr() of a str: quoted with ' (or " when the text has ' and no "), escapes for backslash, the
// quote, \n \r \t, and \x.. \u.... \U........ for characters Python does not print.
std::string python_string_repr(std::string_view text);

// Indexing and slicing by code point, with Python's rules for negative and out-of-range bounds.
// `index` is already normalized by the caller into [0, length).
std::string code_point_at(std::string_view text, int64_t index);
std::string slice_string(std::string_view text, std::optional<int64_t> start, std::optional<int64_t> stop,
                         int64_t step);

// The indexes a slice [start:stop:step] of a sequence of `length` items visits (Python's
// slice.indices). `step` must not be 0.
std::vector<int64_t> slice_indexes(int64_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                   int64_t step);

}  // namespace phirun::jinja
