// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does
// it: every retry period (jittered) candidates read the Lease and take it over when its
// holder has not renewed it for leaseDurationSeconds by *our* clock (from when we first
// saw the current record, so clock skew between nodes does not matter); the leader renews
// and gives up when it cannot renew within the renew deadline; on shutdown it releases
// the Lease (empty holder, 1 s duration) so a successor need not wait.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "llmops/kube/clock.h"
#include "llmops/kube/kube_client.h"

namespace llmops::kube {

struct LeaderElectionConfig {
  std::string lease_namespace = "default";
  std::string lease_name = "llmops-operator";
  std::string identity;  // "<host>_<uuid>" by default (see default_identity)
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  std::function<void()> on_started_leading;
  // Called once when leadership is lost (renew deadline passed) or released.
  std::function<void()> on_stopped_leading;
};

std::string default_identity();

class LeaderElector {
 public:
  LeaderElector(std::shared_ptr<KubeClient> client, LeaderElectionConfig config,
                std::shared_ptr<Clock> clock = real_clock());

  // Blocks: campaigns until leading, renews until stop() or the renew deadline passes,
  // then releases the lease if it still holds it. Returns true when stopped by stop()
  // and false when leadership was lost.
  bool run();
  void stop();

  // One step of the algorithm: read the Lease and create, renew or take it over.
  // True when we hold it afterwards. Never throws for API errors (logs them).
  bool try_acquire_or_renew();
  // Gives the Lease up if we hold it. True when released (or not ours).
  bool release();
  bool is_leader() const { return leader_.load(); }
  // How long this replica may still act as leader: the renew deadline from the start of
  // its last successful acquire or renew, minus the time since (zero or less when it does
  // not hold the Lease). Another replica can take the Lease only a lease duration after
  // that renew, so writes bounded by this never overlap the next leader's.
  std::chrono::milliseconds leadership_left() const;
  const LeaderElectionConfig& config() const { return config_; }

 private:
  nlohmann::json lease_spec(const nlohmann::json& old_spec, bool was_ours) const;
  bool sleep_for(std::chrono::nanoseconds span);

  std::shared_ptr<KubeClient> client_;
  LeaderElectionConfig config_;
  std::shared_ptr<Clock> clock_;
  std::atomic<bool> leader_{false};
  // clock_->now() at the start of the last successful acquire/renew, as ticks; 0: never.
  std::atomic<int64_t> held_since_{0};
  // The last Lease record seen and when (local monotonic clock) it last changed.
  nlohmann::json observed_spec_;
  std::string observed_resource_version_;
  std::chrono::steady_clock::time_point observed_time_{};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace llmops::kube
