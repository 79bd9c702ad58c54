// Statement execution and expression evaluation. Errors raised below an expression (EvalError)
// get the line and column of the innermost node being evaluated as they pass up.
#include "tokenizer/jinja/interpreter.h"

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/lexer.h"
#include "tokenizer/jinja/parser.h"
#include "tokenizer/utf8.h"

namespace phirun::jinja {

namespace {

// Steps one pass of a for loop counts against RenderLimits::max_steps (see run_for): with the
// default 20 M steps, at most 200,000 passes in a render.
constexpr uint64_t kStepsPerLoopPass = 100;

class MacroCallable : public Callable {
 public:
  MacroCallable(const MacroStmt& macro, ScopePtr closure) : macro_(macro), closure_(std::move(closure)) {}
  Value call(Interpreter& interpreter, CallArgs& args) const override {
    return Value(interpreter.run_macro(macro_, closure_, args));
  }
  std::string name() const override { return "Macro '" + macro_.name + "'"; }

 private:
  const MacroStmt& macro_;
  ScopePtr closure_;
};

// loop.cycle('odd', 'even'): the argument at the loop's index, modulo their count.
class LoopCycle : public Callable {
 public:
  explicit LoopCycle(int64_t index0) : index0_(index0) {}
  Value call(Interpreter&, CallArgs& args) const override {
    if (args.positional.empty()) fail("TypeError: no items for cycling given");
    return args.positional[size_t(index0_ % int64_t(args.positional.size()))];
  }
  std::string name() const override { return "function loop.cycle"; }

 private:
  int64_t index0_;
};

// loop.changed(value): true on the first call and whenever the value differs from the last call's.
class LoopChanged : public Callable {
 public:
  explicit LoopChanged(std::shared_ptr<std::optional<Value>> last) : last_(std::move(last)) {}
  Value call(Interpreter&, CallArgs& args) const override {
    const Value current = Value::list(args.positional, true);
    if (*last_ && values_equal(**last_, current)) return Value(false);
    *last_ = current;
    return Value(true);
  }
  std::string name() const override { return "function loop.changed"; }

 private:
  std::shared_ptr<std::optional<Value>> last_;
};

Value make_loop(int64_t index0, int64_t length, const std::vector<Value>& items,
                const std::shared_ptr<std::optional<Value>>& changed_state) {
  Dict loop;
  loop.items.reserve(13);
  loop.items.emplace_back("index", Value(index0 + 1));
  loop.items.emplace_back("index0", Value(index0));
  loop.items.emplace_back("revindex", Value(length - index0));
  loop.items.emplace_back("revindex0", Value(length - index0 - 1));
  loop.items.emplace_back("first", Value(index0 == 0));
  loop.items.emplace_back("last", Value(index0 == length - 1));
  loop.items.emplace_back("length", Value(length));
  loop.items.emplace_back("depth", Value(1));
  loop.items.emplace_back("depth0", Value(0));
  loop.items.emplace_back("previtem",
                          index0 > 0 ? items[size_t(index0 - 1)] : Value::undefined("there is no previous item"));
  loop.items.emplace_back("nextitem",
                          index0 + 1 < length ? items[size_t(index0 + 1)] : Value::undefined("there is no next item"));
  loop.items.emplace_back("cycle", Value::callable(std::make_shared<LoopCycle>(index0)));
  loop.items.emplace_back("changed", Value::callable(std::make_shared<LoopChanged>(changed_state)));
  return Value::dict(std::move(loop));
}

}  // namespace

const Value* Scope::find(std::string_view name) const {
  for (const Scope* scope = this; scope; scope = scope->parent.get())
    if (const Value* value = scope->variables.find(name)) return value;
  return nullptr;
}

Interpreter::Interpreter(std::string_view source, const RenderLimits& limits) : source_(source), limits_(limits) {}

Interpreter::~Interpreter() {
  // Break the cycles that namespaces and macro closures can form, so that everything is freed.
  for (Value& ns : namespaces_) ns.namespace_attributes().items.clear();
  for (Value& generator : generators_) generator.generator_state().items.clear();
  for (ScopePtr& scope : captured_scopes_) scope->variables.items.clear();
}

std::string Interpreter::render(const Body& body, const Dict& variables) {
  const WalkBudget budget(steps_, limits_.max_steps, limits_.max_bytes);
  globals_ = std::make_shared<Scope>();
  globals_->variables = variables;
  auto root = std::make_shared<Scope>();
  root->parent = globals_;
  std::string out;
  run_body(body, root, out);
  return out;
}

void Interpreter::step(uint64_t count) {
  steps_ += count;
  if (steps_ > limits_.max_steps)
    fail("the template ran more than " + std::to_string(limits_.max_steps) + " steps (a loop that does not end?)");
}

void Interpreter::charge(uint64_t bytes) {
  bytes_ += bytes;
  if (bytes_ > limits_.max_bytes)
    fail("the template built more than " + std::to_string(limits_.max_bytes >> 20) + " MiB of text and lists");
}

void Interpreter::emit(std::string& out, std::string_view text) {
  charge(text.size());
  out += text;
}

Value Interpreter::make_namespace(Dict attributes) {
  Value ns = Value::new_namespace(std::move(attributes));
  namespaces_.push_back(ns);
  return ns;
}

Value Interpreter::make_generator(std::vector<Value> items) {
  charge(items.size() * sizeof(Value));
  Value generator = Value::generator(std::move(items));
  generators_.push_back(generator);
  return generator;
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_callable()) return callee.as_callable().call(*this, args);
  if (callee.is_undefined()) fail_undefined(callee);
  fail("TypeError: '" + callee.type_name() + "' object is not callable");
}

