// Renders a parsed template with Jinja2's semantics: a scope per for-loop iteration and
// per macro call (so "set" inside a loop does not leak; namespace() does), Python's
// operators and truth values, undefined values that render as "" but fail when used.
// Every render is bounded (output size, loop iterations, macro depth, evaluation steps):
// exceeding a bound is a TemplateError, never a hang or a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja_ast.h"
#include "jinja_value.h"

namespace llmops::server::jinja {

struct RenderLimits {
  size_t max_output_bytes = 8 << 20;         // the output and any string or list computed
  uint64_t max_loop_iterations = 1'000'000;  // over the whole render (and range() sizes)
  size_t max_call_depth = 100;               // nested macro calls
  uint64_t max_steps = 50'000'000;           // statements and expressions evaluated
};

struct RenderOptions {
  RenderLimits limits;
  // strftime_now's clock (local time of this instant); default: the system clock.
  std::function<std::time_t()> now;
};

// Variables scoped to a for-loop iteration, a macro call or the template.
struct Frame {
  std::shared_ptr<Frame> parent;
  std::vector<std::pair<std::string, Value>> vars;

  const Value* lookup(const std::string& name) const;
  void set(const std::string& name, Value value);
};

class Interpreter {
 public:
  explicit Interpreter(const RenderOptions& options);

  // Renders `program` with `variables` (the template's context) into Text.
  Text render(const Program& program, const std::vector<std::pair<std::string, Value>>& variables);

  // For builtins: call a function value, apply a filter or test by name, count work.
  Value call(const Value& fn, CallArgs& args);
  Value apply_filter(const std::string& name, const Value& operand, CallArgs& args);
  bool apply_test(const std::string& name, const Value& operand, CallArgs& args);
  void check_string_size(size_t bytes) const;
  void check_list_size(size_t items) const;
  void count_iterations(uint64_t n);
  std::time_t now() const;

 private:
  enum class Flow { Normal, Break, Continue };

  Flow exec_body(const Body& body, const std::shared_ptr<Frame>& frame, Text& out);
  Flow exec(const Stmt& s, const std::shared_ptr<Frame>& frame, Text& out);
  void exec_for(const Stmt& s, const std::shared_ptr<Frame>& frame, Text& out);
  void exec_set(const Stmt& s, const std::shared_ptr<Frame>& frame);
  Value define_macro(const Stmt& s, const std::shared_ptr<Frame>& frame);
  Value call_macro(const Stmt& s, const std::shared_ptr<Frame>& defined_in, CallArgs& args,
                   const std::string& display_name);
  Value apply_filter_chain(const std::vector<ExprPtr>& filters, Value value,
                           const std::shared_ptr<Frame>& frame);

  Value eval(const Expr& e, const std::shared_ptr<Frame>& frame);
  Value eval_inner(const Expr& e, const std::shared_ptr<Frame>& frame);
  CallArgs eval_args(const Expr& e, size_t first, const std::shared_ptr<Frame>& frame);
  Value eval_binary(const Expr& e, const std::shared_ptr<Frame>& frame);
  Value eval_compare(const Expr& e, const std::shared_ptr<Frame>& frame);
  void emit(Text& out, const Text& text) const;
  void step();

  RenderOptions options_;
  uint64_t steps_ = 0;
  uint64_t iterations_ = 0;
  size_t call_depth_ = 0;
};

// Binds the targets of a for loop or a set statement ("a" or "a, b").
void bind_targets(Frame& frame, const std::vector<std::string>& targets, const Value& value);

}  // namespace llmops::server::jinja
