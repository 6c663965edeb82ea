// Argument binding and value coercions shared by the builtins (filters, tests, methods,
// globals): a builtin names its parameters and reads them by position or keyword.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "jinja_value.h"

namespace llmops::server::jinja {

[[noreturn]] void type_error(const std::string& message);

// Binds a builtin's arguments by position or keyword to its parameter names.
class Args {
 public:
  Args(std::string fn, CallArgs& args, std::initializer_list<const char*> names)
      : fn_(std::move(fn)), names_(names), values_(names.size()), given_(names.size(), false) {
    if (args.positional.size() > names_.size()) {
      type_error(fn_ + "() takes at most " + std::to_string(names_.size()) + " argument(s), got " +
                 std::to_string(args.positional.size()));
    }
    for (size_t i = 0; i < args.positional.size(); ++i) {
      values_[i] = args.positional[i];
      given_[i] = true;
    }
    for (auto& [key, value] : args.keyword) {
      size_t i = 0;
      while (i < names_.size() && key != names_[i]) ++i;
      if (i == names_.size())
        type_error(fn_ + "() got an unexpected keyword argument '" + key + "'");
      if (given_[i]) type_error(fn_ + "() got multiple values for argument '" + key + "'");
      values_[i] = value;
      given_[i] = true;
    }
  }

  bool given(size_t i) const { return given_[i] && !values_[i].is_none(); }
  const Value& get(size_t i) const { return values_[i]; }
  const Value& require(size_t i) const {
    if (!given_[i]) type_error(fn_ + "() missing required argument '" + names_[i] + "'");
    return values_[i];
  }
  bool flag(size_t i, bool fallback) const { return given(i) ? values_[i].truthy() : fallback; }
  int64_t integer(size_t i, int64_t fallback) const {
    if (!given(i)) return fallback;
    const Value& v = values_[i];
    if (v.is_int()) return v.as_int();
    if (v.is_bool()) return v.as_bool();
    type_error(fn_ + "() argument '" + names_[i] + "' must be an integer, got " + v.type_name());
  }
  const Text& text(size_t i) const {
    const Value& v = require(i);
    if (!v.is_string()) {
      type_error(fn_ + "() argument '" + names_[i] + "' must be a string, got " + v.type_name());
    }
    return v.text();
  }

 private:
  std::string fn_;
  std::vector<const char*> names_;
  std::vector<Value> values_;
  std::vector<bool> given_;
};

const Text& require_string(const Value& v, const std::string& what);
const std::vector<Value>& require_list(const Value& v, const std::string& what);
int64_t to_int_checked(const Value& v, const std::string& what);

// A dotted attribute path ("a.b", or an int index) of an item, as sort/map/selectattr take it.
Value attribute_path(const Value& item, const Value& attribute);
// Strings lowercased unless case_sensitive (Jinja's sort, unique, min, max).
Value sort_key(const Value& v, bool case_sensitive);
// Python's stable sorted() with Jinja's options; throws for values that do not order.
std::vector<Value> sorted(std::vector<Value> items, bool reverse, bool case_sensitive,
                          const Value& attribute);
// A 2-tuple (dict items).
Value pair(Value a, Value b);

}  // namespace llmops::server::jinja
