#include "llmops/kube/leader_election.h"

#include <gtest/gtest.h>

#include <regex>

#include "fake_transport.h"

namespace llmops::kube {
namespace {

using namespace std::chrono_literals;
using testing::FakeTransport;
using testing::json_response;
using testing::ManualClock;
using testing::status_body;

// One Lease, with resourceVersion checks as the API server does them.
class LeaseServer {
 public:
  HttpResponse handle(const HttpRequest& request) {
    std::lock_guard lock(mutex_);
    if (force_conflict_ && request.method == "PUT") {
      force_conflict_ = false;
      return json_response(409, status_body(409, "Conflict", "the object has been modified"));
    }
    if (request.method == "GET") {
      if (lease_.is_null()) return json_response(404, status_body(404, "NotFound", "no lease"));
      return json_response(200, lease_.dump());
    }
    auto body = nlohmann::json::parse(request.body);
    if (request.method == "POST") {
      if (!lease_.is_null()) return json_response(409, status_body(409, "AlreadyExists", "exists"));
      lease_ = body;
    } else if (request.method == "PUT") {
      if (body["metadata"].value("resourceVersion", "") !=
          lease_["metadata"].value("resourceVersion", "")) {
        return json_response(409, status_body(409, "Conflict", "the object has been modified"));
      }
      lease_ = body;
    }
    lease_["metadata"]["resourceVersion"] = std::to_string(++version_);
    ++writes_;
    return json_response(request.method == "POST" ? 201 : 200, lease_.dump());
  }
  nlohmann::json spec() {
    std::lock_guard lock(mutex_);
    return lease_["spec"];
  }
  int writes() {
    std::lock_guard lock(mutex_);
    return writes_;
  }
  void conflict_next_put() {
    std::lock_guard lock(mutex_);
    force_conflict_ = true;
  }

