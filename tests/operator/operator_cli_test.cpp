#include "llmops/kube/operator_cli.h"

#include <gtest/gtest.h>

namespace llmops::kube {
namespace {

OperatorFlags parse(std::vector<std::string> args,
                    const std::map<std::string, std::string>& extra = {}) {
  args.insert(args.begin(), "llmops-operator");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return parse_operator_flags(static_cast<int>(argv.size()), argv.data(), extra);
}

TEST(OperatorFlags, DefaultsAndEveryFlag) {
  OperatorFlags defaults = parse({});
  EXPECT_FALSE(defaults.leader_elect);
  EXPECT_EQ(defaults.metrics_addr, "0.0.0.0:8080");
  EXPECT_EQ(defaults.health_addr, "0.0.0.0:8081");
  EXPECT_EQ(defaults.namespace_name, "");
  EXPECT_FALSE(defaults.insecure_skip_tls_verify);

  OperatorFlags flags =
      parse({"--kubeconfig", "/k", "--context=dev", "--namespace", "team", "--leader-elect",
             "--metrics-addr", "127.0.0.1:9090", "--health-addr=[::1]:9091", "--lease-name", "l",
             "--lease-namespace", "sys", "--workers", "4", "--insecure-skip-tls-verify",
             "--log-level", "debug"});
  EXPECT_EQ(flags.kubeconfig, "/k");
  EXPECT_EQ(flags.context, "dev");
  EXPECT_EQ(flags.namespace_name, "team");
  EXPECT_TRUE(flags.leader_elect);
  EXPECT_EQ(flags.metrics_addr, "127.0.0.1:9090");
  EXPECT_EQ(flags.health_addr, "[::1]:9091");
  EXPECT_EQ(flags.lease_name, "l");
  EXPECT_EQ(flags.lease_namespace, "sys");
  EXPECT_EQ(flags.workers, 4);
  EXPECT_TRUE(flags.insecure_skip_tls_verify);
  EXPECT_EQ(flags.log_level, "debug");
  EXPECT_TRUE(parse({"--metrics-addr", "0"}).metrics_addr == "0") << "0 disables";
  EXPECT_FALSE(parse({"--leader-elect=false"}).leader_elect);
}

TEST(OperatorFlags, ExtraFlagsOfABinary) {
  auto flags = parse({"--reconcile-delay-ms", "5"}, {{"reconcile-delay-ms", "0"}, {"x", "d"}});
  EXPECT_EQ(flags.extra["reconcile-delay-ms"], "5");
  EXPECT_EQ(flags.extra["x"], "d");
}

TEST(OperatorFlags, MistakesAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--bogus"},
                                                                {"--kubeconfig"},
                                                                {"--metrics-addr", "8080"},
                                                                {"--health-addr", "host:99999"},
                                                                {"--workers", "0"},
                                                                {"--workers", "many"}}) {
    EXPECT_THROW(parse(args), UsageError) << args[0];
  }
}

}  // namespace
}  // namespace llmops::kube
