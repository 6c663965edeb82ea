// Label selectors (equality- and set-based, as in k8s.io/apimachinery/pkg/labels) and
// field selectors (metadata.name, metadata.namespace and a few Pod fields).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace llmops::devcluster {

class LabelSelector {
 public:
  // Throws ApiError 400 on a malformed selector. An empty string selects everything.
  static LabelSelector parse(const std::string& text);
  // From a metav1.LabelSelector object ({matchLabels, matchExpressions}).
  static LabelSelector fromObject(const nlohmann::json& selector);
  bool matches(const nlohmann::json& labels) const;
  bool empty() const { return requirements_.empty(); }

  struct Requirement {
    std::string key;
    std::string op;  // = != in notin exists !exists
    std::vector<std::string> values;
  };

 private:
  std::vector<Requirement> requirements_;
};

class FieldSelector {
 public:
  // Throws ApiError 400 for a malformed selector or a field this server does not index.
  static FieldSelector parse(const std::string& text);
  bool matches(const nlohmann::json& object) const;
  bool empty() const { return terms_.empty(); }

 private:
  struct Term {
    std::string field;
    bool equal;
    std::string value;
  };
  std::vector<Term> terms_;
};

// The value of a supported selectable field of an object ("" when absent).
std::string selectableFieldValue(const nlohmann::json& object, const std::string& field);

}  // namespace llmops::devcluster
