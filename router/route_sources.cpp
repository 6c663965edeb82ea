#include "router/route_sources.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "llmops/api/llmdeployment.h"
#include "llmops/api/status_parse.h"
#include "llmops/common/kube_validation.h"
#include "llmops/kube/informer.h"
#include "llmops/kube/kube_client.h"
#include "router/router_cli.h"

namespace llmops::router {

namespace {

// "host:port" or "[v6]:port", as the command line's addresses, but never port 0.
Endpoint parse_endpoint(const std::string& text, const std::string& where) {
  HostPort parsed;
  try {
    parsed = parse_host_port(text, where + ": endpoint");
  } catch (const UsageError& error) {
    throw ConfigError(error.what());
  }
  if (parsed.port == 0)
    throw ConfigError(where + ": endpoint \"" + text + "\" has no valid port (1-65535)");
  Endpoint endpoint;
  endpoint.host = parsed.host;
  endpoint.port = parsed.port;
  return endpoint;
}

template <class T>
T scalar(const YAML::Node& node, const std::string& where) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    throw ConfigError(where + " has the wrong type");
  }
}

std::string file_fingerprint(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return "missing";
  std::ostringstream out;
  out << info.st_ino << ':' << info.st_size << ':' << info.st_mtim.tv_sec << '.'
      << info.st_mtim.tv_nsec;
  return out.str();
}

RoutingTable load_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  try {
    return parse_static_config(text.str());
  } catch (const ConfigError& error) {
    throw ConfigError(path.string() + ": " + error.what());
  }
}

// Every key of `node` must be one of `known`: a misspelt field would otherwise be ignored.
void reject_unknown_fields(const YAML::Node& node, std::initializer_list<const char*> known,
                           const std::string& where) {
  for (const auto& entry : node) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      std::string expected;
      for (const char* k : known) expected += (expected.empty() ? "" : ", ") + std::string(k);
      throw ConfigError(where + ": unknown field \"" + key + "\" (expected " + expected + ")");
    }
  }
}

}  // namespace

RoutingTable parse_static_config(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& error) {
    throw ConfigError("malformed YAML at line " + std::to_string(error.mark.line + 1) + ": " +
                      error.msg);
  }
  if (!root.IsMap() || !root["deployments"]) throw ConfigError("missing top-level \"deployments\"");
  reject_unknown_fields(root, {"deployments"}, "top level");
  const YAML::Node list = root["deployments"];
  if (!list.IsSequence()) throw ConfigError("\"deployments\" must be a list");
  std::vector<DeploymentRoute> deployments;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    std::string where = "deployments[" + std::to_string(i) + "]";
    if (!item.IsMap()) throw ConfigError(where + " must be a mapping");
    if (!item["name"]) throw ConfigError(where + ".name is required");
    reject_unknown_fields(item, {"name", "stable", "revisions"}, where);
    DeploymentRoute deployment;
    deployment.name = scalar<std::string>(item["name"], where + ".name");
    deployment.model = deployment.name;
    where = "deployment \"" + deployment.name + "\"";
    if (item["stable"]) deployment.stable_revision = scalar<int>(item["stable"], where + ".stable");
    const YAML::Node revisions = item["revisions"];
    if (!revisions || !revisions.IsSequence())
      throw ConfigError(where + ".revisions must be a list");
    for (std::size_t r = 0; r < revisions.size(); ++r) {
      const YAML::Node rev = revisions[r];
      const std::string rwhere = where + ".revisions[" + std::to_string(r) + "]";
      if (!rev.IsMap() || !rev["revision"]) throw ConfigError(rwhere + ".revision is required");
      reject_unknown_fields(rev, {"revision", "weight", "endpoints"}, rwhere);
      RevisionRoute route;
      route.revision = scalar<int>(rev["revision"], rwhere + ".revision");
      if (route.revision < 1) {
        throw ConfigError(rwhere + ".revision must be at least 1, got " +
                          std::to_string(route.revision));
      }
      route.weight = rev["weight"] ? scalar<int>(rev["weight"], rwhere + ".weight") : 0;
      if (route.weight < 0) throw ConfigError(rwhere + ".weight must not be negative");
      const YAML::Node endpoints = rev["endpoints"];
      if (endpoints) {
        if (!endpoints.IsSequence()) throw ConfigError(rwhere + ".endpoints must be a list");
        for (const auto& endpoint : endpoints) {
          route.endpoints.push_back(
              parse_endpoint(scalar<std::string>(endpoint, rwhere + ".endpoints[]"), rwhere));
        }
      }
      deployment.revisions.push_back(std::move(route));
    }
    if (deployment.stable_revision && !deployment.revision(*deployment.stable_revision)) {
      throw ConfigError(where + ": stable revision " + std::to_string(*deployment.stable_revision) +
                        " is not among its revisions");
    }
    deployments.push_back(std::move(deployment));
  }
  std::vector<std::string> warnings;
  RoutingTable table;
  try {
    table = normalize_table(std::move(deployments), &warnings);
  } catch (const std::invalid_argument& error) {
    throw ConfigError(error.what());
  }
  if (!warnings.empty()) throw ConfigError(warnings.front());
  return table;
}

