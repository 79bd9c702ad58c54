// The filters, tests, global functions and methods (of str, dict, list) templates can call, as
// jinja2 and transformers define them. Each lives in its own file: filters.cpp, tests.cpp,
// globals.cpp, methods.cpp.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace phirun::jinja {

bool is_known_filter(std::string_view name);
bool is_known_test(std::string_view name);

// `input | name(args)`.
Value apply_filter(Interpreter& interpreter, std::string_view name, const Value& input, CallArgs& args);
// `input is name(args)`.
bool apply_test(Interpreter& interpreter, std::string_view name, const Value& input, CallArgs& args);

// A global name the template did not get from its variables: range, namespace, dict, cycler,
// joiner, raise_exception, strftime_now. Undefined if there is none of that name.
Value builtin_global(std::string_view name);

// `object.name` when it names a method of a str, dict or list: the method bound to its object (a
// callable). Methods that would change a list or dict give an undefined value that refuses to be
// used, as jinja2's immutable sandbox does. Nothing when there is no method of that name.
std::optional<Value> bound_method(const Value& object, std::string_view name);

// markupsafe.escape: & < > " ' as HTML entities.
std::string html_escape(std::string_view text);

// Reads the arguments of a builtin by position or keyword, in the order of `names`; too many
// arguments or an unknown keyword is a TypeError naming `function`.
class ArgumentReader {
 public:
  ArgumentReader(std::string_view function, CallArgs& args, std::initializer_list<std::string_view> names);

  const Value* get(size_t index) const { return index < bound_.size() && bound_[index] ? bound_[index] : nullptr; }
  bool has(size_t index) const { return get(index) != nullptr; }
  // The argument, or `fallback` when it was not given.
  Value value_or(size_t index, Value fallback) const;
  // Typed reads; a wrong type is a TypeError naming the parameter.
  int64_t int_or(size_t index, int64_t fallback) const;
  bool bool_or(size_t index, bool fallback) const;  // any value, by its truth
  std::string string_or(size_t index, std::string fallback) const;
  const Value& required(size_t index) const;

 private:
  std::string function_;
  std::vector<std::string_view> names_;
  std::vector<const Value*> bound_;
};

}  // namespace phirun::jinja
