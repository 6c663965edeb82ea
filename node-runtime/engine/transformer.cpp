#include "transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace llmops::engine {

namespace {

void rmsnorm(float* out, const float* x, const float* weight, int n, float eps) {
  float ss = 0.0f;
  for (int j = 0; j < n; ++j) ss += x[j] * x[j];
  ss /= static_cast<float>(n);
  ss += eps;
  ss = 1.0f / std::sqrt(ss);
  for (int j = 0; j < n; ++j) out[j] = weight[j] * (ss * x[j]);
}

void softmax(float* x, int n) {
  float max = x[0];
  for (int i = 1; i < n; ++i) max = std::max(max, x[i]);
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  for (int i = 0; i < n; ++i) x[i] /= sum;
}

// Rotates adjacent pairs (i, i+1) of each head's first rope_dim dimensions.
void rope(float* v, int n_heads, int head_size, int rope_dim, const float* freqs, int pos) {
  for (int h = 0; h < n_heads; ++h) {
    float* head = v + h * head_size;
    for (int i = 0; i < rope_dim; i += 2) {
      const float angle = static_cast<float>(pos) * freqs[i / 2];
      const float c = std::cos(angle);
      const float s = std::sin(angle);
      const float v0 = head[i];
      const float v1 = head[i + 1];
      head[i] = v0 * c - v1 * s;
      head[i + 1] = v0 * s + v1 * c;
    }
  }
}

}  // namespace

Transformer::Transformer(const Model& model, ThreadPool* pool) : model_(model), pool_(pool) {
  const ModelConfig& c = model.config;
  const int head_size = c.head_size();
  for (int i = 0; i < c.rope_dim; i += 2) {
    // As llama2.c computes it, so that fp32 results match the reference bit for bit.
    rope_freqs_.push_back(
        1.0f / std::pow(c.rope_theta, static_cast<float>(i) / static_cast<float>(head_size)));
  }
  att_.resize(static_cast<size_t>(c.context_length));
  reserve(1, 1);
}

void Transformer::reserve(size_t n_tokens, size_t n_logits) {
  const ModelConfig& c = model_.config;
  if (n_tokens > capacity_) {
    capacity_ = n_tokens;
    x_.resize(n_tokens * c.dim);
    xb_.resize(n_tokens * c.dim);
    xb2_.resize(n_tokens * c.dim);
    q_.resize(n_tokens * c.dim);
    k_.resize(n_tokens * c.kv_dim());
    v_.resize(n_tokens * c.kv_dim());
    hb_.resize(n_tokens * c.hidden_dim);
    hb2_.resize(n_tokens * c.hidden_dim);
  }
  if (n_logits * c.vocab_size > logits_.size()) {
    logits_.resize(n_logits * c.vocab_size);
    final_.resize(n_logits * c.dim);
  }
}

void Transformer::attention(const BatchToken& t, int layer, const float* q, float* out) {
  const ModelConfig& c = model_.config;
  const int head_size = c.head_size();
  const int group = c.n_heads / c.n_kv_heads;  // query heads per K/V head
  const float sqrt_head = std::sqrt(static_cast<float>(head_size));
  float* att = att_.data();
  for (int h = 0; h < c.n_heads; ++h) {
    const float* qh = q + h * head_size;
    const int kv_offset = (h / group) * head_size;
    for (int p = 0; p <= t.pos; ++p) {
      const float* k = t.cache->key(layer, p) + kv_offset;
      float score = 0.0f;
      for (int i = 0; i < head_size; ++i) score += qh[i] * k[i];
      att[p] = score / sqrt_head;
    }
    softmax(att, t.pos + 1);
    float* oh = out + h * head_size;
    std::fill(oh, oh + head_size, 0.0f);
    for (int p = 0; p <= t.pos; ++p) {
      const float* v = t.cache->value(layer, p) + kv_offset;
      const float a = att[p];
      for (int i = 0; i < head_size; ++i) oh[i] += a * v[i];
    }
  }
}

