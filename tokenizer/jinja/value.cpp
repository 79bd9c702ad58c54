// Value construction and the Python semantics every part of the interpreter shares: truth,
// equality, ordering, str() and repr().
#include "tokenizer/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "tokenizer/jinja/python_string.h"

namespace phirun::jinja {

void fail(std::string message) { throw EvalError{std::move(message)}; }

void fail_undefined(const Value& value) {
  const std::string& hint = value.undefined_hint();
  if (hint.empty()) fail("UndefinedError: a value is undefined");
  const size_t colon = hint.find(": ");
  const bool names_error =
      colon != std::string::npos && colon >= 5 && hint.compare(colon - 5, 5, "Error") == 0 && hint.find(' ') > colon;
  fail(names_error ? hint : "UndefinedError: " + hint);
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [name, value] : items)
    if (name.is_string() && name.as_string() == key) return &value;
  return nullptr;
}

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  for (const auto& [name, value] : items)
    if (values_equal(name, key)) return &value;
  return nullptr;
}

void Dict::set(Value key, Value value) {
  if (!is_hashable(key)) fail("TypeError: unhashable type: '" + key.type_name() + "'");
  for (auto& [name, existing] : items)
    if (key.is_string() ? name.is_string() && name.as_string() == key.as_string() : values_equal(name, key)) {
      existing = std::move(value);
      return;
    }
  items.emplace_back(std::move(key), std::move(value));
}

bool is_hashable(const Value& value) {
  if (value.is_dict()) return false;
  if (value.is_list()) {
    if (!value.is_tuple()) return false;
    for (const Value& item : value.as_list())
      if (!is_hashable(item)) return false;
  }
  return true;
}

Value Value::undefined(std::string hint) {
  Value value;
  value.heap_ = std::make_shared<std::string>(std::move(hint));
  return value;
}

Value Value::none() {
  Value value;
  value.kind_ = Kind::None;
  return value;
}

Value::Value(bool boolean) : kind_(Kind::Bool), scalar_{.boolean = boolean} {}
Value::Value(int64_t integer) : kind_(Kind::Int), scalar_{.integer = integer} {}
Value::Value(double number) : kind_(Kind::Float), scalar_{.number = number} {}
Value::Value(std::string text) : kind_(Kind::String), heap_(std::make_shared<std::string>(std::move(text))) {}

Value Value::markup(std::string text) {
  Value value(std::move(text));
  value.markup_ = true;
  return value;
}

Value Value::list(std::vector<Value> items, bool is_tuple) {
  int deepest = 0;
  for (const Value& item : items) deepest = std::max(deepest, item.nesting());
  if (deepest + 1 > kMaxNesting) fail("lists and dicts nest more than " + std::to_string(kMaxNesting) + " levels deep");
  Value value;
  value.kind_ = Kind::List;
  value.tuple_ = is_tuple;
  value.scalar_.integer = deepest + 1;  // containers keep their nesting in the scalar
  value.heap_ = std::make_shared<std::vector<Value>>(std::move(items));
  return value;
}

Value Value::dict(Dict dict) {
  int deepest = 0;
  for (const auto& item : dict.items) deepest = std::max(deepest, item.second.nesting());
  if (deepest + 1 > kMaxNesting) fail("lists and dicts nest more than " + std::to_string(kMaxNesting) + " levels deep");
  Value value;
  value.kind_ = Kind::Dict;
  value.scalar_.integer = deepest + 1;  // containers keep their nesting in the scalar
  value.heap_ = std::make_shared<Dict>(std::move(dict));
  return value;
}

Value Value::new_namespace(Dict attributes) {
  Value value;
  value.kind_ = Kind::Namespace;
  value.heap_ = std::make_shared<Dict>(std::move(attributes));
  return value;
}

Value Value::callable(std::shared_ptr<const Callable> function) {
  Value value;
  value.kind_ = Kind::Callable;
  value.heap_ = std::const_pointer_cast<Callable>(std::move(function));
  return value;
}

Value Value::generator(std::vector<Value> items) {
  Value value;
  value.kind_ = Kind::Generator;
  value.heap_ = std::make_shared<GeneratorState>(GeneratorState{std::move(items), 0});
  return value;
}

