// A recursive-descent parser with jinja2's precedence, from loosest to tightest:
//   x if c else y  >  or  >  and  >  not  >  comparisons, in  >  + -  >  ~  >  * / // %  >  **
//   >  unary - +  >  filters (|), tests (is), calls  >  .attr, [item], (call)  >  literals, names.
#include "tokenizer/jinja/parser.h"

#include <algorithm>
#include <utility>

#include "tokenizer/jinja/error.h"

namespace phirun::jinja {

namespace {

class Parser {
 public:
  Parser(std::string_view source, const std::vector<Token>& tokens) : source_(source), tokens_(tokens) {}

  Body parse() {
    Body body = parse_body({});
    return body;
  }

 private:
  // Counts nesting on the way down; past kMaxParseDepth is an error.
  class DepthGuard {
   public:
    DepthGuard(Parser& parser) : parser_(parser) {
      if (++parser_.depth_ > kMaxParseDepth)
        parser_.error("the template nests deeper than " + std::to_string(kMaxParseDepth) + " levels");
    }
    ~DepthGuard() { --parser_.depth_; }

   private:
    Parser& parser_;
  };

  const Token& current() const { return tokens_[index_]; }
  const Token& peek() const { return tokens_[std::min(index_ + 1, tokens_.size() - 1)]; }
  const Token& advance() {
    const Token& token = tokens_[index_];
    if (index_ + 1 < tokens_.size()) ++index_;
    return token;
  }

  [[noreturn]] void error(std::string problem) const { error_at(current().offset, std::move(problem)); }
  [[noreturn]] void error_at(uint32_t offset, std::string problem) const {
    throw_at(source_, offset, std::move(problem));
  }

  static std::string describe(const Token& token) {
    switch (token.type) {
      case TokenType::Text:
        return "template text";
      case TokenType::BlockBegin:
        return "begin of statement block ({%)";
      case TokenType::BlockEnd:
        return "end of statement block (%})";
      case TokenType::VariableBegin:
        return "begin of print statement ({{)";
      case TokenType::VariableEnd:
        return "end of print statement (}})";
      case TokenType::Name:
      case TokenType::Operator:
        return "'" + token.text + "'";
      case TokenType::String:
        return "a string";
      case TokenType::Integer:
      case TokenType::Float:
        return "a number";
      case TokenType::End:
        return "end of template";
    }
    return "?";
  }

  bool at_operator(std::string_view op) const { return current().type == TokenType::Operator && current().text == op; }
  bool at_name(std::string_view name) const { return current().type == TokenType::Name && current().text == name; }
  bool skip_operator(std::string_view op) {
    if (!at_operator(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!at_name(name)) return false;
    advance();
    return true;
  }
  void expect_operator(std::string_view op) {
    if (!skip_operator(op)) error("expected '" + std::string(op) + "', got " + describe(current()));
  }
  void expect(TokenType type, std::string_view what) {
    if (current().type != type) error("expected " + std::string(what) + ", got " + describe(current()));
    advance();
  }
  std::string expect_name() {
    if (current().type != TokenType::Name) error("expected a name, got " + describe(current()));
    return advance().text;
  }
  void expect_block_end() { expect(TokenType::BlockEnd, "end of statement block (%})"); }

  // ---- statements ----

  // Statements until a block tag whose name is in `end_names`; the parser is left at that name.
  Body parse_body(std::initializer_list<std::string_view> end_names) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& token = current();
      switch (token.type) {
        case TokenType::Text:
          body.push_back(std::make_unique<TextStmt>(token.offset, token.text));
          advance();
          break;
        case TokenType::VariableBegin: {
          advance();
          ExprPtr expr = parse_tuple(false, true, {}, false);
          expect(TokenType::VariableEnd, "end of print statement (}})");
          body.push_back(std::make_unique<PrintStmt>(token.offset, std::move(expr)));
          break;
        }
        case TokenType::BlockBegin: {
          advance();
          if (current().type == TokenType::Name &&
              std::find(end_names.begin(), end_names.end(), current().text) != end_names.end())
            return body;
          body.push_back(parse_statement());
          expect_block_end();
          break;
        }
        case TokenType::End: {
          if (end_names.size() == 0) return body;
          std::string expected;
          for (std::string_view name : end_names)
            expected += (expected.empty() ? "'" : " or '") + std::string(name) + "'";
          error("unexpected end of template: expected " + expected + " to close a block");
        }
        default:
          error("unexpected " + describe(token));
      }
    }
  }

