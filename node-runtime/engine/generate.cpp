#include "generate.h"

#include <chrono>

namespace llmops::engine {

GenerationResult generate(Transformer& transformer, const Tokenizer& tokenizer,
                          std::string_view prompt, const GenerationOptions& options,
                          const std::function<void(std::string_view)>& on_text) {
  using Clock = std::chrono::steady_clock;
  constexpr int kPrefillChunk = 64;  // tokens per forward pass while prefilling
  const ModelConfig& config = transformer.config();
  Sequence sequence(tokenizer, tokenizer.encode_prompt(prompt), options, config.context_length,
                    config);
  GenerationResult result;
  const auto start = Clock::now();
  auto first_token = start;
  std::vector<BatchToken> batch;
  while (!sequence.finished()) {
    batch.clear();
    sequence.schedule(batch, kPrefillChunk);
    const auto logits = transformer.forward_batch(batch);
    if (logits.empty()) continue;  // a prompt chunk before the last
    if (sequence.generated().empty()) first_token = Clock::now();
    const std::string text = sequence.accept_logits(logits.data());
    result.text += text;
    if (on_text && !text.empty()) on_text(text);
  }
  const auto end = Clock::now();
  result.prompt_ids = sequence.prompt_ids();
  result.generated = sequence.generated();
  result.finish = sequence.finish_reason();
  result.prefill_seconds = std::chrono::duration<double>(first_token - start).count();
  result.decode_seconds = std::chrono::duration<double>(end - first_token).count();
  return result;
}

}  // namespace llmops::engine
