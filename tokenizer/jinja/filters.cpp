// jinja2's filters with its own semantics (jinja2/filters.py, 3.1), and transformers' tojson
// (json.dumps with ensure_ascii=False). Strings and lists they build are charged to the render.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/json.h"
#include "tokenizer/jinja/python_string.h"

namespace phirun::jinja {

namespace {

using FilterFunction = Value (*)(Interpreter&, const Value&, CallArgs&);

Value charged(Interpreter& interpreter, std::string text) {
  interpreter.charge(text.size());
  return Value(std::move(text));
}

// Filters that call a str method on soft_str(value) return Markup for Markup input.
Value like_input(const Value& input, Value result) {
  return input.is_markup() ? Value::markup(result.as_string()) : result;
}

Value charged_list(Interpreter& interpreter, std::vector<Value> items, bool is_tuple = false) {
  interpreter.charge(items.size() * sizeof(Value));
  return Value::list(std::move(items), is_tuple);
}

std::vector<Value> walk(Interpreter& interpreter, const Value& value) {
  std::vector<Value> items = iterate(value);
  interpreter.step(items.size());
  return items;
}

// jinja2's make_attrgetter: "a.b.0" looks up each part (item first, then attribute).
Value lookup_path(const Value& item, const std::string& path) {
  Value value = item;
  for (const std::string& part : python_split(path, std::string("."), -1)) {
    const bool is_index =
        !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    value = get_item(value, is_index ? Value(int64_t(std::atoll(part.c_str()))) : Value(part));
  }
  return value;
}

// jinja2's ignore_case: strings compare lowercased unless case_sensitive.
Value sort_key(const Value& value, bool case_sensitive) {
  if (!case_sensitive && value.is_string()) return Value(python_lower(value.as_string()));
  return value;
}

Value filter_abs(Interpreter&, const Value& input, CallArgs& args) {
  ArgumentReader reader("abs", args, {});
  if (input.is_float()) return Value(std::fabs(input.as_float()));
  if (input.is_int() || input.is_bool()) {
    const int64_t value = input.is_bool() ? input.as_bool() : input.as_int();
    if (value == INT64_MIN) fail("the integer result of abs does not fit in 64 bits");
    return Value(value < 0 ? -value : value);
  }
  fail("TypeError: bad operand type for abs(): '" + input.type_name() + "'");
}

Value filter_attr(Interpreter&, const Value& input, CallArgs& args) {
  ArgumentReader reader("attr", args, {"name"});
  const std::string name = reader.string_or(0, "");
  if (input.is_namespace()) return get_attribute(input, name);
  if (std::optional<Value> method = bound_method(input, name)) return *method;
  return Value::undefined("'" + input.type_name() + " object' has no attribute '" + name + "'");
}

Value filter_capitalize(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("capitalize", args, {});
  return like_input(input, charged(interpreter, python_capitalize(to_str(input))));
}

Value filter_default(Interpreter&, const Value& input, CallArgs& args) {
  ArgumentReader reader("default", args, {"default_value", "boolean"});
  if (input.is_undefined() || (reader.bool_or(1, false) && !input.truthy())) return reader.value_or(0, Value(""));
  return input;
}

Value filter_dictsort(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("dictsort", args, {"case_sensitive", "by", "reverse"});
  if (!input.is_dict()) fail("TypeError: dictsort needs a mapping, not " + input.type_name());
  const bool case_sensitive = reader.bool_or(0, false);
  const std::string by = reader.string_or(1, "key");
  if (by != "key" && by != "value") fail("FilterArgumentError: You can only sort by either \"key\" or \"value\"");
  std::vector<Value> pairs;
  for (const auto& [key, value] : input.as_dict().items) pairs.push_back(Value::list({key, value}, true));
  const size_t position = by == "key" ? 0 : 1;
  const bool reverse = reader.bool_or(2, false);
  // sorted(..., reverse=True) keeps equal items in their order, so reverse the comparison, not the result.
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& a, const Value& b) {
    const Value key_a = sort_key(a.as_list()[position], case_sensitive);
    const Value key_b = sort_key(b.as_list()[position], case_sensitive);
    return reverse ? value_less(key_b, key_a) : value_less(key_a, key_b);
  });
  return charged_list(interpreter, std::move(pairs));
}

Value filter_escape(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("escape", args, {});
  if (input.is_markup()) return input;  // already safe
  return Value::markup(charged(interpreter, html_escape(to_str(input))).as_string());
}

