// The values a Jinja template computes with (Python's: None, bool, int, float, str, list,
// tuple, dict, plus undefined, namespaces and callables), and Text: a string that knows
// which of its bytes came from the request, so that a chat prompt can tokenize the
// request's text as plain text and only the template's own text with special tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace llmops::server::jinja {

// A position in the template source, 1-based (column counts UTF-8 characters).
struct SourcePos {
  int line = 0;
  int column = 0;
};

// Every error of the template engine: syntax errors carry the position of the offending
// token, render errors the position of the expression or statement that failed.
class TemplateError : public std::runtime_error {
 public:
  TemplateError(const std::string& message, SourcePos pos);
  const std::string& message() const { return message_; }
  SourcePos pos() const { return pos_; }

 private:
  std::string message_;
  SourcePos pos_;
};

// A string with provenance: the byte ranges that came from the request (message content,
// roles, tool definitions). Operations that keep substrings (concatenation, slicing,
// strip, split) keep provenance exactly; any other derived string (upper, replace, tojson)
// counts as from the request as a whole when any of its inputs was.
class Text {
 public:
  Text() = default;
  explicit Text(std::string s, bool from_request = false);

  const std::string& str() const { return s_; }
  size_t size() const { return s_.size(); }
  bool empty() const { return s_.empty(); }
  bool any_from_request() const { return !spans_.empty(); }

  void append(const Text& other);
  void append(std::string_view s, bool from_request = false);
  // Bytes [pos, pos + n) with their provenance.
  Text substr(size_t pos, size_t n = std::string::npos) const;

  struct Run {
    std::string_view text;
    bool from_request;
  };
  // The string as maximal runs of one provenance, in order.
  std::vector<Run> runs() const;

 private:
  std::string s_;
  std::vector<std::pair<size_t, size_t>> spans_;  // [begin, end) from the request, sorted
};

class Value;
class Interpreter;

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};
using NativeFunction = std::function<Value(CallArgs& args, Interpreter& interpreter)>;

struct ListData {
  std::vector<Value> items;
  bool tuple = false;
};

// Keys keep insertion order, as Python dicts (and JSON objects read in order) do.
struct DictData {
  std::vector<std::pair<Text, Value>> entries;
  const Value* find(std::string_view key) const;
  void set(Text key, Value value);
};

struct FunctionData {
  std::string name;
  NativeFunction fn;
  std::vector<Value> captured;  // values the function holds (a bound method's receiver)
};

class Value {
 public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Function };

  Value() = default;  // undefined
  static Value undefined(std::string hint);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double d);
  static Value string(Text text);
  static Value string(std::string s, bool from_request = false);
  static Value list(std::vector<Value> items, bool tuple = false);
  static Value dict(DictData data);
  static Value make_namespace(DictData data);
  static Value function(std::string name, NativeFunction fn, std::vector<Value> captured = {});

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_namespace() const { return kind_ == Kind::Namespace; }
  bool is_function() const { return kind_ == Kind::Function; }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  double as_double() const;  // int, float or bool as a double
  const Text& text() const;  // strings (and the hint of an undefined)
  const std::vector<Value>& items() const { return list_data().items; }
  bool is_tuple() const { return list_data().tuple; }
  const DictData& dict() const { return *std::get<std::shared_ptr<DictData>>(data_); }
  DictData& mutable_namespace() const { return *std::get<std::shared_ptr<DictData>>(data_); }
  const FunctionData& function() const { return *std::get<std::shared_ptr<FunctionData>>(data_); }
  const std::string& undefined_hint() const { return text().str(); }

  // Python's truth value (undefined is false).
  bool truthy() const;
  // Python's type names, for error messages ('str', 'int', 'list', 'dict', …).
  std::string type_name() const;
  // Whether any string inside (including dict keys) came from the request.
  bool any_from_request() const;

 private:
  const ListData& list_data() const { return *std::get<std::shared_ptr<ListData>>(data_); }

  Kind kind_ = Kind::Undefined;
  std::variant<std::monostate, bool, int64_t, double, std::shared_ptr<const Text>,
               std::shared_ptr<ListData>, std::shared_ptr<DictData>, std::shared_ptr<FunctionData>>
      data_;
};

// How deep lists and dicts may nest (JSON input, namespace assignments).
constexpr int kMaxValueDepth = 64;

// Python's == (numbers compare across int/float/bool; lists and dicts by content).
bool values_equal(const Value& a, const Value& b);
// Python's <; throws std::invalid_argument for types that do not order.
bool value_less(const Value& a, const Value& b);

// str(value) as Jinja renders it ({{ x }}): None → "None", True → "True", lists and dicts
// as Python's repr, undefined → "". Provenance: strings keep theirs; a container's
// rendering is from the request as a whole when any string inside is.
Text to_text(const Value& value);
// Python's repr(value).
std::string repr(const Value& value);
// Python's repr of a float ("1.0", "0.1", "1e+20").
std::string format_float(double d);

struct JsonOptions {
  int indent = -1;  // < 0: single line
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::string item_separator;  // empty: ", " (or "," when indenting)
  std::string key_separator;   // empty: ": "
};
// json.dumps(value) as transformers' tojson filter calls it; throws std::invalid_argument
// for values JSON cannot hold (undefined, functions).
std::string to_json(const Value& value, const JsonOptions& options);

// JSON data as template values (objects in their order). Strings are marked as from the
// request when `from_request`. Throws std::invalid_argument for data nested deeper than
// kMaxValueDepth.
Value from_json(const nlohmann::ordered_json& json, bool from_request);

// UTF-8 helpers (Python strings count characters, not bytes). Invalid bytes count as one
// character each and decode as kInvalidChar.
constexpr uint32_t kInvalidChar = 0xFFFFFFFFu;
uint32_t utf8_decode(std::string_view s, size_t i, size_t& len);
void append_utf8(std::string& out, uint32_t cp);
size_t utf8_length(std::string_view s);
// Byte offsets of each character start, plus s.size() at the end.
std::vector<size_t> utf8_offsets(std::string_view s);
// Python's str.isspace() for the character starting at s[i]; sets `len` to its byte length.
bool is_space_at(std::string_view s, size_t i, size_t& len);

}  // namespace llmops::server::jinja
