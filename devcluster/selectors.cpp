#include "selectors.h"

#include <algorithm>

#include "status.h"

namespace llmops::devcluster {

namespace {

std::string trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> splitTerms(const std::string& text) {
  std::vector<std::string> terms;
  std::string current;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth < 0) throw badRequest("unable to parse requirement: unbalanced parenthesis");
    if (c == ',' && depth == 0) {
      terms.push_back(trim(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (depth != 0) throw badRequest("unable to parse requirement: unbalanced parenthesis");
  terms.push_back(trim(current));
  return terms;
}

bool validLabelKey(const std::string& key) {
  if (key.empty() || key.size() > 317) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '/';
  });
}

bool validLabelValue(const std::string& value) {
  if (value.size() > 63) return false;
  return std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

LabelSelector::Requirement parseRequirement(const std::string& term) {
  LabelSelector::Requirement requirement;
  auto fail = [&](const std::string& why) {
    return badRequest("unable to parse requirement: \"" + term + "\": " + why);
  };
  if (!term.empty() && term[0] == '!') {
    requirement.key = trim(term.substr(1));
    requirement.op = "!exists";
  } else if (auto paren = term.find('('); paren != std::string::npos) {
    std::string head = trim(term.substr(0, paren));
    if (term.back() != ')') throw fail("expected ')'");
    auto space = head.find_last_of(" \t");
    if (space == std::string::npos) throw fail("expected 'in' or 'notin'");
    requirement.key = trim(head.substr(0, space));
    requirement.op = trim(head.substr(space + 1));
    if (requirement.op != "in" && requirement.op != "notin") {
      throw fail("unknown operator " + requirement.op);
    }
    std::string inside = term.substr(paren + 1, term.size() - paren - 2);
    for (auto& value : splitTerms(inside)) {
      if (!validLabelValue(value)) throw fail("invalid label value " + value);
      requirement.values.push_back(value);
    }
  } else if (auto ne = term.find("!="); ne != std::string::npos) {
    requirement.key = trim(term.substr(0, ne));
    requirement.op = "!=";
    requirement.values.push_back(trim(term.substr(ne + 2)));
  } else if (auto eq = term.find('='); eq != std::string::npos) {
    requirement.key = trim(term.substr(0, eq));
    requirement.op = "=";
    size_t valueStart = eq + 1;
    if (valueStart < term.size() && term[valueStart] == '=') ++valueStart;
    requirement.values.push_back(trim(term.substr(valueStart)));
  } else {
    requirement.key = trim(term);
    requirement.op = "exists";
  }
  if (!validLabelKey(requirement.key)) throw fail("invalid label key");
  for (auto& value : requirement.values) {
    if (!validLabelValue(value)) throw fail("invalid label value");
  }
  return requirement;
}

}  // namespace

LabelSelector LabelSelector::parse(const std::string& text) {
  LabelSelector selector;
  if (trim(text).empty()) return selector;
  for (const auto& term : splitTerms(text)) {
    if (term.empty())
      throw badRequest("unable to parse requirement: empty term in \"" + text + "\"");
    selector.requirements_.push_back(parseRequirement(term));
  }
  return selector;
}

LabelSelector LabelSelector::fromObject(const nlohmann::json& object) {
  LabelSelector selector;
  if (!object.is_object()) return selector;
  if (object.contains("matchLabels") && object["matchLabels"].is_object()) {
    for (const auto& [key, value] : object["matchLabels"].items()) {
      selector.requirements_.push_back(
          {key, "=", {value.is_string() ? value.get<std::string>() : value.dump()}});
    }
  }
  if (object.contains("matchExpressions") && object["matchExpressions"].is_array()) {
    for (const auto& expression : object["matchExpressions"]) {
      std::string op = expression.value("operator", "");
      Requirement requirement{expression.value("key", ""), "", {}};
      if (op == "In")
        requirement.op = "in";
      else if (op == "NotIn")
        requirement.op = "notin";
      else if (op == "Exists")
        requirement.op = "exists";
      else if (op == "DoesNotExist")
        requirement.op = "!exists";
      else
        throw badRequest("invalid label selector operator " + op);
      if (expression.contains("values") && expression["values"].is_array()) {
        for (const auto& value : expression["values"]) {
          if (value.is_string()) requirement.values.push_back(value.get<std::string>());
        }
      }
      selector.requirements_.push_back(requirement);
    }
  }
  return selector;
}

bool LabelSelector::matches(const nlohmann::json& labels) const {
  for (const auto& requirement : requirements_) {
    bool has = labels.is_object() && labels.contains(requirement.key) &&
               labels[requirement.key].is_string();
    std::string value = has ? labels[requirement.key].get<std::string>() : "";
    auto listed = [&] {
      return std::find(requirement.values.begin(), requirement.values.end(), value) !=
             requirement.values.end();
    };
    bool ok = true;
    if (requirement.op == "=")
      ok = has && value == requirement.values[0];
    else if (requirement.op == "!=")
      ok = !has || value != requirement.values[0];
    else if (requirement.op == "in")
      ok = has && listed();
    else if (requirement.op == "notin")
      ok = !has || !listed();
    else if (requirement.op == "exists")
      ok = has;
    else if (requirement.op == "!exists")
      ok = !has;
    if (!ok) return false;
  }
  return true;
}

std::string selectableFieldValue(const nlohmann::json& object, const std::string& field) {
  const nlohmann::json* node = &object;
  size_t start = 0;
  while (start <= field.size()) {
    size_t dot = field.find('.', start);
    if (dot == std::string::npos) dot = field.size();
    const std::string key = field.substr(start, dot - start);
    if (!node->is_object() || !node->contains(key)) return "";
    node = &(*node)[key];
    start = dot + 1;
  }
  if (node->is_string()) return node->get<std::string>();
  return node->is_null() ? "" : node->dump();
}

namespace {

// The fields the apiserver indexes for the kinds this server serves (metadata for all,
// a few of Pods, and those of Events kubectl describe asks for).
bool selectableField(const std::string& field) {
  static const std::vector<std::string> kFields = {
      "metadata.name",          "metadata.namespace",  "spec.nodeName", "status.phase",
      "status.podIP",           "spec.schedulerName",  "type",          "reason",
      "reportingComponent",     "reportingController", "source",        "spec.restartPolicy",
      "spec.serviceAccountName"};
  static const std::vector<std::string> kPrefixes = {"involvedObject.", "regarding.", "related.",
                                                     "source."};
  if (std::find(kFields.begin(), kFields.end(), field) != kFields.end()) return true;
  return std::any_of(kPrefixes.begin(), kPrefixes.end(), [&](const std::string& prefix) {
    return field.size() > prefix.size() && field.compare(0, prefix.size(), prefix) == 0;
  });
}

}  // namespace

FieldSelector FieldSelector::parse(const std::string& text) {
  FieldSelector selector;
  if (trim(text).empty()) return selector;
  for (const auto& term : splitTerms(text)) {
    Term parsed;
    size_t ne = term.find("!=");
    size_t eq = term.find('=');
    if (ne != std::string::npos) {
      parsed = {trim(term.substr(0, ne)), false, trim(term.substr(ne + 2))};
    } else if (eq != std::string::npos) {
      size_t valueStart = eq + 1;
      if (valueStart < term.size() && term[valueStart] == '=') ++valueStart;
      parsed = {trim(term.substr(0, eq)), true, trim(term.substr(valueStart))};
    } else {
      throw badRequest("invalid selector: '" + text + "'; can't understand '" + term + "'");
    }
    if (!selectableField(parsed.field)) {
      throw badRequest("field label not supported: " + parsed.field);
    }
    selector.terms_.push_back(parsed);
  }
  return selector;
}

bool FieldSelector::matches(const nlohmann::json& object) const {
  for (const auto& term : terms_) {
    bool same = selectableFieldValue(object, term.field) == term.value;
    if (same != term.equal) return false;
  }
  return true;
}

}  // namespace llmops::devcluster