std::span<const float> Transformer::forward_batch(std::span<const BatchToken> batch) {
  const ModelConfig& c = model_.config;
  const ModelWeights& w = model_.weights;
  const auto n = static_cast<int64_t>(batch.size());
  size_t n_logits = 0;
  for (const BatchToken& t : batch) {
    if (t.cache == nullptr) throw std::invalid_argument("batch token without a KV cache");
    if (t.token < 0 || t.token >= c.vocab_size) {
      throw std::out_of_range("token id " + std::to_string(t.token) +
                              " outside the vocabulary of " + std::to_string(c.vocab_size));
    }
    if (t.pos < 0 || t.pos >= t.cache->capacity()) {
      throw std::out_of_range("position " + std::to_string(t.pos) + " outside the context of " +
                              std::to_string(t.cache->capacity()));
    }
    n_logits += t.want_logits;
  }
  if (n == 0) return {};
  reserve(static_cast<size_t>(n), n_logits);
  const int dim = c.dim, kv_dim = c.kv_dim(), hidden = c.hidden_dim, head_size = c.head_size();

  for (int64_t i = 0; i < n; ++i) get_row(w.token_embd, batch[i].token, x_.data() + i * dim);

  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    for (int64_t i = 0; i < n; ++i) {
      rmsnorm(xb_.data() + i * dim, x_.data() + i * dim, lw.attn_norm.f32(), dim, c.rms_eps);
    }
    matmul(lw.wq, xb_.data(), n, q_.data(), pool_);
    matmul(lw.wk, xb_.data(), n, k_.data(), pool_);
    matmul(lw.wv, xb_.data(), n, v_.data(), pool_);
    // Store every token's K/V first: a token attends to earlier tokens of its sequence
    // that sit in the same batch (chunked prefill).
    for (int64_t i = 0; i < n; ++i) {
      const BatchToken& t = batch[i];
      float* q = q_.data() + i * dim;
      float* k = k_.data() + i * kv_dim;
      rope(q, c.n_heads, head_size, c.rope_dim, rope_freqs_.data(), t.pos);
      rope(k, c.n_kv_heads, head_size, c.rope_dim, rope_freqs_.data(), t.pos);
      std::memcpy(t.cache->key(l, t.pos), k, kv_dim * sizeof(float));
      std::memcpy(t.cache->value(l, t.pos), v_.data() + i * kv_dim, kv_dim * sizeof(float));
    }
    for (int64_t i = 0; i < n; ++i) {
      attention(batch[i], l, q_.data() + i * dim, xb_.data() + i * dim);
    }
    matmul(lw.wo, xb_.data(), n, xb2_.data(), pool_);
    for (int64_t i = 0; i < n * dim; ++i) x_[i] += xb2_[i];

    for (int64_t i = 0; i < n; ++i) {
      rmsnorm(xb_.data() + i * dim, x_.data() + i * dim, lw.ffn_norm.f32(), dim, c.rms_eps);
    }
    matmul(lw.w_gate, xb_.data(), n, hb_.data(), pool_);
    matmul(lw.w_up, xb_.data(), n, hb2_.data(), pool_);
    for (int64_t i = 0; i < n * hidden; ++i) {
      const float g = hb_[i];
      hb_[i] = g * (1.0f / (1.0f + std::exp(-g))) * hb2_[i];  // SiLU(gate) * up
    }
    matmul(lw.w_down, hb_.data(), n, xb_.data(), pool_);
    for (int64_t i = 0; i < n * dim; ++i) x_[i] += xb_[i];
  }

  // The classifier only for the tokens that need logits (the last of each prefill).
  int64_t m = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!batch[i].want_logits) continue;
    rmsnorm(final_.data() + m * dim, x_.data() + i * dim, w.output_norm.f32(), dim, c.rms_eps);
    ++m;
  }
  matmul(w.output, final_.data(), m, logits_.data(), pool_);
  return {logits_.data(), static_cast<size_t>(m) * c.vocab_size};
}

const float* Transformer::forward(KvCache& cache, int32_t token, int pos) {
  const BatchToken t{&cache, token, pos, true};
  return forward_batch({&t, 1}).data();
}

}  // namespace llmops::engine
