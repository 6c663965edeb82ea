#include "llmops/kube/leader_election.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <random>

#include "llmops/kube/api_error.h"

namespace llmops::kube {

namespace {

const GroupVersionResource kLeases{"coordination.k8s.io", "v1", "leases", true};

std::string random_uuid() {
  std::random_device device;
  std::mt19937_64 random(static_cast<uint64_t>(device()) << 32 | device());
  uint64_t high = random();
  uint64_t low = random();
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;    // variant 1
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xffff), static_cast<unsigned>(high & 0xffff),
                static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return text;
}

}  // namespace

std::string default_identity() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  return std::string(host) + "_" + random_uuid();
}

LeaderElector::LeaderElector(std::shared_ptr<KubeClient> client, LeaderElectionConfig config,
                             std::shared_ptr<Clock> clock)
    : client_(std::move(client)), config_(std::move(config)), clock_(std::move(clock)) {
  if (config_.identity.empty()) config_.identity = default_identity();
  if (config_.lease_duration <= config_.renew_deadline) {
    throw std::invalid_argument("leader election: lease duration must exceed the renew deadline");
  }
}

nlohmann::json LeaderElector::lease_spec(const nlohmann::json& old_spec, bool was_ours) const {
  std::string now = format_micro_time(clock_->wall_now());
  int transitions = old_spec.is_object() ? old_spec.value("leaseTransitions", 0) : 0;
  nlohmann::json spec = {{"holderIdentity", config_.identity},
                         {"leaseDurationSeconds", config_.lease_duration.count()},
                         {"renewTime", now},
                         {"leaseTransitions", was_ours ? transitions : transitions + 1}};
  if (was_ours && old_spec.contains("acquireTime")) {
    spec["acquireTime"] = old_spec["acquireTime"];
  } else {
    spec["acquireTime"] = now;
  }
  return spec;
}

std::chrono::milliseconds LeaderElector::leadership_left() const {
  const int64_t since = held_since_.load();
  if (since == 0) return std::chrono::milliseconds(0);
  const auto start =
      std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(since));
  return std::chrono::duration_cast<std::chrono::milliseconds>(start + config_.renew_deadline -
                                                               clock_->now());
}

bool LeaderElector::try_acquire_or_renew() {
  // The server applies our write after this; the next leader counts a lease duration
  // from when it sees it, so a budget counted from here errs on the safe side.
  const auto attempt_start = clock_->now();
  auto held = [&] {
    held_since_ = attempt_start.time_since_epoch().count();
    return leader_ = true;
  };
  nlohmann::json lease;
  try {
    lease = client_->get(kLeases, config_.lease_namespace, config_.lease_name);
  } catch (const NotFoundError&) {
    nlohmann::json spec = lease_spec(nlohmann::json::object(), false);
    spec["leaseTransitions"] = 0;
    nlohmann::json object = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec", spec}};
    try {
      nlohmann::json created = client_->create(kLeases, config_.lease_namespace, object);
      observed_spec_ = created.value("spec", nlohmann::json::object());
      observed_resource_version_ = created["metadata"].value("resourceVersion", "");
      observed_time_ = clock_->now();
      return held();
    } catch (const std::exception& error) {
      spdlog::info("event=lease_create_failed lease={}/{} error=\"{}\"", config_.lease_namespace,
                   config_.lease_name, error.what());
      return leader_ = false;
    }
  } catch (const std::exception& error) {
    spdlog::warn("event=lease_get_failed lease={}/{} error=\"{}\"", config_.lease_namespace,
                 config_.lease_name, error.what());
    return leader_ = false;
  }

  nlohmann::json old_spec = lease.value("spec", nlohmann::json::object());
  auto now = clock_->now();
  if (old_spec != observed_spec_) {
    observed_spec_ = old_spec;
    observed_time_ = now;
  }
  observed_resource_version_ = lease["metadata"].value("resourceVersion", "");
  std::string holder = old_spec.value("holderIdentity", "");
  bool ours = holder == config_.identity;
  auto duration = std::chrono::seconds(old_spec.value("leaseDurationSeconds", 0));
  if (!holder.empty() && !ours && observed_time_ + duration > now) {
    held_since_ = 0;         // someone else holds it: no budget left at all
    return leader_ = false;  // someone else holds a lease that has not expired yet
  }
  lease["spec"] = lease_spec(old_spec, ours);
  try {
    nlohmann::json updated = client_->update(kLeases, lease);
    observed_spec_ = updated.value("spec", nlohmann::json::object());
    observed_resource_version_ = updated["metadata"].value("resourceVersion", "");
    observed_time_ = clock_->now();
    if (!ours) {
      spdlog::info("event=lease_acquired lease={}/{} identity={} previous_holder=\"{}\"",
                   config_.lease_namespace, config_.lease_name, config_.identity, holder);
    }
    return held();
  } catch (const ConflictError&) {
    spdlog::info("event=lease_conflict lease={}/{}", config_.lease_namespace, config_.lease_name);
    return leader_ = false;
  } catch (const std::exception& error) {
    spdlog::warn("event=lease_update_failed lease={}/{} error=\"{}\"", config_.lease_namespace,
                 config_.lease_name, error.what());
    return leader_ = false;
  }
}

