// One prompt to its finish on one Transformer: the `generate` command and tests.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sequence.h"
#include "tokenizer.h"
#include "transformer.h"

namespace llmops::engine {

struct GenerationResult {
  std::vector<int32_t> prompt_ids;  // BOS + the prompt's tokens
  std::vector<int32_t> generated;   // sampled tokens, EOS included when sampled
  std::string text;                 // completion text (valid UTF-8, stop string cut)
  FinishReason finish = FinishReason::MaxTokens;
  double prefill_seconds = 0.0;  // until the first token's logits
  double decode_seconds = 0.0;
};

// Runs the whole generation, the prompt prefilled in chunks. `on_text` (optional)
// receives completion text as it becomes final. Throws std::invalid_argument for a
// prompt longer than the model's context.
GenerationResult generate(Transformer& transformer, const Tokenizer& tokenizer,
                          std::string_view prompt, const GenerationOptions& options,
                          const std::function<void(std::string_view)>& on_text = {});

}  // namespace llmops::engine
