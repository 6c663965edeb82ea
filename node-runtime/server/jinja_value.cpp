#include "jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace llmops::server::jinja {

TemplateError::TemplateError(const std::string& message, SourcePos pos)
    : std::runtime_error(pos.line > 0 ? "line " + std::to_string(pos.line) + ", column " +
                                            std::to_string(pos.column) + ": " + message
                                      : message),
      message_(message),
      pos_(pos) {}

// ---- Text ----

Text::Text(std::string s, bool from_request) : s_(std::move(s)) {
  if (from_request && !s_.empty()) spans_.emplace_back(0, s_.size());
}

void Text::append(std::string_view s, bool from_request) {
  if (s.empty()) return;
  const size_t begin = s_.size();
  s_.append(s);
  if (!from_request) return;
  if (!spans_.empty() && spans_.back().second == begin) {
    spans_.back().second = s_.size();
  } else {
    spans_.emplace_back(begin, s_.size());
  }
}

void Text::append(const Text& other) {
  const size_t offset = s_.size();
  s_.append(other.s_);
  for (const auto& [b, e] : other.spans_) {
    if (!spans_.empty() && spans_.back().second == b + offset) {
      spans_.back().second = e + offset;
    } else {
      spans_.emplace_back(b + offset, e + offset);
    }
  }
}

Text Text::substr(size_t pos, size_t n) const {
  pos = std::min(pos, s_.size());
  const size_t end = n == std::string::npos ? s_.size() : std::min(s_.size(), pos + n);
  Text out;
  out.s_ = s_.substr(pos, end - pos);
  for (const auto& [b, e] : spans_) {
    const size_t lo = std::max(b, pos), hi = std::min(e, end);
    if (lo < hi) out.spans_.emplace_back(lo - pos, hi - pos);
  }
  return out;
}

std::vector<Text::Run> Text::runs() const {
  std::vector<Run> out;
  const std::string_view s = s_;
  size_t at = 0;
  for (const auto& [b, e] : spans_) {
    if (b > at) out.push_back({s.substr(at, b - at), false});
    out.push_back({s.substr(b, e - b), true});
    at = e;
  }
  if (at < s.size()) out.push_back({s.substr(at), false});
  return out;
}

// ---- Dict ----

const Value* DictData::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.str() == key) return &v;
  }
  return nullptr;
}

void DictData::set(Text key, Value value) {
  for (auto& [k, v] : entries) {
    if (k.str() == key.str()) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

// ---- Value ----

Value Value::undefined(std::string hint) {
  Value v;
  v.data_ = std::make_shared<const Text>(std::move(hint));
  return v;
}
Value Value::none() {
  Value v;
  v.kind_ = Kind::None;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::Bool;
  v.data_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::Int;
  v.data_ = i;
  return v;
}
Value Value::number(double d) {
  Value v;
  v.kind_ = Kind::Float;
  v.data_ = d;
  return v;
}
Value Value::string(Text text) {
  Value v;
  v.kind_ = Kind::String;
  v.data_ = std::make_shared<const Text>(std::move(text));
  return v;
}
Value Value::string(std::string s, bool from_request) {
  return string(Text(std::move(s), from_request));
}
Value Value::list(std::vector<Value> items, bool tuple) {
  Value v;
  v.kind_ = Kind::List;
  v.data_ = std::make_shared<ListData>(ListData{std::move(items), tuple});
  return v;
}
Value Value::dict(DictData data) {
  Value v;
  v.kind_ = Kind::Dict;
  v.data_ = std::make_shared<DictData>(std::move(data));
  return v;
}
Value Value::make_namespace(DictData data) {
  Value v = dict(std::move(data));
  v.kind_ = Kind::Namespace;
  return v;
}
Value Value::function(std::string name, NativeFunction fn, std::vector<Value> captured) {
  Value v;
  v.kind_ = Kind::Function;
  v.data_ = std::make_shared<FunctionData>(
      FunctionData{std::move(name), std::move(fn), std::move(captured)});
  return v;
}

double Value::as_double() const {
  switch (kind_) {
    case Kind::Int:
      return static_cast<double>(as_int());
    case Kind::Float:
      return std::get<double>(data_);
    case Kind::Bool:
      return as_bool() ? 1.0 : 0.0;
    default:
      return 0.0;
  }
}

const Text& Value::text() const {
  static const Text empty;
  if (const auto* p = std::get_if<std::shared_ptr<const Text>>(&data_)) return **p;
  return empty;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None:
      return false;
    case Kind::Bool:
      return as_bool();
    case Kind::Int:
      return as_int() != 0;
    case Kind::Float:
      return std::get<double>(data_) != 0.0;
    case Kind::String:
      return !text().empty();
    case Kind::List:
      return !items().empty();
    case Kind::Dict:
      return !dict().entries.empty();
    case Kind::Namespace:
    case Kind::Function:
      return true;
  }
  return false;
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::Undefined:
      return "undefined";
    case Kind::None:
      return "NoneType";
    case Kind::Bool:
      return "bool";
    case Kind::Int:
      return "int";
    case Kind::Float:
      return "float";
    case Kind::String:
      return "str";
    case Kind::List:
      return is_tuple() ? "tuple" : "list";
    case Kind::Dict:
      return "dict";
    case Kind::Namespace:
      return "Namespace";
    case Kind::Function:
      return "function";
  }
  return "object";
}