RoutingTable build_kube_routes(const std::vector<nlohmann::json>& deployments,
                               const std::vector<nlohmann::json>& pods,
                               std::vector<std::string>* warnings) {
  // Oldest first, so that when two deployments claim one model the first keeps it.
  std::vector<const nlohmann::json*> ordered;
  for (const auto& object : deployments) ordered.push_back(&object);
  std::sort(ordered.begin(), ordered.end(), [](const nlohmann::json* a, const nlohmann::json* b) {
    const auto created = [](const nlohmann::json* o) {
      return o->value("/metadata/creationTimestamp"_json_pointer, std::string());
    };
    const auto key = [](const nlohmann::json* o) {
      return o->value("/metadata/namespace"_json_pointer, std::string()) + "/" +
             o->value("/metadata/name"_json_pointer, std::string());
    };
    return std::make_pair(created(a), key(a)) < std::make_pair(created(b), key(b));
  });

  std::vector<DeploymentRoute> routes;
  for (const nlohmann::json* object : ordered) {
    DeploymentRoute route;
    route.ns = object->value("/metadata/namespace"_json_pointer, std::string());
    route.name = object->value("/metadata/name"_json_pointer, std::string());
    route.model = object->value("/spec/model/name"_json_pointer, std::string());
    if (route.model.empty()) route.model = route.name;
    const std::string router = object->value("/spec/traffic/router"_json_pointer, std::string());
    if (!router.empty() && router != api::kRouterBuiltin) continue;
    const api::TrafficStatus traffic =
        api::parse_traffic_status(object->value("status", nlohmann::json::object()));
    if (traffic.stable_revision) route.stable_revision = static_cast<int>(*traffic.stable_revision);
    for (const auto& share : traffic.traffic) {
      route.revisions.push_back({static_cast<int>(share.revision), share.weight, {}});
    }
    if (route.revisions.empty() && route.stable_revision) {
      route.revisions.push_back({*route.stable_revision, 100, {}});
    }
    routes.push_back(std::move(route));
  }

  for (const auto& pod : pods) {
    const std::string deployment = api::pod_label(pod, api::kDeploymentLabel);
    const std::optional<int64_t> revision = api::pod_revision(pod);
    if (deployment.empty() || !revision) continue;
    const std::string ns = pod.value("/metadata/namespace"_json_pointer, std::string());
    const std::string ip = pod.value("/status/podIP"_json_pointer, std::string());
    if (ip.empty()) continue;
    int port = 0;
    for (const auto& container :
         pod.value("/spec/containers"_json_pointer, nlohmann::json::array())) {
      for (const auto& p : container.value("ports", nlohmann::json::array())) {
        if (p.value("name", "") == api::kHttpPortName && port == 0)
          port = p.value("containerPort", 0);
      }
    }
    if (port <= 0 || port > 65535) continue;
    bool ready = pod.value("/status/phase"_json_pointer, std::string()) == "Running" &&
                 !pod["metadata"].contains("deletionTimestamp");
    ready = ready && api::pod_ready(pod);
    for (auto& route : routes) {
      // The operator labels pods with the name, cut with a hash suffix beyond 63 characters.
      if (route.ns != ns ||
          *kube_validation::shortenedName(route.name, "", kube_validation::kLabelValueMaxLength) !=
              deployment) {
        continue;
      }
      for (auto& rev : route.revisions) {
        if (rev.revision != *revision) continue;
        Endpoint endpoint;
        endpoint.host = ip;
        endpoint.port = static_cast<uint16_t>(port);
        endpoint.pod = pod.value("/metadata/name"_json_pointer, std::string());
        endpoint.ready = ready;
        rev.endpoints.push_back(std::move(endpoint));
      }
    }
  }
  for (auto& route : routes) {
    for (auto& rev : route.revisions) {
      std::sort(rev.endpoints.begin(), rev.endpoints.end(),
                [](const Endpoint& a, const Endpoint& b) { return a.pod < b.pod; });
    }
  }
  return normalize_table(std::move(routes), warnings);
}

bool ReloadDebouncer::ready(const std::string& fingerprint,
                            std::chrono::steady_clock::time_point now) {
  if (fingerprint == loaded_ || fingerprint == rejected_) {
    pending_.clear();
    return false;
  }
  if (fingerprint != pending_) {
    pending_ = fingerprint;
    pending_since_ = now;
    return false;
  }
  return now - pending_since_ >= quiet_;
}

