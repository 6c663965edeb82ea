#include "sequence.h"

#include <algorithm>
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

Sequence::Sequence(const Tokenizer& tokenizer, std::vector<int32_t> prompt_ids,
                   const GenerationOptions& options, int context, const ModelConfig& config)
    : tokenizer_(tokenizer),
      prompt_ids_(std::move(prompt_ids)),
      max_tokens_(options.max_tokens),
      context_(context),
      vocab_size_(config.vocab_size),
      stop_tokens_(options.stop_tokens),
      sampler_(options.sampling),
      stops_(options.stop) {
  const auto n_prompt = static_cast<int>(prompt_ids_.size());
  if (n_prompt == 0) {
    throw std::invalid_argument(
        "empty prompt: it must hold at least one token (BOS, when the model adds one)");
  }
  if (context <= 0 || context > config.context_length) {
    throw std::invalid_argument("context " + std::to_string(context) + " must be in 1.." +
                                std::to_string(config.context_length));
  }
  if (n_prompt > context) {
    throw std::invalid_argument("prompt has " + std::to_string(n_prompt) +
                                " tokens, more than the context length of " +
                                std::to_string(context));
  }
  if (max_tokens_ < 0) throw std::invalid_argument("max_tokens must be >= 0");
  // The last sampled token is never fed, so n_prompt + max_tokens - 1 positions suffice.
  const int64_t wanted = static_cast<int64_t>(n_prompt) + std::max(max_tokens_, 1) - 1;
  const int capacity = static_cast<int>(std::clamp<int64_t>(wanted, n_prompt, context));
  cache_ = std::make_unique<KvCache>(config, capacity);
  if (max_tokens_ == 0) finished_ = true;
}

int Sequence::schedule(std::vector<BatchToken>& batch, int budget) {
  if (finished_ || budget <= 0) return 0;
  const auto n_prompt = static_cast<int>(prompt_ids_.size());
  if (cached_ < n_prompt) {
    const int n = std::min(budget, n_prompt - cached_);
    for (int i = 0; i < n; ++i, ++cached_) {
      batch.push_back({cache_.get(), prompt_ids_[cached_], cached_, cached_ + 1 == n_prompt});
    }
    return n;
  }
  batch.push_back({cache_.get(), generated_.back(), cached_, true});
  ++cached_;
  return 1;
}

std::string Sequence::accept_logits(const float* logits) {
  if (finished_) return {};
  const int32_t prev = generated_.empty() ? prompt_ids_.back() : generated_.back();
  const int32_t next = sampler_.sample(logits, vocab_size_);
  generated_.push_back(next);
  if (tokenizer_.is_end_of_generation(next) ||
      std::find(stop_tokens_.begin(), stop_tokens_.end(), next) != stop_tokens_.end()) {
    finish_ = FinishReason::Eos;
    return finish_text();
  }
  std::string text = stops_.push(utf8_.push(tokenizer_.decode_piece(prev, next)));
  if (stops_.matched()) {
    finished_ = true;
    finish_ = FinishReason::StopString;
    return text;
  }
  if (static_cast<int>(generated_.size()) >= max_tokens_) {
    finish_ = FinishReason::MaxTokens;
    return text + finish_text();
  }
  if (cached_ >= cache_->capacity()) {
    finish_ = cached_ >= context_ ? FinishReason::ContextFull : FinishReason::MaxTokens;
    return text + finish_text();
  }
  return text;
}

// At the end: a dangling UTF-8 sequence becomes U+FFFD, held-back text is released
// (unless it completes a stop string).
std::string Sequence::finish_text() {
  finished_ = true;
  std::string text = stops_.push(utf8_.finish());
  if (stops_.matched()) {
    finish_ = FinishReason::StopString;
    return text;
  }
  return text + stops_.flush();
}

}  // namespace llmops::engine