Value filter_forceescape(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("forceescape", args, {});
  return Value::markup(charged(interpreter, html_escape(to_str(input))).as_string());
}

Value filter_first(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("first", args, {});
  if (input.is_generator()) {  // next(): takes one item, the rest stay for whoever walks it next
    GeneratorState& state = input.generator_state();
    if (state.position < state.items.size()) return state.items[state.position++];
    return Value::undefined("No first item, sequence was empty.");
  }
  const std::vector<Value> items = walk(interpreter, input);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value filter_last(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("last", args, {});
  if (input.is_generator()) fail("TypeError: 'generator' object is not reversible");
  const std::vector<Value> items = walk(interpreter, input);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

// Python's float(str): surrounding whitespace, underscores between digits, inf and nan allowed.
std::optional<double> parse_python_float(const std::string& text) {
  std::string cleaned = python_strip(text, std::nullopt, true, true);
  std::string digits;
  for (size_t i = 0; i < cleaned.size(); ++i) {
    if (cleaned[i] == '_') {
      const bool between = i > 0 && i + 1 < cleaned.size() &&
                           std::isdigit(static_cast<unsigned char>(cleaned[i - 1])) &&
                           std::isdigit(static_cast<unsigned char>(cleaned[i + 1]));
      if (!between) return std::nullopt;
      continue;
    }
    digits += cleaned[i];
  }
  if (digits.empty() || digits.find_first_of("xXpP") != std::string::npos) return std::nullopt;
  std::string lowered = python_lower(digits);
  const size_t body = lowered[0] == '+' || lowered[0] == '-' ? 1 : 0;
  const std::string word = lowered.substr(body);
  if (word == "inf" || word == "infinity") return lowered[0] == '-' ? -HUGE_VAL : HUGE_VAL;
  if (word == "nan") return std::nan("");
  char* end = nullptr;
  const double value = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size() || word.find_first_not_of("0123456789.e+-") != std::string::npos)
    return std::nullopt;
  return value;
}

// Python's int(str, base) for bases 2..36 (and 0: from the prefix).
std::optional<int64_t> parse_python_int(const std::string& text, int64_t base) {
  std::string cleaned = python_strip(text, std::nullopt, true, true);
  bool negative = false;
  size_t i = 0;
  if (i < cleaned.size() && (cleaned[i] == '+' || cleaned[i] == '-')) negative = cleaned[i++] == '-';
  auto prefix_base = [&](char p) { return p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0; };
  if (i + 1 < cleaned.size() && cleaned[i] == '0') {
    const int from_prefix = prefix_base(char(cleaned[i + 1] | 0x20));
    if (from_prefix && (base == 0 || base == from_prefix)) {
      base = from_prefix;
      i += 2;
      if (i < cleaned.size() && cleaned[i] == '_') ++i;
    }
  }
  if (base == 0) base = 10;
  if (base < 2 || base > 36) fail("ValueError: int() base must be >= 2 and <= 36, or 0");
  if (i >= cleaned.size()) return std::nullopt;
  uint64_t value = 0;
  bool previous_digit = false;
  for (; i < cleaned.size(); ++i) {
    const char c = cleaned[i];
    if (c == '_') {
      if (!previous_digit || i + 1 >= cleaned.size()) return std::nullopt;
      previous_digit = false;
      continue;
    }
    const int digit = c >= '0' && c <= '9'                     ? c - '0'
                      : (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? (c | 0x20) - 'a' + 10
                                                               : 99;
    if (digit >= base) return std::nullopt;
    if (__builtin_mul_overflow(value, uint64_t(base), &value) ||
        __builtin_add_overflow(value, uint64_t(digit), &value) || value > uint64_t(INT64_MAX) + (negative ? 1 : 0))
      fail("the integer " + text + " does not fit in 64 bits");
    previous_digit = true;
  }
  if (!previous_digit) return std::nullopt;
  return negative ? int64_t(0 - value) : int64_t(value);
}

Value filter_float(Interpreter&, const Value& input, CallArgs& args) {
  ArgumentReader reader("float", args, {"default"});
  if (input.is_number()) return Value(input.to_double());
  if (input.is_string())
    if (std::optional<double> value = parse_python_float(input.as_string())) return Value(*value);
  return reader.value_or(0, Value(0.0));
}

Value filter_int(Interpreter&, const Value& input, CallArgs& args) {
  ArgumentReader reader("int", args, {"default", "base"});
  if (input.is_int()) return input;
  if (input.is_bool()) return Value(int64_t(input.as_bool()));
  auto from_double = [](double value) {
    if (!std::isfinite(value)) fail("OverflowError: cannot convert float infinity or NaN to integer");
    if (std::fabs(value) >= 9.2233720368547758e18)
      fail("the integer part of " + float_repr(value) + " does not fit in 64 bits");
    return Value(int64_t(value));
  };
  if (input.is_float()) return from_double(input.as_float());
  if (input.is_string()) {
    if (std::optional<int64_t> value = parse_python_int(input.as_string(), reader.int_or(1, 10))) return Value(*value);
    if (std::optional<double> value = parse_python_float(input.as_string())) return from_double(*value);
  }
  return reader.value_or(0, Value(0));
}

// jinja2 3.1's indent: the text gets a final newline so that splitlines keeps a trailing empty line.
Value filter_indent(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("indent", args, {"width", "first", "blank"});
  const Value width = reader.value_or(0, Value(4));
  std::string indentation;
  if (width.is_string()) {
    indentation = width.as_string();
  } else {
    const int64_t count = reader.int_or(0, 4);
    interpreter.charge(uint64_t(std::max<int64_t>(count, 0)));
    indentation = std::string(size_t(std::max<int64_t>(count, 0)), ' ');
  }
  const std::vector<std::string> lines = python_splitlines(to_str(input) + "\n", false);
  interpreter.step(lines.size());
  interpreter.charge(to_str(input).size() + lines.size() * (indentation.size() + 1));
  std::string out;
  if (reader.bool_or(2, false)) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) out += "\n" + indentation;
      out += lines[i];
    }
  } else {
    out = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) out += "\n" + (lines[i].empty() ? "" : indentation + lines[i]);
  }
  if (reader.bool_or(1, false)) out = indentation + out;
  return like_input(input, Value(std::move(out)));
}

