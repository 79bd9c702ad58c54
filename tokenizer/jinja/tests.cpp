// jinja2's tests (`x is defined`, `x is string`, ...), with Python's type rules: bool counts as a
// number, a str is iterable and a sequence, undefined is iterable (it iterates as nothing).
#include <algorithm>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/interpreter.h"

namespace phirun::jinja {

namespace {

constexpr std::string_view kTests[] = {
    "defined", "undefined",   "none",     "boolean",  "false",       "true",   "integer", "float", "number",
    "string",  "mapping",     "iterable", "sequence", "callable",    "sameas", "escaped", "in",    "odd",
    "even",    "divisibleby", "eq",       "equalto",  "==",          "ne",     "!=",      "lt",    "lessthan",
    "<",       "le",          "<=",       "gt",       "greaterthan", ">",      "ge",      ">="};

int64_t integer_operand(const Value& value, std::string_view test) {
  if (value.is_int()) return value.as_int();
  if (value.is_bool()) return value.as_bool();
  if (value.is_undefined()) fail_undefined(value);
  fail("TypeError: the '" + std::string(test) + "' test needs an integer, not " + value.type_name());
}

}  // namespace

bool is_known_test(std::string_view name) {
  return std::find(std::begin(kTests), std::end(kTests), name) != std::end(kTests);
}

bool apply_test(Interpreter&, std::string_view name, const Value& input, CallArgs& args) {
  if (!is_known_test(name)) fail("TemplateRuntimeError: no test named '" + std::string(name) + "'");
  const std::string function = "test '" + std::string(name) + "'";
  if (name == "defined" || name == "undefined" || name == "none" || name == "boolean" || name == "false" ||
      name == "true" || name == "integer" || name == "float" || name == "number" || name == "string" ||
      name == "mapping" || name == "iterable" || name == "sequence" || name == "callable" || name == "escaped" ||
      name == "odd" || name == "even") {
    ArgumentReader reader(function, args, {});
    if (name == "defined") return !input.is_undefined();
    if (name == "undefined") return input.is_undefined();
    if (name == "none") return input.is_none();
    if (name == "boolean") return input.is_bool();
    if (name == "false") return input.is_bool() && !input.as_bool();
    if (name == "true") return input.is_bool() && input.as_bool();
    if (name == "integer") return input.is_int();
    if (name == "float") return input.is_float();
    if (name == "number") return input.is_number();
    if (name == "string") return input.is_string();
    if (name == "mapping") return input.is_dict();
    if (name == "iterable")
      return input.is_string() || input.is_list() || input.is_dict() || input.is_undefined() || input.is_generator();
    if (name == "sequence") return input.is_string() || input.is_list() || input.is_dict() || input.is_undefined();
    if (name == "callable") return input.is_callable();
    if (name == "escaped") return false;  // no Markup values without autoescape
    const int64_t value = integer_operand(input, name);
    return name == "odd" ? value % 2 != 0 : value % 2 == 0;
  }
  if (name == "divisibleby") {
    ArgumentReader reader(function, args, {"num"});
    const int64_t divisor = integer_operand(reader.required(0), name);
    if (divisor == 0) fail("ZeroDivisionError: integer division or modulo by zero");
    return integer_operand(input, name) % divisor == 0;
  }
  ArgumentReader reader(function, args, {"other"});
  const Value& other = reader.required(0);
  if (name == "sameas") {
    // Python's `is`: identity. Singletons (none, booleans) and the very same shared value.
    if (input.kind() != other.kind()) return false;
    if (input.is_none() || input.is_undefined()) return true;
    if (input.is_bool()) return input.as_bool() == other.as_bool();
    if (input.is_list()) return &input.as_list() == &other.as_list();
    if (input.is_dict()) return &input.as_dict() == &other.as_dict();
    if (input.is_string()) return &input.as_string() == &other.as_string();
    return values_equal(input, other) && !input.is_float();
  }
  if (name == "in") return contains(other, input);
  if (name == "eq" || name == "equalto" || name == "==") return compare_values("==", input, other);
  if (name == "ne" || name == "!=") return compare_values("!=", input, other);
  if (name == "lt" || name == "lessthan" || name == "<") return compare_values("<", input, other);
  if (name == "le" || name == "<=") return compare_values("<=", input, other);
  if (name == "gt" || name == "greaterthan" || name == ">") return compare_values(">", input, other);
  return compare_values(">=", input, other);
}

}  // namespace phirun::jinja
