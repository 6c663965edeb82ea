#include "args.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "llmops/common/flags.h"

namespace llmops::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
           const std::set<std::string>& switches) {
  // The commands' help texts are hand-written (kUsage); FlagSet does the parsing.
  FlagSet flags("");
  std::map<std::string, bool> switch_values;
  for (const std::string& name : switches) flags.boolean("--" + name, &switch_values[name], "");
  for (const std::string& name : valued) {
    flags.custom(
        "--" + name, [this, name](const std::string& v) { values_[name] = v; }, "");
  }
  const std::vector<std::string> rest = flags.parse(argv);
  if (flags.help_requested()) throw UsageError("unknown flag --help");
  if (!rest.empty()) throw UsageError("unexpected argument '" + rest.front() + "'");
  for (const auto& [name, on] : switch_values) {
    if (on) switches_.insert(name);
  }
}

bool Args::has(const std::string& flag) const {
  return switches_.count(flag) > 0 || values_.count(flag) > 0;
}

std::optional<std::string> Args::opt(const std::string& flag) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::str(const std::string& flag) const {
  auto v = opt(flag);
  if (!v) throw UsageError("--" + flag + " is required");
  return *v;
}

long long Args::integer(const std::string& flag, std::optional<long long> fallback) const {
  auto v = opt(flag);
  if (!v) {
    if (fallback) return *fallback;
    throw UsageError("--" + flag + " is required");
  }
  errno = 0;
  char* end = nullptr;
  const long long n = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno == ERANGE) {
    throw UsageError("--" + flag + " expects an integer, got '" + *v + "'");
  }
  return n;
}

double Args::number(const std::string& flag, std::optional<double> fallback) const {
  auto v = opt(flag);
  if (!v) {
    if (fallback) return *fallback;
    throw UsageError("--" + flag + " is required");
  }
  char* end = nullptr;
  const double d = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || !std::isfinite(d)) {
    throw UsageError("--" + flag + " expects a number, got '" + *v + "'");
  }
  return d;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw UsageError("cannot read " + path);
  return text.str();
}

int requested_threads(const Args& args) {
  const long long n = args.integer("threads", 0);
  if (n < 0 || n > 1024) throw UsageError("--threads must be in 0..1024");
  return static_cast<int>(n);
}

topology::NumaPolicy numa_policy(const Args& args) {
  try {
    return topology::parse_numa_policy(args.opt("numa").value_or("bind"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--numa: ") + e.what());
  }
}

topology::RuntimePlacement placement_for(const Args& args) {
  const int threads = requested_threads(args);
  const topology::NumaPolicy policy = numa_policy(args);
  try {
    return topology::plan_this_process(threads, policy);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--threads: ") + e.what());
  }
}

int compute_threads(const Args& args) {
  return placement_for(args).plan.threads();
}

}  // namespace llmops::cli
