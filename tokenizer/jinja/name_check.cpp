// jinja2 looks up filter and test names when it compiles a template: an unknown one is an error
// even where it would never run, except inside an {% if %} or an inline `x if c else y` (jinja2
// 3.0's "soft frames"), where the error waits until the filter is used. The same rule here.
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/parser.h"

namespace phirun::jinja {

namespace {

class NameCheck {
 public:
  explicit NameCheck(std::string_view source) : source_(source) {}

  void body(const Body& statements, bool soft) {
    for (const StmtPtr& stmt : statements) statement(*stmt, soft);
  }

 private:
  void statement(const Stmt& stmt, bool soft) {
    switch (stmt.kind) {
      case StmtKind::Text:
      case StmtKind::Break:
      case StmtKind::Continue:
        return;
      case StmtKind::Print:
        expr(static_cast<const PrintStmt&>(stmt).expr.get(), soft);
        return;
      case StmtKind::If: {
        const auto& if_stmt = static_cast<const IfStmt&>(stmt);
        for (const auto& [condition, branch] : if_stmt.branches) {
          expr(condition.get(), true);
          body(branch, true);
        }
        body(if_stmt.else_body, true);
        return;
      }
      case StmtKind::For: {  // the iterable belongs to the enclosing frame, the rest to the loop's
        const auto& for_stmt = static_cast<const ForStmt&>(stmt);
        expr(for_stmt.iterable.get(), soft);
        expr(for_stmt.filter.get(), false);
        body(for_stmt.body, false);
        body(for_stmt.else_body, false);
        return;
      }
      case StmtKind::Set:
        expr(static_cast<const SetStmt&>(stmt).value.get(), soft);
        return;
      case StmtKind::SetBlock: {
        const auto& set = static_cast<const SetBlockStmt&>(stmt);
        expr(set.filter.get(), false);
        body(set.body, false);
        return;
      }
      case StmtKind::Macro:
        macro(static_cast<const MacroStmt&>(stmt));
        return;
      case StmtKind::CallBlock: {
        const auto& call = static_cast<const CallBlockStmt&>(stmt);
        macro(call.caller);
        expr(call.call.get(), soft);
        return;
      }
      case StmtKind::FilterBlock: {
        const auto& block = static_cast<const FilterBlockStmt&>(stmt);
        expr(block.filter.get(), false);
        body(block.body, false);
        return;
      }
      case StmtKind::With: {
        const auto& with = static_cast<const WithStmt&>(stmt);
        for (const auto& assignment : with.assignments) expr(assignment.second.get(), false);
        body(with.body, false);
        return;
      }
      case StmtKind::Generation: {  // a call block in jinja2: its body is a function of its own
        const auto& generation = static_cast<const BodyStmt&>(stmt);
        body(generation.body, false);
        return;
      }
    }
  }

  void macro(const MacroStmt& macro_stmt) {
    for (const ExprPtr& default_value : macro_stmt.defaults) expr(default_value.get(), false);
    body(macro_stmt.body, false);
  }

  void arguments(const CallArguments& args, bool soft) {
    for (const ExprPtr& arg : args.positional) expr(arg.get(), soft);
    for (const auto& keyword : args.keyword) expr(keyword.second.get(), soft);
    expr(args.star_args.get(), soft);
    expr(args.star_kwargs.get(), soft);
  }

  void expr(const Expr* node, bool soft) {
    if (!node) return;
    switch (node->kind) {
      case ExprKind::Literal:
      case ExprKind::Name:
        return;
      case ExprKind::List:
        for (const ExprPtr& item : static_cast<const ListExpr*>(node)->items) expr(item.get(), soft);
        return;
      case ExprKind::Dict:
        for (const auto& [key, value] : static_cast<const DictExpr*>(node)->items) {
          expr(key.get(), soft);
          expr(value.get(), soft);
        }
        return;
      case ExprKind::Attribute:
        expr(static_cast<const AttributeExpr*>(node)->object.get(), soft);
        return;
      case ExprKind::Item: {
        const auto* item = static_cast<const ItemExpr*>(node);
        expr(item->object.get(), soft);
        expr(item->index.get(), soft);
        return;
      }
      case ExprKind::Slice: {
        const auto* slice = static_cast<const SliceExpr*>(node);
        expr(slice->start.get(), soft);
        expr(slice->stop.get(), soft);
        expr(slice->step.get(), soft);
        return;
      }
      case ExprKind::Call: {
        const auto* call = static_cast<const CallExpr*>(node);
        expr(call->callee.get(), soft);
        arguments(call->arguments, soft);
        return;
      }
      case ExprKind::Filter:
      case ExprKind::Test: {
        const auto* filter = static_cast<const FilterExpr*>(node);
        const bool is_filter = node->kind == ExprKind::Filter;
        const bool known = is_filter ? is_known_filter(filter->name) : is_known_test(filter->name);
        if (!known && !soft)
          throw_at(source_, node->offset,
                   std::string(is_filter ? "unknown filter '" : "unknown test '") + filter->name + "'");
        expr(filter->operand.get(), soft);
        arguments(filter->arguments, soft);
        return;
      }
      case ExprKind::Not:
      case ExprKind::Negate:
      case ExprKind::Plus:
        expr(static_cast<const UnaryExpr*>(node)->operand.get(), soft);
        return;
      case ExprKind::Binary:
      case ExprKind::And:
      case ExprKind::Or: {
        const auto* binary = static_cast<const BinaryExpr*>(node);
        expr(binary->left.get(), soft);
        expr(binary->right.get(), soft);
        return;
      }
      case ExprKind::Concat:
        for (const ExprPtr& part : static_cast<const ConcatExpr*>(node)->parts) expr(part.get(), soft);
        return;
      case ExprKind::Compare: {
        const auto* compare = static_cast<const CompareExpr*>(node);
        expr(compare->first.get(), soft);
        for (const auto& [op, operand] : compare->rest) expr(operand.get(), soft);
        return;
      }
      case ExprKind::Conditional: {
        const auto* conditional = static_cast<const ConditionalExpr*>(node);
        expr(conditional->condition.get(), true);
        expr(conditional->then_value.get(), true);
        expr(conditional->else_value.get(), true);
        return;
      }
    }
  }

  std::string_view source_;
};

}  // namespace

void check_filter_and_test_names(std::string_view source, const Body& body) { NameCheck(source).body(body, false); }

}  // namespace phirun::jinja
