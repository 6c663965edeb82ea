// One sequence from prompt to finish: prefill, sample, stop at EOS, a stop string, the
// token budget or the context length. Text is streamed as valid UTF-8, holding back
// anything that may still turn out to be the start of a stop string.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sampler.h"
#include "tokenizer.h"
#include "transformer.h"

namespace llmops::engine {

enum class FinishReason { Eos, StopString, MaxTokens, ContextFull };
std::string_view finish_reason_name(FinishReason reason);  // "stop" / "length" as OpenAI

struct GenerationOptions {
  int max_tokens = 256;
  std::vector<std::string> stop;  // stop strings: never part of the returned text
  SamplingOptions sampling;
};

struct GenerationResult {
  std::vector<int32_t> prompt_ids;  // BOS + the prompt's tokens
  std::vector<int32_t> generated;   // sampled tokens, EOS included when sampled
  std::string text;                 // completion text (valid UTF-8, stop string cut)
  FinishReason finish = FinishReason::MaxTokens;
  double prefill_seconds = 0.0;
  double decode_seconds = 0.0;
};

// Holds back text that could be the beginning of a stop string; reports a full match.
class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stops);
  // Appends text; returns what is safe to emit. After a match, `matched()` is true and
  // the returned text ends right before the stop string.
  std::string push(std::string_view text);
  std::string flush();  // at the end: everything still held back
  bool matched() const { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool matched_ = false;
};

// Runs the whole generation. `on_text` (optional) receives completion text as it
// becomes final. Throws std::invalid_argument for a prompt longer than the context.
GenerationResult generate(Transformer& transformer, const Tokenizer& tokenizer,
                          std::string_view prompt, const GenerationOptions& options,
                          const std::function<void(std::string_view)>& on_text = {});

}  // namespace llmops::engine
