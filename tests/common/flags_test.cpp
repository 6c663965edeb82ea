#include "llmops/common/flags.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace llmops {
namespace {

struct Options {
  std::string kubeconfig;
  std::string level = "info";
  bool leader_elect = false;
  int workers = 2;
  std::vector<std::string> image_maps;
  std::string address;
};

FlagSet declare(Options& o) {
  FlagSet flags("usage: prog [flags]", "Does a thing.");
  flags.text("--kubeconfig", &o.kubeconfig, "kubeconfig to use", "PATH")
      .text("--log-level", &o.level, "spdlog level")
      .boolean("--leader-elect", &o.leader_elect, "take a Lease first")
      .integer("--workers", &o.workers, "reconcile workers", 1, 64)
      .repeated("--image-map", &o.image_maps, "NAME=PATH, repeatable\nsecond line", "NAME=PATH")
      .custom(
          "--addr",
          [&o](const std::string& v) {
            if (v.find(':') == std::string::npos) throw std::invalid_argument("not host:port");
            o.address = v;
          },
          "where to listen", "HOST:PORT", "0.0.0.0:80");
  return flags;
}

Options parse(const std::vector<std::string>& args, std::vector<std::string>* rest = nullptr) {
  Options o;
  FlagSet flags = declare(o);
  auto positional = flags.parse(args);
  if (rest) *rest = positional;
  return o;
}

std::string error_of(const std::vector<std::string>& args) {
  try {
    parse(args);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "(accepted)";
}

TEST(FlagSet, DefaultsStayWhenAFlagIsAbsent) {
  Options o = parse({});
  EXPECT_EQ(o.level, "info");
  EXPECT_EQ(o.workers, 2);
  EXPECT_FALSE(o.leader_elect);
  EXPECT_TRUE(o.image_maps.empty());
}

TEST(FlagSet, SpaceAndEqualsForms) {
  Options o = parse({"--kubeconfig", "/k", "--log-level=debug", "--workers=5", "--addr", "h:1"});
  EXPECT_EQ(o.kubeconfig, "/k");
  EXPECT_EQ(o.level, "debug");
  EXPECT_EQ(o.workers, 5);
  EXPECT_EQ(o.address, "h:1");
  EXPECT_EQ(parse({"--kubeconfig=a=b"}).kubeconfig, "a=b");  // only the first '=' splits
  EXPECT_EQ(parse({"--kubeconfig="}).kubeconfig, "");
}

TEST(FlagSet, Switches) {
  EXPECT_TRUE(parse({"--leader-elect"}).leader_elect);
  EXPECT_TRUE(parse({"--leader-elect=true"}).leader_elect);
  EXPECT_FALSE(parse({"--leader-elect", "--leader-elect=false"}).leader_elect);
  std::vector<std::string> rest;
  EXPECT_TRUE(parse({"--leader-elect", "x"}, &rest).leader_elect);  // a switch takes no value
  EXPECT_EQ(rest, std::vector<std::string>{"x"});
}

TEST(FlagSet, RepeatedFlagsAppendAndOthersKeepTheLast) {
  Options o = parse({"--image-map", "a=1", "--image-map=b=2", "--workers", "3", "--workers", "4"});
  EXPECT_EQ(o.image_maps, (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(o.workers, 4);
}

TEST(FlagSet, PositionalArgumentsAndSeen) {
  Options o;
  FlagSet flags = declare(o);
  auto rest = flags.parse({"model.gguf", "--workers", "3", "--", "x"});
  EXPECT_EQ(rest, (std::vector<std::string>{"model.gguf", "--", "x"}));
  EXPECT_TRUE(flags.seen("--workers"));
  EXPECT_FALSE(flags.seen("--kubeconfig"));
  EXPECT_FALSE(flags.help_requested());
}

TEST(FlagSet, ErrorsNameTheFlagAndTheValue) {
  EXPECT_EQ(error_of({"--bogus"}), "unknown flag --bogus");
  EXPECT_EQ(error_of({"--bogus=1"}), "unknown flag --bogus");
  EXPECT_EQ(error_of({"--kubeconfig"}), "--kubeconfig needs a value");
  EXPECT_EQ(error_of({"--workers", "many"}), "--workers wants an integer, got \"many\"");
  EXPECT_EQ(error_of({"--workers", "3x"}), "--workers wants an integer, got \"3x\"");
  EXPECT_EQ(error_of({"--workers", ""}), "--workers wants an integer, got \"\"");
  EXPECT_EQ(error_of({"--workers", "0"}), "--workers must be in 1..64, got 0");
  EXPECT_EQ(error_of({"--workers", "99999999999999999999"}),
            "--workers wants an integer, got \"99999999999999999999\"");
  EXPECT_EQ(error_of({"--leader-elect=yes"}), "--leader-elect wants true or false, got \"yes\"");
  EXPECT_EQ(error_of({"--addr", "nohost"}), "--addr: not host:port");
}

TEST(FlagSet, DeclaringAFlagTwiceIsAProgrammingError) {
  std::string s;
  FlagSet flags("usage: p");
  flags.text("--a", &s, "a");
  EXPECT_THROW(flags.text("--a", &s, "again"), std::logic_error);
  EXPECT_THROW(flags.text("a", &s, "no dashes"), std::logic_error);
}

TEST(FlagSet, HelpIsWrittenFromTheDeclaredFlags) {
  Options o;
  FlagSet flags = declare(o);
  flags.parse({"-h"});
  EXPECT_TRUE(flags.help_requested());
  const std::string help = flags.help();
  EXPECT_EQ(help.rfind("usage: prog [flags]\n\nDoes a thing.\n\nflags:\n", 0), 0u) << help;
  EXPECT_NE(help.find("  --kubeconfig PATH           kubeconfig to use\n"), std::string::npos)
      << help;
  EXPECT_NE(help.find("  --workers N                 reconcile workers (default 2)\n"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("  --leader-elect              take a Lease first\n"), std::string::npos)
      << help;
  EXPECT_NE(help.find("NAME=PATH, repeatable\n                              second line\n"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("where to listen (default 0.0.0.0:80)"), std::string::npos) << help;
  EXPECT_NE(help.find("  --help "), std::string::npos) << help;
}

TEST(FlagSetDeathTest, MainsExitWithUsageOrHelp) {
  auto run = [](std::vector<std::string> args) {
    Options o;
    FlagSet flags = declare(o);
    args.insert(args.begin(), "prog");
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    flags.parse_or_exit(static_cast<int>(argv.size()), argv.data());
    std::exit(7);  // parsed: the main goes on
  };
  EXPECT_EXIT(run({"--bogus"}), testing::ExitedWithCode(2),
              "error: unknown flag --bogus\nusage: prog");
  EXPECT_EXIT(run({"stray"}), testing::ExitedWithCode(2), "error: unexpected argument stray");
  EXPECT_EXIT(run({"--help"}), testing::ExitedWithCode(0), "");
  EXPECT_EXIT(run({"--workers", "3"}), testing::ExitedWithCode(7), "");
}

}  // namespace
}  // namespace llmops
