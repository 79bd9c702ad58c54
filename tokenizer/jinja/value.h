// The values a Jinja template computes with: undefined, none, booleans, 64-bit integers, floats,
// strings (UTF-8), lists and tuples, dicts (insertion-ordered, any hashable key, as Python's), mutable
// namespaces, and callables. Strings, lists and dicts are immutable and shared, so copies are cheap.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace phirun::jinja {

class Value;
class Interpreter;

// Errors raised while evaluating, before the interpreter adds the template line and column.
struct EvalError {
  std::string message;
};
[[noreturn]] void fail(std::string message);
// Using an undefined value where a value is needed: "UndefinedError: 'x' is undefined". A hint that
// names its own error class ("SecurityError: ...", "NotImplementedError: ...") is used as it is.
[[noreturn]] void fail_undefined(const Value& value);

// A Python dict: insertion-ordered, keyed by any hashable value (strings mostly; 1, 1.0 and True
// are the same key, as in Python).
struct Dict {
  std::vector<std::pair<Value, Value>> items;

  const Value* find(std::string_view key) const;
  const Value* find(const std::string& key) const { return find(std::string_view(key)); }
  const Value* find(const char* key) const { return find(std::string_view(key)); }
  const Value* find(const Value& key) const;  // `key` must be hashable
  // Replaces the value of an existing key (keeping its place) or appends a new one. A key that
  // Python cannot hash (a list, a dict) is a TypeError.
  void set(Value key, Value value);
};

// What jinja2's map / select / reject / unique / items filters return: a Python generator. It is
// always true, has no length, cannot be indexed or turned into JSON, and is used up by the first
// loop or filter that walks it (a second walk sees nothing).
struct GeneratorState {
  std::vector<Value> items;
  size_t position = 0;  // items before it have been consumed
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// Functions a template can call: builtins (range, namespace, raise_exception, methods bound to
// a value) and macros. `name` is what repr and error messages show.
class Callable {
 public:
  virtual ~Callable() = default;
  virtual Value call(Interpreter& interpreter, CallArgs& args) const = 0;
  virtual std::string name() const = 0;
};

class Value {
 public:
  enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Callable, Generator };

  Value() = default;  // undefined, with no hint
  static Value undefined(std::string hint);
  static Value none();
  explicit Value(bool boolean);
  Value(int64_t integer);
  Value(int integer) : Value(int64_t(integer)) {}
  explicit Value(size_t integer) : Value(int64_t(integer)) {}
  Value(double number);
  Value(std::string text);
  Value(std::string_view text) : Value(std::string(text)) {}
  Value(const char* text) : Value(std::string(text)) {}
  // A string marked safe (jinja2's Markup, from |safe or |escape): `+` with a plain string
  // HTML-escapes the plain side, as markupsafe does.
  static Value markup(std::string text);
  // Lists and dicts record how deeply they nest, so that no value can nest past kMaxNesting
  // (the recursive walks over values, and their destructors, stay shallow).
  static Value list(std::vector<Value> items, bool is_tuple = false);
  static Value dict(Dict dict);
  static Value new_namespace(Dict attributes);
  static Value callable(std::shared_ptr<const Callable> function);
  static Value generator(std::vector<Value> items);

  static constexpr int kMaxNesting = 256;

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_markup() const { return kind_ == Kind::String && markup_; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_tuple() const { return kind_ == Kind::List && tuple_; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_namespace() const { return kind_ == Kind::Namespace; }
  bool is_callable() const { return kind_ == Kind::Callable; }
  bool is_generator() const { return kind_ == Kind::Generator; }

  bool as_bool() const { return scalar_.boolean; }
  int64_t as_int() const { return scalar_.integer; }
  double as_float() const { return scalar_.number; }
  // Numbers (bool, int, float) as a double, for mixed arithmetic and comparisons.
  double to_double() const;
  const std::string& as_string() const { return *static_cast<const std::string*>(heap_.get()); }
  const std::vector<Value>& as_list() const { return *static_cast<const std::vector<Value>*>(heap_.get()); }
  const Dict& as_dict() const { return *static_cast<const Dict*>(heap_.get()); }
  Dict& namespace_attributes() const { return *static_cast<Dict*>(heap_.get()); }
  const Callable& as_callable() const { return *static_cast<const Callable*>(heap_.get()); }
  GeneratorState& generator_state() const { return *static_cast<GeneratorState*>(heap_.get()); }
  // For an undefined value: why it is undefined ("'x' is undefined"), for error messages.
  const std::string& undefined_hint() const;
  int nesting() const;  // 0 for scalars, 1 + the deepest element for lists and dicts

  // Python's truth value: false for undefined, none, false, 0, 0.0 and empty strings and containers.
  bool truthy() const;
  // Python's type name, as TypeError messages show it ("str", "int", "list", "dict", "NoneType").
  std::string type_name() const;

 private:
  // 32 bytes: the kind, flags, a scalar, and one shared pointer to whatever lives on the heap (the
  // string, list, dict, namespace, callable or generator state the kind says; an undefined
  // value's hint is a string there too).
  Kind kind_ = Kind::Undefined;
  bool tuple_ = false;
  bool markup_ = false;
  union Scalar {
    bool boolean;
    int64_t integer;
    double number;
  } scalar_{.integer = 0};
  std::shared_ptr<void> heap_;
};

// Whether Python can hash the value (so it can be a dict key): not a list, a dict, nor a tuple
// holding one.
bool is_hashable(const Value& value);

// Python's == between two values (1 == 1.0 == True; lists and dicts element by element).
bool values_equal(const Value& a, const Value& b);
// Python's <, for numbers, strings (by code point) and lists; other pairs raise a TypeError.
bool value_less(const Value& a, const Value& b);

// Bounds the work of the recursive walks over values (printing, JSON, comparing) on this thread
// while a render runs: they count their steps against the interpreter's step counter and the text
// they build against its byte limit, so that a list holding one big string a million times, or
// lists nested as a DAG of 2^60 leaves, fail at once instead of running for hours. Outside a
// render there is no limit. Past a limit: an EvalError.
class WalkBudget {
 public:
  WalkBudget(uint64_t& steps, uint64_t max_steps, uint64_t max_text_bytes);
  ~WalkBudget();
  WalkBudget(const WalkBudget&) = delete;
  WalkBudget& operator=(const WalkBudget&) = delete;

  static void step();                    // one more value visited
  static void check_text(size_t bytes);  // text built so far by one walk

 private:
  WalkBudget* previous_;
  uint64_t& steps_;
  uint64_t max_steps_;
  uint64_t max_text_bytes_;
};

// Python's str() and repr() of a value (str("a") is a, repr("a") is 'a'; floats as Python prints
// them; undefined prints as nothing).
std::string to_str(const Value& value);
std::string to_repr(const Value& value);
// Python's repr of a float: the shortest string that reads back to the same double, in
// scientific notation when the exponent is below -4 or at least 16 ("1e-05", "0.1", "1e+16").
std::string float_repr(double number);

}  // namespace phirun::jinja
