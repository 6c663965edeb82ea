// Unstructured access to any Kubernetes resource, addressed by group/version/resource.
// Objects are nlohmann::json as the API sends them. Every call throws ApiError subclasses
// for failure Statuses and TransportError when no answer came, after retrying what the
// RetryPolicy allows.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "llmops/kube/http_transport.h"
#include "llmops/kube/retry_policy.h"
#include "llmops/kube/watch_decoder.h"

namespace llmops::kube {

struct GroupVersionResource {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lower case
  bool namespaced = true;
  std::string describe() const;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  std::string resource_version_match;
  int limit = 0;  // 0: no paging
  std::string continue_token;
  int timeout_seconds = 0;  // watch: the server ends the stream after this
  bool allow_watch_bookmarks = false;
};

enum class PatchType { kMerge, kJson, kApply };

struct PatchOptions {
  std::string field_manager;  // required for kApply
  bool force = false;         // kApply: take fields owned by other managers
  std::string subresource;    // "" or "status" / "scale"
};

struct DeleteOptions {
  std::string propagation_policy;  // "", Background, Foreground, Orphan
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::optional<int> grace_period_seconds;
};

// Reports every request once finished: verb (get, list, watch, create, update, patch,
// delete), HTTP code (0 when no answer) and seconds. For metrics.
using RequestObserver = std::function<void(const std::string& verb, int code, double seconds)>;

// The time a writer may still take, from now; nullopt: no limit. Zero or less: writes are
// refused (FencedError). A leader's writes are bounded by its Lease this way.
using WriteBudget = std::function<std::optional<std::chrono::milliseconds>()>;

struct ClientOptions {
  RetryOptions retry;
  std::string field_manager = "llmops-operator";  // sent on create/update/patch
  RequestObserver observer;
  // Every request but a watch gives up after this (retries included in none of it).
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  // Consulted before each attempt of a create/update/patch/delete: the attempt is refused
  // when the budget is spent and may not outlive it, so that no write of a deposed leader
  // reaches the server after its Lease could have passed to another (fencing).
  WriteBudget write_budget;
};

class KubeClient {
 public:
  KubeClient(std::shared_ptr<HttpTransport> transport, ClientOptions options = {});

  nlohmann::json get(const GroupVersionResource& gvr, const std::string& ns,
                     const std::string& name, const std::string& subresource = "");
  // One page; metadata.continue is set when there are more.
  nlohmann::json list(const GroupVersionResource& gvr, const std::string& ns,
                      const ListOptions& options = {});
  // All pages (options.limit per page, 500 when 0) merged into one list whose
  // metadata.resourceVersion is the first page's (the snapshot the pages belong to).
  nlohmann::json list_all(const GroupVersionResource& gvr, const std::string& ns,
                          ListOptions options = {});
  nlohmann::json create(const GroupVersionResource& gvr, const std::string& ns,
                        const nlohmann::json& object);
  // PUT of the whole object; metadata.resourceVersion makes it conditional (409).
  nlohmann::json update(const GroupVersionResource& gvr, const nlohmann::json& object);
  nlohmann::json update_status(const GroupVersionResource& gvr, const nlohmann::json& object);
  nlohmann::json patch(const GroupVersionResource& gvr, const std::string& ns,
                       const std::string& name, PatchType type, const nlohmann::json& body,
                       const PatchOptions& options = {});
  // Returns what the server answered: the object (finalizers, graceful) or a Status.
  nlohmann::json remove(const GroupVersionResource& gvr, const std::string& ns,
                        const std::string& name, const DeleteOptions& options = {});
  // Streams events to on_event until the server ends the watch (returns) or keep_going
  // turns false (returns). An ERROR event is thrown as its ApiError (ExpiredError for 410).
  void watch(const GroupVersionResource& gvr, const std::string& ns, const ListOptions& options,
             const std::function<void(WatchEvent)>& on_event,
             const std::function<bool()>& keep_going);

  // /apis/<group>/<version>[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]
  static std::string path(const GroupVersionResource& gvr, const std::string& ns,
                          const std::string& name = "", const std::string& subresource = "");
  static std::string query(const ListOptions& options, bool watch);

 private:
  HttpResponse call(const std::string& verb, HttpRequest request);

  std::shared_ptr<HttpTransport> transport_;
  ClientOptions options_;
};

std::string url_escape(const std::string& text);

}  // namespace llmops::kube
