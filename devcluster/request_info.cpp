#include "request_info.h"

#include "status.h"

namespace llmops::devcluster {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = hexValue(text[i + 1]);
      int low = hexValue(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i] == '+' ? ' ' : text[i]);
  }
  return out;
}

QueryParams parseQuery(std::string_view query) {
  QueryParams params;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        params[percentDecode(pair)] = "";
      } else {
        params[percentDecode(pair.substr(0, eq))] = percentDecode(pair.substr(eq + 1));
      }
    }
    start = end + 1;
  }
  return params;
}

std::optional<bool> parseGoBool(std::string_view text) {
  if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" ||
      text == "True") {
    return true;
  }
  if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" ||
      text == "False") {
    return false;
  }
  return std::nullopt;
}

bool queryFlag(const QueryParams& query, const std::string& key) {
  auto it = query.find(key);
  if (it == query.end()) return false;
  auto value = parseGoBool(it->second);
  if (!value) throw badRequest("invalid boolean value for " + key + ": \"" + it->second + "\"");
  return *value;
}

RequestInfo parseRequestInfo(std::string_view method, std::string_view target) {
  RequestInfo info;
  size_t question = target.find('?');
  std::string_view rawPath = target.substr(0, question);
  if (question != std::string_view::npos) info.query = parseQuery(target.substr(question + 1));
  info.path = percentDecode(rawPath);
  info.verb = lowercase(method);

  auto parts = splitPath(info.path);
  if (parts.empty() || (parts[0] != "api" && parts[0] != "apis")) return info;
  info.apiPrefix = parts[0];
  parts.erase(parts.begin());
  if (info.apiPrefix == "apis") {
    if (parts.size() < 2) return info;  // /apis or /apis/<group>: discovery
    info.group = parts[0];
    parts.erase(parts.begin());
  } else if (parts.empty()) {
    return info;  // /api: discovery
  }
  info.version = parts[0];
  parts.erase(parts.begin());
  if (parts.empty()) return info;  // /api/v1 or /apis/<g>/<v>: discovery
  info.isResourceRequest = true;

  bool watchPrefix = false;
  if (parts[0] == "watch") {  // the deprecated /watch/ path form
    watchPrefix = true;
    parts.erase(parts.begin());
  }
  if (!parts.empty() && parts[0] == "namespaces" && parts.size() > 1) {
    info.namespaceName = parts[1];
    // /namespaces/<ns> and its own subresources address the namespace itself.
    bool namespaceSubresource =
        parts.size() == 3 && (parts[2] == "status" || parts[2] == "finalize");
    if (parts.size() > 2 && !namespaceSubresource) parts.erase(parts.begin(), parts.begin() + 2);
  }
  if (!parts.empty()) info.resource = parts[0];
  if (parts.size() > 1) info.name = parts[1];
  if (parts.size() > 2) info.subresource = parts[2];
  if (parts.size() > 3) info.isResourceRequest = false;  // deeper paths are not served

  bool watchParam = false;
  auto watch = info.query.find("watch");
  if (watch != info.query.end()) watchParam = parseGoBool(watch->second).value_or(false);
  if (info.verb == "get") {
    if (watchPrefix || watchParam) {
      info.verb = "watch";
    } else {
      info.verb = info.name.empty() ? "list" : "get";
    }
  } else if (info.verb == "post") {
    info.verb = "create";
  } else if (info.verb == "put") {
    info.verb = "update";
  } else if (info.verb == "delete" && info.name.empty()) {
    info.verb = "deletecollection";
  }
  return info;
}

}  // namespace llmops::devcluster