// ---- statements ----

Interpreter::Flow Interpreter::run_body(const Body& body, const ScopePtr& scope, std::string& out) {
  for (const StmtPtr& stmt : body) {
    const Flow flow = run(*stmt, scope, out);
    if (flow != Flow::Normal) return flow;
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::run(const Stmt& stmt, const ScopePtr& scope, std::string& out) {
  try {
    step();
    return run_statement(stmt, scope, out);
  } catch (const EvalError& error) {  // from the statement itself; expressions report their own place
    throw TemplateError(position_of(source_, stmt.offset), error.message);
  }
}

Interpreter::Flow Interpreter::run_statement(const Stmt& stmt, const ScopePtr& scope, std::string& out) {
  switch (stmt.kind) {
    case StmtKind::Text:
      emit(out, static_cast<const TextStmt&>(stmt).text);
      return Flow::Normal;
    case StmtKind::Print: {
      const Value value = eval(*static_cast<const PrintStmt&>(stmt).expr, scope);
      emit(out, value.is_string() ? value.as_string() : to_str(value));
      return Flow::Normal;
    }
    case StmtKind::If: {
      const auto& if_stmt = static_cast<const IfStmt&>(stmt);
      for (const auto& [condition, body] : if_stmt.branches)
        if (eval(*condition, scope).truthy()) return run_body(body, scope, out);
      return run_body(if_stmt.else_body, scope, out);
    }
    case StmtKind::For:
      return run_for(static_cast<const ForStmt&>(stmt), scope, out);
    case StmtKind::Set: {
      const auto& set = static_cast<const SetStmt&>(stmt);
      run_set(set.target, eval(*set.value, scope), scope);
      return Flow::Normal;
    }
    case StmtKind::SetBlock: {
      const auto& set = static_cast<const SetBlockStmt&>(stmt);
      std::string text;
      run_body(set.body, scope, text);
      Value value(std::move(text));
      if (set.filter) {
        const Value section = value;
        value = eval_filter(static_cast<const FilterExpr&>(*set.filter), scope, &section);
      }
      run_set(set.target, value, scope);
      return Flow::Normal;
    }
    case StmtKind::Macro: {
      const auto& macro = static_cast<const MacroStmt&>(stmt);
      scope->variables.set(macro.name, define_macro(macro, scope));
      return Flow::Normal;
    }
    case StmtKind::CallBlock: {
      const auto& block = static_cast<const CallBlockStmt&>(stmt);
      const Value caller = define_macro(block.caller, scope);
      const Value result = eval_call(static_cast<const CallExpr&>(*block.call), scope, &caller);
      emit(out, to_str(result));
      return Flow::Normal;
    }
    case StmtKind::FilterBlock: {
      const auto& block = static_cast<const FilterBlockStmt&>(stmt);
      std::string text;
      run_body(block.body, scope, text);
      const Value section(std::move(text));
      emit(out, to_str(eval_filter(static_cast<const FilterExpr&>(*block.filter), scope, &section)));
      return Flow::Normal;
    }
    case StmtKind::With: {
      const auto& with = static_cast<const WithStmt&>(stmt);
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      for (const auto& [name, expr] : with.assignments) inner->variables.set(name, eval(*expr, scope));
      return run_body(with.body, inner, out);
    }
    case StmtKind::Break:
      return Flow::Break;
    case StmtKind::Continue:
      return Flow::Continue;
    case StmtKind::Generation:
      return run_body(static_cast<const BodyStmt&>(stmt).body, scope, out);
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::run_for(const ForStmt& stmt, const ScopePtr& scope, std::string& out) {
  const Value iterable = eval(*stmt.iterable, scope);
  std::vector<Value> items;
  try {
    items = iterate(iterable);
    step(items.size());
  } catch (const EvalError& error) {
    throw TemplateError(position_of(source_, stmt.iterable->offset), error.message);
  }
  // `for x in xs if cond`: the filter runs first, so loop.index and loop.length count kept items.
  if (stmt.filter) {
    std::vector<Value> kept;
    for (Value& item : items) {
      auto probe = std::make_shared<Scope>();
      probe->parent = scope;
      assign(stmt.target, item, *probe);
      if (eval(*stmt.filter, probe).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) return run_body(stmt.else_body, scope, out);
  const auto changed_state = std::make_shared<std::optional<Value>>();
  const int64_t length = int64_t(items.size());
  for (int64_t i = 0; i < length; ++i) {
    // A pass costs far more than one expression step (a fresh scope and the 13 entries of `loop`,
    // some ten allocations), even with an empty body: counted as such, so nested loops over big
    // ranges reach the step limit in a fraction of a second instead of minutes (under ASan).
    step(kStepsPerLoopPass);
    // Each pass gets a fresh scope: what the body sets is gone at the next pass and after the loop.
    auto inner = std::make_shared<Scope>();
    inner->parent = scope;
    assign(stmt.target, items[size_t(i)], *inner);
    inner->variables.set("loop", make_loop(i, length, items, changed_state));
    if (run_body(stmt.body, inner, out) == Flow::Break) break;
  }
  return Flow::Normal;
}

void Interpreter::assign(const AssignTarget& target, const Value& value, Scope& scope) {
  if (!target.unpack) {
    scope.variables.set(target.names[0], value);
    return;
  }
  if (!value.is_list() && !value.is_string() && !value.is_dict() && !value.is_generator())
    fail("TypeError: cannot unpack non-iterable " + value.type_name() + " object");
  const std::vector<Value> parts = iterate(value);
  if (parts.size() < target.names.size())
    fail("ValueError: not enough values to unpack (expected " + std::to_string(target.names.size()) + ", got " +
         std::to_string(parts.size()) + ")");
  if (parts.size() > target.names.size())
    fail("ValueError: too many values to unpack (expected " + std::to_string(target.names.size()) + ")");
  for (size_t i = 0; i < parts.size(); ++i) scope.variables.set(target.names[i], parts[i]);
}

void Interpreter::run_set(const AssignTarget& target, const Value& value, const ScopePtr& scope) {
  if (target.namespace_name.empty()) {
    assign(target, value, *scope);
    return;
  }
  const Value* ns = scope->find(target.namespace_name);
  if (!ns || !ns->is_namespace())
    fail("cannot assign attribute '" + target.names[0] + "' on '" + target.namespace_name +
         "': it is not a namespace() object");
  ns->namespace_attributes().set(target.names[0], value);
}

Value Interpreter::define_macro(const MacroStmt& macro, const ScopePtr& scope) {
  captured_scopes_.push_back(scope);
  return Value::callable(std::make_shared<MacroCallable>(macro, scope));
}

std::string Interpreter::run_macro(const MacroStmt& macro, const ScopePtr& closure, CallArgs& args) {
  if (call_depth_ >= limits_.max_call_depth)
    fail("macro calls nest more than " + std::to_string(limits_.max_call_depth) + " deep (endless recursion?)");
  auto scope = std::make_shared<Scope>();
  scope->parent = closure;
  const size_t parameter_count = macro.parameters.size();
  std::vector<bool> bound(parameter_count, false);
  std::vector<Value> extra_positional;
  for (size_t i = 0; i < args.positional.size(); ++i) {
    if (i < parameter_count) {
      scope->variables.set(macro.parameters[i], args.positional[i]);
      bound[i] = true;
    } else if (macro.uses_varargs) {
      extra_positional.push_back(args.positional[i]);
    } else {
      fail("TypeError: macro '" + macro.name + "' takes not more than " + std::to_string(parameter_count) +
           " argument(s)");
    }
  }
  Dict extra_keyword;
  for (auto& [name, value] : args.keyword) {
    size_t index = 0;
    while (index < parameter_count && macro.parameters[index] != name) ++index;
    if (index < parameter_count) {
      if (bound[index]) fail("TypeError: macro '" + macro.name + "' got multiple values for argument '" + name + "'");
      scope->variables.set(name, value);
      bound[index] = true;
    } else if (name == "caller" && macro.uses_caller) {
      scope->variables.set("caller", value);
    } else if (macro.uses_kwargs) {
      extra_keyword.set(name, value);
    } else {
      fail("TypeError: macro '" + macro.name + "' takes no keyword argument '" + name + "'");
    }
  }
  const size_t first_default = parameter_count - macro.defaults.size();
  ++call_depth_;
  struct DepthRestore {
    int& depth;
    ~DepthRestore() { --depth; }
  } restore{call_depth_};
  for (size_t i = 0; i < parameter_count; ++i) {
    if (bound[i]) continue;
    // Defaults are evaluated at each call, in the macro's scope (earlier parameters are visible).
    scope->variables.set(macro.parameters[i],
                         i >= first_default
                             ? eval(*macro.defaults[i - first_default], scope)
                             : Value::undefined("parameter '" + macro.parameters[i] + "' was not provided"));
  }
  if (macro.uses_varargs) scope->variables.set("varargs", Value::list(std::move(extra_positional), true));
  if (macro.uses_kwargs) scope->variables.set("kwargs", Value::dict(std::move(extra_keyword)));
  std::string out;
  run_body(macro.body, scope, out);
  return out;
}

// ---- expressions ----

Value Interpreter::eval(const Expr& expr, const ScopePtr& scope) {
  try {
    step();
    return eval_node(expr, scope);
  } catch (const EvalError& error) {
    throw TemplateError(position_of(source_, expr.offset), error.message);
  } catch (const TemplateRaise& raised) {
    throw TemplateError(position_of(source_, expr.offset), raised.message, true);
  }
}

CallArgs Interpreter::eval_arguments(const CallArguments& arguments, const ScopePtr& scope) {
  CallArgs args;
  for (const ExprPtr& expr : arguments.positional) args.positional.push_back(eval(*expr, scope));
  if (arguments.star_args) {
    const Value extra = eval(*arguments.star_args, scope);
    for (Value& item : iterate(extra)) args.positional.push_back(std::move(item));
  }
  for (const auto& [name, expr] : arguments.keyword) args.keyword.emplace_back(name, eval(*expr, scope));
  if (arguments.star_kwargs) {
    const Value extra = eval(*arguments.star_kwargs, scope);
    if (!extra.is_dict()) fail("TypeError: argument after ** must be a mapping, not " + extra.type_name());
    for (const auto& [key, value] : extra.as_dict().items) {
      if (!key.is_string()) fail("TypeError: keywords must be strings");
      args.keyword.emplace_back(key.as_string(), value);
    }
  }
  return args;
}

Value Interpreter::eval_call(const CallExpr& call, const ScopePtr& scope, const Value* caller) {
  const Value callee = eval(*call.callee, scope);
  CallArgs args = eval_arguments(call.arguments, scope);
  if (caller) args.keyword.emplace_back("caller", *caller);
  try {
    return this->call(callee, args);
  } catch (const EvalError& error) {
    throw TemplateError(position_of(source_, call.offset), error.message);
  } catch (const TemplateRaise& raised) {
    throw TemplateError(position_of(source_, call.offset), raised.message, true);
  }
}

Value Interpreter::eval_filter(const FilterExpr& filter, const ScopePtr& scope, const Value* section) {
  Value input;
  if (filter.operand) {
    input = filter.operand->kind == ExprKind::Filter && section
                ? eval_filter(static_cast<const FilterExpr&>(*filter.operand), scope, section)
                : eval(*filter.operand, scope);
  } else if (section) {
    input = *section;
  }
  CallArgs args = eval_arguments(filter.arguments, scope);
  try {
    return apply_filter(*this, filter.name, input, args);
  } catch (const EvalError& error) {
    throw TemplateError(position_of(source_, filter.offset), error.message);
  }
}

Value Interpreter::eval_node(const Expr& expr, const ScopePtr& scope) {
  switch (expr.kind) {
    case ExprKind::Literal:
      return static_cast<const LiteralExpr&>(expr).value;
    case ExprKind::Name: {
      const std::string& name = static_cast<const NameExpr&>(expr).name;
      if (const Value* value = scope->find(name)) return *value;
      return builtin_global(name);  // undefined, with the reason, when there is none
    }
    case ExprKind::List: {
      const auto& list = static_cast<const ListExpr&>(expr);
      std::vector<Value> items;
      items.reserve(list.items.size());
      for (const ExprPtr& item : list.items) items.push_back(eval(*item, scope));
      charge(items.size() * sizeof(Value));
      return Value::list(std::move(items), list.is_tuple);
    }
    case ExprKind::Dict: {
      Dict dict;
      for (const auto& [key_expr, value_expr] : static_cast<const DictExpr&>(expr).items) {
        Value key = eval(*key_expr, scope);
        dict.set(std::move(key), eval(*value_expr, scope));
      }
      charge(dict.items.size() * sizeof(Value));
      return Value::dict(std::move(dict));
    }
    case ExprKind::Attribute: {
      const auto& attribute = static_cast<const AttributeExpr&>(expr);
      return get_attribute(eval(*attribute.object, scope), attribute.attribute);
    }
    case ExprKind::Item: {
      const auto& item = static_cast<const ItemExpr&>(expr);
      const Value object = eval(*item.object, scope);
      if (item.index->kind == ExprKind::Slice) {
        const auto& slice = static_cast<const SliceExpr&>(*item.index);
        const Value none = Value::none();
        const Value start = slice.start ? eval(*slice.start, scope) : none;
        const Value stop = slice.stop ? eval(*slice.stop, scope) : none;
        const Value stride = slice.step ? eval(*slice.step, scope) : none;
        Value result = get_slice(object, start, stop, stride);
        if (result.is_string()) charge(result.as_string().size());
        if (result.is_list()) charge(result.as_list().size() * sizeof(Value));
        return result;
      }
      return get_item(object, eval(*item.index, scope));
    }
    case ExprKind::Slice:
      fail("a slice (a:b) is only allowed inside []");
    case ExprKind::Call:
      return eval_call(static_cast<const CallExpr&>(expr), scope, nullptr);
    case ExprKind::Filter:
      return eval_filter(static_cast<const FilterExpr&>(expr), scope, nullptr);
    case ExprKind::Test: {
      const auto& test = static_cast<const FilterExpr&>(expr);
      const Value input = eval(*test.operand, scope);
      CallArgs args = eval_arguments(test.arguments, scope);
      return Value(apply_test(*this, test.name, input, args));
    }
    case ExprKind::Not:
      return Value(!eval(*static_cast<const UnaryExpr&>(expr).operand, scope).truthy());
    case ExprKind::Negate:
    case ExprKind::Plus: {
      const Value operand = eval(*static_cast<const UnaryExpr&>(expr).operand, scope);
      if (operand.is_undefined()) fail_undefined(operand);
      if (!operand.is_number())
        fail("TypeError: bad operand type for unary " + std::string(expr.kind == ExprKind::Negate ? "-" : "+") + ": '" +
             operand.type_name() + "'");
      if (expr.kind == ExprKind::Plus) return operand.is_bool() ? Value(int64_t(operand.as_bool())) : operand;
      if (operand.is_float()) return Value(-operand.as_float());
      const int64_t integer = operand.is_bool() ? int64_t(operand.as_bool()) : operand.as_int();
      if (integer == INT64_MIN) fail("the integer result of '-' does not fit in 64 bits");
      return Value(-integer);
    }
    case ExprKind::Binary: {
      const auto& binary = static_cast<const BinaryExpr&>(expr);
      const Value left = eval(*binary.left, scope);
      const Value right = eval(*binary.right, scope);
      return binary_operation(*this, binary.op, left, right);
    }
    case ExprKind::And: {
      const auto& binary = static_cast<const BinaryExpr&>(expr);
      Value left = eval(*binary.left, scope);
      return left.truthy() ? eval(*binary.right, scope) : left;
    }
    case ExprKind::Or: {
      const auto& binary = static_cast<const BinaryExpr&>(expr);
      Value left = eval(*binary.left, scope);
      return left.truthy() ? left : eval(*binary.right, scope);
    }
    case ExprKind::Concat: {
      std::string text;
      for (const ExprPtr& part : static_cast<const ConcatExpr&>(expr).parts) {
        const Value value = eval(*part, scope);
        if (value.is_string()) {
          charge(value.as_string().size());
          text += value.as_string();
        } else {
          const std::string piece = to_str(value);
          charge(piece.size());
          text += piece;
        }
      }
      return Value(std::move(text));
    }
    case ExprKind::Compare: {
      const auto& compare = static_cast<const CompareExpr&>(expr);
      Value left = eval(*compare.first, scope);
      for (const auto& [op, right_expr] : compare.rest) {
        Value right = eval(*right_expr, scope);
        if (!compare_values(op, left, right)) return Value(false);
        left = std::move(right);
      }
      return Value(true);
    }
    case ExprKind::Conditional: {
      const auto& conditional = static_cast<const ConditionalExpr&>(expr);
      if (eval(*conditional.condition, scope).truthy()) return eval(*conditional.then_value, scope);
      if (conditional.else_value) return eval(*conditional.else_value, scope);
      return Value::undefined("the condition of an inline if was false and it has no else");
    }
  }
  fail("unknown expression");
}

// ---- Template ----

Template::Template(std::string_view source) {
  require_valid_utf8(source, "chat template");
  source_ = normalize_template_source(source);
  body_ = parse_template(source_, tokenize_template(source_));
}

std::string Template::render(const Dict& variables, const RenderLimits& limits) const {
  Interpreter interpreter(source_, limits);
  return interpreter.render(body_, variables);
}

}  // namespace phirun::jinja
