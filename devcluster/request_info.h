// Splits a request URL into what Kubernetes calls request info (verb, group, version,
// resource, subresource, namespace, name), as k8s.io/apiserver's RequestInfoFactory does,
// and decodes query strings and Go-style booleans.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmops::devcluster {

using QueryParams = std::map<std::string, std::string>;

struct RequestInfo {
  bool isResourceRequest = false;
  std::string path;       // decoded, without the query
  std::string verb;       // get list watch create update patch delete deletecollection, or the
                          // lower-case HTTP method for non-resource requests
  std::string apiPrefix;  // "api" or "apis"
  std::string group;
  std::string version;
  std::string namespaceName;
  std::string resource;
  std::string subresource;
  std::string name;
  QueryParams query;
};

std::string percentDecode(std::string_view text);
// Later duplicates of a key win; keys without '=' map to "".
QueryParams parseQuery(std::string_view query);
// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False.
std::optional<bool> parseGoBool(std::string_view text);
// Throws ApiError 400 when the value is present but not a boolean.
bool queryFlag(const QueryParams& query, const std::string& key);

RequestInfo parseRequestInfo(std::string_view method, std::string_view target);

}  // namespace llmops::devcluster
