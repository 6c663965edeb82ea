#include "canary_sampler.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "llmops/reconcilers/prometheus_text.h"

namespace llmops::operator_main {

namespace {

class CurlMetricsFetcher : public MetricsFetcher {
 public:
  explicit CurlMetricsFetcher(long timeout_ms) : timeout_ms_(timeout_ms) {}

  std::string get(const std::string& url) override {
    CURL* curl = curl_easy_init();
    if (!curl) throw std::runtime_error("curl_easy_init failed");
    std::string body;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms_);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms_);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(
        curl, CURLOPT_WRITEFUNCTION,
        +[](char* data, size_t size, size_t count, void* out) -> size_t {
          static_cast<std::string*>(out)->append(data, size * count);
          return size * count;
        });
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    const CURLcode code = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (code != CURLE_OK) throw std::runtime_error(url + ": " + curl_easy_strerror(code));
    if (status != 200) throw std::runtime_error(url + ": HTTP " + std::to_string(status));
    return body;
  }

 private:
  long timeout_ms_;
};

}  // namespace

std::shared_ptr<MetricsFetcher> curl_metrics_fetcher(long timeout_ms) {
  return std::make_shared<CurlMetricsFetcher>(timeout_ms);
}

CanarySampler::CanarySampler(std::shared_ptr<MetricsFetcher> fetcher,
                             std::vector<std::string> router_urls)
    : fetcher_(std::move(fetcher)), router_urls_(std::move(router_urls)) {}

Scrape CanarySampler::scrape(const CanaryTarget& target, TimePoint now) {
  Scrape result;
  result.time = now;
  for (const auto& [pod, url] : target.pod_urls) {
    try {
      result.pods[pod] =
          reconcilers::runtime_counters(reconcilers::parse_prometheus_text(fetcher_->get(url)));
    } catch (const std::exception& error) {
      spdlog::warn("event=scrape_failed key={} pod={} error=\"{}\"", target.key, pod, error.what());
    }
  }
  for (const auto& url : router_urls_) {
    try {
      result.routers[url] =
          reconcilers::router_counters(reconcilers::parse_prometheus_text(fetcher_->get(url)),
                                       target.namespace_name, target.name, target.revision);
    } catch (const std::exception& error) {
      spdlog::warn("event=scrape_failed key={} router={} error=\"{}\"", target.key, url,
                   error.what());
    }
  }
  return result;
}

CanarySampler::Taken CanarySampler::take(const CanaryTarget& target, TimePoint due,
                                         Seconds interval, TimePoint now) {
  Taken taken;
  std::optional<Baseline> baseline;
  {
    std::lock_guard lock(mutex_);
    auto it = baselines_.find(target.key);
    if (it != baselines_.end() && it->second.revision == target.revision) baseline = it->second;
  }
  const auto to_duration = [](Seconds s) {
    return std::chrono::duration_cast<std::chrono::system_clock::duration>(s);
  };
  if (!baseline) {
    // First look at this canary (or after a restart): the window starts now.
    commit(target, scrape(target, now));
    taken.wait = std::max(Seconds(due - now), interval);
    return taken;
  }
  if (now < due) return taken;
  // A window much shorter than the interval (a baseline taken late) would be noise.
  const TimePoint earliest = baseline->scrape.time + to_duration(interval / 2);
  if (now < earliest) {
    taken.wait = Seconds(earliest - now);
    return taken;
  }
  Scrape current = scrape(target, now);
  taken.measurement = reconcilers::measure_interval(baseline->scrape, current);
  taken.scrape = std::move(current);
  return taken;
}

void CanarySampler::commit(const CanaryTarget& target, Scrape scrape) {
  std::lock_guard lock(mutex_);
  baselines_[target.key] = Baseline{target.revision, std::move(scrape)};
}

void CanarySampler::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  baselines_.erase(key);
}

}  // namespace llmops::operator_main
