#include <cstdio>
#include <iostream>
#include <random>

#include "args.h"
#include "commands.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "engine/model_tokenizer.h"
#include "engine/thread_pool.h"

namespace llmops::cli {

int run_generate(const std::vector<std::string>& argv) {
  const Args args(argv,
                  {"model", "tokenizer", "prompt", "max-tokens", "temperature", "top-p", "top-k",
                   "seed", "stop", "threads", "numa"},
                  {"print-ids"});
  engine::GenerationOptions options;
  options.max_tokens = static_cast<int>(args.integer("max-tokens", 256));
  options.sampling.temperature = static_cast<float>(args.number("temperature", 0.8));
  options.sampling.top_p = static_cast<float>(args.number("top-p", 1.0));
  options.sampling.top_k = static_cast<int>(args.integer("top-k", 0));
  if (args.has("seed")) {
    options.sampling.seed = static_cast<uint64_t>(args.integer("seed"));
  } else {
    options.sampling.seed = std::random_device{}();
  }
  if (auto stop = args.opt("stop")) options.stop.push_back(*stop);
  if (options.max_tokens < 0) throw UsageError("--max-tokens must be >= 0");
  const std::string prompt = args.str("prompt");
  const bool print_ids = args.has("print-ids");

  topology::RuntimePlacement placement = placement_for(args);
  engine::Model model = engine::load_model(args.str("model"));
  const engine::Tokenizer tokenizer =
      engine::load_tokenizer_for(model, args.opt("tokenizer").value_or(""));
  engine::ThreadPool pool(placement.plan.threads());
  topology::apply_placement(placement, pool, model);
  engine::Transformer transformer(model, &pool);

  engine::GenerationResult result;
  if (print_ids) {
    result = engine::generate(transformer, tokenizer, prompt, options);
    std::string line;
    for (auto ids : {&result.prompt_ids, &result.generated}) {
      for (int32_t id : *ids) {
        if (!line.empty()) line += ' ';
        line += std::to_string(id);
      }
    }
    std::cout << line << "\n";
  } else {
    // Like llama2.c's run: the prompt as tokenized, then the completion as it comes. The
    // prompt is printed with the first text, so that a refused prompt prints nothing.
    const std::string echo = tokenizer.decode(tokenizer.encode_prompt(prompt));
    bool echoed = false;
    auto print = [&](std::string_view text) {
      if (!echoed) std::cout << echo;
      echoed = true;
      std::cout << text << std::flush;
    };
    result = engine::generate(transformer, tokenizer, prompt, options, print);
    print("");
    std::cout << "\n";
  }
  const double decode_tps =
      result.decode_seconds > 0
          ? static_cast<double>(result.generated.size()) / result.decode_seconds
          : 0.0;
  std::fprintf(stderr,
               "prompt: %zu tokens in %.3f s; generated %zu tokens in %.3f s (%.1f tokens/s); "
               "finish: %s; seed: %llu\n",
               result.prompt_ids.size(), result.prefill_seconds, result.generated.size(),
               result.decode_seconds, decode_tps,
               std::string(engine::finish_reason_name(result.finish)).c_str(),
               static_cast<unsigned long long>(options.sampling.seed));
  return 0;
}

}  // namespace llmops::cli
