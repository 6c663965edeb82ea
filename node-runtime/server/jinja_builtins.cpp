#include "jinja_builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <stdexcept>

#include "jinja_args.h"
#include "jinja_strings.h"

namespace llmops::server::jinja {

[[noreturn]] void type_error(const std::string& message) {
  throw std::invalid_argument(message);
}

const Text& require_string(const Value& v, const std::string& what) {
  if (v.is_undefined()) type_error(v.undefined_hint());
  if (!v.is_string()) type_error(what + " needs a string, got " + v.type_name());
  return v.text();
}

const std::vector<Value>& require_list(const Value& v, const std::string& what) {
  if (v.is_undefined()) type_error(v.undefined_hint());
  if (!v.is_list()) type_error(what + " needs a list, got " + v.type_name());
  return v.items();
}

int64_t to_int_checked(const Value& v, const std::string& what) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool();
  if (v.is_undefined()) type_error(v.undefined_hint());
  type_error(what + " must be an integer, got " + v.type_name());
}

// ---- sorting helpers ----

// A dotted attribute path ("a.b" or "0") of an item, as sort/map/selectattr take it.
Value attribute_path(const Value& item, const Value& attribute) {
  if (attribute.is_int()) return get_item(item, attribute);
  Value v = item;
  const std::string& path = require_string(attribute, "attribute").str();
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v.is_undefined()) return v;
    const bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    v = numeric && v.is_list() ? get_item(v, Value::integer(std::atoll(part.c_str())))
                               : get_item(v, Value::string(part));
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(ascii_lower(v.text().str()));
  return v;
}

std::vector<Value> sorted(std::vector<Value> items, bool reverse, bool case_sensitive,
                          const Value& attribute) {
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& item : items) {
    Value key =
        attribute.is_undefined() || attribute.is_none() ? item : attribute_path(item, attribute);
    keyed.emplace_back(sort_key(key, case_sensitive), std::move(item));
  }
  std::stable_sort(keyed.begin(), keyed.end(), [reverse](const auto& a, const auto& b) {
    return reverse ? value_less(b.first, a.first) : value_less(a.first, b.first);
  });
  std::vector<Value> out;
  for (auto& [k, v] : keyed) out.push_back(std::move(v));
  return out;
}

Value pair(Value a, Value b) {
  return Value::list({std::move(a), std::move(b)}, true);
}

