#include "args.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace llmops::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
           const std::set<std::string>& switches) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + a + "'");
    std::string name = a.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (switches.count(name)) {
      if (inline_value) throw UsageError("--" + name + " takes no value");
      switches_.insert(name);
    } else if (valued.count(name)) {
      if (inline_value) {
        values_[name] = *inline_value;
      } else {
        if (i + 1 >= argv.size()) throw UsageError("--" + name + " needs a value");
        values_[name] = argv[++i];
      }
    } else {
      throw UsageError("unknown flag --" + name);
    }
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
