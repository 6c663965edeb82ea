#include "router/request_router.h"

#include <gtest/gtest.h>

#include <map>

#include "router/router_cli.h"

namespace llmops::router {
namespace {

DeploymentRoute story(int canary_weight, bool canary_pods_ready = true) {
  DeploymentRoute route;
  route.ns = "ns";
  route.name = "story";
  route.model = "story";
  route.stable_revision = 1;
  route.revisions.push_back(
      {1, 100 - canary_weight, {{"10.0.0.1", 80, "a", true}, {"10.0.0.2", 80, "b", true}}});
  route.revisions.push_back({2, canary_weight, {{"10.0.0.3", 80, "c", canary_pods_ready}}});
  return route;
}

TEST(RequestRouter, SplitsByWeightAndBalancesPods) {
  RequestRouter router;
  router.apply(normalize_table({story(10)}));
  const auto table = router.table();
  const auto& route = *table->find_model("story");
  std::map<int, int> revisions;
  std::map<std::string, int> pods;
  for (int i = 0; i < 2000; ++i) {
    auto choice = router.choose(route, "", {});
    ASSERT_TRUE(choice);
    revisions[choice->revision]++;
    pods[choice->endpoint.pod]++;
  }
  EXPECT_EQ(revisions[1], 1800);
  EXPECT_EQ(revisions[2], 200);
  EXPECT_EQ(pods["a"], 900);
  EXPECT_EQ(pods["b"], 900);
}

TEST(RequestRouter, ACanaryWithoutReadyPodsGetsNoTraffic) {
  RequestRouter router;
  router.apply(normalize_table({story(50, false)}));
  const auto table = router.table();
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(router.choose(*table->find_model("story"), "", {})->revision, 1);
}

TEST(RequestRouter, RetryAvoidsTheFailedPodAndCanaryFailuresGoToStable) {
  RequestRouter router;
  router.apply(normalize_table({story(100)}));
  const auto table = router.table();
  const auto& route = *table->find_model("story");
  auto first = router.choose(route, "", {});
  EXPECT_EQ(first->revision, 2);
  auto retry = router.choose_in(route, *route.effective_stable(), {first->endpoint.address()});
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->revision, 1);
  // Only the canary has weight and its one pod failed: stable (weight 0) takes it.
  auto fallback = router.choose(route, "", {first->endpoint.address()});
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->revision, 1);
  EXPECT_FALSE(router.choose(route, "", {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}));
}

TEST(RequestRouter, EjectionSteersWithinARevisionAndNeverChangesTheSplit) {
  EjectionPolicy policy;
  policy.consecutive_failures = 1;
  RequestRouter router(policy);
  router.apply(normalize_table({story(50)}));
  const auto table = router.table();
  const auto& route = *table->find_model("story");
  router.balancer().report_failure("10.0.0.1:80");
  std::map<int, int> revisions;
  std::map<std::string, int> pods;
  for (int i = 0; i < 100; ++i) {
    auto choice = router.choose(route, "", {});
    revisions[choice->revision]++;
    pods[choice->endpoint.pod]++;
  }
  EXPECT_EQ(revisions[1], 50);
  EXPECT_EQ(pods["a"], 0);  // ejected while its revision-mate is healthy
  EXPECT_EQ(pods["b"], 50);
  // The canary's only pod ejected: it still gets its share (retries cover the clients,
  // and the analysis needs the canary's traffic).
  router.balancer().report_failure("10.0.0.3:80");
  revisions.clear();
  for (int i = 0; i < 100; ++i) revisions[router.choose(route, "", {})->revision]++;
  EXPECT_EQ(revisions[2], 50);
}

TEST(RequestRouter, WeightChangesApplyToTheNextRequest) {
  RequestRouter router;
  router.apply(normalize_table({story(0)}));
  for (int i = 0; i < 10; ++i) {
    auto table = router.table();
    EXPECT_EQ(router.choose(*table->find_model("story"), "", {})->revision, 1);
  }
  router.apply(normalize_table({story(100)}));
  for (int i = 0; i < 10; ++i) {
    auto table = router.table();
    EXPECT_EQ(router.choose(*table->find_model("story"), "", {})->revision, 2);
  }
}

TEST(RouterCli, Flags) {
  auto flags = parse_router_flags({"--listen", "0.0.0.0:8080", "--static-config", "r.yaml"});
  EXPECT_EQ(flags.listen.host, "0.0.0.0");
  EXPECT_EQ(flags.listen.port, 8080);
  EXPECT_EQ(flags.static_config, "r.yaml");
  EXPECT_FALSE(flags.has_metrics_addr);
  flags = parse_router_flags(
      {"--listen", "[::]:0", "--in-cluster", "--metrics-addr", "127.0.0.1:9090"});
  EXPECT_EQ(flags.listen.host, "::");
  EXPECT_TRUE(flags.in_cluster);
  EXPECT_EQ(flags.metrics_addr.port, 9090);
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {},
           {"--listen", "8080", "--in-cluster"},
           {"--listen", "h:70000", "--in-cluster"},
           {"--listen", "h:1"},
           {"--listen", "h:1", "--in-cluster", "--kubeconfig", "k"},
           {"--listen", "h:1", "--in-cluster", "--bogus"},
           {"--listen"}}) {
    EXPECT_THROW(parse_router_flags(bad), UsageError);
  }
}

TEST(RouterCli, EqualsFormsAndErrorsThatNameTheFlag) {
  RouterFlags flags = parse_router_flags(
      {"--listen=127.0.0.1:0", "--static-config=r.yaml", "--upstream-first-byte-timeout=2.5"});
  EXPECT_EQ(flags.listen.host, "127.0.0.1");
  EXPECT_EQ(flags.static_config, "r.yaml");
  EXPECT_EQ(flags.first_byte_timeout_seconds, 2.5);
  EXPECT_TRUE(parse_router_flags({"-h"}).help);
  auto error_of = [](const std::vector<std::string>& args) -> std::string {
    try {
      parse_router_flags(args);
    } catch (const UsageError& error) {
      return error.what();
    }
    return "(accepted)";
  };
  EXPECT_EQ(error_of({"--listen", "h:1", "--in-cluster", "--bogus"}), "unknown flag --bogus");
  EXPECT_EQ(error_of({"--listen"}), "--listen needs a value");
  EXPECT_EQ(error_of({"--listen", "h:1", "stray"}), "unexpected argument stray");
  EXPECT_EQ(error_of({"--listen", "h:1", "--in-cluster", "--upstream-first-byte-timeout", "0"}),
            "--upstream-first-byte-timeout: \"0\" is not a number of seconds in (0, 86400]");
}

TEST(RouterCli, HelpIsWrittenFromTheFlags) {
  const std::string help = router_usage();
  EXPECT_EQ(help.rfind("usage: llmops-router --listen HOST:PORT\n", 0), 0u) << help;
  for (const char* flag : {"--listen HOST:PORT", "--kubeconfig PATH", "--in-cluster",
                           "--static-config FILE", "--metrics-addr HOST:PORT", "(default 30)"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag << "\n" << help;
  }
}

}  // namespace
}  // namespace llmops::router