double Value::to_double() const {
  switch (kind_) {
    case Kind::Bool:
      return scalar_.boolean ? 1.0 : 0.0;
    case Kind::Int:
      return double(scalar_.integer);
    case Kind::Float:
      return scalar_.number;
    default:
      fail("a number was expected, not " + type_name());
  }
}

const std::string& Value::undefined_hint() const {
  static const std::string empty;
  return kind_ == Kind::Undefined && heap_ ? *static_cast<const std::string*>(heap_.get()) : empty;
}

// A namespace is mutable and may (through its attributes) contain itself; it counts as a leaf.
int Value::nesting() const { return kind_ == Kind::List || kind_ == Kind::Dict ? int(scalar_.integer) : 0; }

bool Value::truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None:
      return false;
    case Kind::Bool:
      return scalar_.boolean;
    case Kind::Int:
      return scalar_.integer != 0;
    case Kind::Float:
      return scalar_.number != 0.0;
    case Kind::String:
      return !as_string().empty();
    case Kind::List:
      return !as_list().empty();
    case Kind::Dict:
      return !as_dict().items.empty();
    case Kind::Namespace:
    case Kind::Callable:
    case Kind::Generator:
      return true;  // a Python object without __len__ or __bool__
  }
  return false;
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::Undefined:
      return "Undefined";
    case Kind::None:
      return "NoneType";
    case Kind::Bool:
      return "bool";
    case Kind::Int:
      return "int";
    case Kind::Float:
      return "float";
    case Kind::String:
      return "str";
    case Kind::List:
      return tuple_ ? "tuple" : "list";
    case Kind::Dict:
      return "dict";
    case Kind::Namespace:
      return "Namespace";
    case Kind::Callable:
      return "function";
    case Kind::Generator:
      return "generator";
  }
  return "?";
}

bool values_equal(const Value& a, const Value& b) {
  WalkBudget::step();
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.to_double() == b.to_double();
    return (a.is_bool() ? int64_t(a.as_bool()) : a.as_int()) == (b.is_bool() ? int64_t(b.as_bool()) : b.as_int());
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None:
      return true;
    case Value::Kind::String:
      return a.as_string() == b.as_string();
    case Value::Kind::List: {
      if (a.is_tuple() != b.is_tuple() || a.as_list().size() != b.as_list().size()) return false;
      for (size_t i = 0; i < a.as_list().size(); ++i)
        if (!values_equal(a.as_list()[i], b.as_list()[i])) return false;
      return true;
    }
    case Value::Kind::Dict: {
      if (a.as_dict().items.size() != b.as_dict().items.size()) return false;
      for (const auto& [key, value] : a.as_dict().items) {
        const Value* other = b.as_dict().find(key);
        if (!other || !values_equal(value, *other)) return false;
      }
      return true;
    }
    case Value::Kind::Namespace:
      return &a.namespace_attributes() == &b.namespace_attributes();
    case Value::Kind::Callable:
      return &a.as_callable() == &b.as_callable();
    case Value::Kind::Generator:
      return &a.generator_state() == &b.generator_state();
    default:
      return false;
  }
}

bool value_less(const Value& a, const Value& b) {
  WalkBudget::step();
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.to_double() < b.to_double();
    return (a.is_bool() ? int64_t(a.as_bool()) : a.as_int()) < (b.is_bool() ? int64_t(b.as_bool()) : b.as_int());
  }
  // UTF-8 byte order is code point order, which is how Python orders str.
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const auto& x = a.as_list();
    const auto& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (values_equal(x[i], y[i])) continue;
      return value_less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  fail("TypeError: '<' not supported between instances of '" + a.type_name() + "' and '" + b.type_name() + "'");
}

std::string float_repr(double number) {
  if (std::isnan(number)) return "nan";
  if (std::isinf(number)) return number < 0 ? "-inf" : "inf";
  // Shortest round-trip digits, then laid out as Python's repr (format code 'r') does.
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::scientific);
  const std::string scientific(buffer, result.ptr);  // "-1.2345e+17"
  const size_t e = scientific.find('e');
  std::string mantissa = scientific.substr(0, e);
  const int exponent = std::atoi(scientific.c_str() + e + 1);
  std::string sign;
  if (mantissa[0] == '-') {
    sign = "-";
    mantissa.erase(0, 1);
  }
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  if (exponent < -4 || exponent >= 16) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exponent_text[16];
    std::snprintf(exponent_text, sizeof exponent_text, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exponent_text;
  }
  if (exponent < 0) return sign + "0." + std::string(size_t(-exponent - 1), '0') + digits;
  const size_t integer_digits = size_t(exponent) + 1;
  if (digits.size() <= integer_digits) return sign + digits + std::string(integer_digits - digits.size(), '0') + ".0";
  return sign + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

