// Command-line flags of the form --name VALUE and --switch, checked against a list of
// known flags so that a typo is an error rather than silently ignored.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "llmops/common/usage_error.h"
#include "topology/runtime_placement.h"

namespace llmops::cli {

class Args {
 public:
  // `valued` flags take a value; `switches` take none. Throws UsageError.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
       const std::set<std::string>& switches);

  bool has(const std::string& flag) const;
  std::string str(const std::string& flag) const;  // required
  std::optional<std::string> opt(const std::string& flag) const;
  long long integer(const std::string& flag, std::optional<long long> fallback = {}) const;
  double number(const std::string& flag, std::optional<double> fallback = {}) const;

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> switches_;
};

// The whole file named by a flag's value; UsageError naming the path when unreadable.
std::string read_text_file(const std::string& path);

// --threads N: compute threads; 0 or absent = one per physical core this process may use.
int requested_threads(const Args& args);
// --numa bind|interleave|none; absent = bind (weights copied next to the threads' cores).
topology::NumaPolicy numa_policy(const Args& args);
// This machine's placement for --threads and --numa; UsageError when it cannot be met
// (e.g. more threads than physical cores).
topology::RuntimePlacement placement_for(const Args& args);
// The compute threads --threads resolves to (0 = the plan's physical cores).
int compute_threads(const Args& args);

}  // namespace llmops::cli
