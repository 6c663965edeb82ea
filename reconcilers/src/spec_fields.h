// Reading fields of an LLMDeployment spec: each error names the field, as
// "LLMDeployment <field>: <what>" (std::invalid_argument). Shared by the spec parsers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "llmops/reconcilers/time_text.h"

namespace llmops::reconcilers::spec_fields {

[[noreturn]] inline void bad(const std::string& field, const std::string& what) {
  throw std::invalid_argument("LLMDeployment " + field + ": " + what);
}

// The member `key` of an object, or null when absent, null, or `parent` is no object.
inline const nlohmann::json* child(const nlohmann::json& parent, const char* key) {
  if (!parent.is_object()) return nullptr;
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return nullptr;
  return &*it;
}

inline int64_t integer(const nlohmann::json& value, const std::string& field, int64_t min_value) {
  if (!value.is_number_integer()) bad(field, "wants an integer, got " + value.dump());
  const auto number = value.get<int64_t>();
  if (number < min_value) bad(field, "must be at least " + std::to_string(min_value));
  return number;
}

inline Seconds duration(const nlohmann::json& value, const std::string& field) {
  if (!value.is_string()) bad(field, "wants a duration string like 15s, got " + value.dump());
  try {
    return parse_duration(value.get<std::string>());
  } catch (const std::invalid_argument& error) {
    bad(field, error.what());
  }
}

}  // namespace llmops::reconcilers::spec_fields
