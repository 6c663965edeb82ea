// `llmops-runtime serve`: load (or download) the model, start the batch scheduler and
// the HTTP API, and drain on SIGTERM without dropping a request.
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "args.h"
#include "commands.h"
#include "engine/kernels.h"
#include "engine/model.h"
#include "engine/model_tokenizer.h"
#include "engine/thread_pool.h"
#include "engine/transformer.h"
#include "llmops/common/http_server.h"
#include "server/batch_scheduler.h"
#include "server/inference_server.h"
#include "server/model_source.h"
#include "server/openai_protocol.h"
#include "server/runtime_metrics.h"

namespace llmops::cli {

namespace {

std::string default_model_name(const std::string& location) {
  std::string base = location.substr(location.find_last_of('/') + 1);
  base = base.substr(0, base.find('?'));
  if (auto dot = base.rfind('.'); dot != std::string::npos && dot > 0) base.resize(dot);
  return base.empty() ? "model" : base;
}

}  // namespace

int run_serve(const std::vector<std::string>& argv) {
  const Args args(
      argv,
      {"model", "tokenizer", "model-name", "model-sha256", "model-cache", "model-ca-file", "host",
       "port", "max-batch", "max-queue", "context", "api-key", "lame-duck-seconds", "drain-seconds",
       "inject-error-rate", "threads", "numa", "chat-template", "chat-format"},
      {});
  const std::string location = args.str("model");
  const std::string host = args.opt("host").value_or("127.0.0.1");
  const auto port = args.integer("port", 8080);
  if (port < 0 || port > 65535) throw UsageError("--port must be in 0..65535");
  server::SchedulerOptions scheduler_options;
  scheduler_options.max_batch = static_cast<int>(args.integer("max-batch", 16));
  scheduler_options.max_queue = static_cast<int>(args.integer("max-queue", 64));
  scheduler_options.context = static_cast<int>(args.integer("context", 0));
  const double lame_duck = args.number("lame-duck-seconds", 5);
  const double drain = args.number("drain-seconds", 30);
  server::InferenceServerOptions server_options;
  server_options.model_name = args.opt("model-name").value_or(default_model_name(location));
  // The key may come from the environment, which, unlike argv, other users cannot read.
  const char* env_key = std::getenv("LLMOPS_API_KEY");
  server_options.api_key = args.opt("api-key").value_or(env_key ? env_key : "");
  server_options.inject_error_rate = args.number("inject-error-rate", 0);
  if (server_options.inject_error_rate < 0 || server_options.inject_error_rate > 1) {
    throw UsageError("--inject-error-rate must be in [0, 1]");
  }
  if (scheduler_options.max_batch < 1) throw UsageError("--max-batch must be >= 1");
  std::optional<server::ChatFormat> forced_format;
  if (const auto name = args.opt("chat-format")) {
    if (args.opt("chat-template")) {
      throw UsageError("--chat-template and --chat-format exclude each other");
    }
    forced_format = server::parse_chat_format(*name);
    if (!forced_format) {
      throw UsageError("--chat-format: '" + *name + "' is not one of llama2, chatml, plain");
    }
  }
  if (scheduler_options.context < 0) throw UsageError("--context must be >= 0");

  // SIGTERM and SIGINT are taken by one thread with sigwait: block them everywhere first.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::ModelSourceOptions source;
  source.location = location;
  source.sha256 = args.opt("model-sha256").value_or("");
  source.cache_dir = args.opt("model-cache").value_or("");
  source.ca_file = args.opt("model-ca-file").value_or("");
  topology::RuntimePlacement placement = placement_for(args);
  const std::string path = server::resolve_model(source);
  engine::Model model = engine::load_model(path);
  const engine::Tokenizer tokenizer =
      engine::load_tokenizer_for(model, args.opt("tokenizer").value_or(""));
  engine::ThreadPool pool(placement.plan.threads());
  // Pins this thread too: the scheduler's engine thread, started next, inherits its PU
  // (it runs chunk 0 of every parallel_for); then this thread moves off the compute PUs
  // so that the HTTP threads it starts stay off them when there is room.
  topology::apply_placement(placement, pool, model);
  engine::Transformer transformer(model, &pool);
  server::RuntimeMetrics metrics(server_options.model_name);
  std::map<int, std::set<int>> cores_by_node;
  for (const auto& t : placement.plan.placements) cores_by_node[t.numa_node].insert(t.core);
  std::map<int, int> core_counts;
  for (const auto& [node, cores] : cores_by_node)
    core_counts[node] = static_cast<int>(cores.size());
  metrics.set_placement(placement.plan.threads(), core_counts, placement.memory.bytes_by_node);
  server::BatchScheduler scheduler(transformer, tokenizer, scheduler_options, &metrics);
  metrics.set_cache_config(scheduler_options.max_batch, scheduler.context());
  topology::move_off_compute_pus(placement);
  // The Jinja chat template: --chat-template FILE, else the GGUF's; --chat-format NAME: a
  // built-in format instead; neither and no template in the file: the plain format.
  std::string chat_template = model.chat_template;
  if (const auto file = args.opt("chat-template")) chat_template = read_text_file(*file);
  std::string chat_format = "plain";
  if (forced_format) {
    server_options.chat_format = *forced_format;
    chat_format = server::chat_format_name(*forced_format);
  } else if (!chat_template.empty()) {
    server_options.chat_template = std::make_shared<const server::ChatTemplate>(chat_template);
    chat_format = "jinja";
    if (!server_options.chat_template->ok()) {
      spdlog::warn("event=chat_template_unusable error=\"{}\" (chat requests will get 400)",
                   server_options.chat_template->error());
      chat_format = "jinja-unparsable";
    }
  } else {
    server_options.chat_format = server::ChatFormat::Plain;
  }
  server::InferenceServer api(model, tokenizer, scheduler, metrics, server_options);

  http::ServerOptions http_options;
  http_options.address = host;
  http_options.port = static_cast<uint16_t>(port);
  http_options.threads = 2;
  http_options.errorResponse = [](int status, const std::string& message) {
    return http::Response{status,
                          {{"Content-Type", "application/json"}},
                          server::ApiError(status, message).body().dump()};
  };
  http::HttpServer http_server(
      http_options, [&api](const http::Request& request, std::shared_ptr<http::ResponseWriter> w) {
        api.handle(request, std::move(w));
      });
  http_server.start();
  api.set_state(server::InferenceServer::State::Serving);
  spdlog::info(
      "serving model={} path={} format={} context={} vocab={} chat_format={} max_batch={} "
      "threads={} kernels={} address={}:{}",
      server_options.model_name, path,
      model.format == engine::ModelFormat::Gguf ? "gguf" : "llama2c", scheduler.context(),
      model.config.vocab_size, chat_format, scheduler_options.max_batch, pool.size(),
      engine::kernel_variant_name(engine::kernel_variant()), host, http_server.port());

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  using namespace std::chrono;
  const auto drain_start = steady_clock::now();
  api.set_state(server::InferenceServer::State::LameDuck);
  spdlog::info("draining signal={} lame_duck_s={} drain_s={} in_flight={}", signal_number,
               lame_duck, drain, api.in_flight());
  std::this_thread::sleep_for(duration<double>(lame_duck));
  api.set_state(server::InferenceServer::State::Draining);
  // Requests still queued never started: refuse them now (503 + x-llmops-draining) so
  // that they are retried elsewhere instead of waiting out the drain.
  scheduler.refuse_queued();
  const auto deadline =
      steady_clock::now() + duration_cast<steady_clock::duration>(duration<double>(drain));
  while (api.in_flight() > 0 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  const int abandoned = api.in_flight();
  // Whole (non-streamed) responses count as done when handed to the connection: give
  // their last bytes a moment to leave before the connections close.
  std::this_thread::sleep_for(milliseconds(100));
  scheduler.stop();
  http_server.stop();
  spdlog::info("stopped drained_s={:.3f} abandoned={}",
               duration<double>(steady_clock::now() - drain_start).count(), abandoned);
  return 0;
}

}  // namespace llmops::cli
