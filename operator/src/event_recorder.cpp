#include "llmops/kube/event_recorder.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "llmops/common/kube_validation.h"
#include "llmops/kube/api_error.h"

namespace llmops::kube {

namespace {

const GroupVersionResource kEvents{"", "v1", "events", true};
constexpr std::size_t kMaxRemembered = 4096;

}  // namespace

EventRecorder::EventRecorder(std::shared_ptr<KubeClient> client, std::string component,
                             std::string instance, std::shared_ptr<Clock> clock)
    : client_(std::move(client)),
      component_(std::move(component)),
      instance_(std::move(instance)),
      clock_(std::move(clock)) {}

void EventRecorder::record(const nlohmann::json& involved, const std::string& type,
                           const std::string& reason, const std::string& message) {
  const auto& metadata = involved.at("metadata");
  std::string ns = metadata.value("namespace", "default");
  std::string name = metadata.value("name", "");
  std::string uid = metadata.value("uid", "");
  std::string key = involved.value("kind", "") + "/" + ns + "/" + name + "/" + uid + "/" + type +
                    "/" + reason + "/" + message;
  std::string now = format_time(clock_->wall_now());
  std::lock_guard lock(mutex_);
  auto it = seen_.find(key);
  if (it != seen_.end()) {
    Seen& seen = it->second;
    nlohmann::json patch = {{"count", seen.count + 1}, {"lastTimestamp", now}};
    try {
      client_->patch(kEvents, seen.ns, seen.name, PatchType::kMerge, patch);
      ++seen.count;
      return;
    } catch (const NotFoundError&) {
      seen_.erase(it);  // expired on the server (events have a TTL): start a new one
    } catch (const std::exception& error) {
      spdlog::warn("event=event_patch_failed object={}/{} reason={} error=\"{}\"", ns, name, reason,
                   error.what());
      return;
    }
  }
  auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->wall_now().time_since_epoch())
          .count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%llx", static_cast<unsigned long long>(nanos));
  // client-go's <name>.<hex time>, cut with a hash when the name is long: a real API
  // server refuses Event names over 253 characters.
  std::string event_name = *kube_validation::shortenedName(
      name, std::string(".") + suffix, kube_validation::kDns1123SubdomainMaxLength);
  nlohmann::json event = {{"apiVersion", "v1"},
                          {"kind", "Event"},
                          {"metadata", {{"name", event_name}, {"namespace", ns}}},
                          {"involvedObject",
                           {{"apiVersion", involved.value("apiVersion", "")},
                            {"kind", involved.value("kind", "")},
                            {"namespace", ns},
                            {"name", name},
                            {"uid", uid},
                            {"resourceVersion", metadata.value("resourceVersion", "")}}},
                          {"type", type},
                          {"reason", reason},
                          {"message", message},
                          {"count", 1},
                          {"firstTimestamp", now},
                          {"lastTimestamp", now},
                          {"source", {{"component", component_}}},
                          {"reportingComponent", component_},
                          {"reportingInstance", instance_}};
  try {
    client_->create(kEvents, ns, event);
    if (seen_.size() >= kMaxRemembered) seen_.clear();
    seen_[key] = Seen{event_name, ns, 1};
  } catch (const std::exception& error) {
    spdlog::warn("event=event_create_failed object={}/{} reason={} error=\"{}\"", ns, name, reason,
                 error.what());
  }
}

}  // namespace llmops::kube
