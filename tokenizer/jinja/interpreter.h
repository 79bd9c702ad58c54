// Runs a parsed template: scopes as jinja2 has them (a for loop's body and a macro call get their
// own, an if does not), output, and the step / size / depth limits. Builtins call back into it to
// call macros and to account for what they build.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/template.h"
#include "tokenizer/jinja/value.h"

namespace phirun::jinja {

struct Scope {
  std::shared_ptr<Scope> parent;
  Dict variables;

  const Value* find(std::string_view name) const;
};
using ScopePtr = std::shared_ptr<Scope>;

// raise_exception(message) in a template: reported with the template's own words.
struct TemplateRaise {
  std::string message;
};

class Interpreter {
 public:
  Interpreter(std::string_view source, const RenderLimits& limits);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  std::string render(const Body& body, const Dict& variables);

  // Accounting for builtins: `count` more steps, `bytes` more built. Past a limit: an EvalError.
  void step(uint64_t count = 1);
  void charge(uint64_t bytes);
  // Calls a callable value (macro or builtin); anything else is a TypeError.
  Value call(const Value& callee, CallArgs& args);
  // Renders a macro body with its arguments bound; used by MacroCallable.
  std::string run_macro(const MacroStmt& macro, const ScopePtr& closure, CallArgs& args);
  // Namespaces and scopes captured by macros can form reference cycles (a namespace holding a
  // macro that sees the namespace); the interpreter keeps them to break the cycles when it ends.
  Value make_namespace(Dict attributes);
  Value make_generator(std::vector<Value> items);

 private:
  enum class Flow { Normal, Break, Continue };

  Flow run_body(const Body& body, const ScopePtr& scope, std::string& out);
  Flow run(const Stmt& stmt, const ScopePtr& scope, std::string& out);
  Flow run_statement(const Stmt& stmt, const ScopePtr& scope, std::string& out);
  Flow run_for(const ForStmt& stmt, const ScopePtr& scope, std::string& out);
  void run_set(const AssignTarget& target, const Value& value, const ScopePtr& scope);
  void assign(const AssignTarget& target, const Value& value, Scope& scope);
  Value define_macro(const MacroStmt& macro, const ScopePtr& scope);

  Value eval(const Expr& expr, const ScopePtr& scope);
  Value eval_node(const Expr& expr, const ScopePtr& scope);
  Value eval_call(const CallExpr& call, const ScopePtr& scope, const Value* caller);
  CallArgs eval_arguments(const CallArguments& arguments, const ScopePtr& scope);
  // A filter chain; `section` stands in for the null innermost operand of a {% filter %} section.
  Value eval_filter(const FilterExpr& filter, const ScopePtr& scope, const Value* section);

  void emit(std::string& out, std::string_view text);

  std::string_view source_;
  RenderLimits limits_;
  uint64_t steps_ = 0;
  uint64_t bytes_ = 0;
  int call_depth_ = 0;
  ScopePtr globals_;
  std::vector<Value> namespaces_;
  std::vector<Value> generators_;
  std::vector<ScopePtr> captured_scopes_;
};

// Python-style item and attribute access, as jinja2's sandbox does them (used by the interpreter
// and by filters such as map(attribute=...)). `obj.name` tries methods first, then keys; `obj[key]`
// keys first, then methods. Missing ones are undefined with jinja2's hint.
Value get_attribute(const Value& object, std::string_view name);
Value get_item(const Value& object, const Value& key);
// obj[start:stop:step] for strings, lists and tuples (none or undefined bounds are left out).
Value get_slice(const Value& object, const Value& start, const Value& stop, const Value& step);
// The items a for loop or a filter walks: a list's items, a dict's keys, a string's characters;
// undefined walks nothing. Other values are a TypeError.
std::vector<Value> iterate(const Value& value);

// Python's arithmetic for + - * / // % ** (ints stay exact and overflow is an error, not a wrap),
// and its comparisons == != < <= > >= in notin. Sizes of strings and lists built are charged.
Value binary_operation(Interpreter& interpreter, std::string_view op, const Value& left, const Value& right);
bool compare_values(std::string_view op, const Value& left, const Value& right);
// `needle in haystack`.
bool contains(const Value& haystack, const Value& needle);

}  // namespace phirun::jinja