Value filter_items(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("items", args, {});
  if (input.is_undefined()) return interpreter.make_generator({});
  if (!input.is_dict()) fail("TypeError: Can only get item pairs from a mapping.");
  std::vector<Value> pairs;
  for (const auto& [key, value] : input.as_dict().items) pairs.push_back(Value::list({key, value}, true));
  return interpreter.make_generator(std::move(pairs));
}

Value filter_join(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("join", args, {"d", "attribute"});
  const std::string separator = to_str(reader.value_or(0, Value("")));
  const Value* attribute = reader.get(1);
  std::string out;
  bool first = true;
  for (const Value& item : walk(interpreter, input)) {
    const std::string piece = to_str(attribute && !attribute->is_none() ? lookup_path(item, to_str(*attribute)) : item);
    interpreter.charge(piece.size() + separator.size());
    if (!first) out += separator;
    out += piece;
    first = false;
  }
  return Value(std::move(out));
}

Value filter_length(Interpreter&, const Value& input, CallArgs& args) {
  ArgumentReader reader("length", args, {});
  switch (input.kind()) {
    case Value::Kind::Undefined:
      return Value(0);
    case Value::Kind::String:
      return Value(int64_t(code_point_count(input.as_string())));
    case Value::Kind::List:
      return Value(int64_t(input.as_list().size()));
    case Value::Kind::Dict:
      return Value(int64_t(input.as_dict().items.size()));
    default:
      fail("TypeError: object of type '" + input.type_name() + "' has no len()");
  }
}

Value filter_list(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("list", args, {});
  return charged_list(interpreter, walk(interpreter, input));
}

Value filter_lower(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("lower", args, {});
  return like_input(input, charged(interpreter, python_lower(to_str(input))));
}

Value filter_upper(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("upper", args, {});
  return like_input(input, charged(interpreter, python_upper(to_str(input))));
}

// jinja2's title filter: uppercase the first letter of each word (words start after '-', space,
// or an opening bracket) and lowercase the rest; not str.title().
Value filter_title(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("title", args, {});
  const std::u32string text = to_code_points(to_str(input));
  auto is_separator = [](char32_t c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || is_python_space(c);
  };
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const bool separator = is_separator(text[i]);
    while (i < text.size() && is_separator(text[i]) == separator) ++i;
    const std::string piece = from_code_points(std::u32string_view(text).substr(start, i - start));
    if (separator) {
      out += piece;
    } else {
      const std::string head = from_code_points(std::u32string_view(text).substr(start, 1));
      out += python_upper(head) + python_lower(piece.substr(head.size()));
    }
  }
  return charged(interpreter, std::move(out));  // "".join(...): a plain str even for Markup input
}