namespace {

using Kind = Value::Kind;

int64_t checked(bool overflow, int64_t value) {
  if (overflow) throw std::overflow_error("integer overflow");
  return value;
}

// ---- operators ----

Value arithmetic(Interpreter& in, const std::string& op, const Value& a, const Value& b) {
  const bool a_num = a.is_number() || a.is_bool(), b_num = b.is_number() || b.is_bool();
  if (op == "*" && (a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) {
    const int64_t n = std::max<int64_t>(0, b.is_bool() ? b.as_bool() : b.as_int());
    if (a.is_string()) {
      if (n > 0)
        in.check_string_size(a.text().size() *
                             static_cast<size_t>(std::min<int64_t>(n, INT32_MAX)));
      Text out;
      for (int64_t i = 0; i < n; ++i) out.append(a.text());
      return Value::string(std::move(out));
    }
    if (n > 0)
      in.check_list_size(a.items().size() * static_cast<size_t>(std::min<int64_t>(n, INT32_MAX)));
    std::vector<Value> out;
    for (int64_t i = 0; i < n; ++i) out.insert(out.end(), a.items().begin(), a.items().end());
    return Value::list(std::move(out));
  }
  if (op == "*" && (b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) {
    return arithmetic(in, op, b, a);
  }
  if (!a_num || !b_num) {
    if (a.is_string() && op == "%") type_error("string formatting with '%' is not supported");
    type_error("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
               b.type_name() + "'");
  }
  if (a.is_float() || b.is_float() || op == "/") {
    const double x = a.as_double(), y = b.as_double();
    if ((op == "/" || op == "//" || op == "%") && y == 0.0)
      throw std::domain_error("division by zero");
    if (op == "+") return Value::number(x + y);
    if (op == "-") return Value::number(x - y);
    if (op == "*") return Value::number(x * y);
    if (op == "/") return Value::number(x / y);
    if (op == "//") return Value::number(std::floor(x / y));
    if (op == "%") {
      double r = std::fmod(x, y);
      if (r != 0.0 && ((r < 0) != (y < 0))) r += y;
      return Value::number(r);
    }
    if (op == "**") {
      if (x == 0.0 && y < 0) throw std::domain_error("0.0 cannot be raised to a negative power");
      return Value::number(std::pow(x, y));
    }
  }
  const int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
  const int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
  int64_t r = 0;
  if (op == "+") return Value::integer(checked(__builtin_add_overflow(x, y, &r), r));
  if (op == "-") return Value::integer(checked(__builtin_sub_overflow(x, y, &r), r));
  if (op == "*") return Value::integer(checked(__builtin_mul_overflow(x, y, &r), r));
  if (op == "//" || op == "%") {
    if (y == 0) throw std::domain_error("integer division or modulo by zero");
    if (x == INT64_MIN && y == -1) throw std::overflow_error("integer overflow");
    int64_t q = x / y, m = x % y;
    if (m != 0 && ((m < 0) != (y < 0))) {
      --q;
      m += y;
    }
    return Value::integer(op == "//" ? q : m);
  }
  if (op == "**") {
    if (y < 0) {
      if (x == 0) throw std::domain_error("0.0 cannot be raised to a negative power");
      return Value::number(std::pow(static_cast<double>(x), static_cast<double>(y)));
    }
    int64_t result = 1, base = x, e = y;
    while (e > 0) {
      if (e & 1) result = checked(__builtin_mul_overflow(result, base, &result), result);
      e >>= 1;
      if (e > 0) base = checked(__builtin_mul_overflow(base, base, &base), base);
    }
    return Value::integer(result);
  }
  type_error("unknown operator " + op);
}

// ---- methods ----

Value bound(const Value& self, const std::string& name,
            std::function<Value(const Value&, CallArgs&, Interpreter&)> fn) {
  return Value::function(
      name,
      [self, fn = std::move(fn)](CallArgs& args, Interpreter& in) { return fn(self, args, in); },
      {self});
}

Value string_method(const Value& self, const std::string& name) {
  using F = std::function<Value(const Value&, CallArgs&, Interpreter&)>;
  auto strip_method = [](int where) -> F {
    return [where](const Value& s, CallArgs& args, Interpreter&) {
      Args a("strip", args, {"chars"});
      return Value::string(py_strip(s.text(), where, a.given(0) ? &a.text(0) : nullptr));
    };
  };
  F fn;
  if (name == "strip") fn = strip_method(3);
  if (name == "lstrip") fn = strip_method(1);
  if (name == "rstrip") fn = strip_method(2);
  if (name == "split" || name == "rsplit") {
    const bool right = name == "rsplit";
    fn = [right](const Value& s, CallArgs& args, Interpreter&) {
      Args a(right ? "rsplit" : "split", args, {"sep", "maxsplit"});
      std::vector<Text> parts =
          py_split(s.text(), a.given(0) ? &a.text(0) : nullptr, a.integer(1, -1), right);
      std::vector<Value> out;
      for (auto& p : parts) out.push_back(Value::string(std::move(p)));
      return Value::list(std::move(out));
    };
  }
  if (name == "splitlines") {
    fn = [](const Value& s, CallArgs& args, Interpreter&) {
      Args a("splitlines", args, {"keepends"});
      std::vector<Value> out;
      for (auto& line : py_splitlines(s.text(), a.flag(0, false)))
        out.push_back(Value::string(std::move(line)));
      return Value::list(std::move(out));
    };
  }
  if (name == "startswith" || name == "endswith") {
    const bool start = name == "startswith";
    fn = [start, name](const Value& s, CallArgs& args, Interpreter&) {
      Args a(name, args, {"prefix"});
      const Value& p = a.require(0);
      const std::string& str = s.text().str();
      auto test = [&](const Value& candidate) {
        const std::string& c = require_string(candidate, name).str();
        return start
                   ? str.compare(0, c.size(), c) == 0 && str.size() >= c.size()
                   : str.size() >= c.size() && str.compare(str.size() - c.size(), c.size(), c) == 0;
      };
      if (p.is_list()) {
        for (const auto& c : p.items()) {
          if (test(c)) return Value::boolean(true);
        }
        return Value::boolean(false);
      }
      return Value::boolean(test(p));
    };
  }
  if (name == "replace") {
    fn = [](const Value& s, CallArgs& args, Interpreter& in) {
      Args a("replace", args, {"old", "new", "count"});
      Text out = py_replace(s.text(), a.text(0), a.text(1), a.integer(2, -1));
      in.check_string_size(out.size());
      return Value::string(std::move(out));
    };
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" ||
      name == "swapcase") {
    fn = [name](const Value& s, CallArgs& args, Interpreter&) {
      Args a(name, args, {});
      const std::string& str = s.text().str();
      const std::string out = name == "upper"        ? ascii_upper(str)
                              : name == "lower"      ? ascii_lower(str)
                              : name == "title"      ? py_title(str)
                              : name == "capitalize" ? py_capitalize(str)
                                                     : ascii_swapcase(str);
      return Value::string(out, s.text().any_from_request());
    };
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    fn = [name](const Value& s, CallArgs& args, Interpreter&) {
      Args a(name, args, {"sub"});
      const std::string& str = s.text().str();
      const std::string& sub = a.text(0).str();
      if (name == "count") return Value::integer(py_count(str, sub));
      const size_t at = name[0] == 'r' ? str.rfind(sub) : str.find(sub);
      if (at == std::string::npos) {
        if (name == "index" || name == "rindex") throw std::invalid_argument("substring not found");
        return Value::integer(-1);
      }
      return Value::integer(static_cast<int64_t>(utf8_length(std::string_view(str).substr(0, at))));
    };
  }
  if (name == "join") {
    fn = [](const Value& s, CallArgs& args, Interpreter& in) {
      Args a("join", args, {"iterable"});
      Text out;
      bool first = true;
      for (const Value& item : iterate(a.require(0))) {
        if (!first) out.append(s.text());
        first = false;
        out.append(require_string(item, "str.join()"));
        in.check_string_size(out.size());
      }
      return Value::string(std::move(out));
    };
  }
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" ||
      name == "isupper" || name == "islower") {
    fn = [name](const Value& s, CallArgs& args, Interpreter&) {
      Args a(name, args, {});
      return Value::boolean(py_is(name, s.text().str()));
    };
  }
  if (!fn) return Value::undefined("'str object' has no attribute '" + name + "'");
  return bound(self, name, std::move(fn));
}

Value dict_method(const Value& self, const std::string& name) {
  if (name == "get") {
    return bound(self, name, [](const Value& d, CallArgs& args, Interpreter&) {
      Args a("get", args, {"key", "default"});
      const Value& key = a.require(0);
      if (key.is_string()) {
        if (const Value* v = d.dict().find(key.text().str())) return *v;
      }
      return a.get(1).is_undefined() ? Value::none() : a.get(1);
    });
  }
  if (name == "items" || name == "keys" || name == "values") {
    return bound(self, name, [name](const Value& d, CallArgs& args, Interpreter&) {
      Args a(name, args, {});
      std::vector<Value> out;
      for (const auto& [k, v] : d.dict().entries) {
        if (name == "items") out.push_back(pair(Value::string(k), v));
        if (name == "keys") out.push_back(Value::string(k));
        if (name == "values") out.push_back(v);
      }
      return Value::list(std::move(out));
    });
  }
  return Value();
}

Value list_method(const Value& self, const std::string& name) {
  if (name == "index" || name == "count") {
    return bound(self, name, [name](const Value& l, CallArgs& args, Interpreter&) {
      Args a(name, args, {"value"});
      int64_t count = 0;
      for (size_t i = 0; i < l.items().size(); ++i) {
        if (!values_equal(l.items()[i], a.require(0))) continue;
        if (name == "index") return Value::integer(static_cast<int64_t>(i));
        ++count;
      }
      if (name == "index") throw std::invalid_argument("value is not in list");
      return Value::integer(count);
    });
  }
  if (name == "append" || name == "extend" || name == "insert" || name == "pop" ||
      name == "remove" || name == "clear" || name == "sort" || name == "reverse") {
    type_error("'list." + name + "' is not allowed: values are immutable in chat templates");
  }
  return Value();
}

}  // namespace

// ---- public ----

Value get_attribute(const Value& object, const std::string& name) {
  switch (object.kind()) {
    case Kind::Undefined:
      type_error(object.undefined_hint());
    case Kind::Dict: {
      Value method = dict_method(object, name);
      if (!method.is_undefined()) return method;
      if (const Value* v = object.dict().find(name)) return *v;
      return Value::undefined("'dict object' has no attribute '" + name + "'");
    }
    case Kind::Namespace:
      if (const Value* v = object.dict().find(name)) return *v;
      return Value::undefined("the namespace has no attribute '" + name + "'");
    case Kind::String:
      return string_method(object, name);
    case Kind::List: {
      Value method = list_method(object, name);
      if (!method.is_undefined()) return method;
      return Value::undefined("'list object' has no attribute '" + name + "'");
    }
    default:
      return Value::undefined("'" + object.type_name() + " object' has no attribute '" + name +
                              "'");
  }
}

Value get_item(const Value& object, const Value& key) {
  if (object.is_undefined()) type_error(object.undefined_hint());
  if (object.is_list() || object.is_string()) {
    if (key.is_int() || key.is_bool()) {
      int64_t i = key.is_bool() ? key.as_bool() : key.as_int();
      if (object.is_list()) {
        const auto n = static_cast<int64_t>(object.items().size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::undefined("list index out of range");
        return object.items()[static_cast<size_t>(i)];
      }
      const std::vector<size_t> at = utf8_offsets(object.text().str());
      const auto n = static_cast<int64_t>(at.size()) - 1;
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::undefined("string index out of range");
      const auto k = static_cast<size_t>(i);
      return Value::string(object.text().substr(at[k], at[k + 1] - at[k]));
    }
    if (key.is_string()) return get_attribute(object, key.text().str());
    if (key.is_undefined()) type_error(key.undefined_hint());
    return Value::undefined("indices must be integers, not " + key.type_name());
  }
  if (object.is_dict() || object.is_namespace()) {
    if (key.is_string()) {
      if (const Value* v = object.dict().find(key.text().str())) return *v;
      if (object.is_dict()) {
        Value method = dict_method(object, key.text().str());
        if (!method.is_undefined()) return method;
      }
      return Value::undefined("'dict object' has no attribute '" + key.text().str() + "'");
    }
    if (key.is_undefined()) type_error(key.undefined_hint());
    return Value::undefined("'dict object' has no item " + repr(key));
  }
  return Value::undefined("'" + object.type_name() + "' object is not subscriptable");
}

Value slice_value(const Value& object, const Value& start, const Value& stop, const Value& step) {
  if (object.is_undefined()) type_error(object.undefined_hint());
  if (!object.is_list() && !object.is_string())
    type_error("'" + object.type_name() + "' object is not sliceable");
  auto index = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    return to_int_checked(v, std::string("slice ") + what);
  };
  const std::vector<size_t> offsets =
      object.is_string() ? utf8_offsets(object.text().str()) : std::vector<size_t>{};
  const int64_t n = object.is_list() ? static_cast<int64_t>(object.items().size())
                                     : static_cast<int64_t>(offsets.size()) - 1;
  const std::vector<int64_t> picked =
      py_slice_indices(n, index(start, "start"), index(stop, "stop"), index(step, "step"));
  if (object.is_list()) {
    std::vector<Value> out;
    for (int64_t i : picked) out.push_back(object.items()[static_cast<size_t>(i)]);
    return Value::list(std::move(out), object.is_tuple());
  }
  Text out;
  for (int64_t i : picked) {
    const auto k = static_cast<size_t>(i);
    out.append(object.text().substr(offsets[k], offsets[k + 1] - offsets[k]));
  }
  return Value::string(std::move(out));
}

Value binary_op(Interpreter& in, const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    Text out = to_text(a);
    out.append(to_text(b));
    return Value::string(std::move(out));
  }
  if (a.is_undefined()) type_error(a.undefined_hint());
  if (b.is_undefined()) type_error(b.undefined_hint());
  if (op == "+" && a.is_string() && b.is_string()) {
    Text out = a.text();
    out.append(b.text());
    return Value::string(std::move(out));
  }
  if (op == "+" && a.is_list() && b.is_list()) {
    in.check_list_size(a.items().size() + b.items().size());
    std::vector<Value> out = a.items();
    out.insert(out.end(), b.items().begin(), b.items().end());
    return Value::list(std::move(out));
  }
  return arithmetic(in, op, a, b);
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::Undefined:
      return false;
    case Kind::String:
      if (!item.is_string()) {
        type_error("'in <string>' requires string as left operand, not " + item.type_name());
      }
      return container.text().str().find(item.text().str()) != std::string::npos;
    case Kind::List:
      return std::any_of(container.items().begin(), container.items().end(),
                         [&](const Value& v) { return values_equal(v, item); });
    case Kind::Dict:
      return item.is_string() && container.dict().find(item.text().str()) != nullptr;
    default:
      type_error("argument of type '" + container.type_name() + "' is not iterable");
  }
}

