// One generation's state, independent of how it is batched: which tokens to feed next
// (a chunk of the prompt, then each sampled token), and what to do with the logits
// (sample, stop at EOS / a stop string / the token budget / the context, stream text).
// generate() drives one Sequence; the server's scheduler drives many in one batch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kv_cache.h"
#include "sampler.h"
#include "tokenizer.h"
#include "transformer.h"

namespace llmops::engine {

enum class FinishReason { Eos, StopString, MaxTokens, ContextFull };
std::string_view finish_reason_name(FinishReason reason);  // OpenAI's "stop" / "length"

struct GenerationOptions {
  int max_tokens = 256;
  std::vector<std::string> stop;     // stop strings: never part of the returned text
  std::vector<int32_t> stop_tokens;  // end like EOS (e.g. a chat template's end of turn)
  SamplingOptions sampling;
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

class Sequence {
 public:
  // `prompt_ids` starts with BOS. Throws std::invalid_argument when the prompt does not
  // fit in `context` or the options are invalid. The KV cache is sized to what this
  // sequence can use: min(context, prompt + max_tokens).
  Sequence(const Tokenizer& tokenizer, std::vector<int32_t> prompt_ids,
           const GenerationOptions& options, int context, const ModelConfig& config);

  // Appends the tokens to feed next, at most `budget` (>= 1): a chunk of the prompt, or
  // the last sampled token. Returns how many; 0 once finished.
  int schedule(std::vector<BatchToken>& batch, int budget);
  // Takes the logits of the last scheduled token (when it asked for logits): samples,
  // checks the stop conditions, and returns the completion text now final.
  std::string accept_logits(const float* logits);

  bool prefilling() const { return cached_ < static_cast<int>(prompt_ids_.size()); }
  bool finished() const { return finished_; }
  FinishReason finish_reason() const { return finish_; }
  const std::vector<int32_t>& prompt_ids() const { return prompt_ids_; }
  const std::vector<int32_t>& generated() const { return generated_; }
  const KvCache& cache() const { return *cache_; }

 private:
  std::string finish_text();

  const Tokenizer& tokenizer_;
  std::vector<int32_t> prompt_ids_;
  std::vector<int32_t> generated_;
  int max_tokens_;
  int context_;
  int vocab_size_;
  std::vector<int32_t> stop_tokens_;
  Sampler sampler_;
  StopStringMatcher stops_;
  Utf8Stream utf8_;
  std::unique_ptr<KvCache> cache_;
  int cached_ = 0;  // tokens whose K/V are in the cache (or being computed)
  bool finished_ = false;
  FinishReason finish_ = FinishReason::MaxTokens;
};

}  // namespace llmops::engine
