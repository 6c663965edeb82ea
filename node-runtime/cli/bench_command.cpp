// `llmops-runtime bench`: prefill and decode speed of a model on this machine, as one
// JSON object (for bench/ scripts that compare against baselines in the same run).
#include <time.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "args.h"
#include "commands.h"
#include "engine/kernels.h"
#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/thread_pool.h"
#include "engine/transformer.h"

namespace llmops::cli {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// CPU time of every thread of this process: on a busy machine, with one thread, a steadier
// measure of work than the wall clock (with several, it includes their waiting spins).
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
}  // namespace

int run_bench(const std::vector<std::string>& argv) {
  const Args args(argv, {"model", "prompt-tokens", "gen-tokens", "batch", "threads", "numa"}, {});
  topology::RuntimePlacement placement = placement_for(args);
  engine::Model model = engine::load_model(args.str("model"));
  const auto& config = model.config;
  const int prompt_tokens = static_cast<int>(args.integer("prompt-tokens", 128));
  const int gen_tokens = static_cast<int>(args.integer("gen-tokens", 64));
  const int batch = static_cast<int>(args.integer("batch", 1));
  if (prompt_tokens < 1 || gen_tokens < 1 || batch < 1) {
    throw UsageError("--prompt-tokens, --gen-tokens and --batch must be >= 1");
  }
  if (prompt_tokens + gen_tokens > config.context_length) {
    throw UsageError("--prompt-tokens + --gen-tokens (" +
                     std::to_string(prompt_tokens + gen_tokens) +
                     ") exceed the model's context of " + std::to_string(config.context_length));
  }
  engine::ThreadPool pool(placement.plan.threads());
  topology::apply_placement(placement, pool, model);
  engine::Transformer transformer(model, &pool);
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> token(3, config.vocab_size - 1);

  // Prefill: one sequence, the prompt in chunks of up to 64 tokens.
  std::vector<std::unique_ptr<engine::KvCache>> caches;
  for (int b = 0; b < batch; ++b) {
    caches.push_back(std::make_unique<engine::KvCache>(config, prompt_tokens + gen_tokens));
  }
  std::vector<engine::BatchToken> chunk;
  double prefill_seconds = 0;
  for (int b = 0; b < batch; ++b) {
    const auto start = std::chrono::steady_clock::now();
    for (int begin = 0; begin < prompt_tokens; begin += 64) {
      chunk.clear();
      for (int p = begin; p < std::min(prompt_tokens, begin + 64); ++p) {
        chunk.push_back({caches[b].get(), token(rng), p, p + 1 == prompt_tokens});
      }
      transformer.forward_batch(chunk);
    }
    if (b == 0) prefill_seconds = seconds_since(start);
  }

  // Decode: every sequence advances one token per step, greedily.
  std::vector<int32_t> last(batch, 1);
  std::vector<engine::BatchToken> step(batch);
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = process_cpu_seconds();
  for (int t = 0; t < gen_tokens; ++t) {
    for (int b = 0; b < batch; ++b) step[b] = {caches[b].get(), last[b], prompt_tokens + t, true};
    const auto logits = transformer.forward_batch(step);
    for (int b = 0; b < batch; ++b) {
      last[b] = engine::argmax(logits.data() + static_cast<size_t>(b) * config.vocab_size,
                               config.vocab_size);
    }
  }
  const double decode_seconds = seconds_since(start);
  const double decode_cpu_seconds = process_cpu_seconds() - cpu_start;

  // What one decode step reads from memory: every weight except the embedding table, of
  // which it reads one row (the classifier counts even when it shares those bytes).
  size_t weight_bytes = 0;
  for (const engine::TensorView* view : model.weights.views()) {
    if (view != &model.weights.token_embd) weight_bytes += view->size_bytes();
  }
  nlohmann::json out = {
      {"model", model.path},
      {"dim", config.dim},
      {"layers", config.n_layers},
      {"vocab", config.vocab_size},
      {"prompt_tokens", prompt_tokens},
      {"gen_tokens", gen_tokens},
      {"batch", batch},
      {"threads", pool.size()},
      {"kernels", std::string(engine::kernel_variant_name(engine::kernel_variant()))},
      {"placement", topology::to_json(placement)},
      {"prefill_seconds", prefill_seconds},
      {"prefill_tokens_per_second", prompt_tokens / prefill_seconds},
      {"decode_seconds", decode_seconds},
      {"decode_tokens_per_second", static_cast<double>(gen_tokens) * batch / decode_seconds},
      {"decode_ms_per_step", 1e3 * decode_seconds / gen_tokens},
      {"decode_cpu_ms_per_step", 1e3 * decode_cpu_seconds / gen_tokens},
      {"weight_bytes_per_step", weight_bytes},
  };
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace llmops::cli
