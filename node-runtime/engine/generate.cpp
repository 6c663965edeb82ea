#include "generate.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace llmops::engine {

std::string_view finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::Eos:
    case FinishReason::StopString:
      return "stop";
    case FinishReason::MaxTokens:
    case FinishReason::ContextFull:
      return "length";
  }
  return "stop";
}

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

std::string StopStringMatcher::push(std::string_view text) {
  if (matched_) return {};
  held_.append(text);
  size_t first = std::string::npos;
  for (const auto& stop : stops_) first = std::min(first, held_.find(stop));
  if (first != std::string::npos) {
    matched_ = true;
    std::string out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  // Keep the longest suffix of held_ that is a proper prefix of some stop string.
  size_t keep = 0;
  for (const auto& stop : stops_) {
    for (size_t len = std::min(stop.size() - 1, held_.size()); len > keep; --len) {
      if (held_.compare(held_.size() - len, len, stop, 0, len) == 0) {
        keep = len;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopStringMatcher::flush() {
  std::string out;
  if (!matched_) out.swap(held_);
  return out;
}

GenerationResult generate(Transformer& transformer, const Tokenizer& tokenizer,
                          std::string_view prompt, const GenerationOptions& options,
                          const std::function<void(std::string_view)>& on_text) {
  using Clock = std::chrono::steady_clock;
  const ModelConfig& config = transformer.config();
  GenerationResult result;
  result.prompt_ids = tokenizer.encode(prompt, /*add_bos=*/true);
  const int context = config.context_length;
  if (static_cast<int>(result.prompt_ids.size()) > context) {
    throw std::invalid_argument("prompt has " + std::to_string(result.prompt_ids.size()) +
                                " tokens, more than the context length of " +
                                std::to_string(context));
  }
  if (options.max_tokens < 0) throw std::invalid_argument("max_tokens must be >= 0");

  Sampler sampler(options.sampling);
  KvCache cache(config, context);
  StopStringMatcher stops(options.stop);
  Utf8Stream utf8;
  auto emit = [&](const std::string& text) {
    if (text.empty()) return;
    result.text += text;
    if (on_text) on_text(text);
  };

  const auto start = Clock::now();
  // Prefill in chunks: each chunk reads the weights once for all its tokens.
  constexpr size_t kPrefillChunk = 64;
  const size_t n_prompt = result.prompt_ids.size();
  std::vector<BatchToken> chunk;
  const float* logits = nullptr;
  for (size_t begin = 0; begin < n_prompt; begin += kPrefillChunk) {
    chunk.clear();
    for (size_t i = begin; i < std::min(n_prompt, begin + kPrefillChunk); ++i) {
      chunk.push_back({&cache, result.prompt_ids[i], static_cast<int>(i), i + 1 == n_prompt});
    }
    logits = transformer.forward_batch(chunk).data();
  }
  const auto prefill_end = Clock::now();
  int pos = static_cast<int>(n_prompt);  // tokens in the cache
  int32_t token = result.prompt_ids.back();
  result.finish = FinishReason::MaxTokens;
  while (static_cast<int>(result.generated.size()) < options.max_tokens) {
    const int32_t next = sampler.sample(logits, config.vocab_size);
    result.generated.push_back(next);
    if (next == tokenizer.eos()) {
      result.finish = FinishReason::Eos;
      break;
    }
    emit(stops.push(utf8.push(tokenizer.decode_piece(token, next))));
    if (stops.matched()) {
      result.finish = FinishReason::StopString;
      break;
    }
    if (pos >= context) {
      result.finish = FinishReason::ContextFull;
      break;
    }
    token = next;
    if (static_cast<int>(result.generated.size()) < options.max_tokens) {
      logits = transformer.forward(cache, token, pos);
    }
    ++pos;
  }
  if (!stops.matched()) {
    emit(stops.push(utf8.finish()));
    if (stops.matched()) {
      result.finish = FinishReason::StopString;
    } else {
      emit(stops.flush());
    }
  }
  const auto end = Clock::now();
  result.prefill_seconds = std::chrono::duration<double>(prefill_end - start).count();
  result.decode_seconds = std::chrono::duration<double>(end - prefill_end).count();
  return result;
}

}  // namespace llmops::engine