void ReloadDebouncer::loaded(const std::string& fingerprint) {
  loaded_ = fingerprint;
  rejected_.clear();
  pending_.clear();
}

void ReloadDebouncer::rejected(const std::string& fingerprint) {
  rejected_ = fingerprint;
  pending_.clear();
}

StaticRouteSource::StaticRouteSource(std::filesystem::path path, TableCallback on_table,
                                     std::chrono::milliseconds poll_interval,
                                     std::chrono::milliseconds quiet)
    : path_(std::move(path)),
      on_table_(std::move(on_table)),
      poll_interval_(poll_interval),
      debouncer_(quiet) {}

StaticRouteSource::~StaticRouteSource() {
  stop();
}

std::string StaticRouteSource::fingerprint() const {
  return file_fingerprint(path_);
}

void StaticRouteSource::start() {
  const std::string first = fingerprint();
  on_table_(load_file(path_));
  debouncer_.loaded(first);
  thread_ = std::thread([this] { watch(); });
}

void StaticRouteSource::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StaticRouteSource::watch() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, poll_interval_, [this] { return stopping_; })) {
    const std::string current = fingerprint();
    if (!debouncer_.ready(current, std::chrono::steady_clock::now())) continue;
    try {
      RoutingTable table = load_file(path_);
      // Changed while we read it: wait for it to settle again.
      if (fingerprint() != current) continue;
      debouncer_.loaded(current);
      spdlog::info("event=config_reloaded path={} deployments={}", path_.string(),
                   table.deployments.size());
      on_table_(std::move(table));
    } catch (const ConfigError& error) {
      // Keep serving the last good table; say so once per broken version of the file.
      debouncer_.rejected(current);
      spdlog::error("event=config_rejected path={} error=\"{}\" action=kept_previous_routes",
                    path_.string(), error.what());
    }
  }
}

namespace {
const kube::GroupVersionResource kDeployments{api::kGroup, api::kVersion, api::kResource, true};
const kube::GroupVersionResource kPods{"", "v1", "pods", true};
}  // namespace

KubeRouteSource::KubeRouteSource(std::shared_ptr<kube::KubeClient> client, TableCallback on_table)
    : on_table_(std::move(on_table)) {
  deployments_ = std::make_unique<kube::Informer>(client, kDeployments, "");
  kube::ReflectorOptions pod_options;
  pod_options.label_selector = api::kDeploymentLabel;
  pods_ = std::make_unique<kube::Informer>(client, kPods, "", pod_options);
  auto mark = [this] {
    {
      std::lock_guard lock(mutex_);
      dirty_ = true;
    }
    wake_.notify_all();
  };
  kube::EventHandlers handlers;
  handlers.on_add = [mark](const kube::ObjectPtr&) { mark(); };
  handlers.on_update = [mark](const kube::ObjectPtr&, const kube::ObjectPtr&) { mark(); };
  handlers.on_delete = [mark](const kube::ObjectPtr&) { mark(); };
  deployments_->add_event_handlers(handlers);
  pods_->add_event_handlers(handlers);
}

KubeRouteSource::~KubeRouteSource() {
  stop();
}

void KubeRouteSource::start() {
  deployments_->start();
  pods_->start();
  thread_ = std::thread([this] { rebuild_loop(); });
}

void KubeRouteSource::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  pods_->stop();
  deployments_->stop();
}

bool KubeRouteSource::synced() const {
  return published_.load();
}

void KubeRouteSource::rebuild_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_ || dirty_; });
    if (stopping_) return;
    if (!deployments_->has_synced() || !pods_->has_synced()) {
      // Not listed yet: wait with the lock released, so that event handlers can run.
      wake_.wait_for(lock, std::chrono::milliseconds(50), [this] { return stopping_; });
      continue;
    }
    if (!dirty_ && published_) continue;
    // Let a burst of events (a rollout touches many pods) settle into one rebuild.
    if (wake_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stopping_; })) return;
    dirty_ = false;
    lock.unlock();
    std::vector<nlohmann::json> deployments;
    std::vector<nlohmann::json> pods;
    for (const auto& object : deployments_->store().list()) deployments.push_back(*object);
    for (const auto& object : pods_->store().list()) pods.push_back(*object);
    std::vector<std::string> warnings;
    RoutingTable table;
    try {
      table = build_kube_routes(deployments, pods, &warnings);
    } catch (const std::exception& error) {
      spdlog::error("event=routes_rejected error=\"{}\" action=kept_previous_routes", error.what());
      lock.lock();
      continue;
    }
    for (const auto& warning : warnings)
      spdlog::warn("event=route_conflict message=\"{}\"", warning);
    on_table_(std::move(table));
    published_ = true;
    lock.lock();
  }
}

}  // namespace llmops::router
