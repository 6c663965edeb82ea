#include "llmops/kube/kube_client.h"

#include <spdlog/spdlog.h>

#include <random>
#include <thread>

#include "llmops/kube/api_error.h"

namespace llmops::kube {

std::string GroupVersionResource::describe() const {
  return group.empty() ? version + "/" + resource : group + "/" + version + "/" + resource;
}

std::string url_escape(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string KubeClient::path(const GroupVersionResource& gvr, const std::string& ns,
                             const std::string& name, const std::string& subresource) {
  std::string out =
      gvr.group.empty() ? "/api/" + gvr.version : "/apis/" + gvr.group + "/" + gvr.version;
  if (gvr.namespaced && !ns.empty()) out += "/namespaces/" + url_escape(ns);
  out += "/" + gvr.resource;
  if (!name.empty()) out += "/" + url_escape(name);
  if (!subresource.empty()) out += "/" + subresource;
  return out;
}

std::string KubeClient::query(const ListOptions& options, bool watch) {
  std::string out;
  auto add = [&out](const std::string& key, const std::string& value) {
    out += out.empty() ? "?" : "&";
    out += key + "=" + url_escape(value);
  };
  if (!options.label_selector.empty()) add("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) add("fieldSelector", options.field_selector);
  if (!options.resource_version.empty()) add("resourceVersion", options.resource_version);
  if (!options.resource_version_match.empty()) {
    add("resourceVersionMatch", options.resource_version_match);
  }
  if (options.limit > 0) add("limit", std::to_string(options.limit));
  if (!options.continue_token.empty()) add("continue", options.continue_token);
  if (options.timeout_seconds > 0) add("timeoutSeconds", std::to_string(options.timeout_seconds));
  if (watch) {
    if (options.allow_watch_bookmarks) add("allowWatchBookmarks", "true");
    add("watch", "true");
  }
  return out;
}

KubeClient::KubeClient(std::shared_ptr<HttpTransport> transport, ClientOptions options)
    : transport_(std::move(transport)), options_(std::move(options)) {}

HttpResponse KubeClient::call(const std::string& verb, HttpRequest request) {
  thread_local std::mt19937 random{std::random_device{}()};
  const bool write = request.method != "GET";
  // The callers' HttpRequest{...} aggregates leave the timeout zero, which libcurl reads
  // as "none": a request over a dead link would hang forever (found by the fault suite).
  if (request.timeout.count() <= 0 || request.timeout > options_.request_timeout) {
    request.timeout = options_.request_timeout;
  }
  const auto timeout = request.timeout;
  for (int attempt = 1;; ++attempt) {
    if (write && options_.write_budget) {
      if (auto budget = options_.write_budget()) {
        if (budget->count() <= 0) {
          if (options_.observer) options_.observer(verb, 0, 0.0);
          throw FencedError(verb + " " + request.target.substr(0, request.target.find('?')) +
                            " refused: the Lease was not renewed within the renew deadline, "
                            "another replica may lead now");
        }
        request.timeout = std::min(timeout, *budget);
      }
    }
    auto start = std::chrono::steady_clock::now();
    RequestFailure failure;
    std::string failure_text;
    try {
      HttpResponse response = transport_->send(request);
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (options_.observer) options_.observer(verb, response.status, seconds);
      if (response.status >= 200 && response.status < 300) return response;
      failure.status = response.status;
      std::string retry_after = response.header("Retry-After");
      if (!retry_after.empty()) {
        char* end = nullptr;
        long value = std::strtol(retry_after.c_str(), &end, 10);
        if (end != retry_after.c_str() && value >= 0)
          failure.retry_after = std::chrono::seconds(value);
      }
      auto delay = retry_delay(options_.retry, request.method, attempt, failure);
      if (!delay) throw_api_error(response.status, response.body, retry_after);
      spdlog::warn("event=api_retry verb={} target={} code={} attempt={} delay_ms={}", verb,
                   request.target.substr(0, request.target.find('?')), response.status, attempt,
                   delay->count());
      std::this_thread::sleep_for(*delay);
    } catch (const TransportError& error) {
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (options_.observer) options_.observer(verb, 0, seconds);
      failure.connect_failed = error.connect_failed();
      failure.network = true;
      auto delay = retry_delay(options_.retry, request.method, attempt, failure);
      if (!delay) throw;
      // Jitter keeps many clients from reconnecting in lockstep after an outage.
      std::uniform_real_distribution<double> jitter(1.0, 1.5);
      auto wait = std::chrono::milliseconds(static_cast<long>(delay->count() * jitter(random)));
      spdlog::warn("event=api_retry verb={} target={} error=\"{}\" attempt={} delay_ms={}", verb,
                   request.target.substr(0, request.target.find('?')), error.what(), attempt,
                   wait.count());
      std::this_thread::sleep_for(wait);
    }
  }
}

namespace {

nlohmann::json parse_body(const HttpResponse& response, const std::string& what) {
  nlohmann::json value = nlohmann::json::parse(response.body, nullptr, false);
  if (value.is_discarded()) {
    throw ApiError(response.status, ApiReason::kUnknown,
                   what + ": the server answered something that is not JSON",
                   nlohmann::json::object());
  }
  return value;
}

std::string object_namespace(const nlohmann::json& object) {
  const auto& metadata = object.at("metadata");
  return metadata.value("namespace", "");
}

std::string object_name(const nlohmann::json& object, const std::string& what) {
  if (!object.contains("metadata") || !object["metadata"].contains("name")) {
    throw std::invalid_argument(what + ": object has no metadata.name");
  }
  return object["metadata"]["name"].get<std::string>();
}

}  // namespace

nlohmann::json KubeClient::get(const GroupVersionResource& gvr, const std::string& ns,
                               const std::string& name, const std::string& subresource) {
  HttpRequest request{"GET", path(gvr, ns, name, subresource), {}, "", {}};
  return parse_body(call("get", std::move(request)), "get " + gvr.describe());
}

nlohmann::json KubeClient::list(const GroupVersionResource& gvr, const std::string& ns,
                                const ListOptions& options) {
  HttpRequest request{"GET", path(gvr, ns) + query(options, false), {}, "", {}};
  return parse_body(call("list", std::move(request)), "list " + gvr.describe());
}

nlohmann::json KubeClient::list_all(const GroupVersionResource& gvr, const std::string& ns,
                                    ListOptions options) {
  if (options.limit <= 0) options.limit = 500;
  nlohmann::json merged = list(gvr, ns, options);
  if (!merged.contains("items") || merged["items"].is_null()) {
    merged["items"] = nlohmann::json::array();
  }
  // Continue tokens carry the snapshot; resourceVersion must not be sent with them.
  options.resource_version.clear();
  options.resource_version_match.clear();
  std::string token = merged["metadata"].value("continue", "");
  while (!token.empty()) {
    options.continue_token = token;
    nlohmann::json page = list(gvr, ns, options);
    if (page.contains("items") && page["items"].is_array()) {
      for (auto& item : page["items"]) merged["items"].push_back(std::move(item));
    }
    token = page["metadata"].value("continue", "");
  }
  merged["metadata"].erase("continue");
  merged["metadata"].erase("remainingItemCount");
  return merged;
}

nlohmann::json KubeClient::create(const GroupVersionResource& gvr, const std::string& ns,
                                  const nlohmann::json& object) {
  HttpRequest request{"POST",
                      path(gvr, ns) + "?fieldManager=" + url_escape(options_.field_manager),
                      {{"Content-Type", "application/json"}},
                      object.dump(),
                      {}};
  return parse_body(call("create", std::move(request)), "create " + gvr.describe());
}

nlohmann::json KubeClient::update(const GroupVersionResource& gvr, const nlohmann::json& object) {
  std::string name = object_name(object, "update " + gvr.describe());
  HttpRequest request{"PUT",
                      path(gvr, object_namespace(object), name) +
                          "?fieldManager=" + url_escape(options_.field_manager),
                      {{"Content-Type", "application/json"}},
                      object.dump(),
                      {}};
  return parse_body(call("update", std::move(request)), "update " + gvr.describe());
}

nlohmann::json KubeClient::update_status(const GroupVersionResource& gvr,
                                         const nlohmann::json& object) {
  std::string name = object_name(object, "update status " + gvr.describe());
  HttpRequest request{"PUT",
                      path(gvr, object_namespace(object), name, "status") +
                          "?fieldManager=" + url_escape(options_.field_manager),
                      {{"Content-Type", "application/json"}},
                      object.dump(),
                      {}};
  return parse_body(call("update", std::move(request)), "update status " + gvr.describe());
}

nlohmann::json KubeClient::patch(const GroupVersionResource& gvr, const std::string& ns,
                                 const std::string& name, PatchType type,
                                 const nlohmann::json& body, const PatchOptions& options) {
  std::string content_type;
  switch (type) {
    case PatchType::kMerge:
      content_type = "application/merge-patch+json";
      break;
    case PatchType::kJson:
      content_type = "application/json-patch+json";
      break;
    case PatchType::kApply:
      content_type = "application/apply-patch+yaml";
      break;
  }
  std::string manager =
      options.field_manager.empty() ? options_.field_manager : options.field_manager;
  std::string target =
      path(gvr, ns, name, options.subresource) + "?fieldManager=" + url_escape(manager);
  if (type == PatchType::kApply && options.force) target += "&force=true";
  HttpRequest request{"PATCH", target, {{"Content-Type", content_type}}, body.dump(), {}};
  return parse_body(call("patch", std::move(request)), "patch " + gvr.describe());
}

nlohmann::json KubeClient::remove(const GroupVersionResource& gvr, const std::string& ns,
                                  const std::string& name, const DeleteOptions& options) {
  nlohmann::json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (options.precondition_uid) body["preconditions"]["uid"] = *options.precondition_uid;
  if (options.precondition_resource_version) {
    body["preconditions"]["resourceVersion"] = *options.precondition_resource_version;
  }
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  HttpRequest request{
      "DELETE", path(gvr, ns, name), {{"Content-Type", "application/json"}}, body.dump(), {}};
  return parse_body(call("delete", std::move(request)), "delete " + gvr.describe());
}

void KubeClient::watch(const GroupVersionResource& gvr, const std::string& ns,
                       const ListOptions& options, const std::function<void(WatchEvent)>& on_event,
                       const std::function<bool()>& keep_going) {
  HttpRequest request{"GET", path(gvr, ns) + query(options, true), {}, "", {}};
  // The server closes the stream at timeoutSeconds; allow it time to do so.
  request.timeout =
      std::chrono::seconds(options.timeout_seconds > 0 ? options.timeout_seconds + 30 : 3600);
  WatchDecoder decoder;
  auto start = std::chrono::steady_clock::now();
  auto deliver = [&](WatchEvent event) {
    if (event.type == "ERROR") throw_status(event.object);
    on_event(std::move(event));
  };
  HttpResponse response;
  try {
    response = transport_->stream(
        request, [&](std::string_view chunk) { decoder.feed(chunk, deliver); }, keep_going);
  } catch (const TransportError&) {
    if (options_.observer) options_.observer("watch", 0, 0.0);
    throw;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options_.observer) options_.observer("watch", response.status, seconds);
  if (response.status < 200 || response.status >= 300) {
    throw_api_error(response.status, response.body, response.header("Retry-After"));
  }
}

}  // namespace llmops::kube