bool LeaderElector::release() {
  if (!leader_) return true;
  if (observed_spec_.value("holderIdentity", "") != config_.identity) return true;
  nlohmann::json spec = observed_spec_;
  spec["holderIdentity"] = "";
  spec["leaseDurationSeconds"] = 1;
  std::string now = format_micro_time(clock_->wall_now());
  spec["renewTime"] = now;
  spec["acquireTime"] = now;
  nlohmann::json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                          {"kind", "Lease"},
                          {"metadata",
                           {{"name", config_.lease_name},
                            {"namespace", config_.lease_namespace},
                            {"resourceVersion", observed_resource_version_}}},
                          {"spec", spec}};
  try {
    client_->update(kLeases, lease);
    leader_ = false;
    held_since_ = 0;
    spdlog::info("event=lease_released lease={}/{} identity={}", config_.lease_namespace,
                 config_.lease_name, config_.identity);
    return true;
  } catch (const std::exception& error) {
    spdlog::warn("event=lease_release_failed lease={}/{} error=\"{}\"", config_.lease_namespace,
                 config_.lease_name, error.what());
    return false;
  }
}

bool LeaderElector::sleep_for(std::chrono::nanoseconds span) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, span, [this] { return stopping_; });
  return !stopping_;
}

void LeaderElector::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
}

bool LeaderElector::run() {
  std::mt19937 random{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.0, 1.2);  // client-go JitterFactor
  spdlog::info("event=lease_campaign lease={}/{} identity={}", config_.lease_namespace,
               config_.lease_name, config_.identity);
  while (!try_acquire_or_renew()) {
    auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(config_.retry_period) * (1.0 + jitter(random)));
    if (!sleep_for(wait)) return true;
  }
  spdlog::info("event=leading lease={}/{} identity={}", config_.lease_namespace, config_.lease_name,
               config_.identity);
  if (config_.on_started_leading) config_.on_started_leading();
  auto last_renew = clock_->now();
  bool lost = false;
  while (sleep_for(config_.retry_period)) {
    if (try_acquire_or_renew()) {
      last_renew = clock_->now();
    } else if (clock_->now() - last_renew > config_.renew_deadline ||
               observed_spec_.value("holderIdentity", "") != config_.identity) {
      lost = true;
      break;
    }
  }
  if (lost) {
    leader_ = false;
    held_since_ = 0;
    spdlog::error("event=leadership_lost lease={}/{} identity={}", config_.lease_namespace,
                  config_.lease_name, config_.identity);
  } else {
    // Holding it still (we renewed within the deadline): hand it over at once.
    leader_ = true;
    release();
  }
  if (config_.on_stopped_leading) config_.on_stopped_leading();
  return !lost;
}

}  // namespace llmops::kube
