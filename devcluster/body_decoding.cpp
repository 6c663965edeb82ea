#include "body_decoding.h"

#include <yaml-cpp/yaml.h>

#include "protobuf_decoding.h"
#include "status.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

constexpr int kMaxDepth = 200;
// What a YAML body may expand to through aliases: the size of the largest body the server
// accepts (3 MiB), counted as scalar bytes plus a few bytes a node. Without it a few
// hundred bytes of nested aliases ("billion laughs") expand to gigabytes.
constexpr std::size_t kMaxExpandedBytes = 3 * 1024 * 1024;
constexpr std::size_t kNodeCost = 4;

struct ExpansionBudget {
  std::size_t left = kMaxExpandedBytes;
  void spend(std::size_t bytes) {
    if (bytes > left) {
      throw ApiError(413, "RequestEntityTooLarge",
                     "the YAML body expands beyond " + std::to_string(kMaxExpandedBytes) +
                         " bytes through its aliases");
    }
    left -= bytes;
  }
};

// Hand-written rather than std::regex, whose recursion overflows the stack on long input.
bool isYamlInteger(const std::string& text) {
  size_t i = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  if (i >= text.size()) return false;
  for (; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool isYamlFloat(const std::string& text) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    return i - start;
  };
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  size_t whole = digits();
  size_t fraction = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    fraction = digits();
  }
  if (whole == 0 && fraction == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

Json scalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  try {
    if (isYamlInteger(text)) {
      try {
        return std::stoll(text);
      } catch (const std::out_of_range&) {
        return std::stod(text);
      }
    }
    if (isYamlFloat(text)) return std::stod(text);
  } catch (const std::out_of_range&) {
    throw badRequest("number out of range in YAML: " + text);
  }
  return text;
}

Json nodeToJson(const YAML::Node& node, int depth, ExpansionBudget& budget) {
  if (depth > kMaxDepth) throw badRequest("YAML document nested too deeply");
  budget.spend(kNodeCost);
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      budget.spend(node.Scalar().size());
      return scalarToJson(node);
    case YAML::NodeType::Sequence: {
      Json array = Json::array();
      for (const auto& item : node) array.push_back(nodeToJson(item, depth + 1, budget));
      return array;
    }
    case YAML::NodeType::Map: {
      Json object = Json::object();
      for (const auto& item : node) {
        if (!item.first.IsScalar()) throw badRequest("YAML mapping keys must be scalars");
        budget.spend(item.first.Scalar().size());
        object[item.first.Scalar()] = nodeToJson(item.second, depth + 1, budget);
      }
      return object;
    }
  }
  return nullptr;
}

}  // namespace

Json yamlToJson(const std::string& text) {
  try {
    ExpansionBudget budget;
    Json result = nodeToJson(YAML::Load(text), 0, budget);
    (void)result.dump();  // JSON strings must be UTF-8, which YAML does not check
    return result;
  } catch (const Json::type_error&) {
    throw badRequest("the YAML body is not valid UTF-8");
  } catch (const YAML::Exception& e) {
    throw badRequest(std::string("error converting YAML to JSON: ") + e.what());
  }
}

Json decodeBody(const std::string& body, const std::string& contentType) {
  if (contentType.find("application/vnd.kubernetes.protobuf") != std::string::npos) {
    return decodeKubernetesProtobuf(body);
  }
  if (contentType.find("cbor") != std::string::npos) {
    throw ApiError(415, "UnsupportedMediaType",
                   "the devcluster serves JSON, YAML and (for a few kinds) protobuf bodies, not " +
                       contentType);
  }
  size_t first = body.find_first_not_of(" \t\r\n");
  bool looksJson = first != std::string::npos && (body[first] == '{' || body[first] == '[');
  if (first == std::string::npos) throw badRequest("the request body is empty");
  if (!looksJson || contentType.find("yaml") != std::string::npos) {
    if (looksJson) {
      Json parsed = Json::parse(body, nullptr, false);
      if (!parsed.is_discarded()) return parsed;
    }
    return yamlToJson(body);
  }
  // Go's decoder rejects deep nesting too; nlohmann's is recursive.
  int depth = 0, maxDepth = 0;
  bool inString = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '{' || c == '[') {
      maxDepth = std::max(maxDepth, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  if (maxDepth > kMaxDepth) throw badRequest("JSON body nested too deeply");
  try {
    return Json::parse(body);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for huge numbers
    throw badRequest(std::string("the request body is not valid JSON: ") + e.what());
  }
}

}  // namespace llmops::devcluster