Value filter_replace(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("replace", args, {"old", "new", "count"});
  const std::string text = to_str(input);
  const std::string old = to_str(reader.required(0));
  const std::string replacement = to_str(reader.required(1));
  const int64_t count = reader.int_or(2, -1);
  const int64_t occurrences = python_count(text, old);
  interpreter.charge(text.size() +
                     uint64_t(count < 0 ? occurrences : std::min(count, occurrences)) * replacement.size());
  return Value(python_replace(text, old, replacement, count));
}

Value filter_reverse(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("reverse", args, {});
  if (input.is_string()) return charged(interpreter, slice_string(input.as_string(), std::nullopt, std::nullopt, -1));
  std::vector<Value> items = walk(interpreter, input);
  std::reverse(items.begin(), items.end());
  return input.is_generator() ? charged_list(interpreter, std::move(items))
                              : interpreter.make_generator(std::move(items));
}

// round(value, precision=0, method='common'): Python's round (half to even, on the exact value).
Value filter_round(Interpreter&, const Value& input, CallArgs& args) {
  ArgumentReader reader("round", args, {"precision", "method"});
  const int64_t precision = reader.int_or(0, 0);
  const std::string method = reader.string_or(1, "common");
  if (!input.is_number()) fail("TypeError: round needs a number, not " + input.type_name());
  const double value = input.to_double();
  if (method == "ceil" || method == "floor") {
    const double scale = std::pow(10.0, double(precision));
    return Value((method == "ceil" ? std::ceil(value * scale) : std::floor(value * scale)) / scale);
  }
  if (method != "common") fail("FilterArgumentError: method must be common, ceil or floor");
  if (input.is_int() || input.is_bool()) {  // round(int, n) is an int, rounded half to even at 10**-n
    const int64_t integer = input.is_bool() ? input.as_bool() : input.as_int();
    if (precision >= 0) return Value(integer);
    if (precision < -18) return Value(0);
    int64_t scale = 1;
    for (int64_t i = 0; i < -precision; ++i) scale *= 10;
    int64_t quotient = integer / scale, remainder = integer % scale;
    if (remainder < 0) {
      remainder += scale;
      quotient -= 1;
    }
    if (2 * remainder > scale || (2 * remainder == scale && quotient % 2 != 0)) quotient += 1;
    int64_t rounded = 0;
    if (__builtin_mul_overflow(quotient, scale, &rounded)) fail("the integer result of round does not fit in 64 bits");
    return Value(rounded);
  }
  if (!std::isfinite(value) || precision > 300 || precision < -300) return Value(value);
  if (precision < 0) {
    const double scale = std::pow(10.0, double(-precision));
    return Value(std::nearbyint(value / scale) * scale);
  }
  // printf rounds the exact binary value half-to-even, as CPython's round() does.
  char buffer[400];
  std::snprintf(buffer, sizeof buffer, "%.*f", int(precision), value);
  return Value(std::strtod(buffer, nullptr));
}

// select / reject / selectattr / rejectattr.
Value filter_select_common(Interpreter& interpreter, const Value& input, CallArgs& args, bool keep_matching,
                           bool by_attribute, const char* name) {
  if (!input.truthy()) return interpreter.make_generator({});  // jinja2 walks nothing for a false value
  std::vector<Value> rest = args.positional;
  if (by_attribute && rest.empty()) fail(std::string("TypeError: ") + name + "() needs an attribute name");
  const std::string attribute = by_attribute ? to_str(rest.front()) : "";
  if (by_attribute) rest.erase(rest.begin());
  std::string test;
  if (!rest.empty()) {
    test = to_str(rest.front());
    rest.erase(rest.begin());
    if (!is_known_test(test)) fail("unknown test '" + test + "' in " + name + "()");
  }
  std::vector<Value> kept;
  for (const Value& item : walk(interpreter, input)) {
    const Value subject = by_attribute ? lookup_path(item, attribute) : item;
    bool result;
    if (test.empty()) {
      result = subject.truthy();
    } else {
      CallArgs test_args{rest, args.keyword};
      result = apply_test(interpreter, test, subject, test_args);
    }
    if (result == keep_matching) kept.push_back(item);
  }
  return interpreter.make_generator(std::move(kept));
}

