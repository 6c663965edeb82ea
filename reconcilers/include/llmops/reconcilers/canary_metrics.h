// From /metrics scrapes to analysis measurements. A measurement is the difference between
// two scrapes of the canary pods' runtime metrics (and, when configured, the routers'
// per-revision counters), so it describes one analysis interval, not the pods' lifetime.
//
// Metrics consumed:
//   llmops_runtime_requests_total{code}                 requests; code >= 500 are errors
//   llmops_runtime_time_to_first_token_seconds_bucket   histogram → ttft-p95-seconds
//   llmops_runtime_inter_token_latency_seconds_bucket   histogram → itl-p95-seconds
//   llmops_runtime_generated_tokens_total               → tokens-per-second
//   llmops_router_upstream_requests_total{deployment,revision,outcome}
//       outcome success|error|client_error; error counts toward error-rate
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "llmops/reconcilers/prometheus_text.h"
#include "llmops/reconcilers/time_text.h"

namespace llmops::reconcilers {

inline constexpr const char* kErrorRate = "error-rate";
inline constexpr const char* kTtftP95 = "ttft-p95-seconds";
inline constexpr const char* kItlP95 = "itl-p95-seconds";
inline constexpr const char* kTokensPerSecond = "tokens-per-second";

// Cumulative bucket counts by upper bound (le), +Inf included.
struct Histogram {
  std::map<double, double> buckets;
  double count() const;
};

struct RuntimeCounters {
  double requests = 0;
  double errors = 0;
  double generated_tokens = 0;
  Histogram ttft;
  Histogram itl;
};

struct RouterCounters {
  double requests = 0;
  double errors = 0;
};

RuntimeCounters runtime_counters(const std::vector<PromSample>& samples);
// Counters of one revision of one deployment; the router's `deployment` label may be
// "name" or "namespace/name".
RouterCounters router_counters(const std::vector<PromSample>& samples,
                               const std::string& namespace_name, const std::string& deployment,
                               int64_t revision);

// The q-quantile by linear interpolation inside the bucket that holds it (as PromQL's
// histogram_quantile); none when the histogram is empty.
std::optional<double> histogram_quantile(double q, const Histogram& histogram);

// One scrape of every source at one time: runtime counters by pod name, router counters by
// router URL. A source that could not be scraped is absent.
struct Scrape {
  TimePoint time;
  std::map<std::string, RuntimeCounters> pods;
  std::map<std::string, RouterCounters> routers;
};

// A measurement: a value per metric name, none when there was no data.
struct Measurement {
  TimePoint time;
  std::map<std::string, std::optional<double>> values;
};

// The metrics over (before, after]. A source present only in `after` counts from zero (a
// pod started during the interval); a counter that went down restarted, and counts from
// zero too. No request in the interval means no data for every metric; error-rate is the
// worse of the runtime's and the routers' view.
Measurement measure_interval(const Scrape& before, const Scrape& after);

}  // namespace llmops::reconcilers
