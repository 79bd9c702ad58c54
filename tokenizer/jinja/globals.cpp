// The global functions a chat template can call: jinja2's range, namespace, joiner, and
// transformers' dict, raise_exception and strftime_now.
#include <ctime>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/interpreter.h"

namespace phirun::jinja {

namespace {

// jinja2's sandbox refuses ranges longer than this (MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

class Builtin : public Callable {
 public:
  using Function = Value (*)(Interpreter&, CallArgs&);
  Builtin(std::string name, Function function) : name_(std::move(name)), function_(function) {}
  Value call(Interpreter& interpreter, CallArgs& args) const override { return function_(interpreter, args); }
  std::string name() const override { return "built-in function " + name_; }

 private:
  std::string name_;
  Function function_;
};

Value range(Interpreter& interpreter, CallArgs& args) {
  if (!args.keyword.empty()) fail("TypeError: range() takes no keyword arguments");
  if (args.positional.empty() || args.positional.size() > 3)
    fail("TypeError: range() takes 1 to 3 arguments, not " + std::to_string(args.positional.size()));
  int64_t bounds[3] = {0, 0, 1};
  for (size_t i = 0; i < args.positional.size(); ++i) {
    const Value& value = args.positional[i];
    if (!value.is_int() && !value.is_bool())
      fail("TypeError: '" + value.type_name() + "' object cannot be interpreted as an integer");
    bounds[args.positional.size() == 1 ? 1 : i] = value.is_bool() ? value.as_bool() : value.as_int();
  }
  const int64_t start = bounds[0], stop = bounds[1], step = bounds[2];
  if (step == 0) fail("ValueError: range() arg 3 must not be zero");
  // Count first, in unsigned arithmetic (the span of two int64 values fits in a uint64).
  uint64_t count = 0;
  if (step > 0 && stop > start) count = (uint64_t(stop) - uint64_t(start) - 1) / uint64_t(step) + 1;
  if (step < 0 && start > stop) count = (uint64_t(start) - uint64_t(stop) - 1) / (uint64_t(0) - uint64_t(step)) + 1;
  if (count > kMaxRange)
    fail("OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (" + std::to_string(kMaxRange) +
         ").");
  interpreter.charge(count * sizeof(Value));
  std::vector<Value> items;
  items.reserve(size_t(count));
  for (int64_t i = 0; i < int64_t(count); ++i) items.emplace_back(start + i * step);
  return Value::list(std::move(items));
}

// dict(mapping or pairs, **keywords): transformers' TemplateDict.
Dict build_dict(CallArgs& args, const char* function) {
  Dict dict;
  if (args.positional.size() > 1)
    fail(std::string("TypeError: ") + function + "() takes at most 1 positional argument");
  if (!args.positional.empty()) {
    const Value& source = args.positional[0];
    if (source.is_dict()) {
      dict = source.as_dict();
    } else if (source.is_namespace()) {
      dict = source.namespace_attributes();
    } else {
      for (const Value& pair : iterate(source)) {
        const std::vector<Value> parts = pair.is_list() ? pair.as_list() : std::vector<Value>();
        if (parts.size() != 2) fail(std::string("ValueError: ") + function + "() needs (key, value) pairs");
        dict.set(parts[0], parts[1]);
      }
    }
  }
  for (auto& [key, value] : args.keyword) dict.set(key, value);
  return dict;
}

Value make_dict(Interpreter&, CallArgs& args) { return Value::dict(build_dict(args, "dict")); }

Value make_namespace(Interpreter& interpreter, CallArgs& args) {
  Dict attributes = build_dict(args, "namespace");
  for (const auto& item : attributes.items) {
    if (!item.first.is_string()) fail("TypeError: namespace() attribute names must be strings");
    const std::string& name = item.first.as_string();
    if (!name.empty() && name[0] == '_')
      fail("SecurityError: Chat templates cannot store underscore-prefixed attributes on a namespace, but got '" +
           name + "'. Please rename the attribute.");
  }
  return interpreter.make_namespace(std::move(attributes));
}

Value raise_exception(Interpreter&, CallArgs& args) {
  ArgumentReader reader("raise_exception", args, {"message"});
  throw TemplateRaise{to_str(reader.required(0))};
}

// datetime.now().strftime(format): the local date and time now (templates print today's date).
Value strftime_now(Interpreter& interpreter, CallArgs& args) {
  ArgumentReader reader("strftime_now", args, {"format"});
  const std::string format = reader.string_or(0, "");
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::string out(64 + format.size() * 8, '\0');
  const size_t length = std::strftime(out.data(), out.size(), format.c_str(), &local);
  if (length == 0 && !format.empty()) fail("strftime_now(): the format gives no text or too much: " + format);
  out.resize(length);
  interpreter.charge(out.size());
  return Value(std::move(out));
}

// joiner(sep=", "): a function that returns "" the first time and `sep` after.
class Joiner : public Callable {
 public:
  explicit Joiner(std::string separator) : separator_(std::move(separator)) {}
  Value call(Interpreter&, CallArgs&) const override {
    if (!used_) {
      used_ = true;
      return Value("");
    }
    return Value(separator_);
  }
  std::string name() const override { return "joiner"; }

 private:
  std::string separator_;
  mutable bool used_ = false;
};

Value make_joiner(Interpreter&, CallArgs& args) {
  ArgumentReader reader("joiner", args, {"sep"});
  return Value::callable(std::make_shared<Joiner>(reader.string_or(0, ", ")));
}

}  // namespace

Value builtin_global(std::string_view name) {
  static const std::vector<std::pair<std::string_view, Builtin::Function>> kGlobals = {
      {"range", range},
      {"dict", make_dict},
      {"namespace", make_namespace},
      {"raise_exception", raise_exception},
      {"strftime_now", strftime_now},
      {"joiner", make_joiner},
  };
  for (const auto& [global_name, function] : kGlobals)
    if (name == global_name) return Value::callable(std::make_shared<Builtin>(std::string(name), function));
  if (name == "cycler" || name == "lipsum")
    return Value::undefined("NotImplementedError: '" + std::string(name) + "' is not supported by phirun's Jinja");
  return Value::undefined("'" + std::string(name) + "' is undefined");
}

}  // namespace phirun::jinja
