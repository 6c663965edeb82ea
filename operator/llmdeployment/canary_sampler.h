// Samples the canary for the analysis: scrapes the canary pods' runtime /metrics and the
// routers' /metrics, and turns two scrapes one interval apart into a Measurement (the
// pure arithmetic is reconcilers/canary_metrics). The previous scrape is kept in memory
// per deployment: it is a cache, not state — after an operator restart the first scrape
// becomes the new baseline and the next sample comes one interval later.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "llmops/reconcilers/canary_metrics.h"

namespace llmops::operator_main {

using reconcilers::Measurement;
using reconcilers::Scrape;
using reconcilers::Seconds;
using reconcilers::TimePoint;

// GET of a /metrics URL; throws std::runtime_error when no 200 answer came.
class MetricsFetcher {
 public:
  virtual ~MetricsFetcher() = default;
  virtual std::string get(const std::string& url) = 0;
};

// libcurl, a short timeout (a scrape must not hold a reconcile worker for long).
std::shared_ptr<MetricsFetcher> curl_metrics_fetcher(long timeout_ms = 2000);

struct CanaryTarget {
  std::string key;  // namespace/name of the LLMDeployment
  std::string namespace_name;
  std::string name;
  int64_t revision = 0;
  std::map<std::string, std::string> pod_urls;  // ready canary pod → its /metrics URL
};

class CanarySampler {
 public:
  CanarySampler(std::shared_ptr<MetricsFetcher> fetcher, std::vector<std::string> router_urls);

  struct Taken {
    std::optional<Measurement> measurement;  // for the decision
    std::optional<Scrape> scrape;            // commit() it once the sample is stored
    std::optional<Seconds> wait;             // look again then (baseline too young)
  };
  // Called on every reconcile while an analysis step runs; scrapes only when needed: a
  // baseline when there is none, a sample once `due` has come.
  Taken take(const CanaryTarget& target, TimePoint due, Seconds interval, TimePoint now);
  // The scrape becomes the baseline of the next interval.
  void commit(const CanaryTarget& target, Scrape scrape);
  // The deployment has no analysis running (or is gone): drop its baseline.
  void forget(const std::string& key);

 private:
  Scrape scrape(const CanaryTarget& target, TimePoint now);

  struct Baseline {
    int64_t revision = 0;
    Scrape scrape;
  };
  std::shared_ptr<MetricsFetcher> fetcher_;
  std::vector<std::string> router_urls_;
  std::mutex mutex_;
  std::map<std::string, Baseline> baselines_;
};

}  // namespace llmops::operator_main
