#include "runtime_metrics.h"

#include <prometheus/text_serializer.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace llmops::server {

namespace {

using prometheus::Histogram;

Histogram::BucketBoundaries latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double process_start_time() {
  // Field 22 of /proc/self/stat: start time in clock ticks after boot.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
  const auto after_comm = stat.rfind(')');
  if (after_comm == std::string::npos) return 0;
  std::istringstream fields(stat.substr(after_comm + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  std::ifstream uptime_file("/proc/uptime");
  double uptime = 0;
  uptime_file >> uptime;
  const double started_after_boot = std::stod(field) / static_cast<double>(sysconf(_SC_CLK_TCK));
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return now - uptime + started_after_boot;
}

}  // namespace

RuntimeMetrics::RuntimeMetrics(const std::string& model)
    : model_(model),
      registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("llmops_runtime_requests_total")
                    .Help("HTTP requests to the OpenAI API by status code")
                    .Register(*registry_)),
      request_duration_(prometheus::BuildHistogram()
                            .Name("llmops_runtime_request_duration_seconds")
                            .Help("Time from request to its last byte")
                            .Register(*registry_)
                            .Add({{"model", model}}, latency_buckets())),
      ttft_(prometheus::BuildHistogram()
                .Name("llmops_runtime_time_to_first_token_seconds")
                .Help("Time from request to its first generated token")
                .Register(*registry_)
                .Add({{"model", model}}, latency_buckets())),
      itl_(prometheus::BuildHistogram()
               .Name("llmops_runtime_inter_token_latency_seconds")
               .Help("Time between consecutive tokens of a sequence")
               .Register(*registry_)
               .Add({{"model", model}},
                    Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                0.5, 1})),
      prompt_tokens_(prometheus::BuildCounter()
                         .Name("llmops_runtime_prompt_tokens_total")
                         .Help("Prompt tokens of finished requests")
                         .Register(*registry_)
                         .Add({{"model", model}})),
      generated_tokens_(prometheus::BuildCounter()
                            .Name("llmops_runtime_generated_tokens_total")
                            .Help("Tokens generated")
                            .Register(*registry_)
                            .Add({{"model", model}})),
      decode_steps_(prometheus::BuildCounter()
                        .Name("llmops_runtime_decode_steps_total")
                        .Help("Forward passes of the batch (each samples one token per sequence)")
                        .Register(*registry_)
                        .Add({{"model", model}})),
      batch_tokens_(prometheus::BuildCounter()
                        .Name("llmops_runtime_batch_tokens_total")
                        .Help("Tokens fed through the model (prompt and generated)")
                        .Register(*registry_)
                        .Add({{"model", model}})),
      queue_depth_(prometheus::BuildGauge()
                       .Name("llmops_runtime_queue_depth")
                       .Help("Requests waiting for a batch slot")
                       .Register(*registry_)
                       .Add({{"model", model}})),
      running_(prometheus::BuildGauge()
                   .Name("llmops_runtime_running_sequences")
                   .Help("Sequences in the running batch")
                   .Register(*registry_)
                   .Add({{"model", model}})),
      kv_usage_(prometheus::BuildGauge()
                    .Name("llmops_runtime_kv_cache_usage_ratio")
                    .Help("KV cache positions allocated / (max batch x context)")
                    .Register(*registry_)
                    .Add({{"model", model}})),
      ready_(prometheus::BuildGauge()
                 .Name("llmops_runtime_ready")
                 .Help("1 when serving, 0 while loading or draining")
                 .Register(*registry_)
                 .Add({{"model", model}})),
      vllm_waiting_(prometheus::BuildGauge()
                        .Name("vllm:num_requests_waiting")
                        .Help("Requests waiting for a batch slot (= llmops_runtime_queue_depth)")
                        .Register(*registry_)
                        .Add({{"model_name", model}})),
      vllm_running_(prometheus::BuildGauge()
                        .Name("vllm:num_requests_running")
                        .Help("Requests in the running batch (= llmops_runtime_running_sequences)")
                        .Register(*registry_)
                        .Add({{"model_name", model}})),
      vllm_kv_usage_(prometheus::BuildGauge()
                         .Name("vllm:kv_cache_usage_perc")
                         .Help("KV cache usage, 0-1 (= llmops_runtime_kv_cache_usage_ratio)")
                         .Register(*registry_)
                         .Add({{"model_name", model}})),
      process_cpu_(prometheus::BuildCounter()
                       .Name("process_cpu_seconds_total")
                       .Help("Total user and system CPU time spent in seconds")
                       .Register(*registry_)
                       .Add({})),
      process_rss_(prometheus::BuildGauge()
                       .Name("process_resident_memory_bytes")
                       .Help("Resident memory size in bytes")
                       .Register(*registry_)
                       .Add({})),
      process_start_(prometheus::BuildGauge()
                         .Name("process_start_time_seconds")
                         .Help("Start time of the process since unix epoch in seconds")
                         .Register(*registry_)
                         .Add({})) {
  process_start_.Set(process_start_time());
}

