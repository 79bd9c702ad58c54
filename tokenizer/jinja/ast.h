// The parsed template: expression and statement nodes, as jinja2's parser builds them (filters bind
// tighter than arithmetic, `not x is y` is `not (x is y)`, comparisons chain). Every node keeps the
// offset of its first token so that errors can name a line and column.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace phirun::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind : uint8_t {
  Literal,      // a constant: string, number, true/false, none
  Name,         // a variable
  List,         // [a, b] or (a, b)
  Dict,         // {k: v}
  Attribute,    // x.name
  Item,         // x[i], x[a:b:c]
  Slice,        // a:b:c inside []
  Call,         // f(args)
  Filter,       // x | name(args)
  Test,         // x is name(args)
  Not,          // not x
  Negate,       // -x
  Plus,         // +x
  Binary,       // + - * / // % **
  And,          // a and b
  Or,           // a or b
  Concat,       // a ~ b ~ c
  Compare,      // a < b == c, in, not in
  Conditional,  // a if c else b
};

struct Expr {
  Expr(ExprKind kind_, uint32_t offset_) : kind(kind_), offset(offset_) {}
  virtual ~Expr() = default;
  ExprKind kind;
  uint32_t offset;
};

struct LiteralExpr : Expr {
  LiteralExpr(uint32_t offset_, Value value_) : Expr(ExprKind::Literal, offset_), value(std::move(value_)) {}
  Value value;
};

struct NameExpr : Expr {
  NameExpr(uint32_t offset_, std::string name_) : Expr(ExprKind::Name, offset_), name(std::move(name_)) {}
  std::string name;
};

struct ListExpr : Expr {
  ListExpr(uint32_t offset_, bool is_tuple_) : Expr(ExprKind::List, offset_), is_tuple(is_tuple_) {}
  std::vector<ExprPtr> items;
  bool is_tuple;
};