std::vector<Value> iterate(const Value& value) {
  switch (value.kind()) {
    case Kind::Undefined:
      return {};
    case Kind::List:
      return value.items();
    case Kind::Dict: {
      std::vector<Value> keys;
      for (const auto& [k, v] : value.dict().entries) keys.push_back(Value::string(k));
      return keys;
    }
    case Kind::String: {
      const std::vector<size_t> at = utf8_offsets(value.text().str());
      std::vector<Value> chars;
      for (size_t i = 0; i + 1 < at.size(); ++i) {
        chars.push_back(Value::string(value.text().substr(at[i], at[i + 1] - at[i])));
      }
      return chars;
    }
    default:
      type_error("'" + value.type_name() + "' object is not iterable");
  }
}

std::vector<std::pair<std::string, Value>> builtin_globals() {
  std::vector<std::pair<std::string, Value>> g;
  g.emplace_back("range", Value::function("range", [](CallArgs& args, Interpreter& in) {
                   if (!args.keyword.empty()) type_error("range() takes no keyword arguments");
                   const auto& p = args.positional;
                   if (p.empty() || p.size() > 3) type_error("range() takes 1 to 3 arguments");
                   int64_t start = 0, stop = 0, step = 1;
                   if (p.size() == 1) {
                     stop = to_int_checked(p[0], "range()");
                   } else {
                     start = to_int_checked(p[0], "range()");
                     stop = to_int_checked(p[1], "range()");
                     if (p.size() == 3) step = to_int_checked(p[2], "range()");
                   }
                   if (step == 0) type_error("range() arg 3 must not be zero");
                   const std::vector<int64_t> picked =
                       py_range(start, stop, step, [&](uint64_t n) { in.check_list_size(n); });
                   std::vector<Value> out;
                   out.reserve(picked.size());
                   for (int64_t i : picked) out.push_back(Value::integer(i));
                   return Value::list(std::move(out));
                 }));
  g.emplace_back("namespace", Value::function("namespace", [](CallArgs& args, Interpreter&) {
                   DictData d;
                   if (args.positional.size() > 1)
                     type_error("namespace() takes at most one positional argument");
                   if (!args.positional.empty()) {
                     const Value& init = args.positional[0];
                     if (!init.is_dict())
                       type_error("namespace() needs a dict, got " + init.type_name());
                     d = init.dict();
                   }
                   for (auto& [k, v] : args.keyword) d.set(Text(k), v);
                   return Value::make_namespace(std::move(d));
                 }));
  g.emplace_back("dict", Value::function("dict", [](CallArgs& args, Interpreter&) {
                   DictData d;
                   if (args.positional.size() > 1)
                     type_error("dict() takes at most one positional argument");
                   if (!args.positional.empty()) {
                     const Value& init = args.positional[0];
                     if (init.is_dict()) {
                       d = init.dict();
                     } else {
                       for (const auto& item : iterate(init)) {
                         const std::vector<Value> kv = iterate(item);
                         if (kv.size() != 2 || !kv[0].is_string())
                           type_error("dict() needs (key, value) pairs");
                         d.set(kv[0].text(), kv[1]);
                       }
                     }
                   }
                   for (auto& [k, v] : args.keyword) d.set(Text(k), v);
                   return Value::dict(std::move(d));
                 }));
  g.emplace_back("raise_exception",
                 Value::function("raise_exception", [](CallArgs& args, Interpreter&) -> Value {
                   Args a("raise_exception", args, {"message"});
                   throw std::runtime_error(to_text(a.require(0)).str());
                 }));
  g.emplace_back("strftime_now",
                 Value::function("strftime_now", [](CallArgs& args, Interpreter& in) {
                   Args a("strftime_now", args, {"format"});
                   const Text& format = a.text(0);
                   const std::time_t now = in.now();
                   std::tm local{};
                   localtime_r(&now, &local);
                   std::string out = py_strftime(format.str(), local);
                   return Value::string(std::move(out), format.any_from_request());
                 }));
  return g;
}

}  // namespace llmops::server::jinja