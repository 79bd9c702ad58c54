// Python's operators on template values. Integers are 64-bit here where Python's are unbounded:
// a result that does not fit is an error, never a silently wrapped number.
#include <cmath>
#include <limits>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/interpreter.h"

namespace phirun::jinja {

namespace {

[[noreturn]] void fail_operands(std::string_view op, const Value& left, const Value& right) {
  fail("TypeError: unsupported operand type(s) for " + std::string(op) + ": '" + left.type_name() + "' and '" +
       right.type_name() + "'");
}

[[noreturn]] void fail_overflow(std::string_view op) {
  fail("the integer result of '" + std::string(op) + "' does not fit in 64 bits");
}

bool is_integral(const Value& value) { return value.is_int() || value.is_bool(); }
int64_t integral(const Value& value) { return value.is_bool() ? int64_t(value.as_bool()) : value.as_int(); }

// CPython's float_divmod: the floored quotient and the remainder with the divisor's sign.
void float_divmod(double x, double y, double& quotient, double& remainder) {
  if (y == 0) fail("ZeroDivisionError: float divmod()");
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, y);
  }
  double floor_div;
  if (div != 0) {
    floor_div = std::floor(div);
    if (div - floor_div > 0.5) floor_div += 1.0;
  } else {
    floor_div = std::copysign(0.0, x / y);
  }
  quotient = floor_div;
  remainder = mod;
}

Value integer_power(int64_t base, int64_t exponent) {
  if (exponent < 0) {
    if (base == 0) fail("ZeroDivisionError: 0.0 cannot be raised to a negative power");
    return Value(std::pow(double(base), double(exponent)));
  }
  int64_t result = 1;
  while (exponent > 0) {
    if (exponent & 1)
      if (__builtin_mul_overflow(result, base, &result)) fail_overflow("**");
    exponent >>= 1;
    if (exponent > 0 && __builtin_mul_overflow(base, base, &base)) fail_overflow("**");
  }
  return Value(result);
}

Value repeat(Interpreter& interpreter, const Value& sequence, int64_t times) {
  if (times < 0) times = 0;
  if (sequence.is_string()) {
    const std::string& text = sequence.as_string();
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(uint64_t(text.size()), uint64_t(times), &bytes)) fail_overflow("*");
    interpreter.charge(bytes);
    std::string out;
    out.reserve(bytes);
    for (int64_t i = 0; i < times; ++i) out += text;
    return sequence.is_markup() ? Value::markup(std::move(out)) : Value(std::move(out));
  }
  const std::vector<Value>& items = sequence.as_list();
  uint64_t count = 0;
  if (__builtin_mul_overflow(uint64_t(items.size()), uint64_t(times), &count)) fail_overflow("*");
  interpreter.charge(count * sizeof(Value));
  std::vector<Value> out;
  out.reserve(count);
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::list(std::move(out), sequence.is_tuple());
}

}  // namespace

