#include "jinja_interpreter.h"

#include <exception>

#include "jinja_builtins.h"

namespace llmops::server::jinja {

const Value* Frame::lookup(const std::string& name) const {
  for (const Frame* f = this; f; f = f->parent.get()) {
    for (const auto& [k, v] : f->vars) {
      if (k == name) return &v;
    }
  }
  return nullptr;
}

void Frame::set(const std::string& name, Value value) {
  for (auto& [k, v] : vars) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  vars.emplace_back(name, std::move(value));
}

void bind_targets(Frame& frame, const std::vector<std::string>& targets, const Value& value) {
  if (targets.size() == 1) {
    frame.set(targets[0], value);
    return;
  }
  const std::vector<Value> items = iterate(value);
  if (!(value.is_list() || value.is_string()) || items.size() != targets.size()) {
    throw std::invalid_argument("cannot unpack " + value.type_name() + " of " +
                                std::to_string(items.size()) + " items into " +
                                std::to_string(targets.size()) + " names");
  }
  for (size_t i = 0; i < targets.size(); ++i) frame.set(targets[i], items[i]);
}

Interpreter::Interpreter(const RenderOptions& options) : options_(options) {}

std::time_t Interpreter::now() const {
  return options_.now ? options_.now() : std::time(nullptr);
}

void Interpreter::step() {
  if (++steps_ > options_.limits.max_steps) {
    throw std::runtime_error("the template did not finish within " +
                             std::to_string(options_.limits.max_steps) + " evaluation steps");
  }
}

void Interpreter::check_string_size(size_t bytes) const {
  if (bytes > options_.limits.max_output_bytes) {
    throw std::runtime_error("a string of " + std::to_string(bytes) +
                             " bytes exceeds the template output limit of " +
                             std::to_string(options_.limits.max_output_bytes));
  }
}

void Interpreter::check_list_size(size_t items) const {
  if (items > options_.limits.max_loop_iterations) {
    throw std::runtime_error("a list of " + std::to_string(items) + " items exceeds the limit of " +
                             std::to_string(options_.limits.max_loop_iterations));
  }
}

void Interpreter::count_iterations(uint64_t n) {
  iterations_ += n;
  if (iterations_ > options_.limits.max_loop_iterations) {
    throw std::runtime_error("the template ran more than " +
                             std::to_string(options_.limits.max_loop_iterations) +
                             " loop iterations");
  }
}

void Interpreter::emit(Text& out, const Text& text) const {
  check_string_size(out.size() + text.size());
  out.append(text);
}

Text Interpreter::render(const Program& program,
                         const std::vector<std::pair<std::string, Value>>& variables) {
  auto globals = std::make_shared<Frame>();
  for (auto& [name, value] : builtin_globals()) globals->set(name, std::move(value));
  auto context = std::make_shared<Frame>();
  context->parent = globals;
  for (const auto& [name, value] : variables) context->set(name, value);
  auto top = std::make_shared<Frame>();
  top->parent = context;
  Text out;
  exec_body(program.body, top, out);
  return out;
}

Interpreter::Flow Interpreter::exec_body(const Body& body, const std::shared_ptr<Frame>& frame,
                                         Text& out) {
  for (const auto& s : body) {
    const Flow flow = exec(*s, frame, out);
    if (flow != Flow::Normal) return flow;
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, const std::shared_ptr<Frame>& frame, Text& out) {
  try {
    step();
    switch (s.kind) {
      case Stmt::Kind::Text:
        emit(out, Text(s.text));
        return Flow::Normal;
      case Stmt::Kind::Output:
        emit(out, to_text(eval(*s.expr, frame)));
        return Flow::Normal;
      case Stmt::Kind::If:
        for (const auto& [cond, body] : s.branches) {
          if (eval(*cond, frame).truthy()) return exec_body(body, frame, out);
        }
        return exec_body(s.else_body, frame, out);
      case Stmt::Kind::For:
        exec_for(s, frame, out);
        return Flow::Normal;
      case Stmt::Kind::Set:
        exec_set(s, frame);
        return Flow::Normal;
      case Stmt::Kind::SetBlock: {
        Text captured;
        exec_body(s.body, frame, captured);
        frame->set(s.targets[0], apply_filter_chain(s.filters, Value::string(captured), frame));
        return Flow::Normal;
      }
      case Stmt::Kind::Macro:
        frame->set(s.name, define_macro(s, frame));
        return Flow::Normal;
      case Stmt::Kind::CallBlock: {
        // caller() renders the block's body in the scope of the call, with its own params.
        const Stmt* block = &s;
        std::weak_ptr<Frame> weak_scope = frame;
        Value caller =
            Value::function("caller", [this, block, weak_scope](CallArgs& args, Interpreter&) {
              const auto scope = weak_scope.lock();
              if (!scope) throw std::runtime_error("caller() outlived its call block");
              return call_macro(*block, scope, args, "caller");
            });
        const Expr& call = *s.expr;
        Value fn = eval(*call.args[0], frame);
        CallArgs args = eval_args(call, 1, frame);
        args.keyword.emplace_back("caller", std::move(caller));
        emit(out, to_text(this->call(fn, args)));
        return Flow::Normal;
      }
      case Stmt::Kind::FilterBlock: {
        Text captured;
        exec_body(s.body, frame, captured);
        emit(out, to_text(apply_filter_chain(s.filters, Value::string(captured), frame)));
        return Flow::Normal;
      }
      case Stmt::Kind::Group:
        return exec_body(s.body, frame, out);
      case Stmt::Kind::Break:
        return Flow::Break;
      case Stmt::Kind::Continue:
        return Flow::Continue;
    }
    return Flow::Normal;
  } catch (const TemplateError&) {
    throw;
  } catch (const std::exception& e) {
    throw TemplateError(e.what(), s.pos);
  }
}

void Interpreter::exec_for(const Stmt& s, const std::shared_ptr<Frame>& frame, Text& out) {
  const Value iterable = eval(*s.expr, frame);
  if (!(iterable.is_list() || iterable.is_dict() || iterable.is_string() ||
        iterable.is_undefined())) {
    throw std::invalid_argument("'" + iterable.type_name() + "' object is not iterable");
  }
  std::vector<Value> items = iterate(iterable);
  if (s.cond) {
    std::vector<Value> kept;
    for (auto& item : items) {
      count_iterations(1);
      auto scope = std::make_shared<Frame>();
      scope->parent = frame;
      bind_targets(*scope, s.targets, item);
      if (eval(*s.cond, scope).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  const int64_t n = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < n; ++i) {
    count_iterations(1);
    auto scope = std::make_shared<Frame>();
    scope->parent = frame;
    bind_targets(*scope, s.targets, items[i]);
    DictData loop;
    loop.set(Text("index"), Value::integer(i + 1));
    loop.set(Text("index0"), Value::integer(i));
    loop.set(Text("revindex"), Value::integer(n - i));
    loop.set(Text("revindex0"), Value::integer(n - i - 1));
    loop.set(Text("first"), Value::boolean(i == 0));
    loop.set(Text("last"), Value::boolean(i == n - 1));
    loop.set(Text("length"), Value::integer(n));
    loop.set(Text("depth"), Value::integer(1));
    loop.set(Text("depth0"), Value::integer(0));
    loop.set(Text("previtem"),
             i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
    loop.set(Text("nextitem"),
             i + 1 < n ? items[i + 1] : Value::undefined("there is no next item"));
    loop.set(Text("cycle"), Value::function("cycle", [i](CallArgs& args, Interpreter&) {
               if (args.positional.empty())
                 throw std::invalid_argument("no items for cycling given");
               return args.positional[static_cast<size_t>(i) % args.positional.size()];
             }));
    scope->set("loop", Value::dict(std::move(loop)));
    const Flow flow = exec_body(s.body, scope, out);
    if (flow == Flow::Break) break;
  }
  if (n == 0) exec_body(s.else_body, frame, out);
}

namespace {

// A namespace is the one mutable value: refuse assignments that would make it contain
// itself (a reference cycle) or nest deeper than kMaxValueDepth. Counts visited values.
void check_namespace_assignment(const Value& v, const DictData* ns, int depth, uint64_t& visited) {
  if (depth > kMaxValueDepth) {
    throw std::invalid_argument("a value assigned to a namespace nests deeper than " +
                                std::to_string(kMaxValueDepth) + " levels");
  }
  ++visited;
  if (v.is_list()) {
    for (const auto& item : v.items()) check_namespace_assignment(item, ns, depth + 1, visited);
  } else if (v.is_dict() || v.is_namespace()) {
    if (&v.dict() == ns) throw std::invalid_argument("a namespace cannot contain itself");
    for (const auto& [k, item] : v.dict().entries)
      check_namespace_assignment(item, ns, depth + 1, visited);
  } else if (v.is_function()) {
    for (const auto& item : v.function().captured)
      check_namespace_assignment(item, ns, depth + 1, visited);
  }
}

}  // namespace

void Interpreter::exec_set(const Stmt& s, const std::shared_ptr<Frame>& frame) {
  Value value = eval(*s.expr, frame);
  if (!s.attr.empty()) {
    const Value* ns = frame->lookup(s.targets[0]);
    if (!ns || !ns->is_namespace()) {
      throw std::invalid_argument("cannot assign attribute '" + s.attr + "' of '" + s.targets[0] +
                                  "': it is not a namespace");
    }
    uint64_t visited = 0;
    check_namespace_assignment(value, &ns->dict(), 0, visited);
    steps_ += visited;
    step();
    ns->mutable_namespace().set(Text(s.attr), std::move(value));
    return;
  }
  bind_targets(*frame, s.targets, value);
}

Value Interpreter::define_macro(const Stmt& s, const std::shared_ptr<Frame>& frame) {
  const Stmt* macro = &s;
  // The macro sees the scope it was defined in (late binding: names set there later count).
  std::weak_ptr<Frame> defined_in = frame;
  return Value::function(s.name, [this, macro, defined_in](CallArgs& args, Interpreter&) {
    const auto scope = defined_in.lock();
    if (!scope) throw std::runtime_error("macro '" + macro->name + "' outlived its scope");
    return call_macro(*macro, scope, args, "macro '" + macro->name + "'");
  });
}

Value Interpreter::call_macro(const Stmt& s, const std::shared_ptr<Frame>& defined_in,
                              CallArgs& args, const std::string& display_name) {
  if (call_depth_ >= options_.limits.max_call_depth) {
    throw std::runtime_error("macro calls nested deeper than " +
                             std::to_string(options_.limits.max_call_depth) +
                             " levels (endless recursion?) in " + display_name);
  }
  struct DepthGuard {
    size_t& depth;
    explicit DepthGuard(size_t& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
  } guard(call_depth_);

  const Params& p = s.params;
  auto scope = std::make_shared<Frame>();
  scope->parent = defined_in;
  const size_t n_params = p.names.size();
  std::vector<bool> bound(n_params, false);
  for (size_t i = 0; i < args.positional.size() && i < n_params; ++i) {
    scope->set(p.names[i], args.positional[i]);
    bound[i] = true;
  }
  if (args.positional.size() > n_params) {
    if (!p.uses_varargs) {
      throw std::invalid_argument(display_name + " takes not more than " +
                                  std::to_string(n_params) + " argument(s)");
    }
  }
  std::vector<Value> varargs(args.positional.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                           n_params, args.positional.size())),
                             args.positional.end());
  DictData kwargs;
  Value caller;
  for (auto& [key, value] : args.keyword) {
    size_t i = 0;
    while (i < n_params && p.names[i] != key) ++i;
    if (i < n_params) {
      if (bound[i])
        throw std::invalid_argument(display_name + " got multiple values for '" + key + "'");
      scope->set(key, value);
      bound[i] = true;
    } else if (key == "caller" && p.uses_caller) {
      caller = value;
    } else if (p.uses_kwargs) {
      kwargs.set(Text(key), value);
    } else {
      throw std::invalid_argument(display_name + " takes no keyword argument '" + key + "'");
    }
  }
  for (size_t i = 0; i < n_params; ++i) {
    if (bound[i]) continue;
    scope->set(p.names[i],
               p.defaults[i] ? eval(*p.defaults[i], scope)
                             : Value::undefined("parameter '" + p.names[i] + "' was not provided"));
  }
  if (p.uses_varargs) scope->set("varargs", Value::list(std::move(varargs), true));
  if (p.uses_kwargs) scope->set("kwargs", Value::dict(std::move(kwargs)));
  if (p.uses_caller) scope->set("caller", caller);
  Text out;
  exec_body(s.body, scope, out);
  return Value::string(std::move(out));
}

Value Interpreter::apply_filter_chain(const std::vector<ExprPtr>& filters, Value value,
                                      const std::shared_ptr<Frame>& frame) {
  for (const auto& f : filters) {
    CallArgs args = eval_args(*f, 1, frame);
    value = apply_filter(f->name, value, args);
  }
  return value;
}

Value Interpreter::call(const Value& fn, CallArgs& args) {
  if (fn.is_undefined()) throw std::invalid_argument(fn.undefined_hint());
  if (!fn.is_function())
    throw std::invalid_argument("'" + fn.type_name() + "' object is not callable");
  return fn.function().fn(args, *this);
}

Value Interpreter::apply_filter(const std::string& name, const Value& operand, CallArgs& args) {
  return builtin_filter(*this, name, operand, args);
}

bool Interpreter::apply_test(const std::string& name, const Value& operand, CallArgs& args) {
  return builtin_test(*this, name, operand, args);
}

CallArgs Interpreter::eval_args(const Expr& e, size_t first, const std::shared_ptr<Frame>& frame) {
  CallArgs args;
  for (size_t i = first; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i], frame));
  for (const auto& [k, v] : e.kwargs) args.keyword.emplace_back(k, eval(*v, frame));
  return args;
}

Value Interpreter::eval(const Expr& e, const std::shared_ptr<Frame>& frame) {
  try {
    step();
    Value v = eval_inner(e, frame);
    if (v.is_string()) check_string_size(v.text().size());
    return v;
  } catch (const TemplateError&) {
    throw;
  } catch (const std::exception& ex) {
    throw TemplateError(ex.what(), e.pos);
  }
}

Value Interpreter::eval_inner(const Expr& e, const std::shared_ptr<Frame>& frame) {
  switch (e.kind) {
    case Expr::Kind::Literal:
      return e.literal;
    case Expr::Kind::Name: {
      const Value* v = frame->lookup(e.name);
      return v ? *v : Value::undefined("'" + e.name + "' is undefined");
    }
    case Expr::Kind::List:
    case Expr::Kind::Tuple: {
      std::vector<Value> items;
      for (const auto& a : e.args) items.push_back(eval(*a, frame));
      return Value::list(std::move(items), e.kind == Expr::Kind::Tuple);
    }
    case Expr::Kind::Dict: {
      DictData d;
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        const Value key = eval(*e.args[i], frame);
        if (!key.is_string())
          throw std::invalid_argument("dict keys must be strings, got " + key.type_name());
        d.set(key.text(), eval(*e.args[i + 1], frame));
      }
      return Value::dict(std::move(d));
    }
    case Expr::Kind::Attr:
      return get_attribute(eval(*e.args[0], frame), e.name);
    case Expr::Kind::Item:
      return get_item(eval(*e.args[0], frame), eval(*e.args[1], frame));
    case Expr::Kind::Slice: {
      const Value object = eval(*e.args[0], frame);
      Value parts[3];
      for (int i = 0; i < 3; ++i) {
        if (e.args[1 + i]) parts[i] = eval(*e.args[1 + i], frame);
      }
      return slice_value(object, parts[0], parts[1], parts[2]);
    }
    case Expr::Kind::Call: {
      const Value fn = eval(*e.args[0], frame);
      CallArgs args = eval_args(e, 1, frame);
      return call(fn, args);
    }
    case Expr::Kind::Filter: {
      const Value operand = eval(*e.args[0], frame);
      CallArgs args = eval_args(e, 1, frame);
      return apply_filter(e.name, operand, args);
    }
    case Expr::Kind::Test: {
      const Value operand = eval(*e.args[0], frame);
      CallArgs args = eval_args(e, 1, frame);
      return Value::boolean(apply_test(e.name, operand, args) != e.negate);
    }
    case Expr::Kind::Unary: {
      const Value v = eval(*e.args[0], frame);
      if (e.name == "not") return Value::boolean(!v.truthy());
      if (v.is_undefined()) throw std::invalid_argument(v.undefined_hint());
      if (v.is_float()) return Value::number(e.name == "-" ? -v.as_double() : v.as_double());
      if (v.is_int() || v.is_bool()) {
        const int64_t i = v.is_bool() ? v.as_bool() : v.as_int();
        if (e.name == "-" && i == INT64_MIN) throw std::overflow_error("integer overflow");
        return Value::integer(e.name == "-" ? -i : i);
      }
      throw std::invalid_argument("bad operand type for unary " + e.name + ": '" + v.type_name() +
                                  "'");
    }
    case Expr::Kind::Binary:
      return eval_binary(e, frame);
    case Expr::Kind::Compare:
      return eval_compare(e, frame);
    case Expr::Kind::Cond:
      if (eval(*e.args[1], frame).truthy()) return eval(*e.args[0], frame);
      if (e.args[2]) return eval(*e.args[2], frame);
      return Value::undefined("the conditional expression has no else branch");
  }
  return Value();
}

Value Interpreter::eval_binary(const Expr& e, const std::shared_ptr<Frame>& frame) {
  const Value left = eval(*e.args[0], frame);
  if (e.name == "and") return left.truthy() ? eval(*e.args[1], frame) : left;
  if (e.name == "or") return left.truthy() ? left : eval(*e.args[1], frame);
  const Value right = eval(*e.args[1], frame);
  return binary_op(*this, e.name, left, right);
}

Value Interpreter::eval_compare(const Expr& e, const std::shared_ptr<Frame>& frame) {
  Value left = eval(*e.args[0], frame);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.args[i + 1], frame);
    const std::string& op = e.ops[i];
    bool result = false;
    if (op == "==") {
      result = values_equal(left, right);
    } else if (op == "!=") {
      result = !values_equal(left, right);
    } else if (op == "in") {
      result = contains(right, left);
    } else if (op == "not in") {
      result = !contains(right, left);
    } else {
      if (left.is_undefined()) throw std::invalid_argument(left.undefined_hint());
      if (right.is_undefined()) throw std::invalid_argument(right.undefined_hint());
      if (op == "<") result = value_less(left, right);
      if (op == ">") result = value_less(right, left);
      if (op == "<=") result = !value_less(right, left);
      if (op == ">=") result = !value_less(left, right);
    }
    if (!result) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

}  // namespace llmops::server::jinja
