// Binding call arguments to a builtin's parameters, by position or keyword, as Python does.
#include "tokenizer/jinja/builtins.h"

namespace phirun::jinja {

ArgumentReader::ArgumentReader(std::string_view function, CallArgs& args, std::initializer_list<std::string_view> names)
    : function_(function), names_(names), bound_(names.size(), nullptr) {
  if (args.positional.size() > names_.size())
    fail("TypeError: " + function_ + "() takes at most " + std::to_string(names_.size()) + " argument(s) (" +
         std::to_string(args.positional.size()) + " given)");
  for (size_t i = 0; i < args.positional.size(); ++i) bound_[i] = &args.positional[i];
  for (const auto& [name, value] : args.keyword) {
    size_t index = 0;
    while (index < names_.size() && names_[index] != name) ++index;
    if (index == names_.size())
      fail("TypeError: " + function_ + "() got an unexpected keyword argument '" + name + "'");
    if (bound_[index]) fail("TypeError: " + function_ + "() got multiple values for argument '" + name + "'");
    bound_[index] = &value;
  }
}

Value ArgumentReader::value_or(size_t index, Value fallback) const {
  const Value* value = get(index);
  return value ? *value : fallback;
}

int64_t ArgumentReader::int_or(size_t index, int64_t fallback) const {
  const Value* value = get(index);
  if (!value || value->is_none()) return fallback;
  if (value->is_bool()) return value->as_bool();
  if (!value->is_int())
    fail("TypeError: " + function_ + "(): '" + std::string(names_[index]) + "' must be an integer, not " +
         value->type_name());
  return value->as_int();
}

bool ArgumentReader::bool_or(size_t index, bool fallback) const {
  const Value* value = get(index);
  return value ? value->truthy() : fallback;
}

std::string ArgumentReader::string_or(size_t index, std::string fallback) const {
  const Value* value = get(index);
  if (!value) return fallback;
  if (!value->is_string())
    fail("TypeError: " + function_ + "(): '" + std::string(names_[index]) + "' must be a string, not " +
         value->type_name());
  return value->as_string();
}

const Value& ArgumentReader::required(size_t index) const {
  const Value* value = get(index);
  if (!value) fail("TypeError: " + function_ + "() missing required argument '" + std::string(names_[index]) + "'");
  return *value;
}

}  // namespace phirun::jinja