Value binary_operation(Interpreter& interpreter, std::string_view op, const Value& left, const Value& right) {
  if (left.is_undefined()) fail_undefined(left);
  if (right.is_undefined()) fail_undefined(right);
  const bool numbers = left.is_number() && right.is_number();
  const bool integers = is_integral(left) && is_integral(right);
  if (op == "+") {
    if (integers) {
      int64_t sum = 0;
      if (__builtin_add_overflow(integral(left), integral(right), &sum)) fail_overflow(op);
      return Value(sum);
    }
    if (numbers) return Value(left.to_double() + right.to_double());
    if (left.is_string() && right.is_string()) {
      interpreter.charge(left.as_string().size() + right.as_string().size());
      // Markup + str (either way round) escapes the plain string and stays Markup.
      if (left.is_markup() != right.is_markup())
        return Value::markup(left.is_markup() ? left.as_string() + html_escape(right.as_string())
                                              : html_escape(left.as_string()) + right.as_string());
      if (left.is_markup()) return Value::markup(left.as_string() + right.as_string());
      return Value(left.as_string() + right.as_string());
    }
    if (left.is_string()) fail("TypeError: can only concatenate str (not \"" + right.type_name() + "\") to str");
    if (left.is_list() && right.is_list() && left.is_tuple() == right.is_tuple()) {
      interpreter.charge((left.as_list().size() + right.as_list().size()) * sizeof(Value));
      std::vector<Value> items = left.as_list();
      items.insert(items.end(), right.as_list().begin(), right.as_list().end());
      return Value::list(std::move(items), left.is_tuple());
    }
    fail_operands(op, left, right);
  }
  if (op == "-") {
    if (integers) {
      int64_t difference = 0;
      if (__builtin_sub_overflow(integral(left), integral(right), &difference)) fail_overflow(op);
      return Value(difference);
    }
    if (numbers) return Value(left.to_double() - right.to_double());
    fail_operands(op, left, right);
  }
  if (op == "*") {
    if (integers) {
      int64_t product = 0;
      if (__builtin_mul_overflow(integral(left), integral(right), &product)) fail_overflow(op);
      return Value(product);
    }
    if (numbers) return Value(left.to_double() * right.to_double());
    if ((left.is_string() || left.is_list()) && is_integral(right)) return repeat(interpreter, left, integral(right));
    if ((right.is_string() || right.is_list()) && is_integral(left)) return repeat(interpreter, right, integral(left));
    fail_operands(op, left, right);
  }
  if (op == "/") {
    if (!numbers) fail_operands(op, left, right);
    if (right.to_double() == 0) fail("ZeroDivisionError: division by zero");
    return Value(left.to_double() / right.to_double());
  }
  if (op == "//" || op == "%") {
    if (!numbers) {
      if (op == "%" && left.is_string())
        fail("printf-style 'string % values' formatting is not supported by phirun's Jinja (use ~ or format())");
      fail_operands(op, left, right);
    }
    if (integers) {
      const int64_t x = integral(left), y = integral(right);
      if (y == 0) fail("ZeroDivisionError: integer division or modulo by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) fail_overflow(op);
      int64_t quotient = x / y, remainder = x % y;
      if (remainder != 0 && ((remainder < 0) != (y < 0))) {
        remainder += y;
        quotient -= 1;
      }
      return Value(op == "//" ? quotient : remainder);
    }
    double quotient = 0, remainder = 0;
    float_divmod(left.to_double(), right.to_double(), quotient, remainder);
    return Value(op == "//" ? quotient : remainder);
  }
  if (op == "**") {
    if (integers) return integer_power(integral(left), integral(right));
    if (!numbers) fail_operands(op, left, right);
    const double base = left.to_double(), exponent = right.to_double();
    if (base == 0 && exponent < 0) fail("ZeroDivisionError: 0.0 cannot be raised to a negative power");
    if (base < 0 && exponent != std::floor(exponent))
      fail("a negative number to a fractional power is a complex number, which templates do not have");
    return Value(std::pow(base, exponent));
  }
  fail("unknown operator '" + std::string(op) + "'");
}

bool contains(const Value& haystack, const Value& needle) {
  switch (haystack.kind()) {
    case Value::Kind::Undefined:
      return false;
    case Value::Kind::String:
      if (!needle.is_string())
        fail("TypeError: 'in <string>' requires string as left operand, not " + needle.type_name());
      return haystack.as_string().find(needle.as_string()) != std::string::npos;
    case Value::Kind::List:
      for (const Value& item : haystack.as_list())
        if (values_equal(item, needle)) return true;
      return false;
    case Value::Kind::Generator: {  // consumed up to and including the match, as in Python
      GeneratorState& state = haystack.generator_state();
      while (state.position < state.items.size())
        if (values_equal(state.items[state.position++], needle)) return true;
      return false;
    }
    case Value::Kind::Dict:
      if (!is_hashable(needle)) fail("TypeError: unhashable type: '" + needle.type_name() + "'");
      return haystack.as_dict().find(needle) != nullptr;
    default:
      fail("TypeError: argument of type '" + haystack.type_name() + "' is not iterable");
  }
}

bool compare_values(std::string_view op, const Value& left, const Value& right) {
  if (op == "==") return values_equal(left, right);
  if (op == "!=") return !values_equal(left, right);
  if (op == "in") return contains(right, left);
  if (op == "notin") return !contains(right, left);
  if (left.is_undefined()) fail_undefined(left);
  if (right.is_undefined()) fail_undefined(right);
  auto ordered = [&](const Value& a, const Value& b) {
    if (!((a.is_number() && b.is_number()) || (a.is_string() && b.is_string()) || (a.is_list() && b.is_list())))
      fail("TypeError: '" + std::string(op) + "' not supported between instances of '" + left.type_name() + "' and '" +
           right.type_name() + "'");
    return value_less(a, b);
  };
  if (op == "<") return ordered(left, right);
  if (op == ">") return ordered(right, left);
  if (op == "<=") return ordered(left, right) || values_equal(left, right);
  if (op == ">=") return ordered(right, left) || values_equal(left, right);
  fail("unknown comparison '" + std::string(op) + "'");
}

}  // namespace phirun::jinja
