// Jinja's built-in filters and tests, the methods of str and dict values that chat
// templates call (strip, split, startswith, items, get, …), Python's operators, and the
// globals transformers gives chat templates (range, namespace, dict, raise_exception,
// strftime_now). Errors are std::exceptions; the interpreter adds the source position.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "jinja_interpreter.h"
#include "jinja_value.h"

namespace llmops::server::jinja {

// Throws std::invalid_argument for an unknown filter or test, or bad arguments.
Value builtin_filter(Interpreter& in, const std::string& name, const Value& operand,
                     CallArgs& args);
bool builtin_test(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args);

// obj.name: a method of str/dict values (as a bound function) or a dict key; undefined
// when absent; throws when obj itself is undefined (as Jinja2 does).
Value get_attribute(const Value& object, const std::string& name);
// obj[key]: list/str index (negative from the end), dict key; undefined when absent.
Value get_item(const Value& object, const Value& key);
// obj[start:stop:step] of a list or str (Python's rules; characters, not bytes).
Value slice_value(const Value& object, const Value& start, const Value& stop, const Value& step);

// + - * / // % ** ~ with Python's types; throws std::invalid_argument on a type mismatch.
Value binary_op(Interpreter& in, const std::string& op, const Value& a, const Value& b);
// `item in container`.
bool contains(const Value& container, const Value& item);
// The items a for loop sees: list items, dict keys, str characters; nothing for undefined.
std::vector<Value> iterate(const Value& value);

std::vector<std::pair<std::string, Value>> builtin_globals();

}  // namespace llmops::server::jinja
