#include "schema.h"

#include <cmath>
#include <regex>

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

std::string childPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string indexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

bool preservesUnknown(const Json& schema) {
  return schema.is_object() && schema.value("x-kubernetes-preserve-unknown-fields", false);
}

void prune(const Json& schema, Json& value, const std::string& path,
           std::vector<std::string>& pruned, bool root) {
  if (!schema.is_object()) return;
  if (value.is_object()) {
    const bool hasProperties = schema.contains("properties") && schema["properties"].is_object();
    const bool hasAdditional =
        schema.contains("additionalProperties") && schema["additionalProperties"].is_object();
    std::vector<std::string> unknown;
    for (auto& [key, child] : value.items()) {
      if (root && (key == "apiVersion" || key == "kind" || key == "metadata")) continue;
      if (hasProperties && schema["properties"].contains(key)) {
        prune(schema["properties"][key], child, childPath(path, key), pruned, false);
      } else if (hasAdditional) {
        prune(schema["additionalProperties"], child, childPath(path, key), pruned, false);
      } else if (!preservesUnknown(schema)) {
        unknown.push_back(key);
      }
    }
    for (const auto& key : unknown) {
      pruned.push_back(childPath(path, key));
      value.erase(key);
    }
  } else if (value.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i) {
      prune(schema["items"], value[i], indexPath(path, i), pruned, false);
    }
  }
}

void defaults(const Json& schema, Json& value) {
  if (!schema.is_object()) return;
  if (value.is_object() && schema.contains("properties") && schema["properties"].is_object()) {
    for (const auto& [key, propertySchema] : schema["properties"].items()) {
      if (!propertySchema.is_object()) continue;
      bool present = value.contains(key);
      if (present && value[key].is_null() && !propertySchema.value("nullable", false)) {
        value.erase(key);  // non-nullable nulls are dropped, then defaulted
        present = false;
      }
      if (!present && propertySchema.contains("default")) value[key] = propertySchema["default"];
      if (value.contains(key)) defaults(propertySchema, value[key]);
    }
  }
  if (value.is_object() && schema.contains("additionalProperties") &&
      schema["additionalProperties"].is_object()) {
    for (auto& [key, child] : value.items()) defaults(schema["additionalProperties"], child);
  }
  if (value.is_array() && schema.contains("items")) {
    for (auto& item : value) defaults(schema["items"], item);
  }
}

std::string render(const Json& value) {
  if (value.is_string()) return "\"" + value.get<std::string>() + "\"";
  if (value.is_null()) return "\"null\"";
  return value.dump();
}

std::string number(const Json& value) {
  if (value.is_number_integer() || value.is_number_unsigned()) return value.dump();
  double d = value.get<double>();
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  return value.dump();
}

bool isInteger(const Json& value) {
  if (value.is_number_integer() || value.is_number_unsigned()) return true;
  if (value.is_number_float()) {
    double d = value.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

bool typeMatches(const std::string& type, const Json& value) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "integer") return isInteger(value);
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  return true;
}

bool matchesFormat(const std::string& format, const Json& value) {
  static const std::regex kDateTime(
      R"(^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$)");
  static const std::regex kDuration(R"(^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^0$)");
  if (format == "int32") {
    if (!isInteger(value)) return true;  // the type check reports it
    double d = value.get<double>();
    return d >= -2147483648.0 && d <= 2147483647.0;
  }
  if (format == "int64") {
    if (!isInteger(value)) return true;
    double d = value.get<double>();
    return d >= -9223372036854775808.0 && d < 9223372036854775808.0;
  }
  if (format == "double" || format == "float") return !value.is_string();
  if (!value.is_string()) return true;
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() > 128) return false;  // no valid timestamp or duration is this long
  if (format == "date-time") return std::regex_match(text, kDateTime);
  if (format == "duration") return std::regex_match(text, kDuration);
  return true;  // formats this server does not check
}