bool Value::any_from_request() const {
  switch (kind_) {
    case Kind::String:
      return text().any_from_request();
    case Kind::List:
      return std::any_of(items().begin(), items().end(),
                         [](const Value& v) { return v.any_from_request(); });
    case Kind::Dict:
    case Kind::Namespace:
      return std::any_of(dict().entries.begin(), dict().entries.end(), [](const auto& kv) {
        return kv.first.any_from_request() || kv.second.any_from_request();
      });
    default:
      return false;
  }
}

bool values_equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  const bool a_num = a.is_number() || a.is_bool(), b_num = b.is_number() || b.is_bool();
  if (a_num && b_num) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    const int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
    const int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
    return x == y;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::Undefined:
    case K::None:
      return true;
    case K::String:
      return a.text().str() == b.text().str();
    case K::List: {
      if (a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i) {
        if (!values_equal(a.items()[i], b.items()[i])) return false;
      }
      return true;
    }
    case K::Dict: {
      if (a.dict().entries.size() != b.dict().entries.size()) return false;
      for (const auto& [k, v] : a.dict().entries) {
        const Value* other = b.dict().find(k.str());
        if (!other || !values_equal(v, *other)) return false;
      }
      return true;
    }
    case K::Namespace:
    case K::Function:
      return &a.dict() == &b.dict();
    default:
      return false;
  }
}

bool value_less(const Value& a, const Value& b) {
  const bool a_num = a.is_number() || a.is_bool(), b_num = b.is_number() || b.is_bool();
  if (a_num && b_num) {
    if (a.is_float() || b.is_float()) return a.as_double() < b.as_double();
    const int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
    const int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
    return x < y;
  }
  if (a.is_string() && b.is_string()) return a.text().str() < b.text().str();  // code points
  if (a.is_list() && b.is_list()) {
    const auto &x = a.items(), &y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!values_equal(x[i], y[i])) return value_less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  throw std::invalid_argument("'<' not supported between instances of '" + a.type_name() +
                              "' and '" + b.type_name() + "'");
}

// ---- rendering ----

std::string format_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  // Shortest round-trip digits, then Python's repr layout: positional for exponents in
  // [-4, 16), scientific otherwise.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  const size_t e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  const int exp = std::stoi(sci.substr(e + 1));
  const bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  std::string out;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(exp + 1);
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += ebuf;
  }
  return negative ? "-" + out : out;
}

namespace {

std::string repr_string(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == quote || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

}  // namespace

std::string repr(const Value& value) {
  using K = Value::Kind;
  switch (value.kind()) {
    case K::Undefined:
      return "";
    case K::None:
      return "None";
    case K::Bool:
      return value.as_bool() ? "True" : "False";
    case K::Int:
      return std::to_string(value.as_int());
    case K::Float:
      return format_float(value.as_double());
    case K::String:
      return repr_string(value.text().str());
    case K::List: {
      std::string out = value.is_tuple() ? "(" : "[";
      for (size_t i = 0; i < value.items().size(); ++i) {
        if (i) out += ", ";
        out += repr(value.items()[i]);
      }
      if (value.is_tuple() && value.items().size() == 1) out += ",";
      return out + (value.is_tuple() ? ")" : "]");
    }
    case K::Dict:
    case K::Namespace: {
      std::string out = value.is_namespace() ? "<Namespace {" : "{";
      bool first = true;
      for (const auto& [k, v] : value.dict().entries) {
        if (!first) out += ", ";
        first = false;
        out += repr_string(k.str()) + ": " + repr(v);
      }
      return out + (value.is_namespace() ? "}>" : "}");
    }
    case K::Function:
      return "<function " + value.function().name + ">";
  }
  return "";
}

Text to_text(const Value& value) {
  if (value.is_string()) return value.text();
  if (value.is_undefined()) return Text();
  return Text(repr(value), value.any_from_request());
}

// ---- JSON and UTF-8 ----

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

uint32_t utf8_decode(std::string_view s, size_t i, size_t& len) {
  const auto b = static_cast<unsigned char>(s[i]);
  len = 1;
  if (b < 0x80) return b;
  const size_t n = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return kInvalidChar;
  uint32_t cp = b & (0x7Fu >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return kInvalidChar;
    cp = (cp << 6) | (c & 0x3Fu);
  }
  len = n;
  return cp;
}

namespace {

void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    const uint32_t cp = utf8_decode(s, i, len);
    char buf[16];
    if (cp == '"') {
      out += "\\\"";
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\b') {
      out += "\\b";
    } else if (cp == '\f') {
      out += "\\f";
    } else if (cp == kInvalidChar) {
      out += s[i];
    } else if (cp < 0x20 || (ensure_ascii && cp >= 0x7f)) {
      if (cp >= 0x10000) {
        const uint32_t v = cp - 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      }
      out += buf;
    } else {
      out.append(s, i, len);
    }
    i += len;
  }
  out += '"';
}