struct DictExpr : Expr {
  explicit DictExpr(uint32_t offset_) : Expr(ExprKind::Dict, offset_) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

struct AttributeExpr : Expr {
  AttributeExpr(uint32_t offset_, ExprPtr object_, std::string attribute_)
      : Expr(ExprKind::Attribute, offset_), object(std::move(object_)), attribute(std::move(attribute_)) {}
  ExprPtr object;
  std::string attribute;
};

struct ItemExpr : Expr {
  ItemExpr(uint32_t offset_, ExprPtr object_, ExprPtr index_)
      : Expr(ExprKind::Item, offset_), object(std::move(object_)), index(std::move(index_)) {}
  ExprPtr object;
  ExprPtr index;  // a SliceExpr for x[a:b]
};

struct SliceExpr : Expr {
  explicit SliceExpr(uint32_t offset_) : Expr(ExprKind::Slice, offset_) {}
  ExprPtr start, stop, step;  // each may be null
};

struct CallArguments {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
  ExprPtr star_args;    // *list
  ExprPtr star_kwargs;  // **dict
};

struct CallExpr : Expr {
  CallExpr(uint32_t offset_, ExprPtr callee_) : Expr(ExprKind::Call, offset_), callee(std::move(callee_)) {}
  ExprPtr callee;
  CallArguments arguments;
};

// x | name(args) and x is name(args). For a filter section ({% filter %}, {% set x | f %}) the
// innermost operand is null and stands for the section's rendered text.
struct FilterExpr : Expr {
  FilterExpr(ExprKind kind_, uint32_t offset_, ExprPtr operand_, std::string name_)
      : Expr(kind_, offset_), operand(std::move(operand_)), name(std::move(name_)) {}
  ExprPtr operand;
  std::string name;
  CallArguments arguments;
};

struct UnaryExpr : Expr {
  UnaryExpr(ExprKind kind_, uint32_t offset_, ExprPtr operand_) : Expr(kind_, offset_), operand(std::move(operand_)) {}
  ExprPtr operand;
};

// Binary (op is "+", "-", "*", "/", "//", "%", "**"), And, Or.
struct BinaryExpr : Expr {
  BinaryExpr(ExprKind kind_, uint32_t offset_, std::string op_, ExprPtr left_, ExprPtr right_)
      : Expr(kind_, offset_), op(std::move(op_)), left(std::move(left_)), right(std::move(right_)) {}
  std::string op;
  ExprPtr left, right;
};

struct ConcatExpr : Expr {
  explicit ConcatExpr(uint32_t offset_) : Expr(ExprKind::Concat, offset_) {}
  std::vector<ExprPtr> parts;
};

// first op1 second op2 third ...: each pair compared, all must hold (Python's chained comparison).
struct CompareExpr : Expr {
  CompareExpr(uint32_t offset_, ExprPtr first_) : Expr(ExprKind::Compare, offset_), first(std::move(first_)) {}
  ExprPtr first;
  std::vector<std::pair<std::string, ExprPtr>> rest;  // op: == != < <= > >= in notin
};

struct ConditionalExpr : Expr {
  explicit ConditionalExpr(uint32_t offset_) : Expr(ExprKind::Conditional, offset_) {}
  ExprPtr condition, then_value, else_value;  // else_value may be null (undefined)
};

enum class StmtKind : uint8_t {
  Text,   // template text
  Print,  // {{ expr }}
  If,
  For,
  Set,       // {% set target = value %}
  SetBlock,  // {% set target %}...{% endset %}
  Macro,
  CallBlock,    // {% call macro(args) %}...{% endcall %}
  FilterBlock,  // {% filter f %}...{% endfilter %}
  With,
  Break,
  Continue,
  Generation,  // transformers' {% generation %}...{% endgeneration %}: renders its body
};

struct Stmt {
  Stmt(StmtKind kind_, uint32_t offset_) : kind(kind_), offset(offset_) {}
  virtual ~Stmt() = default;
  StmtKind kind;
  uint32_t offset;
};

struct TextStmt : Stmt {
  TextStmt(uint32_t offset_, std::string text_) : Stmt(StmtKind::Text, offset_), text(std::move(text_)) {}
  std::string text;
};

struct PrintStmt : Stmt {
  PrintStmt(uint32_t offset_, ExprPtr expr_) : Stmt(StmtKind::Print, offset_), expr(std::move(expr_)) {}
  ExprPtr expr;
};

struct IfStmt : Stmt {
  explicit IfStmt(uint32_t offset_) : Stmt(StmtKind::If, offset_) {}
  std::vector<std::pair<ExprPtr, Body>> branches;  // if, then each elif
  Body else_body;
};

// What a for loop or set assigns: a name, several names (unpacking), or a namespace attribute.
struct AssignTarget {
  std::vector<std::string> names;
  bool unpack = false;         // "a, b" (even with one name: "a,")
  std::string namespace_name;  // "ns" in ns.attr; names[0] is then the attribute
};

struct ForStmt : Stmt {
  explicit ForStmt(uint32_t offset_) : Stmt(StmtKind::For, offset_) {}
  AssignTarget target;
  ExprPtr iterable;
  ExprPtr filter;  // for x in xs if filter
  Body body;
  Body else_body;
};

struct SetStmt : Stmt {
  explicit SetStmt(uint32_t offset_) : Stmt(StmtKind::Set, offset_) {}
  AssignTarget target;
  ExprPtr value;
};

struct SetBlockStmt : Stmt {
  explicit SetBlockStmt(uint32_t offset_) : Stmt(StmtKind::SetBlock, offset_) {}
  AssignTarget target;
  ExprPtr filter;  // may be null
  Body body;
};

struct MacroStmt : Stmt {
  explicit MacroStmt(uint32_t offset_) : Stmt(StmtKind::Macro, offset_) {}
  std::string name;
  std::vector<std::string> parameters;
  std::vector<ExprPtr> defaults;  // for the last defaults.size() parameters
  Body body;
  bool uses_varargs = false;  // the body reads `varargs`: extra positional arguments are allowed
  bool uses_kwargs = false;   // the body reads `kwargs`: extra keyword arguments are allowed
  bool uses_caller = false;   // the body reads `caller`
};

struct CallBlockStmt : Stmt {
  explicit CallBlockStmt(uint32_t offset_) : Stmt(StmtKind::CallBlock, offset_) {}
  MacroStmt caller{0};  // the block body, callable as caller(args)
  ExprPtr call;         // a CallExpr
};

struct FilterBlockStmt : Stmt {
  explicit FilterBlockStmt(uint32_t offset_) : Stmt(StmtKind::FilterBlock, offset_) {}
  ExprPtr filter;
  Body body;
};

struct WithStmt : Stmt {
  explicit WithStmt(uint32_t offset_) : Stmt(StmtKind::With, offset_) {}
  std::vector<std::pair<std::string, ExprPtr>> assignments;
  Body body;
};

struct BodyStmt : Stmt {  // Generation, and the body holders Break/Continue (empty)
  BodyStmt(StmtKind kind_, uint32_t offset_) : Stmt(kind_, offset_) {}
  Body body;
};

}  // namespace phirun::jinja
