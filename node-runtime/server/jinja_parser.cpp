#include "jinja_parser.h"

#include <charconv>
#include <cstdlib>
#include <initializer_list>

namespace llmops::server::jinja {

namespace {

// Names the body of a macro reads, to know whether it takes caller/varargs/kwargs.
void collect_names(const Expr* e, Params& p) {
  if (!e) return;
  if (e->kind == Expr::Kind::Name) {
    if (e->name == "caller") p.uses_caller = true;
    if (e->name == "varargs") p.uses_varargs = true;
    if (e->name == "kwargs") p.uses_kwargs = true;
  }
  for (const auto& a : e->args) collect_names(a.get(), p);
  for (const auto& [k, v] : e->kwargs) collect_names(v.get(), p);
}

void collect_names(const Body& body, Params& p) {
  for (const auto& s : body) {
    collect_names(s->expr.get(), p);
    collect_names(s->cond.get(), p);
    for (const auto& [c, b] : s->branches) {
      collect_names(c.get(), p);
      collect_names(b, p);
    }
    collect_names(s->body, p);
    collect_names(s->else_body, p);
    for (const auto& f : s->filters) collect_names(f.get(), p);
    for (const auto& d : s->params.defaults) collect_names(d.get(), p);
  }
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const ParseOptions& options)
      : tokens_(std::move(tokens)), options_(options) {}

  std::unique_ptr<Program> run() {
    auto program = std::make_unique<Program>();
    program->body = parse_body({}, "", {});
    return program;
  }

 private:
  // Counts nesting while alive; fails past the limit.
  struct DepthGuard {
    DepthGuard(Parser& p, SourcePos pos) : parser(p) {
      if (++parser.depth_ > parser.options_.max_nesting) {
        throw TemplateError("the template nests expressions or statements deeper than " +
                                std::to_string(parser.options_.max_nesting) + " levels",
                            pos);
      }
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };

  const Token& cur() const { return tokens_[at_]; }
  const Token& peek(size_t k = 1) const { return tokens_[std::min(at_ + k, tokens_.size() - 1)]; }
  const Token& next() {
    const Token& t = tokens_[at_];
    if (at_ + 1 < tokens_.size()) ++at_;
    return t;
  }
  bool is_op(std::string_view op) const {
    return cur().kind == TokenKind::Operator && cur().value == op;
  }
  bool is_name(std::string_view name) const {
    return cur().kind == TokenKind::Name && cur().value == name;
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::Text:
        return "template text";
      case TokenKind::VarBegin:
        return "'{{'";
      case TokenKind::VarEnd:
        return "'}}'";
      case TokenKind::BlockBegin:
        return "'{%'";
      case TokenKind::BlockEnd:
        return "'%}'";
      case TokenKind::Name:
        return "'" + t.value + "'";
      case TokenKind::String:
        return "a string";
      case TokenKind::Int:
      case TokenKind::Float:
        return "the number " + t.value;
      case TokenKind::Operator:
        return "'" + t.value + "'";
      case TokenKind::End:
        return "the end of the template";
    }
    return "a token";
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw TemplateError(message, cur().pos);
  }
  [[noreturn]] void unexpected(const std::string& expected) const {
    fail("expected " + expected + ", got " + describe(cur()));
  }

  void expect_op(std::string_view op) {
    if (!is_op(op)) unexpected("'" + std::string(op) + "'");
    next();
  }
  void expect_block_end() {
    if (cur().kind != TokenKind::BlockEnd) unexpected("'%}'");
    next();
  }
  std::string expect_name(const std::string& what) {
    if (cur().kind != TokenKind::Name) unexpected(what);
    return next().value;
  }

  ExprPtr make(Expr::Kind kind, SourcePos pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }

  // ---- statements ----

