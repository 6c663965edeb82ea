// The syntax tree of a Jinja template: expressions and statements, each with the source
// position that errors name. Built by jinja_parser, walked by jinja_interpreter.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja_value.h"

namespace llmops::server::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    Literal,  // literal
    Name,     // name
    List,     // args: items
    Tuple,    // args: items
    Dict,     // args: key0, value0, key1, value1, …
    Attr,     // args[0].name
    Item,     // args[0][args[1]]
    Slice,    // args[0][args[1]:args[2]:args[3]] (each of 1..3 may be null)
    Call,     // args[0](args[1..], kwargs)
    Filter,   // args[0] | name(args[1..], kwargs); args[0] is null in filter blocks
    Test,     // args[0] is [not] name(args[1..], kwargs)
    Unary,    // name ("not", "-", "+") args[0]
    Binary,   // args[0] name args[1]: + - * / // % ** ~ and or
    Compare,  // args[0] ops[0] args[1] ops[1] args[2] … (== != < <= > >= in "not in")
    Cond,     // args[0] if args[1] else args[2] (args[2] may be null)
  };
  Kind kind;
  SourcePos pos;
  Value literal;
  std::string name;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool negate = false;
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

// A macro's (or call block's) parameters, and which of the special names its body reads.
struct Params {
  std::vector<std::string> names;
  std::vector<ExprPtr> defaults;  // one per name, null when none
  bool uses_caller = false;
  bool uses_varargs = false;
  bool uses_kwargs = false;
};

struct Stmt {
  enum class Kind {
    Text,         // text
    Output,       // {{ expr }}
    If,           // branches (cond, body)…, else_body
    For,          // for targets in expr [if cond]: body [else else_body]
    Set,          // set targets = expr | set targets[0].attr = expr
    SetBlock,     // set targets[0] [| filters] %} body {% endset
    Macro,        // macro name(params) body
    CallBlock,    // call(params) expr %} body {% endcall
    FilterBlock,  // filter filters %} body {% endfilter
    Group,        // a body rendered in place ({% generation %})
    Break,
    Continue,
  };
  Kind kind;
  SourcePos pos;
  std::string text;
  ExprPtr expr;
  ExprPtr cond;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  std::vector<std::string> targets;
  std::string attr;  // Set of a namespace attribute: targets[0].attr
  std::string name;  // Macro
  Params params;     // Macro, CallBlock
  std::vector<ExprPtr> filters;
};

struct Program {
  Body body;
};

}  // namespace llmops::server::jinja