Value filter_select(Interpreter& i, const Value& v, CallArgs& a) {
  return filter_select_common(i, v, a, true, false, "select");
}
Value filter_reject(Interpreter& i, const Value& v, CallArgs& a) {
  return filter_select_common(i, v, a, false, false, "reject");
}
Value filter_selectattr(Interpreter& i, const Value& v, CallArgs& a) {
  return filter_select_common(i, v, a, true, true, "selectattr");
}
Value filter_rejectattr(Interpreter& i, const Value& v, CallArgs& a) {
  return filter_select_common(i, v, a, false, true, "rejectattr");
}

Value filter_map(Interpreter& interpreter, const Value& input, CallArgs& args) {
  if (!input.truthy()) return interpreter.make_generator({});  // jinja2 walks nothing for a false value
  const auto attribute =
      std::find_if(args.keyword.begin(), args.keyword.end(), [](const auto& kv) { return kv.first == "attribute"; });
  std::vector<Value> out;
  if (args.positional.empty() && attribute != args.keyword.end()) {
    const std::string path = to_str(attribute->second);
    const auto fallback =
        std::find_if(args.keyword.begin(), args.keyword.end(), [](const auto& kv) { return kv.first == "default"; });
    for (const auto& kv : args.keyword)
      if (kv.first != "attribute" && kv.first != "default")
        fail("FilterArgumentError: Unexpected keyword argument '" + kv.first + "'");
    for (const Value& item : walk(interpreter, input)) {
      Value value = lookup_path(item, path);
      if (value.is_undefined() && fallback != args.keyword.end()) value = fallback->second;
      out.push_back(std::move(value));
    }
    return interpreter.make_generator(std::move(out));
  }
  if (args.positional.empty()) fail("FilterArgumentError: map requires a filter argument");
  const std::string filter = to_str(args.positional.front());
  if (!is_known_filter(filter)) fail("unknown filter '" + filter + "' in map()");
  const std::vector<Value> rest(args.positional.begin() + 1, args.positional.end());
  for (const Value& item : walk(interpreter, input)) {
    CallArgs filter_args{rest, args.keyword};
    out.push_back(apply_filter(interpreter, filter, item, filter_args));
  }
  return interpreter.make_generator(std::move(out));
}

// min / max / sort / unique share jinja2's key: an attribute path, lowercased strings unless
// case_sensitive.
Value filter_sort(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("sort", args, {"reverse", "case_sensitive", "attribute"});
  const bool reverse = reader.bool_or(0, false), case_sensitive = reader.bool_or(1, false);
  const Value* attribute = reader.get(2);
  std::vector<Value> items = walk(interpreter, input);
  std::vector<std::pair<Value, size_t>> keyed;
  for (size_t i = 0; i < items.size(); ++i)
    keyed.emplace_back(
        sort_key(attribute && !attribute->is_none() ? lookup_path(items[i], to_str(*attribute)) : items[i],
                 case_sensitive),
        i);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    return reverse ? value_less(b.first, a.first) : value_less(a.first, b.first);
  });
  std::vector<Value> sorted;
  for (const auto& [key, index] : keyed) sorted.push_back(items[index]);
  return charged_list(interpreter, std::move(sorted));
}

Value filter_min_max(Interpreter& interpreter, const Value& input, CallArgs& args, bool want_max) {
  ArgumentReader reader(want_max ? "max" : "min", args, {"case_sensitive", "attribute"});
  const bool case_sensitive = reader.bool_or(0, false);
  const Value* attribute = reader.get(1);
  const std::vector<Value> items = walk(interpreter, input);
  if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
  auto key = [&](const Value& item) {
    return sort_key(attribute && !attribute->is_none() ? lookup_path(item, to_str(*attribute)) : item, case_sensitive);
  };
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    const bool better =
        want_max ? value_less(key(items[best]), key(items[i])) : value_less(key(items[i]), key(items[best]));
    if (better) best = i;
  }
  return items[best];
}
Value filter_min(Interpreter& i, const Value& v, CallArgs& a) { return filter_min_max(i, v, a, false); }
Value filter_max(Interpreter& i, const Value& v, CallArgs& a) { return filter_min_max(i, v, a, true); }

Value filter_unique(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("unique", args, {"case_sensitive", "attribute"});
  const bool case_sensitive = reader.bool_or(0, false);
  const Value* attribute = reader.get(1);
  std::vector<Value> seen, out;
  for (const Value& item : walk(interpreter, input)) {
    const Value key =
        sort_key(attribute && !attribute->is_none() ? lookup_path(item, to_str(*attribute)) : item, case_sensitive);
    interpreter.step(seen.size());
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& other) { return values_equal(other, key); })) continue;
    seen.push_back(key);
    out.push_back(item);
  }
  return interpreter.make_generator(std::move(out));
}