  // A body closed by `end_name` (e.g. "endset"), which is consumed.
  Body parse_block_until(std::string_view end_name) {
    expect_block_end();
    Body body = parse_body({end_name});
    advance();  // the end name
    return body;
  }

  StmtPtr parse_statement() {
    if (current().type != TokenType::Name) error("expected a tag name, got " + describe(current()));
    const Token& tag = current();
    const std::string& name = tag.text;
    if (name == "for") return parse_for();
    if (name == "if") return parse_if();
    if (name == "set") return parse_set();
    if (name == "macro") return parse_macro();
    if (name == "call") return parse_call_block();
    if (name == "filter") return parse_filter_block();
    if (name == "with") return parse_with();
    if (name == "print") return parse_print();
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) error("'" + name + "' outside of a for loop");
      advance();
      return std::make_unique<BodyStmt>(name == "break" ? StmtKind::Break : StmtKind::Continue, tag.offset);
    }
    if (name == "generation") {  // transformers' AssistantTracker extension
      advance();
      auto stmt = std::make_unique<BodyStmt>(StmtKind::Generation, tag.offset);
      stmt->body = parse_block_until("endgeneration");
      return stmt;
    }
    if (name == "block" || name == "extends" || name == "include" || name == "import" || name == "from")
      error("'{% " + name +
            " %}' is not supported: chat templates are rendered alone, without other templates to load");
    if (name == "autoescape" || name == "do")
      error("'{% " + name + " %}' is not available to chat templates (transformers does not enable it)");
    if (name.rfind("end", 0) == 0 || name == "else" || name == "elif")
      error("unexpected '" + name + "': no open block takes it here");
    error("unknown tag '" + name + "'");
  }

  StmtPtr parse_for() {
    auto stmt = std::make_unique<ForStmt>(advance().offset);
    stmt->target = parse_assign_target({"in"}, false);
    if (!skip_name("in")) error("expected 'in' in the for loop, got " + describe(current()));
    stmt->iterable = parse_tuple(false, false, {"recursive"}, false);
    if (skip_name("if")) stmt->filter = parse_expression(true);
    if (at_name("recursive")) error("recursive for loops are not supported by phirun's Jinja");
    expect_block_end();
    ++loop_depth_;
    stmt->body = parse_body({"endfor", "else"});
    --loop_depth_;
    if (advance().text == "else") {
      stmt->else_body = parse_block_until("endfor");
    }
    return stmt;
  }

  StmtPtr parse_if() {
    auto stmt = std::make_unique<IfStmt>(advance().offset);
    while (true) {
      ExprPtr condition = parse_tuple(false, false, {}, false);
      expect_block_end();
      Body body = parse_body({"elif", "else", "endif"});
      stmt->branches.emplace_back(std::move(condition), std::move(body));
      const std::string next = advance().text;
      if (next == "elif") continue;
      if (next == "else") stmt->else_body = parse_block_until("endif");
      return stmt;
    }
  }

  StmtPtr parse_set() {
    const uint32_t offset = advance().offset;
    AssignTarget target = parse_assign_target({}, true);
    if (skip_operator("=")) {
      auto stmt = std::make_unique<SetStmt>(offset);
      stmt->target = std::move(target);
      stmt->value = parse_tuple(false, true, {}, false);
      return stmt;
    }
    auto stmt = std::make_unique<SetBlockStmt>(offset);
    stmt->target = std::move(target);
    if (at_operator("|")) stmt->filter = parse_filters(nullptr, false);
    const int loop_depth = std::exchange(loop_depth_, 0);  // break cannot leave a captured block
    stmt->body = parse_block_until("endset");
    loop_depth_ = loop_depth;
    return stmt;
  }

  // Names (or ns.attr) separated by commas, up to a tag end or one of `end_names`.
  AssignTarget parse_assign_target(std::initializer_list<std::string_view> end_names, bool with_namespace) {
    AssignTarget target;
    auto at_end = [&] {
      if (current().type == TokenType::BlockEnd || current().type == TokenType::VariableEnd || at_operator(")") ||
          at_operator("="))
        return true;
      return current().type == TokenType::Name &&
             std::find(end_names.begin(), end_names.end(), current().text) != end_names.end();
    };
    while (true) {
      if (!target.names.empty()) {
        if (!skip_operator(",")) break;
        target.unpack = true;
        if (at_end()) break;
      }
      if (current().type != TokenType::Name || current().text == "true" || current().text == "false" ||
          current().text == "none" || current().text == "True" || current().text == "False" || current().text == "None")
        error("can only assign to names, got " + describe(current()));
      const std::string name = advance().text;
      if (with_namespace && target.names.empty() && at_operator(".")) {
        advance();
        target.namespace_name = name;
        target.names.push_back(expect_name());
        return target;
      }
      target.names.push_back(name);
    }
    return target;
  }

  StmtPtr parse_macro() {
    auto stmt = std::make_unique<MacroStmt>(advance().offset);
    stmt->name = expect_name();
    parse_signature(*stmt);
    const size_t names_before = seen_names_.size();
    const int loop_depth = std::exchange(loop_depth_, 0);  // a macro body is not inside the caller's loop
    stmt->body = parse_block_until("endmacro");
    loop_depth_ = loop_depth;
    note_special_names(*stmt, names_before);
    return stmt;
  }

  void note_special_names(MacroStmt& macro, size_t names_before) {
    for (size_t i = names_before; i < seen_names_.size(); ++i) {
      macro.uses_varargs |= seen_names_[i] == "varargs";
      macro.uses_kwargs |= seen_names_[i] == "kwargs";
      macro.uses_caller |= seen_names_[i] == "caller";
    }
  }

  void parse_signature(MacroStmt& macro) {
    expect_operator("(");
    while (!at_operator(")")) {
      if (!macro.parameters.empty()) expect_operator(",");
      if (at_operator(")")) break;
      macro.parameters.push_back(expect_name());
      if (skip_operator("="))
        macro.defaults.push_back(parse_expression(true));
      else if (!macro.defaults.empty())
        error("a parameter without a default follows one with a default");
    }
    expect_operator(")");
  }

  StmtPtr parse_call_block() {
    auto stmt = std::make_unique<CallBlockStmt>(advance().offset);
    stmt->caller.name = "caller";
    if (at_operator("(")) parse_signature(stmt->caller);
    stmt->call = parse_expression(true);
    if (stmt->call->kind != ExprKind::Call) error_at(stmt->offset, "{% call %} needs a macro call");
    const size_t names_before = seen_names_.size();
    const int loop_depth = std::exchange(loop_depth_, 0);
    stmt->caller.body = parse_block_until("endcall");
    loop_depth_ = loop_depth;
    note_special_names(stmt->caller, names_before);
    return stmt;
  }

  StmtPtr parse_filter_block() {
    auto stmt = std::make_unique<FilterBlockStmt>(advance().offset);
    stmt->filter = parse_filters(nullptr, true);
    const int loop_depth = std::exchange(loop_depth_, 0);
    stmt->body = parse_block_until("endfilter");
    loop_depth_ = loop_depth;
    return stmt;
  }

  StmtPtr parse_with() {
    auto stmt = std::make_unique<WithStmt>(advance().offset);
    while (current().type != TokenType::BlockEnd) {
      if (!stmt->assignments.empty()) expect_operator(",");
      std::string name = expect_name();
      expect_operator("=");
      stmt->assignments.emplace_back(std::move(name), parse_expression(true));
    }
    stmt->body = parse_block_until("endwith");
    return stmt;
  }

  StmtPtr parse_print() {
    const uint32_t offset = advance().offset;
    auto list = std::make_unique<ListExpr>(offset, true);
    while (current().type != TokenType::BlockEnd) {
      if (!list->items.empty()) expect_operator(",");
      list->items.push_back(parse_expression(true));
    }
    // {% print a, b %} prints each, like {{ a }}{{ b }}.
    auto body = std::make_unique<BodyStmt>(StmtKind::Generation, offset);
    for (ExprPtr& item : list->items) body->body.push_back(std::make_unique<PrintStmt>(item->offset, std::move(item)));
    return body;
  }

  // ---- expressions ----

  // Comma-separated expressions: one alone is itself, several (or a trailing comma) make a tuple.
  ExprPtr parse_tuple(bool simplified, bool with_conditional, std::initializer_list<std::string_view> end_names,
                      bool explicit_parentheses) {
    const uint32_t offset = current().offset;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    auto at_end = [&] {
      if (current().type == TokenType::VariableEnd || current().type == TokenType::BlockEnd || at_operator(")"))
        return true;
      return current().type == TokenType::Name &&
             std::find(end_names.begin(), end_names.end(), current().text) != end_names.end();
    };
    while (true) {
      if (!items.empty()) expect_operator(",");
      if (at_end()) break;
      items.push_back(simplified ? parse_primary() : parse_expression(with_conditional));
      if (at_operator(","))
        is_tuple = true;
      else
        break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parentheses) error("expected an expression, got " + describe(current()));
    }
    auto tuple = std::make_unique<ListExpr>(offset, true);
    tuple->items = std::move(items);
    return tuple;
  }

  ExprPtr parse_expression(bool with_conditional) {
    DepthGuard guard(*this);
    return with_conditional ? parse_conditional() : parse_or();
  }

  ExprPtr parse_conditional() {
    ExprPtr expr = parse_or();
    while (at_name("if")) {
      auto conditional = std::make_unique<ConditionalExpr>(advance().offset);
      conditional->then_value = std::move(expr);
      conditional->condition = parse_or();
      if (skip_name("else")) conditional->else_value = parse_conditional();
      expr = std::move(conditional);
    }
    return expr;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (at_name("or")) {
      const uint32_t offset = advance().offset;
      left = std::make_unique<BinaryExpr>(ExprKind::Or, offset, "or", std::move(left), parse_and());
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (at_name("and")) {
      const uint32_t offset = advance().offset;
      left = std::make_unique<BinaryExpr>(ExprKind::And, offset, "and", std::move(left), parse_not());
    }
    return left;
  }

  ExprPtr parse_not() {
    if (at_name("not")) {
      DepthGuard guard(*this);
      const uint32_t offset = advance().offset;
      return std::make_unique<UnaryExpr>(ExprKind::Not, offset, parse_not());
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const uint32_t offset = current().offset;
    ExprPtr first = parse_math1();
    std::unique_ptr<CompareExpr> compare;
    while (true) {
      std::string op;
      if (current().type == TokenType::Operator &&
          (current().text == "==" || current().text == "!=" || current().text == "<" || current().text == "<=" ||
           current().text == ">" || current().text == ">=")) {
        op = advance().text;
      } else if (at_name("in")) {
        advance();
        op = "in";
      } else if (at_name("not") && peek().type == TokenType::Name && peek().text == "in") {
        advance();
        advance();
        op = "notin";
      } else {
        break;
      }
      if (!compare) compare = std::make_unique<CompareExpr>(offset, std::move(first));
      compare->rest.emplace_back(op, parse_math1());
    }
    if (compare) return compare;
    return first;
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (at_operator("+") || at_operator("-")) {
      const Token& op = advance();
      left = std::make_unique<BinaryExpr>(ExprKind::Binary, op.offset, op.text, std::move(left), parse_concat());
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr first = parse_math2();
    if (!at_operator("~")) return first;
    auto concat = std::make_unique<ConcatExpr>(first->offset);
    concat->parts.push_back(std::move(first));
    while (skip_operator("~")) concat->parts.push_back(parse_math2());
    return concat;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (at_operator("*") || at_operator("/") || at_operator("//") || at_operator("%")) {
      const Token& op = advance();
      left = std::make_unique<BinaryExpr>(ExprKind::Binary, op.offset, op.text, std::move(left), parse_pow());
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (at_operator("**")) {
      const Token& op = advance();
      left = std::make_unique<BinaryExpr>(ExprKind::Binary, op.offset, op.text, std::move(left), parse_unary(true));
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr node;
    if (at_operator("-") || at_operator("+")) {
      const Token& op = advance();
      node = std::make_unique<UnaryExpr>(op.text == "-" ? ExprKind::Negate : ExprKind::Plus, op.offset,
                                         parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& token = current();
    switch (token.type) {
      case TokenType::Name: {
        advance();
        if (token.text == "true" || token.text == "True")
          return std::make_unique<LiteralExpr>(token.offset, Value(true));
        if (token.text == "false" || token.text == "False")
          return std::make_unique<LiteralExpr>(token.offset, Value(false));
        if (token.text == "none" || token.text == "None")
          return std::make_unique<LiteralExpr>(token.offset, Value::none());
        seen_names_.push_back(token.text);
        return std::make_unique<NameExpr>(token.offset, token.text);
      }
      case TokenType::String: {
        std::string text;
        while (current().type == TokenType::String) text += advance().text;  // 'a' 'b' is 'ab'
        return std::make_unique<LiteralExpr>(token.offset, Value(std::move(text)));
      }
      case TokenType::Integer:
        advance();
        return std::make_unique<LiteralExpr>(token.offset, Value(token.integer));
      case TokenType::Float:
        advance();
        return std::make_unique<LiteralExpr>(token.offset, Value(token.number));
      case TokenType::Operator:
        if (token.text == "(") {
          DepthGuard guard(*this);
          advance();
          ExprPtr inner = parse_tuple(false, true, {}, true);
          expect_operator(")");
          return inner;
        }
        if (token.text == "[") return parse_list();
        if (token.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    error("unexpected " + describe(token));
  }

  ExprPtr parse_list() {
    DepthGuard guard(*this);
    auto list = std::make_unique<ListExpr>(advance().offset, false);
    while (!at_operator("]")) {
      if (!list->items.empty()) expect_operator(",");
      if (at_operator("]")) break;
      list->items.push_back(parse_expression(true));
    }
    expect_operator("]");
    return list;
  }

  ExprPtr parse_dict() {
    DepthGuard guard(*this);
    auto dict = std::make_unique<DictExpr>(advance().offset);
    while (!at_operator("}")) {
      if (!dict->items.empty()) expect_operator(",");
      if (at_operator("}")) break;
      ExprPtr key = parse_expression(true);
      expect_operator(":");
      dict->items.emplace_back(std::move(key), parse_expression(true));
    }
    expect_operator("}");
    return dict;
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (at_operator(".") || at_operator("[")) {
        node = parse_subscript(std::move(node));
      } else if (at_operator("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (at_operator("|")) {
        node = parse_filters(std::move(node), false);
      } else if (at_name("is")) {
        node = parse_test(std::move(node));
      } else if (at_operator("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object) {
    const Token& token = advance();
    if (token.text == ".") {
      const Token& attribute = advance();
      if (attribute.type == TokenType::Name)
        return std::make_unique<AttributeExpr>(token.offset, std::move(object), attribute.text);
      if (attribute.type != TokenType::Integer) error_at(attribute.offset, "expected a name or a number after '.'");
      return std::make_unique<ItemExpr>(token.offset, std::move(object),
                                        std::make_unique<LiteralExpr>(attribute.offset, Value(attribute.integer)));
    }
    std::vector<ExprPtr> indexes;
    while (!at_operator("]")) {
      if (!indexes.empty()) expect_operator(",");
      indexes.push_back(parse_subscribed());
    }
    expect_operator("]");
    if (indexes.empty()) error_at(token.offset, "expected a subscript expression inside []");
    if (indexes.size() == 1) return std::make_unique<ItemExpr>(token.offset, std::move(object), std::move(indexes[0]));
    auto tuple = std::make_unique<ListExpr>(token.offset, true);
    tuple->items = std::move(indexes);
    return std::make_unique<ItemExpr>(token.offset, std::move(object), std::move(tuple));
  }

  // An index, or a slice start:stop:step with any part left out.
  ExprPtr parse_subscribed() {
    const uint32_t offset = current().offset;
    ExprPtr start;
    if (!at_operator(":")) {
      start = parse_expression(true);
      if (!at_operator(":")) return start;
    }
    advance();  // the first ':'
    auto slice = std::make_unique<SliceExpr>(offset);
    slice->start = std::move(start);
    auto at_part_end = [&] { return at_operator("]") || at_operator(",") || at_operator(":"); };
    if (!at_part_end()) slice->stop = parse_expression(true);
    if (skip_operator(":")) {
      if (!at_operator("]") && !at_operator(",")) slice->step = parse_expression(true);
    }
    return slice;
  }

  CallArguments parse_call_arguments() {
    const uint32_t offset = current().offset;
    expect_operator("(");
    CallArguments arguments;
    auto ensure = [&](bool ok) {
      if (!ok) error_at(offset, "invalid syntax for a function call");
    };
    bool need_comma = false;
    while (!at_operator(")")) {
      if (need_comma) {
        expect_operator(",");
        if (at_operator(")")) break;
      }
      if (at_operator("*")) {
        ensure(!arguments.star_args && !arguments.star_kwargs);
        advance();
        arguments.star_args = parse_expression(true);
      } else if (at_operator("**")) {
        ensure(!arguments.star_kwargs);
        advance();
        arguments.star_kwargs = parse_expression(true);
      } else if (current().type == TokenType::Name && peek().type == TokenType::Operator && peek().text == "=") {
        ensure(!arguments.star_kwargs);
        std::string key = advance().text;
        advance();
        arguments.keyword.emplace_back(std::move(key), parse_expression(true));
      } else {
        ensure(!arguments.star_args && !arguments.star_kwargs && arguments.keyword.empty());
        arguments.positional.push_back(parse_expression(true));
      }
      need_comma = true;
    }
    expect_operator(")");
    return arguments;
  }

  ExprPtr parse_call(ExprPtr callee) {
    DepthGuard guard(*this);
    const uint32_t offset = callee->offset;  // errors from a call point at what is called
    auto call = std::make_unique<CallExpr>(offset, std::move(callee));
    call->arguments = parse_call_arguments();
    return call;
  }

  // One or more "| name(args)"; with `start_inline` the first has no "|" ({% filter name %}).
  ExprPtr parse_filters(ExprPtr node, bool start_inline) {
    while (at_operator("|") || start_inline) {
      DepthGuard guard(*this);
      if (!start_inline) advance();
      start_inline = false;
      const uint32_t offset = current().offset;
      std::string name = expect_name();
      while (skip_operator(".")) name += "." + expect_name();
      auto filter = std::make_unique<FilterExpr>(ExprKind::Filter, offset, std::move(node), std::move(name));
      if (at_operator("(")) filter->arguments = parse_call_arguments();
      node = std::move(filter);
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    DepthGuard guard(*this);
    const uint32_t is_offset = advance().offset;
    const bool negated = skip_name("not");
    const uint32_t offset = current().offset;
    std::string name = expect_name();
    while (skip_operator(".")) name += "." + expect_name();
    auto test = std::make_unique<FilterExpr>(ExprKind::Test, offset, std::move(node), std::move(name));
    const Token& next = current();
    if (at_operator("(")) {
      test->arguments = parse_call_arguments();
    } else if ((next.type == TokenType::Name || next.type == TokenType::String || next.type == TokenType::Integer ||
                next.type == TokenType::Float || at_operator("[") || at_operator("{")) &&
               !(at_name("else") || at_name("or") || at_name("and"))) {
      // `x is divisibleby 3`, `x is sameas none`: one argument without parentheses.
      if (at_name("is")) error("you cannot chain tests with 'is'");
      test->arguments.positional.push_back(parse_postfix(parse_primary()));
    }
    if (negated) return std::make_unique<UnaryExpr>(ExprKind::Not, is_offset, std::move(test));
    return test;
  }

  std::string_view source_;
  const std::vector<Token>& tokens_;
  size_t index_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;                   // for loops around the current statement (break and continue need one)
  std::vector<std::string> seen_names_;  // every variable name read, in order (macros look for varargs...)
};

}  // namespace

Body parse_template(std::string_view source, const std::vector<Token>& tokens) {
  Body body = Parser(source, tokens).parse();
  check_filter_and_test_names(source, body);
  return body;
}

}  // namespace phirun::jinja
