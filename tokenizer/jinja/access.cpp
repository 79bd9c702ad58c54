// Attribute and item access and iteration with jinja2's rules (sandbox getattr / getitem), and the
// hints its Undefined carries ("'dict object' has no attribute 'x'").
#include <string>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/python_string.h"

namespace phirun::jinja {

namespace {

// jinja2's object_type_repr: "None" for None, "dict object", "str object" and so on.
std::string object_description(const Value& value) {
  if (value.is_none()) return "None";
  return value.type_name() + " object";
}

// (Messages are built with += : GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.)
Value missing_attribute(const Value& object, std::string_view name) {
  std::string hint = "'";
  hint += object_description(object);
  hint += "' has no attribute '";
  hint += name;
  hint += "'";
  return Value::undefined(std::move(hint));
}

Value missing_element(const Value& object, const Value& key) {
  if (key.is_string()) return missing_attribute(object, key.as_string());
  return Value::undefined(object_description(object) + " has no element " + to_repr(key));
}

// Python's index for a list or str: bools count as 0 and 1; negative counts from the end.
std::optional<int64_t> sequence_index(const Value& key, int64_t length) {
  if (!key.is_int() && !key.is_bool()) return std::nullopt;
  int64_t index = key.is_bool() ? int64_t(key.as_bool()) : key.as_int();
  if (index < 0) index += length;
  if (index < 0 || index >= length) return std::nullopt;
  return index;
}

std::optional<int64_t> slice_bound(const Value& value, const char* which) {
  if (value.is_none() || value.is_undefined()) return std::nullopt;
  if (value.is_bool()) return int64_t(value.as_bool());
  if (!value.is_int())
    fail("TypeError: slice " + std::string(which) + " must be an integer or None, not " + value.type_name());
  return value.as_int();
}

}  // namespace

Value get_attribute(const Value& object, std::string_view name) {
  switch (object.kind()) {
    case Value::Kind::Undefined:
      fail_undefined(object);
    case Value::Kind::Dict: {
      if (std::optional<Value> method = bound_method(object, name)) return *method;
      if (const Value* found = object.as_dict().find(name)) return *found;
      return missing_attribute(object, name);
    }
    case Value::Kind::Namespace: {
      if (const Value* found = object.namespace_attributes().find(name)) return *found;
      return Value::undefined("'Namespace object' has no attribute '" + std::string(name) + "'");
    }
    case Value::Kind::String:
    case Value::Kind::List:
      if (std::optional<Value> method = bound_method(object, name)) return *method;
      return missing_attribute(object, name);
    default:
      return missing_attribute(object, name);
  }
}

Value get_item(const Value& object, const Value& key) {
  switch (object.kind()) {
    case Value::Kind::Undefined:
      fail_undefined(object);
    case Value::Kind::Dict:
      // An unhashable key is a TypeError in Python, which jinja2's getitem turns into undefined.
      if (is_hashable(key))
        if (const Value* found = object.as_dict().find(key)) return *found;
      if (key.is_string()) return get_attribute(object, key.as_string());
      return missing_element(object, key);
    case Value::Kind::List:
      if (std::optional<int64_t> index = sequence_index(key, int64_t(object.as_list().size())))
        return object.as_list()[size_t(*index)];
      if (key.is_string()) return get_attribute(object, key.as_string());
      return missing_element(object, key);
    case Value::Kind::String:
      if (std::optional<int64_t> index = sequence_index(key, int64_t(code_point_count(object.as_string()))))
        return Value(code_point_at(object.as_string(), *index));
      if (key.is_string()) return get_attribute(object, key.as_string());
      return missing_element(object, key);
    case Value::Kind::Namespace:
      if (key.is_string()) return get_attribute(object, key.as_string());
      return missing_element(object, key);
    default:
      return missing_element(object, key);
  }
}

Value get_slice(const Value& object, const Value& start, const Value& stop, const Value& step) {
  const std::optional<int64_t> step_value = slice_bound(step, "step");
  if (step_value && *step_value == 0) fail("ValueError: slice step cannot be zero");
  const int64_t stride = step_value.value_or(1);
  const std::optional<int64_t> first = slice_bound(start, "start");
  const std::optional<int64_t> last = slice_bound(stop, "stop");
  if (object.is_string()) return Value(slice_string(object.as_string(), first, last, stride));
  if (object.is_list()) {
    std::vector<Value> items;
    for (int64_t index : slice_indexes(int64_t(object.as_list().size()), first, last, stride))
      items.push_back(object.as_list()[size_t(index)]);
    return Value::list(std::move(items), object.is_tuple());
  }
  if (object.is_undefined()) fail_undefined(object);
  std::string hint = "'";
  hint += object_description(object);
  hint += "' cannot be sliced";
  return Value::undefined(std::move(hint));
}

std::vector<Value> iterate(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::Undefined:
      return {};
    case Value::Kind::List:
      return value.as_list();
    case Value::Kind::Generator: {
      GeneratorState& state = value.generator_state();
      std::vector<Value> rest(state.items.begin() + std::ptrdiff_t(state.position), state.items.end());
      state.position = state.items.size();
      return rest;
    }
    case Value::Kind::Dict: {
      std::vector<Value> keys;
      keys.reserve(value.as_dict().items.size());
      for (const auto& item : value.as_dict().items) keys.push_back(item.first);
      return keys;
    }
    case Value::Kind::String: {
      std::vector<Value> characters;
      const std::string& text = value.as_string();
      for (size_t i = 0; i < text.size();) {
        size_t end = i + 1;
        while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
        characters.emplace_back(text.substr(i, end - i));
        i = end;
      }
      return characters;
    }
    default:
      fail("TypeError: '" + value.type_name() + "' object is not iterable");
  }
}

}  // namespace phirun::jinja
