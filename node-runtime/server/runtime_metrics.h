// The runtime's Prometheus metrics (prometheus-cpp), labelled with the model name, plus
// the standard process metrics. Listed in the README; rendered by text().
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "batch_scheduler.h"

namespace llmops::server {

class RuntimeMetrics : public SchedulerListener {
 public:
  explicit RuntimeMetrics(const std::string& model);

  void on_request(int code, double duration_seconds);
  void on_tokens(int prompt_tokens, int generated_tokens);
  // SchedulerListener
  void on_step(int sequences, int tokens, int sampled) override;
  void on_first_token(double ttft_seconds) override;
  void on_inter_token(double seconds) override;

  // Where the compute runs (set once at start): compute threads, the cores they use by
  // NUMA node, and the weight bytes bound to each node (empty when not bound).
  void set_placement(int threads, const std::map<int, int>& cores_by_node,
                     const std::map<int, size_t>& bound_bytes_by_node);

  // The KV cache's shape for `vllm:cache_config_info`: positions are allocated one at a
  // time, so a "block" is one position and there are max_batch x context of them.
  void set_cache_config(int max_batch, int context);

  // The exposition text; `stats` fills the gauges read at scrape time.
  std::string text(const SchedulerStats& stats, bool ready);
  prometheus::Registry& registry() { return *registry_; }

 private:
  std::string model_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex scrape_mutex_;  // serializes scrapes (the CPU counter is updated by delta)
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Histogram& request_duration_;
  prometheus::Histogram& ttft_;
  prometheus::Histogram& itl_;
  prometheus::Counter& prompt_tokens_;
  prometheus::Counter& generated_tokens_;
  prometheus::Counter& decode_steps_;
  prometheus::Counter& batch_tokens_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& running_;
  prometheus::Gauge& kv_usage_;
  prometheus::Gauge& ready_;
  // The same signals under vLLM's names, which the Gateway API Inference Extension's
  // endpoint picker, AIBrix and KEDA recipes read (label `model_name`, as vLLM's).
  prometheus::Gauge& vllm_waiting_;
  prometheus::Gauge& vllm_running_;
  prometheus::Gauge& vllm_kv_usage_;
  prometheus::Counter& process_cpu_;
  prometheus::Gauge& process_rss_;
  prometheus::Gauge& process_start_;
  double last_cpu_seconds_ = 0;
};

}  // namespace llmops::server