  // Parses until {% <one of ends> (consumed up to the name, which is current) or, at the
  // top level (ends empty), the end of the template.
  Body parse_body(std::initializer_list<std::string_view> ends, std::string_view opener,
                  SourcePos opener_pos) {
    DepthGuard guard(*this, cur().pos);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.kind == TokenKind::End) {
        if (ends.size() == 0) return body;
        std::string_view closer = *ends.begin();
        for (std::string_view end : ends) {
          if (end.rfind("end", 0) == 0) closer = end;
        }
        throw TemplateError("unexpected end of template: the '" + std::string(opener) +
                                "' at line " + std::to_string(opener_pos.line) + ", column " +
                                std::to_string(opener_pos.column) + " is never closed by '" +
                                std::string(closer) + "'",
                            t.pos);
      }
      if (t.kind == TokenKind::Text) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::Text;
        s->pos = t.pos;
        s->text = t.value;
        body.push_back(std::move(s));
        next();
      } else if (t.kind == TokenKind::VarBegin) {
        next();
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::Output;
        s->pos = cur().pos;
        s->expr = parse_tuple(true);
        if (cur().kind != TokenKind::VarEnd) unexpected("'}}'");
        next();
        body.push_back(std::move(s));
      } else if (t.kind == TokenKind::BlockBegin) {
        next();
        if (cur().kind != TokenKind::Name) unexpected("a statement name");
        for (std::string_view end : ends) {
          if (cur().value == end) return body;
        }
        auto s = parse_statement();
        if (s) body.push_back(std::move(s));
      } else {
        fail("unexpected " + describe(t));
      }
    }
  }

  std::unique_ptr<Stmt> statement(Stmt::Kind kind, SourcePos pos) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->pos = pos;
    return s;
  }

  // The statement whose name is current ({% already consumed).
  std::unique_ptr<Stmt> parse_statement() {
    const Token& t = cur();
    const SourcePos pos = t.pos;
    const std::string name = t.value;
    if (name == "if") return parse_if();
    if (name == "for") return parse_for();
    if (name == "set") return parse_set();
    if (name == "macro") return parse_macro();
    if (name == "call") return parse_call_block();
    if (name == "filter") return parse_filter_block();
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) fail("'" + name + "' outside of a for loop");
      next();
      expect_block_end();
      return statement(name == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, pos);
    }
    if (name == "generation") {
      next();
      expect_block_end();
      auto s = statement(Stmt::Kind::Group, pos);
      s->body = parse_body({"endgeneration"}, "generation", pos);
      next();
      expect_block_end();
      return s;
    }
    if (name.rfind("end", 0) == 0 || name == "else" || name == "elif") {
      fail("unexpected '" + name + "': no open block here takes it");
    }
    fail("unknown or unsupported statement '" + name + "'");
  }

  std::unique_ptr<Stmt> parse_if() {
    const SourcePos pos = cur().pos;
    next();
    auto s = statement(Stmt::Kind::If, pos);
    while (true) {
      ExprPtr cond = parse_expression();
      expect_block_end();
      Body body = parse_body({"elif", "else", "endif"}, "if", pos);
      s->branches.emplace_back(std::move(cond), std::move(body));
      if (cur().value == "elif") {
        next();
        continue;
      }
      if (cur().value == "else") {
        next();
        expect_block_end();
        s->else_body = parse_body({"endif"}, "if", pos);
      }
      break;
    }
    next();  // endif
    expect_block_end();
    return s;
  }

  // Names, optionally a tuple "a, b" or "(a, b)".
  std::vector<std::string> parse_target_names() {
    std::vector<std::string> names;
    const bool paren = is_op("(");
    if (paren) next();
    while (true) {
      names.push_back(expect_name("a variable name"));
      if (!is_op(",")) break;
      next();
      if (cur().kind != TokenKind::Name || is_name("in")) break;
    }
    if (paren) expect_op(")");
    return names;
  }

  std::unique_ptr<Stmt> parse_for() {
    const SourcePos pos = cur().pos;
    next();
    auto s = statement(Stmt::Kind::For, pos);
    s->targets = parse_target_names();
    if (!is_name("in")) unexpected("'in'");
    next();
    s->expr = parse_tuple(false);
    if (is_name("if")) {
      next();
      s->cond = parse_expression();
    }
    if (is_name("recursive")) fail("recursive for loops are not supported");
    expect_block_end();
    ++loop_depth_;
    s->body = parse_body({"endfor", "else"}, "for", pos);
    --loop_depth_;
    if (cur().value == "else") {
      next();
      expect_block_end();
      s->else_body = parse_body({"endfor"}, "for", pos);
    }
    next();  // endfor
    expect_block_end();
    return s;
  }

  std::unique_ptr<Stmt> parse_set() {
    const SourcePos pos = cur().pos;
    next();
    auto s = statement(Stmt::Kind::Set, pos);
    const std::string first = expect_name("a variable name");
    s->targets.push_back(first);
    if (is_op(".")) {
      next();
      s->attr = expect_name("an attribute name");
    } else {
      while (is_op(",")) {
        next();
        if (cur().kind != TokenKind::Name) break;
        s->targets.push_back(next().value);
      }
    }
    if (is_op("=")) {
      next();
      s->expr = parse_tuple(true);
      expect_block_end();
      return s;
    }
    if (s->targets.size() != 1 || !s->attr.empty()) unexpected("'='");
    s->kind = Stmt::Kind::SetBlock;
    s->filters = parse_filter_chain(false);
    expect_block_end();
    s->body = parse_body({"endset"}, "set", pos);
    next();
    expect_block_end();
    return s;
  }

  Params parse_params() {
    Params p;
    expect_op("(");
    while (!is_op(")")) {
      const std::string name = expect_name("a parameter name");
      for (const auto& existing : p.names) {
        if (existing == name) fail("duplicate parameter '" + name + "'");
      }
      ExprPtr def;
      if (is_op("=")) {
        next();
        def = parse_expression();
      } else if (!p.defaults.empty() && p.defaults.back()) {
        fail("parameter '" + name + "' without a default follows one with a default");
      }
      p.names.push_back(name);
      p.defaults.push_back(std::move(def));
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
    return p;
  }

  std::unique_ptr<Stmt> parse_macro() {
    const SourcePos pos = cur().pos;
    next();
    auto s = statement(Stmt::Kind::Macro, pos);
    s->name = expect_name("a macro name");
    s->params = parse_params();
    expect_block_end();
    const int saved_loops = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_body({"endmacro"}, "macro", pos);
    loop_depth_ = saved_loops;
    next();
    expect_block_end();
    collect_names(s->body, s->params);
    return s;
  }

  std::unique_ptr<Stmt> parse_call_block() {
    const SourcePos pos = cur().pos;
    next();
    auto s = statement(Stmt::Kind::CallBlock, pos);
    if (is_op("(")) s->params = parse_params();
    s->expr = parse_expression();
    if (s->expr->kind != Expr::Kind::Call) fail("a call block needs a call, e.g. {% call m() %}");
    expect_block_end();
    const int saved_loops = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_body({"endcall"}, "call", pos);
    loop_depth_ = saved_loops;
    next();
    expect_block_end();
    collect_names(s->body, s->params);
    return s;
  }

  std::unique_ptr<Stmt> parse_filter_block() {
    const SourcePos pos = cur().pos;
    next();
    auto s = statement(Stmt::Kind::FilterBlock, pos);
    s->filters = parse_filter_chain(true);
    expect_block_end();
    s->body = parse_body({"endfilter"}, "filter", pos);
    next();
    expect_block_end();
    return s;
  }

  // "name(args) | name …" of a filter block (which starts without "|") or block set.
  std::vector<ExprPtr> parse_filter_chain(bool leading_name) {
    std::vector<ExprPtr> filters;
    bool first = true;
    while (true) {
      if (!(first && leading_name)) {
        if (!is_op("|")) break;
        next();
      }
      first = false;
      filters.push_back(parse_filter(nullptr));
    }
    return filters;
  }

  // ---- expressions ----

  // Comma-separated expressions: a tuple when there is a comma.
  ExprPtr parse_tuple(bool with_condexpr) {
    const SourcePos pos = cur().pos;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) {
        if (!is_op(",")) break;
        next();
        is_tuple = true;
        if (cur().kind == TokenKind::BlockEnd || cur().kind == TokenKind::VarEnd || is_op(")") ||
            is_name("if")) {
          break;
        }
      }
      items.push_back(with_condexpr ? parse_expression() : parse_or());
    }
    if (!is_tuple) return std::move(items[0]);
    auto t = make(Expr::Kind::Tuple, pos);
    t->args = std::move(items);
    return t;
  }

  ExprPtr parse_expression() {
    DepthGuard guard(*this, cur().pos);
    ExprPtr expr = parse_or();
    while (is_name("if")) {
      const SourcePos pos = cur().pos;
      next();
      auto c = make(Expr::Kind::Cond, pos);
      ExprPtr cond = parse_or();
      ExprPtr otherwise;
      if (is_name("else")) {
        next();
        otherwise = parse_expression();
      }
      c->args.push_back(std::move(expr));
      c->args.push_back(std::move(cond));
      c->args.push_back(std::move(otherwise));
      expr = std::move(c);
    }
    return expr;
  }

  ExprPtr binary(std::string op, ExprPtr left, ExprPtr right, SourcePos pos) {
    auto b = make(Expr::Kind::Binary, pos);
    b->name = std::move(op);
    b->args.push_back(std::move(left));
    b->args.push_back(std::move(right));
    return b;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      const SourcePos pos = next().pos;
      left = binary("or", std::move(left), parse_and(), pos);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      const SourcePos pos = next().pos;
      left = binary("and", std::move(left), parse_not(), pos);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this, cur().pos);
      auto u = make(Expr::Kind::Unary, next().pos);
      u->name = "not";
      u->args.push_back(parse_not());
      return u;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const SourcePos pos = cur().pos;
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().kind == TokenKind::Operator &&
          (cur().value == "==" || cur().value == "!=" || cur().value == "<" ||
           cur().value == "<=" || cur().value == ">" || cur().value == ">=")) {
        op = next().value;
      } else if (is_name("in")) {
        next();
        op = "in";
      } else if (is_name("not") && peek().kind == TokenKind::Name && peek().value == "in") {
        next();
        next();
        op = "not in";
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(Expr::Kind::Compare, pos);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& t = next();
      left = binary(t.value, std::move(left), parse_concat(), t.pos);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (is_op("~")) {
      const SourcePos pos = next().pos;
      left = binary("~", std::move(left), parse_math2(), pos);
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& t = next();
      left = binary(t.value, std::move(left), parse_pow(), t.pos);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
      const SourcePos pos = next().pos;
      left = binary("**", std::move(left), parse_unary(true), pos);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this, cur().pos);
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      const Token& t = next();
      node = make(Expr::Kind::Unary, t.pos);
      node->name = t.value;
      node->args.push_back(parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr literal(Value v, SourcePos pos) {
    auto e = make(Expr::Kind::Literal, pos);
    e->literal = std::move(v);
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    const SourcePos pos = t.pos;
    switch (t.kind) {
      case TokenKind::Name: {
        next();
        if (t.value == "true" || t.value == "True") return literal(Value::boolean(true), pos);
        if (t.value == "false" || t.value == "False") return literal(Value::boolean(false), pos);
        if (t.value == "none" || t.value == "None") return literal(Value::none(), pos);
        auto e = make(Expr::Kind::Name, pos);
        e->name = t.value;
        return e;
      }
      case TokenKind::String: {
        std::string s = next().value;
        while (cur().kind == TokenKind::String) s += next().value;  // adjacent literals join
        return literal(Value::string(std::move(s)), pos);
      }
      case TokenKind::Int: {
        const std::string& digits = next().value;
        int64_t v = 0;
        const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) {
          throw TemplateError("integer literal " + digits + " is out of range", pos);
        }
        return literal(Value::integer(v), pos);
      }
      case TokenKind::Float:
        return literal(Value::number(std::strtod(next().value.c_str(), nullptr)), pos);
      case TokenKind::Operator:
        if (t.value == "(") {
          next();
          if (is_op(")")) {
            next();
            return make(Expr::Kind::Tuple, pos);
          }
          ExprPtr inner = parse_tuple(true);
          expect_op(")");
          return inner;
        }
        if (t.value == "[") {
          next();
          auto list = make(Expr::Kind::List, pos);
          while (!is_op("]")) {
            list->args.push_back(parse_expression());
            if (!is_op(",")) break;
            next();
          }
          expect_op("]");
          return list;
        }
        if (t.value == "{") {
          next();
          auto dict = make(Expr::Kind::Dict, pos);
          while (!is_op("}")) {
            dict->args.push_back(parse_expression());
            expect_op(":");
            dict->args.push_back(parse_expression());
            if (!is_op(",")) break;
            next();
          }
          expect_op("}");
          return dict;
        }
        break;
      default:
        break;
    }
    unexpected("an expression");
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".")) {
        next();
        const SourcePos pos = node->pos;
        if (cur().kind == TokenKind::Name) {
          auto a = make(Expr::Kind::Attr, pos);
          a->name = next().value;
          a->args.push_back(std::move(node));
          node = std::move(a);
        } else if (cur().kind == TokenKind::Int) {
          auto i = make(Expr::Kind::Item, pos);
          i->args.push_back(std::move(node));
          i->args.push_back(parse_primary());
          node = std::move(i);
        } else {
          unexpected("an attribute name after '.'");
        }
      } else if (is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object) {
    next();  // [
    const SourcePos pos = object->pos;
    ExprPtr parts[3];
    bool slice = false;
    if (!is_op(":")) parts[0] = parse_expression();
    if (is_op(":")) {
      slice = true;
      next();
      if (!is_op("]") && !is_op(":")) parts[1] = parse_expression();
      if (is_op(":")) {
        next();
        if (!is_op("]")) parts[2] = parse_expression();
      }
    }
    expect_op("]");
    if (!slice) {
      auto i = make(Expr::Kind::Item, pos);
      i->args.push_back(std::move(object));
      i->args.push_back(std::move(parts[0]));
      return i;
    }
    auto s = make(Expr::Kind::Slice, pos);
    s->args.push_back(std::move(object));
    for (auto& p : parts) s->args.push_back(std::move(p));
    return s;
  }

  // "(" args ")" into e->args (after any already there) and e->kwargs.
  void parse_call_args(Expr& e) {
    expect_op("(");
    while (!is_op(")")) {
      if (is_op("*") || is_op("**")) fail("argument unpacking (* and **) is not supported");
      if (cur().kind == TokenKind::Name && peek().kind == TokenKind::Operator &&
          peek().value == "=") {
        std::string key = next().value;
        next();
        for (const auto& [k, v] : e.kwargs) {
          if (k == key) fail("keyword argument '" + key + "' repeated");
        }
        e.kwargs.emplace_back(std::move(key), parse_expression());
      } else {
        if (!e.kwargs.empty()) fail("a positional argument follows keyword arguments");
        e.args.push_back(parse_expression());
      }
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
  }

  // Calls, attributes and subscripts are reported at the start of their whole expression.
  ExprPtr parse_call(ExprPtr callee) {
    auto c = make(Expr::Kind::Call, callee->pos);
    c->args.push_back(std::move(callee));
    parse_call_args(*c);
    return c;
  }

  ExprPtr parse_filter(ExprPtr operand) {
    const SourcePos pos = cur().pos;
    auto f = make(Expr::Kind::Filter, pos);
    f->name = expect_name("a filter name");
    f->args.push_back(std::move(operand));
    if (is_op("(")) parse_call_args(*f);
    return f;
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        next();
        node = parse_filter(std::move(node));
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_test(ExprPtr operand) {
    next();  // is
    auto t = make(Expr::Kind::Test, cur().pos);
    if (is_name("not")) {
      next();
      t->negate = true;
      t->pos = cur().pos;
    }
    t->name = expect_name("a test name");
    t->args.push_back(std::move(operand));
    if (is_op("(")) {
      parse_call_args(*t);
    } else if ((cur().kind == TokenKind::Name || cur().kind == TokenKind::String ||
                cur().kind == TokenKind::Int || cur().kind == TokenKind::Float || is_op("[") ||
                is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and") && !is_name("is") &&
               !is_name("if") && !is_name("in") && !is_name("not")) {
      t->args.push_back(parse_postfix(parse_primary()));  // "is divisibleby 3"
    }
    return t;
  }

  std::vector<Token> tokens_;
  const ParseOptions& options_;
  size_t at_ = 0;
  size_t depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

std::unique_ptr<Program> parse_template(std::string_view source, const ParseOptions& options) {
  return Parser(tokenize_template(source, options.lexer), options).run();
}

}  // namespace llmops::server::jinja
