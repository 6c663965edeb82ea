#include "jinja_builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <initializer_list>
#include <stdexcept>

#include "jinja_strings.h"

namespace llmops::server::jinja {

namespace {

using Kind = Value::Kind;

[[noreturn]] void type_error(const std::string& message) {
  throw std::invalid_argument(message);
}

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

// ---- filters ----

Value filter_tojson(Interpreter& in, const Value& v, CallArgs& args) {
  Args a("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonOptions o;
  o.ensure_ascii = a.flag(0, false);
  o.indent = a.given(1) ? static_cast<int>(std::clamp<int64_t>(a.integer(1, 0), 0, 64)) : -1;
  if (a.given(2)) {
    const auto& seps = require_list(a.get(2), "tojson(separators=)");
    if (seps.size() != 2) type_error("tojson(separators=) needs two strings");
    o.item_separator = require_string(seps[0], "tojson(separators=)").str();
    o.key_separator = require_string(seps[1], "tojson(separators=)").str();
  }
  o.sort_keys = a.flag(3, false);
  std::string out = to_json(v, o);
  in.check_string_size(out.size());
  return Value::string(std::move(out), v.any_from_request());
}

Value filter_map(Interpreter& in, const Value& v, CallArgs& args) {
  std::vector<Value> out;
  const std::vector<Value> items = iterate(v);
  Value attribute, fallback;
  bool has_default = false;
  for (auto& [k, value] : args.keyword) {
    if (k == "attribute")
      attribute = value;
    else if (k == "default") {
      fallback = value;
      has_default = true;
    } else if (args.positional.empty()) {
      type_error("map() got an unexpected keyword argument '" + k + "'");
    }
  }
  if (!attribute.is_undefined()) {
    for (const auto& item : items) {
      Value x = attribute_path(item, attribute);
      out.push_back(x.is_undefined() && has_default ? fallback : x);
    }
    return Value::list(std::move(out));
  }
  if (args.positional.empty()) type_error("map() needs a filter name or attribute=");
  const std::string name = require_string(args.positional[0], "map()").str();
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  for (const auto& item : items) {
    CallArgs copy = rest;
    out.push_back(in.apply_filter(name, item, copy));
  }
  return Value::list(std::move(out));
}

// select/reject(test, args…) and selectattr/rejectattr(attr, test, args…).
Value filter_select(Interpreter& in, const Value& v, CallArgs& args, bool keep, bool by_attr) {
  std::vector<Value> out;
  size_t at = 0;
  Value attribute;
  if (by_attr) {
    if (args.positional.empty()) type_error("selectattr() needs an attribute name");
    attribute = args.positional[at++];
  }
  std::string test;
  if (at < args.positional.size()) test = require_string(args.positional[at++], "select()").str();
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(at),
                         args.positional.end());
  rest.keyword = args.keyword;
  for (const auto& item : iterate(v)) {
    const Value x = by_attr ? attribute_path(item, attribute) : item;
    CallArgs copy = rest;
    const bool pass = test.empty() ? x.truthy() : in.apply_test(test, x, copy);
    if (pass == keep) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value filter_join(Interpreter& in, const Value& v, CallArgs& args) {
  Args a("join", args, {"d", "attribute"});
  const Text sep = a.given(0) ? to_text(a.get(0)) : Text();
  Text out;
  bool first = true;
  for (const auto& item : iterate(v)) {
    if (!first) out.append(sep);
    first = false;
    out.append(to_text(a.given(1) ? attribute_path(item, a.get(1)) : item));
    in.check_string_size(out.size());
  }
  return Value::string(std::move(out));
}

Value filter_indent(const Value& v, CallArgs& args) {
  Args a("indent", args, {"width", "first", "blank"});
  const Text& s = require_string(v, "indent");
  const Text indent =
      a.given(0) && a.get(0).is_string()
          ? a.get(0).text()
          : Text(std::string(static_cast<size_t>(std::clamp<int64_t>(a.integer(0, 4), 0, 256)),
                             ' '));
  const bool first = a.flag(1, false), blank = a.flag(2, false);
  Text with_newline = s;
  with_newline.append("\n");
  std::vector<Text> lines = py_splitlines(with_newline, false);
  Text out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out.append("\n");
    const bool indent_line = i == 0 ? first : (blank || !lines[i].empty());
    if (indent_line) out.append(indent);
    out.append(lines[i]);
  }
  return Value::string(std::move(out));
}

Value filter_int(const Value& v, CallArgs& args) {
  Args a("int", args, {"default", "base"});
  const Value fallback = a.given(0) ? a.get(0) : Value::integer(0);
  if (v.is_int()) return v;
  if (v.is_bool()) return Value::integer(v.as_bool());
  if (v.is_float()) {
    const double d = std::trunc(v.as_double());
    if (!(d >= -9.2e18 && d <= 9.2e18)) return fallback;
    return Value::integer(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    int64_t out = 0;
    if (parse_py_int(v.text().str(), static_cast<int>(a.integer(1, 10)), out))
      return Value::integer(out);
    double d = 0;
    if (parse_py_float(v.text().str(), d) && std::isfinite(d) && std::fabs(d) < 9.2e18) {
      return Value::integer(static_cast<int64_t>(std::trunc(d)));
    }
  }
  return fallback;
}

Value filter_float(const Value& v, CallArgs& args) {
  Args a("float", args, {"default"});
  if (v.is_number() || v.is_bool()) return Value::number(v.as_double());
  double d = 0;
  if (v.is_string() && parse_py_float(v.text().str(), d)) return Value::number(d);
  return a.given(0) ? a.get(0) : Value::number(0.0);
}

Value filter_round(const Value& v, CallArgs& args) {
  Args a("round", args, {"precision", "method"});
  if (!(v.is_number() || v.is_bool())) type_error("round needs a number, got " + v.type_name());
  const int64_t precision = std::clamp<int64_t>(a.integer(0, 0), -300, 300);
  const std::string method = a.given(1) ? a.text(1).str() : "common";
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = v.as_double() * scale;
  double r = 0;
  if (method == "common")
    r = std::nearbyint(x);  // Python's round: half to even
  else if (method == "ceil")
    r = std::ceil(x);
  else if (method == "floor")
    r = std::floor(x);
  else
    type_error("round() method must be 'common', 'ceil' or 'floor'");
  return Value::number(r / scale);
}

Value filter_min_max(const Value& v, CallArgs& args, bool want_max) {
  Args a(want_max ? "max" : "min", args, {"case_sensitive", "attribute"});
  std::vector<Value> items = iterate(v);
  if (items.empty())
    return Value::undefined("no items for " + std::string(want_max ? "max" : "min"));
  items = sorted(std::move(items), false, a.flag(0, false), a.given(1) ? a.get(1) : Value());
  return want_max ? items.back() : items.front();
}

Value filter_unique(const Value& v, CallArgs& args) {
  Args a("unique", args, {"case_sensitive", "attribute"});
  std::vector<Value> out, seen;
  for (const auto& item : iterate(v)) {
    const Value key =
        sort_key(a.given(1) ? attribute_path(item, a.get(1)) : item, a.flag(0, false));
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return values_equal(s, key); }))
      continue;
    seen.push_back(key);
    out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value filter_dictsort(const Value& v, CallArgs& args) {
  Args a("dictsort", args, {"case_sensitive", "by", "reverse"});
  if (!v.is_dict()) type_error("dictsort needs a dict, got " + v.type_name());
  const std::string by = a.given(1) ? a.text(1).str() : "key";
  if (by != "key" && by != "value") type_error("dictsort(by=) must be 'key' or 'value'");
  std::vector<Value> items;
  for (const auto& [k, val] : v.dict().entries) items.push_back(pair(Value::string(k), val));
  return Value::list(sorted(std::move(items), a.flag(2, false), a.flag(0, false),
                            Value::integer(by == "key" ? 0 : 1)));
}

Value filter_sum(Interpreter& in, const Value& v, CallArgs& args) {
  Args a("sum", args, {"attribute", "start"});
  Value total = a.given(1) ? a.get(1) : Value::integer(0);
  for (const auto& item : iterate(v)) {
    total = binary_op(in, "+", total, a.given(0) ? attribute_path(item, a.get(0)) : item);
  }
  return total;
}

Value filter_batch(const Value& v, CallArgs& args) {
  Args a("batch", args, {"linecount", "fill_with"});
  const int64_t n = a.integer(0, 1);
  if (n <= 0) type_error("batch() needs a positive line count");
  std::vector<Value> out, current;
  for (const auto& item : iterate(v)) {
    current.push_back(item);
    if (static_cast<int64_t>(current.size()) == n)
      out.push_back(Value::list(std::exchange(current, {})));
  }
  if (!current.empty()) {
    if (a.given(1)) {
      while (static_cast<int64_t>(current.size()) < n) current.push_back(a.get(1));
    }
    out.push_back(Value::list(std::move(current)));
  }
  return Value::list(std::move(out));
}

Value filter_length(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined:
      return Value::integer(0);
    case Kind::String:
      return Value::integer(static_cast<int64_t>(utf8_length(v.text().str())));
    case Kind::List:
      return Value::integer(static_cast<int64_t>(v.items().size()));
    case Kind::Dict:
      return Value::integer(static_cast<int64_t>(v.dict().entries.size()));
    default:
      type_error("object of type '" + v.type_name() + "' has no len()");
  }
}

Value first_or_last(const Value& v, bool last) {
  const std::vector<Value> items = iterate(v);
  if (items.empty())
    return Value::undefined(std::string("no ") + (last ? "last" : "first") + " item");
  return last ? items.back() : items.front();
}

Value reversed(const Value& v) {
  if (v.is_string()) {
    const Text& t = v.text();
    const std::vector<size_t> at = utf8_offsets(t.str());
    Text out;
    for (size_t i = at.size() - 1; i > 0; --i) out.append(t.substr(at[i - 1], at[i] - at[i - 1]));
    return Value::string(std::move(out));
  }
  std::vector<Value> items = iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Value string_filter(const std::string& name, const Value& v, CallArgs& args) {
  const Text& s = require_string(v, name);
  if (name == "trim") {
    Args a("trim", args, {"chars"});
    return Value::string(py_strip(s, 3, a.given(0) ? &a.text(0) : nullptr));
  }
  Args a(name, args, {});
  const std::string& str = s.str();
  std::string out;
  if (name == "upper")
    out = ascii_upper(str);
  else if (name == "lower")
    out = ascii_lower(str);
  else if (name == "capitalize")
    out = py_capitalize(str);
  else if (name == "title")
    out = jinja_title(str);
  else if (name == "escape" || name == "e" || name == "forceescape")
    out = html_escape(str);
  else if (name == "wordcount")
    return Value::integer(static_cast<int64_t>(py_split(s, nullptr, -1, false).size()));
  return Value::string(out, s.any_from_request());
}

}  // namespace

// ---- public ----

Value builtin_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
  if (name == "tojson") return filter_tojson(in, v, args);
  if (name == "safe") return v;
  if (name == "string") {
    Args a(name, args, {});
    return Value::string(to_text(v));
  }
  if (name == "default" || name == "d") {
    Args a(name, args, {"default_value", "boolean"});
    const bool use_default = v.is_undefined() || (a.flag(1, false) && !v.truthy());
    if (!use_default) return v;
    return a.get(0).is_undefined() ? Value::string("") : a.get(0);
  }
  if (v.is_undefined() && name != "length" && name != "count" && name != "list" &&
      name != "items" && name != "join" && name != "first" && name != "last" && name != "map" &&
      name != "select" && name != "reject" && name != "selectattr" && name != "rejectattr" &&
      name != "unique" && name != "sort" && name != "reverse") {
    // Jinja2 renders an undefined string as ""; other uses fail with the undefined's reason.
    if (name == "trim" || name == "upper" || name == "lower" || name == "capitalize" ||
        name == "title" || name == "escape" || name == "e" || name == "indent") {
      return string_filter(name == "indent" ? "trim" : name, Value::string(""), args);
    }
    type_error(v.undefined_hint());
  }
  if (name == "length" || name == "count") {
    Args a(name, args, {});
    return filter_length(v);
  }
  if (name == "list") {
    Args a(name, args, {});
    return Value::list(iterate(v));
  }
  if (name == "first" || name == "last") {
    Args a(name, args, {});
    return first_or_last(v, name == "last");
  }
  if (name == "reverse") {
    Args a(name, args, {});
    return reversed(v);
  }
  if (name == "items") {
    Args a(name, args, {});
    if (v.is_undefined()) return Value::list({});
    if (!v.is_dict()) type_error("items needs a dict, got " + v.type_name());
    std::vector<Value> out;
    for (const auto& [k, val] : v.dict().entries) out.push_back(pair(Value::string(k), val));
    return Value::list(std::move(out));
  }
  if (name == "join") return filter_join(in, v, args);
  if (name == "map") return filter_map(in, v, args);
  if (name == "select" || name == "reject")
    return filter_select(in, v, args, name == "select", false);
  if (name == "selectattr" || name == "rejectattr") {
    return filter_select(in, v, args, name == "selectattr", true);
  }
  if (name == "sort") {
    Args a(name, args, {"reverse", "case_sensitive", "attribute"});
    return Value::list(
        sorted(iterate(v), a.flag(0, false), a.flag(1, false), a.given(2) ? a.get(2) : Value()));
  }
  if (name == "unique") return filter_unique(v, args);
  if (name == "dictsort") return filter_dictsort(v, args);
  if (name == "min" || name == "max") return filter_min_max(v, args, name == "max");
  if (name == "sum") return filter_sum(in, v, args);
  if (name == "batch") return filter_batch(v, args);
  if (name == "indent") return filter_indent(v, args);
  if (name == "int") return filter_int(v, args);
  if (name == "float") return filter_float(v, args);
  if (name == "round") return filter_round(v, args);
  if (name == "abs") {
    Args a(name, args, {});
    if (v.is_float()) return Value::number(std::fabs(v.as_double()));
    const int64_t i = to_int_checked(v, "abs()");
    if (i == INT64_MIN) throw std::overflow_error("integer overflow");
    return Value::integer(i < 0 ? -i : i);
  }
  if (name == "bool") {
    Args a(name, args, {});
    return Value::boolean(v.truthy());
  }
  if (name == "attr") {
    Args a(name, args, {"name"});
    return get_attribute(v, a.text(0).str());
  }
  if (name == "replace") {
    Args a(name, args, {"old", "new", "count"});
    Text out = py_replace(require_string(v, "replace"), a.text(0), a.text(1), a.integer(2, -1));
    in.check_string_size(out.size());
    return Value::string(std::move(out));
  }
  if (name == "trim" || name == "upper" || name == "lower" || name == "capitalize" ||
      name == "title" || name == "escape" || name == "e" || name == "forceescape" ||
      name == "wordcount") {
    return string_filter(name, v, args);
  }
  type_error("no filter named '" + name + "'");
}

bool builtin_test(Interpreter&, const std::string& name, const Value& v, CallArgs& args) {
  if (name == "defined" || name == "undefined") {
    Args a(name, args, {});
    return v.is_undefined() == (name == "undefined");
  }
  if (name == "none") return Args(name, args, {}), v.is_none();
  if (name == "boolean") return Args(name, args, {}), v.is_bool();
  if (name == "true") return Args(name, args, {}), v.is_bool() && v.as_bool();
  if (name == "false") return Args(name, args, {}), v.is_bool() && !v.as_bool();
  if (name == "integer") return Args(name, args, {}), v.is_int();
  if (name == "float") return Args(name, args, {}), v.is_float();
  if (name == "number") return Args(name, args, {}), v.is_number() || v.is_bool();
  if (name == "string") return Args(name, args, {}), v.is_string();
  if (name == "mapping") return Args(name, args, {}), v.is_dict();
  if (name == "sequence") return Args(name, args, {}), v.is_list() || v.is_string() || v.is_dict();
  if (name == "iterable") {
    Args a(name, args, {});
    return v.is_list() || v.is_string() || v.is_dict() || v.is_undefined();
  }
  if (name == "callable") return Args(name, args, {}), v.is_function();
  if (name == "odd" || name == "even") {
    Args a(name, args, {});
    const int64_t i = to_int_checked(v, name + " test");
    return (i % 2 != 0) == (name == "odd");
  }
  if (name == "divisibleby") {
    Args a(name, args, {"num"});
    const int64_t d = a.integer(0, 0);
    if (d == 0) throw std::domain_error("divisibleby 0");
    return to_int_checked(v, "divisibleby") % d == 0;
  }
  if (name == "lower" || name == "upper") {
    Args a(name, args, {});
    if (!v.is_string()) return false;
    return py_is(name == "lower" ? "islower" : "isupper", v.text().str());
  }
  if (name == "sameas") {
    Args a(name, args, {"other"});
    const Value& o = a.require(0);
    if (v.kind() != o.kind()) return false;
    if (v.is_none() || v.is_undefined()) return true;
    if (v.is_bool()) return v.as_bool() == o.as_bool();
    return values_equal(v, o) && (v.is_int() || v.is_float() || v.is_string());
  }
  if (name == "in") {
    Args a(name, args, {"seq"});
    return contains(a.require(0), v);
  }
  static const std::pair<const char*, const char*> kComparisons[] = {
      {"eq", "=="}, {"equalto", "=="},    {"==", "=="}, {"ne", "!="}, {"!=", "!="},
      {"lt", "<"},  {"lessthan", "<"},    {"<", "<"},   {"le", "<="}, {"<=", "<="},
      {"gt", ">"},  {"greaterthan", ">"}, {">", ">"},   {"ge", ">="}, {">=", ">="}};
  for (const auto& [test, op] : kComparisons) {
    if (name != test) continue;
    Args a(name, args, {"other"});
    const Value& o = a.require(0);
    const std::string_view cmp = op;
    if (cmp == "==") return values_equal(v, o);
    if (cmp == "!=") return !values_equal(v, o);
    if (cmp == "<") return value_less(v, o);
    if (cmp == "<=") return !value_less(o, v);
    if (cmp == ">") return value_less(o, v);
    return !value_less(v, o);
  }
  type_error("no test named '" + name + "'");
}

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