size_t runeCount(const std::string& text) {
  size_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

void validate(const Json& schema, const Json& value, const std::string& path,
              std::vector<SchemaCause>& causes) {
  if (!schema.is_object()) return;
  const std::string where = path.empty() ? "body" : path;
  auto invalidValue = [&](const std::string& message) {
    causes.push_back({"FieldValueInvalid", path,
                      "Invalid value: " + render(value) + ": " + where + " in body " + message});
  };
  if (value.is_null()) {
    if (schema.value("nullable", false)) return;
    if (schema.contains("type")) {
      causes.push_back({"FieldValueTypeInvalid", path,
                        "Invalid value: \"null\": " + where + " in body must be of type " +
                            schema["type"].get<std::string>() + ": \"null\""});
    }
    return;
  }
  if (schema.value("x-kubernetes-int-or-string", false)) {
    if (!isInteger(value) && !value.is_string()) {
      causes.push_back({"FieldValueTypeInvalid", path,
                        "Invalid value: " + render(value) + ": " + where +
                            " in body must be of type integer or string: " + render(value)});
      return;
    }
  } else if (schema.contains("type") && schema["type"].is_string()) {
    const std::string type = schema["type"];
    if (!typeMatches(type, value)) {
      causes.push_back({"FieldValueTypeInvalid", path,
                        "Invalid value: " + render(value) + ": " + where +
                            " in body must be of type " + type + ": " + render(value)});
      return;
    }
  }
  if (schema.contains("enum") && schema["enum"].is_array()) {
    const auto& options = schema["enum"];
    if (std::find(options.begin(), options.end(), value) == options.end()) {
      std::string supported;
      for (const auto& option : options) {
        supported += (supported.empty() ? "" : ", ") + render(option);
      }
      causes.push_back(
          {"FieldValueNotSupported", path,
           "Unsupported value: " + render(value) + ": supported values: " + supported});
    }
  }
  if (value.is_number()) {
    double d = value.get<double>();
    if (schema.contains("minimum")) {
      double minimum = schema["minimum"].get<double>();
      bool exclusive = schema.value("exclusiveMinimum", false);
      if (exclusive ? d <= minimum : d < minimum) {
        invalidValue(std::string("should be greater than ") + (exclusive ? "" : "or equal to ") +
                     number(schema["minimum"]));
      }
    }
    if (schema.contains("maximum")) {
      double maximum = schema["maximum"].get<double>();
      bool exclusive = schema.value("exclusiveMaximum", false);
      if (exclusive ? d >= maximum : d > maximum) {
        invalidValue(std::string("should be less than ") + (exclusive ? "" : "or equal to ") +
                     number(schema["maximum"]));
      }
    }
  }
  if (schema.contains("format") && schema["format"].is_string()) {
    const std::string format = schema["format"];
    if (!matchesFormat(format, value))
      invalidValue("must be of type " + format + ": " + render(value));
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    size_t length = runeCount(text);
    if (schema.contains("minLength") && length < schema["minLength"].get<size_t>()) {
      invalidValue("should be at least " + schema["minLength"].dump() + " chars long");
    }
    if (schema.contains("maxLength") && length > schema["maxLength"].get<size_t>()) {
      causes.push_back({"FieldValueTooLong", path,
                        "Too long: may not be more than " + schema["maxLength"].dump() + " bytes"});
    }
    if (schema.contains("pattern") && schema["pattern"].is_string()) {
      const std::string pattern = schema["pattern"];
      // std::regex recurses per character: bound the input instead of risking the stack.
      constexpr size_t kMaxPatternInput = 4096;
      try {
        if (text.size() > kMaxPatternInput)
          throw std::regex_error(std::regex_constants::error_complexity);
        if (!std::regex_search(text, std::regex(pattern, std::regex::ECMAScript))) {
          invalidValue("should match '" + pattern + "'");
        }
      } catch (const std::regex_error&) {
        invalidValue("has a pattern the server cannot evaluate: '" + pattern + "'");
      }
    }
  }
  if (value.is_array()) {
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<size_t>()) {
      invalidValue("should have at least " + schema["minItems"].dump() + " items");
    }
    if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<size_t>()) {
      causes.push_back({"FieldValueTooMany", path,
                        "Too many: " + std::to_string(value.size()) + ": must have at most " +
                            schema["maxItems"].dump() + " items"});
    }
    if (schema.contains("items")) {
      for (size_t i = 0; i < value.size(); ++i) {
        validate(schema["items"], value[i], indexPath(path, i), causes);
      }
    }
  }
  if (value.is_number() && schema.contains("multipleOf") && schema["multipleOf"].is_number()) {
    double divisor = schema["multipleOf"].get<double>();
    double quotient = value.get<double>() / divisor;
    if (divisor > 0 && std::fabs(quotient - std::round(quotient)) > 1e-9) {
      invalidValue("should be a multiple of " + number(schema["multipleOf"]));
    }
  }
  if (value.is_object()) {
    if (schema.contains("minProperties") && value.size() < schema["minProperties"].get<size_t>()) {
      causes.push_back({"FieldValueInvalid", path,
                        "Invalid value: " + std::to_string(value.size()) + ": " + where +
                            " in body should have at least " + schema["minProperties"].dump() +
                            " properties"});
    }
    if (schema.contains("maxProperties") && value.size() > schema["maxProperties"].get<size_t>()) {
      causes.push_back({"FieldValueTooMany", path,
                        "Too many: " + std::to_string(value.size()) + ": must have at most " +
                            schema["maxProperties"].dump() + " items"});
    }
    if (schema.contains("required") && schema["required"].is_array()) {
      for (const auto& required : schema["required"]) {
        if (required.is_string() && !value.contains(required.get<std::string>())) {
          causes.push_back({"FieldValueRequired", childPath(path, required.get<std::string>()),
                            "Required value"});
        }
      }
    }
    const bool hasProperties = schema.contains("properties") && schema["properties"].is_object();
    for (const auto& [key, child] : value.items()) {
      if (path.empty() && (key == "apiVersion" || key == "kind" || key == "metadata")) continue;
      if (hasProperties && schema["properties"].contains(key)) {
        validate(schema["properties"][key], child, childPath(path, key), causes);
      } else if (schema.contains("additionalProperties") &&
                 schema["additionalProperties"].is_object()) {
        validate(schema["additionalProperties"], child, childPath(path, key), causes);
      }
    }
  }
}

}  // namespace

std::vector<std::string> pruneUnknownFields(const Json& schema, Json& object) {
  std::vector<std::string> pruned;
  prune(schema, object, "", pruned, true);
  return pruned;
}

void applyDefaults(const Json& schema, Json& object) {
  defaults(schema, object);
}

std::vector<SchemaCause> validateAgainstSchema(const Json& schema, const Json& object) {
  std::vector<SchemaCause> causes;
  validate(schema, object, "", causes);
  return causes;
}

}  // namespace llmops::devcluster
