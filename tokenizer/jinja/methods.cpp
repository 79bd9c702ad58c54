// Methods of str, dict and list that templates call (message.content.strip(), tool.items(),
// '{}'.format(x)), with Python's semantics. Methods that change a dict or list are refused, as in
// transformers' ImmutableSandboxedEnvironment.
#include <algorithm>
#include <cstdio>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/python_string.h"

namespace phirun::jinja {

namespace {

constexpr std::string_view kStringMethods[] = {
    "upper",  "lower",      "title",      "capitalize", "strip",   "lstrip",       "rstrip",      "split",
    "rsplit", "splitlines", "startswith", "endswith",   "replace", "find",         "rfind",       "index",
    "rindex", "count",      "join",       "format",     "isspace", "removeprefix", "removesuffix"};
// Python str methods phirun does not implement: named in the error instead of "no attribute".
constexpr std::string_view kOtherStringMethods[] = {
    "casefold",  "center",    "encode",       "expandtabs", "format_map", "isalnum",     "isalpha",   "isascii",
    "isdecimal", "isdigit",   "isidentifier", "islower",    "isnumeric",  "isprintable", "istitle",   "isupper",
    "ljust",     "maketrans", "partition",    "rjust",      "rpartition", "swapcase",    "translate", "zfill"};
constexpr std::string_view kDictMethods[] = {"get", "items", "keys", "values", "copy"};
constexpr std::string_view kUnsafeDictMethods[] = {"clear", "pop", "popitem", "setdefault", "update"};
constexpr std::string_view kListMethods[] = {"index", "count", "copy"};
constexpr std::string_view kUnsafeListMethods[] = {"append", "clear",  "extend",  "insert",
                                                   "pop",    "remove", "reverse", "sort"};

template <size_t N>
bool listed(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

const std::string& text_argument(const Value& value, const char* method) {
  if (!value.is_string())
    fail(std::string("TypeError: str.") + method + "() needs a string argument, not " + value.type_name());
  return value.as_string();
}

std::optional<std::string> optional_text(const ArgumentReader& reader, size_t index, const char* method) {
  const Value* value = reader.get(index);
  if (!value || value->is_none()) return std::nullopt;
  return text_argument(*value, method);
}

// startswith / endswith: a string or a tuple of strings.
bool matches_affix(const std::string& text, const Value& affixes, bool at_start) {
  auto one = [&](const Value& affix) {
    const std::string& a = text_argument(affix, at_start ? "startswith" : "endswith");
    return at_start ? text.compare(0, a.size(), a) == 0
                    : text.size() >= a.size() && text.compare(text.size() - a.size(), a.size(), a) == 0;
  };
  if (affixes.is_list()) return std::any_of(affixes.as_list().begin(), affixes.as_list().end(), one);
  return one(affixes);
}

// ---- str.format ----

// Applies a format spec ([[fill]align][sign][0][width][.precision][type]) to a value.
std::string apply_format_spec(const Value& value, std::string_view spec) {
  if (spec.empty()) return to_str(value);
  size_t i = 0;
  std::string fill = " ";
  char align = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (spec.size() >= 2 && is_align(spec[1])) {
    fill = std::string(1, spec[0]);
    align = spec[1];
    i = 2;
  } else if (is_align(spec[0])) {
    align = spec[0];
    i = 1;
  }
  char sign = '-';
  if (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ')) sign = spec[i++];
  if (i < spec.size() && spec[i] == '0' && !align) {
    fill = "0";
    align = '=';
    ++i;
  }
  size_t width = 0;
  while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') width = width * 10 + size_t(spec[i++] - '0');
  int precision = -1;
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    precision = 0;
    while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') precision = precision * 10 + (spec[i++] - '0');
  }
  const char type = i < spec.size() ? spec[i++] : 0;
  if (i != spec.size() || width > 10000 || precision > 1000)
    fail("ValueError: format spec '" + std::string(spec) + "' is not supported by phirun's Jinja");
  std::string body;
  bool numeric = false;
  if (type == 'd' || (type == 0 && (value.is_int() || value.is_bool()) && precision < 0)) {
    if (!value.is_int() && !value.is_bool())
      fail("ValueError: format code 'd' needs an integer, not " + value.type_name());
    const int64_t integer = value.is_bool() ? value.as_bool() : value.as_int();
    body = std::to_string(integer);
    numeric = true;
  } else if (type == 'f' || type == 'F' || (type == 0 && value.is_float() && precision >= 0)) {
    if (!value.is_number()) fail("ValueError: format code 'f' needs a number, not " + value.type_name());
    char buffer[1100];
    std::snprintf(buffer, sizeof buffer, "%.*f", precision < 0 ? 6 : precision, value.to_double());
    body = buffer;
    numeric = true;
  } else if (type == 0 && value.is_float()) {
    body = float_repr(value.as_float());
    numeric = true;
  } else if (type == 's' || type == 0) {
    if (!value.is_string() && type == 's') fail("ValueError: format code 's' needs a string, not " + value.type_name());
    body = to_str(value);
    if (precision >= 0) body = slice_string(body, 0, precision, 1);
  } else {
    fail("ValueError: format code '" + std::string(1, type) + "' is not supported by phirun's Jinja");
  }
  std::string sign_text;
  if (numeric) {
    if (!body.empty() && body[0] == '-') {
      sign_text = "-";
      body.erase(0, 1);
    } else if (sign == '+' || sign == ' ') {
      sign_text = std::string(1, sign);
    }
  }
  if (!align) align = numeric ? '>' : '<';
  const size_t length = code_point_count(sign_text) + code_point_count(body);
  const size_t padding = width > length ? width - length : 0;
  auto pad = [&](size_t n) {
    std::string out;
    for (size_t k = 0; k < n; ++k) out += fill;
    return out;
  };
  switch (align) {
    case '<':
      return sign_text + body + pad(padding);
    case '^':
      return pad(padding / 2) + sign_text + body + pad(padding - padding / 2);
    case '=':
      return sign_text + pad(padding) + body;
    default:
      return pad(padding) + sign_text + body;
  }
}

std::string python_format(Interpreter& interpreter, const std::string& format, CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  bool used_auto = false, used_manual = false;
  for (size_t i = 0; i < format.size();) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') {
        out += '}';
        i += 2;
        continue;
      }
      fail("ValueError: Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      i += 2;
      continue;
    }
    const size_t close = format.find('}', i);
    if (close == std::string::npos) fail("ValueError: Single '{' encountered in format string");
    const std::string field = format.substr(i + 1, close - i - 1);
    if (field.find('{') != std::string::npos)
      fail("ValueError: nested format fields are not supported by phirun's Jinja");
    i = close + 1;
    // field_name[!conversion][:spec]
    const size_t colon = field.find(':');
    std::string name_part = field.substr(0, colon);
    const std::string spec = colon == std::string::npos ? "" : field.substr(colon + 1);
    char conversion = 0;
    if (const size_t bang = name_part.find('!'); bang != std::string::npos) {
      if (bang + 2 != name_part.size()) fail("ValueError: expected ':' after conversion specifier");
      conversion = name_part[bang + 1];
      name_part.resize(bang);
    }
    // The first part: an index, a keyword, or nothing (the next automatic index).
    size_t end = 0;
    while (end < name_part.size() && name_part[end] != '.' && name_part[end] != '[') ++end;
    const std::string head = name_part.substr(0, end);
    Value value;
    if (head.empty()) {
      if (used_manual) fail("ValueError: cannot switch from manual field specification to automatic field numbering");
      used_auto = true;
      if (auto_index >= args.positional.size())
        fail("IndexError: Replacement index " + std::to_string(auto_index) + " out of range for positional args tuple");
      value = args.positional[auto_index++];
    } else if (std::all_of(head.begin(), head.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      if (used_auto) fail("ValueError: cannot switch from automatic field numbering to manual field specification");
      used_manual = true;
      const size_t index = size_t(std::stoul(head));
      if (index >= args.positional.size())
        fail("IndexError: Replacement index " + head + " out of range for positional args tuple");
      value = args.positional[index];
    } else {
      auto found =
          std::find_if(args.keyword.begin(), args.keyword.end(), [&](const auto& kv) { return kv.first == head; });
      if (found == args.keyword.end()) fail("KeyError: '" + head + "'");
      value = found->second;
    }
    // Then .attribute and [key] parts.
    while (end < name_part.size()) {
      if (name_part[end] == '.') {
        size_t next = end + 1;
        while (next < name_part.size() && name_part[next] != '.' && name_part[next] != '[') ++next;
        value = get_attribute(value, name_part.substr(end + 1, next - end - 1));
        end = next;
      } else {
        const size_t bracket = name_part.find(']', end);
        if (bracket == std::string::npos) fail("ValueError: Missing ']' in format string");
        const std::string key = name_part.substr(end + 1, bracket - end - 1);
        const bool is_number =
            !key.empty() && std::all_of(key.begin(), key.end(), [](char d) { return d >= '0' && d <= '9'; });
        value = get_item(value, is_number ? Value(int64_t(std::stoll(key))) : Value(key));
        end = bracket + 1;
      }
    }
    if (conversion == 'r')
      value = Value(to_repr(value));
    else if (conversion == 's')
      value = Value(to_str(value));
    else if (conversion != 0)
      fail(std::string("ValueError: Unknown conversion specifier ") + conversion);
    const std::string piece = apply_format_spec(value, spec);
    interpreter.charge(piece.size());
    out += piece;
  }
  return out;
}

// ---- dispatch ----

Value call_string_method(Interpreter& interpreter, const std::string& text, const std::string& method, CallArgs& args) {
  auto produce = [&](std::string result) {
    interpreter.charge(result.size());
    return Value(std::move(result));
  };
  auto produce_list = [&](std::vector<std::string> parts) {
    interpreter.charge(parts.size() * sizeof(Value) + text.size());
    std::vector<Value> items(parts.begin(), parts.end());
    return Value::list(std::move(items));
  };
  if (method == "format") return produce(python_format(interpreter, text, args));
  if (method == "join") {
    ArgumentReader reader("str.join", args, {"iterable"});
    std::string out;
    bool first = true;
    for (const Value& item : iterate(reader.required(0))) {
      if (!item.is_string()) fail("TypeError: sequence item: expected str instance, " + item.type_name() + " found");
      interpreter.charge(text.size() + item.as_string().size());
      if (!first) out += text;
      out += item.as_string();
      first = false;
    }
    return Value(std::move(out));
  }
  const std::string name = "str." + method;
  if (method == "upper" || method == "lower" || method == "title" || method == "capitalize" || method == "isspace") {
    ArgumentReader reader(name, args, {});
    if (method == "upper") return produce(python_upper(text));
    if (method == "lower") return produce(python_lower(text));
    if (method == "title") return produce(python_title(text));
    if (method == "capitalize") return produce(python_capitalize(text));
    const std::u32string code_points = to_code_points(text);
    return Value(!code_points.empty() && std::all_of(code_points.begin(), code_points.end(), is_python_space));
  }
  if (method == "strip" || method == "lstrip" || method == "rstrip") {
    ArgumentReader reader(name, args, {"chars"});
    return produce(
        python_strip(text, optional_text(reader, 0, method.c_str()), method != "rstrip", method != "lstrip"));
  }
  if (method == "split" || method == "rsplit") {
    ArgumentReader reader(name, args, {"sep", "maxsplit"});
    const std::optional<std::string> separator = optional_text(reader, 0, method.c_str());
    const int64_t max_split = reader.int_or(1, -1);
    return produce_list(method == "split" ? python_split(text, separator, max_split)
                                          : python_rsplit(text, separator, max_split));
  }
  if (method == "splitlines") {
    ArgumentReader reader(name, args, {"keepends"});
    return produce_list(python_splitlines(text, reader.bool_or(0, false)));
  }
  if (method == "startswith" || method == "endswith") {
    ArgumentReader reader(name, args, {"prefix"});
    return Value(matches_affix(text, reader.required(0), method == "startswith"));
  }
  if (method == "removeprefix" || method == "removesuffix") {
    ArgumentReader reader(name, args, {"affix"});
    const std::string& affix = text_argument(reader.required(0), method.c_str());
    const bool prefix = method == "removeprefix";
    if (!matches_affix(text, Value(affix), prefix)) return Value(text);
    return produce(prefix ? text.substr(affix.size()) : text.substr(0, text.size() - affix.size()));
  }
  if (method == "replace") {
    ArgumentReader reader(name, args, {"old", "new", "count"});
    const std::string& old = text_argument(reader.required(0), "replace");
    const std::string& replacement = text_argument(reader.required(1), "replace");
    const int64_t count = reader.int_or(2, -1);
    const int64_t occurrences = python_count(text, old);
    const int64_t replaced = count < 0 ? occurrences : std::min(count, occurrences);
    interpreter.charge(text.size() + uint64_t(replaced) * replacement.size());  // before building it
    return Value(python_replace(text, old, replacement, count));
  }
  if (method == "find" || method == "rfind" || method == "index" || method == "rindex" || method == "count") {
    ArgumentReader reader(name, args, {"sub"});
    const std::string& needle = text_argument(reader.required(0), method.c_str());
    if (method == "count") return Value(python_count(text, needle));
    const int64_t found = python_find(text, needle, method[0] == 'r');
    if (found < 0 && method.find("index") != std::string::npos) fail("ValueError: substring not found");
    return Value(found);
  }
  fail("AttributeError: 'str' object has no attribute '" + method + "'");
}

Value call_dict_method(Interpreter& interpreter, const Value& dict, const std::string& method, CallArgs& args) {
  const std::string name = "dict." + method;
  if (method == "get") {
    ArgumentReader reader(name, args, {"key", "default"});
    const Value& key = reader.required(0);
    if (!is_hashable(key)) fail("TypeError: unhashable type: '" + key.type_name() + "'");
    if (const Value* found = dict.as_dict().find(key)) return *found;
    return reader.value_or(1, Value::none());
  }
  ArgumentReader reader(name, args, {});
  if (method == "copy") return dict;
  interpreter.charge(dict.as_dict().items.size() * sizeof(Value));
  std::vector<Value> items;
  for (const auto& [key, value] : dict.as_dict().items) {
    if (method == "keys")
      items.push_back(key);
    else if (method == "values")
      items.push_back(value);
    else
      items.push_back(Value::list({key, value}, true));
  }
  return Value::list(std::move(items));
}

Value call_list_method(const Value& list, const std::string& method, CallArgs& args) {
  if (method == "copy") {
    ArgumentReader reader("list.copy", args, {});
    return list;
  }
  ArgumentReader reader("list." + method, args, {"value"});
  const Value& needle = reader.required(0);
  const auto& items = list.as_list();
  if (method == "count")
    return Value(int64_t(
        std::count_if(items.begin(), items.end(), [&](const Value& item) { return values_equal(item, needle); })));
  for (size_t i = 0; i < items.size(); ++i)
    if (values_equal(items[i], needle)) return Value(int64_t(i));
  fail("ValueError: " + to_repr(needle) + " is not in list");
}

class BoundMethod : public Callable {
 public:
  BoundMethod(Value receiver, std::string method) : receiver_(std::move(receiver)), method_(std::move(method)) {}
  Value call(Interpreter& interpreter, CallArgs& args) const override {
    interpreter.step(receiver_.is_list()   ? receiver_.as_list().size()
                     : receiver_.is_dict() ? receiver_.as_dict().items.size()
                                           : 1);
    if (receiver_.is_string()) return call_string_method(interpreter, receiver_.as_string(), method_, args);
    if (receiver_.is_dict()) return call_dict_method(interpreter, receiver_, method_, args);
    return call_list_method(receiver_, method_, args);
  }
  std::string name() const override {
    return "built-in method " + method_ + " of " + receiver_.type_name() + " object";
  }

 private:
  Value receiver_;
  std::string method_;
};

}  // namespace

std::optional<Value> bound_method(const Value& object, std::string_view name) {
  auto bind = [&] { return Value::callable(std::make_shared<BoundMethod>(object, std::string(name))); };
  auto unsafe = [&] {
    return Value::undefined("SecurityError: access to attribute '" + std::string(name) + "' of '" + object.type_name() +
                            "' object is unsafe (templates cannot change a " + object.type_name() + ")");
  };
  if (object.is_string()) {
    if (listed(kStringMethods, name)) return bind();
    if (listed(kOtherStringMethods, name))
      return Value::undefined("NotImplementedError: str." + std::string(name) +
                              "() is not implemented by phirun's Jinja");
  } else if (object.is_dict()) {
    if (listed(kDictMethods, name)) return bind();
    if (listed(kUnsafeDictMethods, name)) return unsafe();
  } else if (object.is_list() && !object.is_tuple()) {
    if (listed(kListMethods, name)) return bind();
    if (listed(kUnsafeListMethods, name)) return unsafe();
  } else if (object.is_tuple() && (name == "index" || name == "count")) {
    return bind();
  }
  return std::nullopt;
}

}  // namespace phirun::jinja