 private:
  std::mutex mutex_;
  nlohmann::json lease_;
  int version_ = 0;
  int writes_ = 0;
  bool force_conflict_ = false;
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  std::unique_ptr<LeaderElector> candidate(const std::string& identity,
                                           std::shared_ptr<ManualClock> clock) {
    auto transport = std::make_shared<FakeTransport>(
        [this](const HttpRequest& request) { return server_.handle(request); });
    auto client = std::make_shared<KubeClient>(transport);
    LeaderElectionConfig config;
    config.identity = identity;
    config.lease_namespace = "llmops-system";
    return std::make_unique<LeaderElector>(client, config, clock);
  }
  LeaseServer server_;
  std::shared_ptr<ManualClock> clock_a_ = std::make_shared<ManualClock>();
  std::shared_ptr<ManualClock> clock_b_ = std::make_shared<ManualClock>();
};

TEST_F(LeaderElectionTest, FirstCandidateCreatesTheLease) {
  auto a = candidate("host-a_1", clock_a_);
  EXPECT_TRUE(a->try_acquire_or_renew());
  EXPECT_TRUE(a->is_leader());
  auto spec = server_.spec();
  EXPECT_EQ(spec["holderIdentity"], "host-a_1");
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  std::regex micro_time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  EXPECT_TRUE(std::regex_match(spec["renewTime"].get<std::string>(), micro_time)) << spec;
  EXPECT_TRUE(std::regex_match(spec["acquireTime"].get<std::string>(), micro_time)) << spec;
}

TEST_F(LeaderElectionTest, RenewKeepsAcquireTimeAndTransitions) {
  auto a = candidate("a", clock_a_);
  ASSERT_TRUE(a->try_acquire_or_renew());
  auto first = server_.spec();
  clock_a_->advance(2s);
  ASSERT_TRUE(a->try_acquire_or_renew());
  auto second = server_.spec();
  EXPECT_EQ(second["acquireTime"], first["acquireTime"]);
  EXPECT_NE(second["renewTime"], first["renewTime"]);
  EXPECT_EQ(second["leaseTransitions"], 0);
}

TEST_F(LeaderElectionTest, OtherCandidateWaitsForExpiryByItsOwnClock) {
  auto a = candidate("a", clock_a_);
  auto b = candidate("b", clock_b_);
  ASSERT_TRUE(a->try_acquire_or_renew());
  EXPECT_FALSE(b->try_acquire_or_renew());  // b first sees the record now
  // a keeps renewing: b sees the record change and restarts its count every time.
  for (int i = 0; i < 10; ++i) {
    clock_a_->advance(2s);
    clock_b_->advance(2s);
    ASSERT_TRUE(a->try_acquire_or_renew());
    EXPECT_FALSE(b->try_acquire_or_renew()) << "round " << i;
  }
  // a dies. b's clock runs; the record stops changing.
  clock_b_->advance(14s);
  EXPECT_FALSE(b->try_acquire_or_renew()) << "14 s < leaseDurationSeconds";
  clock_b_->advance(2s);
  EXPECT_TRUE(b->try_acquire_or_renew()) << "16 s without renewal";
  auto spec = server_.spec();
  EXPECT_EQ(spec["holderIdentity"], "b");
  EXPECT_EQ(spec["leaseTransitions"], 1);
  // a comes back: it sees b's record and is no longer leader.
  EXPECT_FALSE(a->try_acquire_or_renew());
  EXPECT_FALSE(a->is_leader());
}

// The fence: a leader may act for the renew deadline after the start of its last
// successful renew, and not at all once a renew fails past it or another holds the Lease.
TEST_F(LeaderElectionTest, LeadershipLeftCountsFromTheLastRenew) {
  auto a = candidate("a", clock_a_);
  EXPECT_LE(a->leadership_left().count(), 0) << "not leading yet";
  ASSERT_TRUE(a->try_acquire_or_renew());
  EXPECT_EQ(a->leadership_left(), std::chrono::milliseconds(10000));
  clock_a_->advance(4s);
  EXPECT_EQ(a->leadership_left(), std::chrono::milliseconds(6000));
  ASSERT_TRUE(a->try_acquire_or_renew());
  EXPECT_EQ(a->leadership_left(), std::chrono::milliseconds(10000));
  clock_a_->advance(11s);  // renewals failed meanwhile (a partition)
  EXPECT_LT(a->leadership_left().count(), 0);
  // B takes over only a lease duration (15 s) after it last saw A's renew: after A's
  // fence closed (10 s).
  auto b = candidate("b", clock_b_);
  EXPECT_FALSE(b->try_acquire_or_renew());
  clock_b_->advance(15s);
  EXPECT_TRUE(b->try_acquire_or_renew());
  EXPECT_FALSE(a->try_acquire_or_renew());
  EXPECT_LE(a->leadership_left().count(), 0);
}

TEST_F(LeaderElectionTest, ReleaseHandsOverAtOnce) {
  auto a = candidate("a", clock_a_);
  auto b = candidate("b", clock_b_);
  ASSERT_TRUE(a->try_acquire_or_renew());
  EXPECT_FALSE(b->try_acquire_or_renew());
  ASSERT_TRUE(a->release());
  auto released = server_.spec();
  EXPECT_EQ(released["holderIdentity"], "");
  EXPECT_EQ(released["leaseDurationSeconds"], 1);
  EXPECT_FALSE(a->is_leader());
  EXPECT_TRUE(b->try_acquire_or_renew()) << "no need to wait for the old duration";
  EXPECT_EQ(server_.spec()["leaseTransitions"], 1);
}

TEST_F(LeaderElectionTest, ConflictMeansNotLeader) {
  auto a = candidate("a", clock_a_);
  ASSERT_TRUE(a->try_acquire_or_renew());
  ASSERT_TRUE(a->release());
  auto b = candidate("b", clock_b_);
  server_.conflict_next_put();  // someone else wrote between b's GET and PUT
  EXPECT_FALSE(b->try_acquire_or_renew());
  EXPECT_FALSE(b->is_leader());
  EXPECT_TRUE(b->try_acquire_or_renew());
}

TEST_F(LeaderElectionTest, ReleaseWithoutLeadingWritesNothing) {
  auto a = candidate("a", clock_a_);
  int before = server_.writes();
  EXPECT_TRUE(a->release());
  EXPECT_EQ(server_.writes(), before);
}

TEST(LeaderElectionConfig, LeaseMustOutlastRenewDeadline) {
  LeaderElectionConfig config;
  config.renew_deadline = 20s;
  auto client = std::make_shared<KubeClient>(
      std::make_shared<FakeTransport>([](const HttpRequest&) { return json_response(200, "{}"); }));
  EXPECT_THROW(LeaderElector(client, config), std::invalid_argument);
}

TEST(LeaderElectionIdentity, HostAndUuid) {
  std::regex form(R"(.+_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})");
  EXPECT_TRUE(std::regex_match(default_identity(), form)) << default_identity();
}

}  // namespace
}  // namespace llmops::kube