void json_value(std::string& out, const Value& v, const JsonOptions& o, int depth) {
  using K = Value::Kind;
  const std::string item_sep = !o.item_separator.empty() ? o.item_separator
                               : o.indent >= 0           ? ","
                                                         : ", ";
  const std::string key_sep = !o.key_separator.empty() ? o.key_separator : ": ";
  auto newline = [&](int d) {
    if (o.indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(o.indent) * static_cast<size_t>(d), ' ');
  };
  switch (v.kind()) {
    case K::None:
      out += "null";
      return;
    case K::Bool:
      out += v.as_bool() ? "true" : "false";
      return;
    case K::Int:
      out += std::to_string(v.as_int());
      return;
    case K::Float: {
      const double d = v.as_double();
      out += std::isnan(d)   ? "NaN"
             : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity")
                             : format_float(d);
      return;
    }
    case K::String:
      json_string(out, v.text().str(), o.ensure_ascii);
      return;
    case K::List: {
      if (v.items().empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i) out += item_sep;
        newline(depth + 1);
        json_value(out, v.items()[i], o, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case K::Dict:
    case K::Namespace: {
      if (v.dict().entries.empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::pair<Text, Value>*> entries;
      for (const auto& e : v.dict().entries) entries.push_back(&e);
      if (o.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(),
                         [](auto* a, auto* b) { return a->first.str() < b->first.str(); });
      }
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) out += item_sep;
        newline(depth + 1);
        json_string(out, entries[i]->first.str(), o.ensure_ascii);
        out += key_sep;
        json_value(out, entries[i]->second, o, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    case K::Undefined:
    case K::Function:
      throw std::invalid_argument("Object of type " + v.type_name() + " is not JSON serializable");
  }
}

}  // namespace

std::string to_json(const Value& value, const JsonOptions& options) {
  std::string out;
  json_value(out, value, options, 0);
  return out;
}

namespace {

Value from_json_at(const nlohmann::ordered_json& json, bool from_request, int depth) {
  if (depth > kMaxValueDepth) {
    throw std::invalid_argument("JSON nested deeper than " + std::to_string(kMaxValueDepth) +
                                " levels");
  }
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::boolean(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::integer(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::number(static_cast<double>(u));
      return Value::integer(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value::number(json.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value::string(json.get<std::string>(), from_request);
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(from_json_at(item, from_request, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      DictData d;
      for (const auto& [k, v] : json.items()) {
        d.entries.emplace_back(Text(k, from_request), from_json_at(v, from_request, depth + 1));
      }
      return Value::dict(std::move(d));
    }
    default:
      return Value::none();
  }
}

}  // namespace

Value from_json(const nlohmann::ordered_json& json, bool from_request) {
  return from_json_at(json, from_request, 0);
}

// ---- UTF-8 ----

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    size_t len = 1;
    utf8_decode(s, i, len);
    i += len;
  }
  return n;
}

std::vector<size_t> utf8_offsets(std::string_view s) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size();) {
    out.push_back(i);
    size_t len = 1;
    utf8_decode(s, i, len);
    i += len;
  }
  out.push_back(s.size());
  return out;
}

bool is_space_at(std::string_view s, size_t i, size_t& len) {
  const uint32_t cp = utf8_decode(s, i, len);
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace llmops::server::jinja