namespace {

thread_local WalkBudget* current_budget = nullptr;

}  // namespace

WalkBudget::WalkBudget(uint64_t& steps, uint64_t max_steps, uint64_t max_text_bytes)
    : previous_(current_budget), steps_(steps), max_steps_(max_steps), max_text_bytes_(max_text_bytes) {
  current_budget = this;
}

WalkBudget::~WalkBudget() { current_budget = previous_; }

void WalkBudget::step() {
  WalkBudget* budget = current_budget;
  if (budget && ++budget->steps_ > budget->max_steps_)
    fail("the template ran more than " + std::to_string(budget->max_steps_) + " steps (a loop that does not end?)");
}

void WalkBudget::check_text(size_t bytes) {
  WalkBudget* budget = current_budget;
  if (budget && bytes > budget->max_text_bytes_)
    fail("the text of a value is longer than the render's limit of " + std::to_string(budget->max_text_bytes_ >> 20) +
         " MiB");
}

namespace {

// The namespaces being printed, outermost first: a namespace that holds itself prints as
// "<Namespace {...}>" the second time, as Python's dict repr does for a cycle.
using ReprStack = std::vector<const Dict*>;

void append_repr(std::string& out, const Value& value, ReprStack& stack);

void append_items_repr(std::string& out, const Value& value, ReprStack& stack) {
  if (value.is_list()) {
    const auto& items = value.as_list();
    out += value.is_tuple() ? '(' : '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += ", ";
      append_repr(out, items[i], stack);
      WalkBudget::check_text(out.size());
    }
    if (value.is_tuple() && items.size() == 1) out += ',';
    out += value.is_tuple() ? ')' : ']';
    return;
  }
  const Dict& dict = value.is_dict() ? value.as_dict() : value.namespace_attributes();
  out += '{';
  for (size_t i = 0; i < dict.items.size(); ++i) {
    if (i) out += ", ";
    append_repr(out, dict.items[i].first, stack);
    out += ": ";
    append_repr(out, dict.items[i].second, stack);
    WalkBudget::check_text(out.size());
  }
  out += '}';
}

void append_repr(std::string& out, const Value& value, ReprStack& stack) {
  WalkBudget::step();
  switch (value.kind()) {
    case Value::Kind::Undefined:
      out += "Undefined";
      return;
    case Value::Kind::String:
      // Its repr is at least as long as the text: check before building it.
      WalkBudget::check_text(out.size() + value.as_string().size());
      out += python_string_repr(value.as_string());
      return;
    case Value::Kind::List:
    case Value::Kind::Dict:
      append_items_repr(out, value, stack);
      return;
    case Value::Kind::Namespace: {
      const Dict* attributes = &value.namespace_attributes();
      if (std::find(stack.begin(), stack.end(), attributes) != stack.end()) {
        out += "<Namespace {...}>";
        return;
      }
      stack.push_back(attributes);
      out += "<Namespace ";
      append_items_repr(out, value, stack);
      out += ">";
      stack.pop_back();
      return;
    }
    default:
      out += to_str(value);
      return;
  }
}

}  // namespace

std::string to_str(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::Undefined:
      return "";
    case Value::Kind::None:
      return "None";
    case Value::Kind::Bool:
      return value.as_bool() ? "True" : "False";
    case Value::Kind::Int:
      return std::to_string(value.as_int());
    case Value::Kind::Float:
      return float_repr(value.as_float());
    case Value::Kind::String:
      return value.as_string();
    case Value::Kind::Callable:
      return "<" + value.as_callable().name() + ">";
    case Value::Kind::Generator:
      return "<generator object>";  // Python adds the function and an address
    default: {
      std::string out;
      ReprStack stack;
      append_repr(out, value, stack);
      return out;
    }
  }
}

std::string to_repr(const Value& value) {
  std::string out;
  ReprStack stack;
  append_repr(out, value, stack);
  return out;
}

}  // namespace phirun::jinja
