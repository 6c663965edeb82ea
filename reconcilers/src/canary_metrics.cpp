#include "llmops/reconcilers/canary_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace llmops::reconcilers {

namespace {

double label_number(const PromSample& sample, const char* label, double fallback) {
  auto it = sample.labels.find(label);
  if (it == sample.labels.end()) return fallback;
  if (it->second == "+Inf" || it->second == "Inf") return std::numeric_limits<double>::infinity();
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    return fallback;
  }
}

void add_bucket(Histogram& histogram, const PromSample& sample) {
  const double le = label_number(sample, "le", std::nan(""));
  if (std::isnan(le) || std::isnan(sample.value)) return;
  histogram.buckets[le] += sample.value;
}

// after − before, or after when the counter restarted (went down).
double delta(double before, double after) {
  return after >= before ? after - before : after;
}

Histogram delta(const Histogram& before, const Histogram& after) {
  Histogram out;
  bool reset = false;
  for (const auto& [le, count] : after.buckets) {
    auto it = before.buckets.find(le);
    if (it != before.buckets.end() && count < it->second) reset = true;
  }
  for (const auto& [le, count] : after.buckets) {
    auto it = before.buckets.find(le);
    out.buckets[le] = reset || it == before.buckets.end() ? count : count - it->second;
  }
  return out;
}

void accumulate(Histogram& total, const Histogram& part) {
  for (const auto& [le, count] : part.buckets) total.buckets[le] += count;
}

}  // namespace

double Histogram::count() const {
  if (buckets.empty()) return 0;
  return buckets.rbegin()->second;  // the +Inf bucket (the largest bound) holds all
}

RuntimeCounters runtime_counters(const std::vector<PromSample>& samples) {
  RuntimeCounters counters;
  for (const auto& sample : samples) {
    if (std::isnan(sample.value)) continue;
    if (sample.name == "llmops_runtime_requests_total") {
      counters.requests += sample.value;
      if (label_number(sample, "code", 0) >= 500) counters.errors += sample.value;
    } else if (sample.name == "llmops_runtime_generated_tokens_total") {
      counters.generated_tokens += sample.value;
    } else if (sample.name == "llmops_runtime_time_to_first_token_seconds_bucket") {
      add_bucket(counters.ttft, sample);
    } else if (sample.name == "llmops_runtime_inter_token_latency_seconds_bucket") {
      add_bucket(counters.itl, sample);
    }
  }
  return counters;
}

RouterCounters router_counters(const std::vector<PromSample>& samples,
                               const std::string& namespace_name, const std::string& deployment,
                               int64_t revision) {
  RouterCounters counters;
  const std::string revision_text = std::to_string(revision);
  for (const auto& sample : samples) {
    if (sample.name != "llmops_router_upstream_requests_total" || std::isnan(sample.value))
      continue;
    auto label = [&](const char* key) {
      auto it = sample.labels.find(key);
      return it == sample.labels.end() ? std::string() : it->second;
    };
    const std::string name = label("deployment");
    if (name != deployment && name != namespace_name + "/" + deployment) continue;
    if (label("revision") != revision_text) continue;
    counters.requests += sample.value;
    if (label("outcome") == "error") counters.errors += sample.value;
  }
  return counters;
}

std::optional<double> histogram_quantile(double q, const Histogram& histogram) {
  const double total = histogram.count();
  if (histogram.buckets.empty() || total <= 0) return std::nullopt;
  const double rank = q * total;
  double lower_bound = 0;
  double lower_count = 0;
  double highest_finite = 0;
  for (const auto& [le, cumulative] : histogram.buckets) {
    if (std::isinf(le)) {
      // Beyond the last finite bucket nothing is known: report that bound (as PromQL).
      return highest_finite;
    }
    highest_finite = le;
    if (cumulative >= rank) {
      const double in_bucket = cumulative - lower_count;
      if (in_bucket <= 0) return le;
      return lower_bound + (le - lower_bound) * (rank - lower_count) / in_bucket;
    }
    lower_bound = le;
    lower_count = cumulative;
  }
  return highest_finite;
}

Measurement measure_interval(const Scrape& before, const Scrape& after) {
  Measurement out;
  out.time = after.time;
  RuntimeCounters runtime;
  for (const auto& [pod, counters] : after.pods) {
    auto it = before.pods.find(pod);
    RuntimeCounters base = it == before.pods.end() ? RuntimeCounters{} : it->second;
    if (counters.requests < base.requests) base = RuntimeCounters{};  // the pod restarted
    runtime.requests += delta(base.requests, counters.requests);
    runtime.errors += delta(base.errors, counters.errors);
    runtime.generated_tokens += delta(base.generated_tokens, counters.generated_tokens);
    accumulate(runtime.ttft, delta(base.ttft, counters.ttft));
    accumulate(runtime.itl, delta(base.itl, counters.itl));
  }
  RouterCounters router;
  for (const auto& [url, counters] : after.routers) {
    auto it = before.routers.find(url);
    RouterCounters base = it == before.routers.end() ? RouterCounters{} : it->second;
    if (counters.requests < base.requests) base = RouterCounters{};
    router.requests += delta(base.requests, counters.requests);
    router.errors += delta(base.errors, counters.errors);
  }
  for (const char* name : {kErrorRate, kTtftP95, kItlP95, kTokensPerSecond})
    out.values[name] = std::nullopt;
  if (runtime.requests <= 0 && router.requests <= 0) return out;  // no data at all

  std::optional<double> error_rate;
  if (runtime.requests > 0) error_rate = runtime.errors / runtime.requests;
  if (router.requests > 0)
    error_rate = std::max(error_rate.value_or(0.0), router.errors / router.requests);
  out.values[kErrorRate] = error_rate;
  out.values[kTtftP95] = histogram_quantile(0.95, runtime.ttft);
  out.values[kItlP95] = histogram_quantile(0.95, runtime.itl);
  const double seconds = std::chrono::duration<double>(after.time - before.time).count();
  if (seconds > 0 && runtime.requests > 0)
    out.values[kTokensPerSecond] = runtime.generated_tokens / seconds;
  return out;
}

}  // namespace llmops::reconcilers