void RuntimeMetrics::on_request(int code, double duration_seconds) {
  requests_.Add({{"model", model_}, {"code", std::to_string(code)}}).Increment();
  request_duration_.Observe(duration_seconds);
}

void RuntimeMetrics::on_tokens(int prompt_tokens, int generated_tokens) {
  prompt_tokens_.Increment(prompt_tokens);
  generated_tokens_.Increment(generated_tokens);
}

void RuntimeMetrics::on_step(int sequences, int tokens, int sampled) {
  if (sampled > 0) decode_steps_.Increment();
  batch_tokens_.Increment(tokens);
}

void RuntimeMetrics::set_placement(int threads, const std::map<int, int>& cores_by_node,
                                   const std::map<int, size_t>& bound_bytes_by_node) {
  prometheus::BuildGauge()
      .Name("llmops_runtime_placement_threads")
      .Help("Compute threads, each pinned to one core")
      .Register(*registry_)
      .Add({{"model", model_}})
      .Set(threads);
  auto& cores = prometheus::BuildGauge()
                    .Name("llmops_runtime_placement_cores")
                    .Help("Cores running compute threads, by NUMA node")
                    .Register(*registry_);
  for (const auto& [node, count] : cores_by_node) {
    cores.Add({{"model", model_}, {"numa_node", std::to_string(node)}}).Set(count);
  }
  auto& bound = prometheus::BuildGauge()
                    .Name("llmops_runtime_placement_bound_bytes")
                    .Help("Weight bytes in memory bound to each NUMA node")
                    .Register(*registry_);
  for (const auto& [node, bytes] : bound_bytes_by_node) {
    bound.Add({{"model", model_}, {"numa_node", std::to_string(node)}})
        .Set(static_cast<double>(bytes));
  }
}

void RuntimeMetrics::set_cache_config(int max_batch, int context) {
  const auto blocks = static_cast<long long>(max_batch) * context;
  prometheus::BuildGauge()
      .Name("vllm:cache_config_info")
      .Help("KV cache configuration: block_size in positions, num_gpu_blocks = KV blocks")
      .Register(*registry_)
      .Add({{"model_name", model_},
            {"block_size", "1"},
            {"num_gpu_blocks", std::to_string(blocks)},
            {"max_num_seqs", std::to_string(max_batch)}})
      .Set(1);
}

void RuntimeMetrics::on_first_token(double ttft_seconds) {
  ttft_.Observe(ttft_seconds);
}

void RuntimeMetrics::on_inter_token(double seconds) {
  itl_.Observe(seconds);
}

std::string RuntimeMetrics::text(const SchedulerStats& stats, bool ready) {
  queue_depth_.Set(stats.queued);
  running_.Set(stats.running);
  kv_usage_.Set(stats.kv_cache_usage_ratio);
  vllm_waiting_.Set(stats.queued);
  vllm_running_.Set(stats.running);
  vllm_kv_usage_.Set(stats.kv_cache_usage_ratio);
  ready_.Set(ready ? 1 : 0);
  {
    std::lock_guard lock(scrape_mutex_);
    const double cpu = process_cpu_seconds();
    if (cpu > last_cpu_seconds_) process_cpu_.Increment(cpu - last_cpu_seconds_);
    last_cpu_seconds_ = std::max(last_cpu_seconds_, cpu);
  }
  process_rss_.Set(resident_bytes());
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace llmops::server
