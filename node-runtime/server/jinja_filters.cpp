// The filters and tests of builtin_filter / builtin_test (declared in jinja_builtins.h).
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "jinja_args.h"
#include "jinja_builtins.h"
#include "jinja_strings.h"

namespace llmops::server::jinja {

namespace {

using Kind = Value::Kind;

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

}  // namespace llmops::server::jinja