Value filter_sum(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("sum", args, {"attribute", "start"});
  const Value* attribute = reader.get(0);
  Value total = reader.value_or(1, Value(0));
  for (const Value& item : walk(interpreter, input))
    total = binary_operation(interpreter, "+", total,
                             attribute && !attribute->is_none() ? lookup_path(item, to_str(*attribute)) : item);
  return total;
}

Value filter_safe(Interpreter&, const Value& input, CallArgs& args) {
  ArgumentReader reader("safe", args, {});
  return Value::markup(to_str(input));
}

Value filter_string(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("string", args, {});
  if (input.is_string()) return input;  // a Markup stays Markup (soft_str)
  return charged(interpreter, to_str(input));
}

Value filter_trim(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("trim", args, {"chars"});
  const Value* chars = reader.get(0);
  std::optional<std::string> strip_chars;
  if (chars && !chars->is_none()) strip_chars = to_str(*chars);
  return like_input(input, charged(interpreter, python_strip(to_str(input), strip_chars, true, true)));
}

// transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
Value filter_tojson(Interpreter& interpreter, const Value& input, CallArgs& args) {
  ArgumentReader reader("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonOptions options;
  options.ensure_ascii = reader.bool_or(0, false);
  if (const Value* indent = reader.get(1); indent && !indent->is_none()) {
    if (indent->is_string())
      options.indent = indent->as_string();
    else
      options.indent = std::string(size_t(std::clamp<int64_t>(reader.int_or(1, 0), 0, 1000)), ' ');
  }
  if (const Value* separators = reader.get(2); separators && !separators->is_none()) {
    if (!separators->is_list() || separators->as_list().size() != 2 || !separators->as_list()[0].is_string() ||
        !separators->as_list()[1].is_string())
      fail("TypeError: tojson separators must be a pair of strings");
    options.item_separator = separators->as_list()[0].as_string();
    options.key_separator = separators->as_list()[1].as_string();
  }
  options.sort_keys = reader.bool_or(3, false);
  return charged(interpreter, to_json(input, options));
}

Value filter_wordcount(Interpreter&, const Value& input, CallArgs& args) {
  ArgumentReader reader("wordcount", args, {});
  return Value(int64_t(python_split(to_str(input), std::nullopt, -1).size()));
}

struct FilterEntry {
  std::string_view name;
  FilterFunction function;
};

constexpr FilterEntry kFilters[] = {
    {"abs", filter_abs},
    {"attr", filter_attr},
    {"capitalize", filter_capitalize},
    {"count", filter_length},
    {"d", filter_default},
    {"default", filter_default},
    {"dictsort", filter_dictsort},
    {"e", filter_escape},
    {"escape", filter_escape},
    {"first", filter_first},
    {"float", filter_float},
    {"forceescape", filter_forceescape},
    {"indent", filter_indent},
    {"int", filter_int},
    {"items", filter_items},
    {"join", filter_join},
    {"last", filter_last},
    {"length", filter_length},
    {"list", filter_list},
    {"lower", filter_lower},
    {"map", filter_map},
    {"max", filter_max},
    {"min", filter_min},
    {"reject", filter_reject},
    {"rejectattr", filter_rejectattr},
    {"replace", filter_replace},
    {"reverse", filter_reverse},
    {"round", filter_round},
    {"safe", filter_safe},
    {"select", filter_select},
    {"selectattr", filter_selectattr},
    {"sort", filter_sort},
    {"string", filter_string},
    {"sum", filter_sum},
    {"title", filter_title},
    {"tojson", filter_tojson},
    {"trim", filter_trim},
    {"unique", filter_unique},
    {"upper", filter_upper},
    {"wordcount", filter_wordcount},
};

const FilterEntry* find_filter(std::string_view name) {
  for (const FilterEntry& entry : kFilters)
    if (entry.name == name) return &entry;
  return nullptr;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool is_known_filter(std::string_view name) { return find_filter(name) != nullptr; }

Value apply_filter(Interpreter& interpreter, std::string_view name, const Value& input, CallArgs& args) {
  const FilterEntry* entry = find_filter(name);
  if (!entry) fail("TemplateRuntimeError: no filter named '" + std::string(name) + "'");
  return entry->function(interpreter, input, args);
}

}  // namespace phirun::jinja
