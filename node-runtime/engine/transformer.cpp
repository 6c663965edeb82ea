#include "transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "kernels.h"
#include "thread_pool.h"

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

// Rotates adjacent pairs (i, i+1) of each head's first rope_dim dimensions by the angles
// whose cosines and sines are given (one per pair, the same for every head).
void rope(float* v, int n_heads, int head_size, int rope_dim, const float* cos, const float* sin) {
  for (int h = 0; h < n_heads; ++h) {
    float* head = v + h * head_size;
    for (int i = 0; i < rope_dim; i += 2) {
      const float c = cos[i / 2];
      const float s = sin[i / 2];
      const float v0 = head[i];
      const float v1 = head[i + 1];
      head[i] = v0 * c - v1 * s;
      head[i + 1] = v0 * s + v1 * c;
    }
  }
}

// Several products of the same inputs in one pass of the pool when the matrices share a
// type (the usual case), else one by one; the results are the same bits either way.
void matmul_shared_input(std::initializer_list<const TensorView*> ws, const float* x, int64_t n,
                         std::initializer_list<float*> ys, ThreadPool* pool) {
  const TensorView& first = **ws.begin();
  const bool alike = std::all_of(ws.begin(), ws.end(), [&](const TensorView* w) {
    return w->type == first.type && w->cols == first.cols;
  });
  if (alike) {
    matmul_many({ws.begin(), ws.size()}, x, n, {ys.begin(), ys.size()}, pool);
    return;
  }
  auto y = ys.begin();
  for (const TensorView* w : ws) matmul(*w, x, n, *y++, pool);
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
    rope_cos_.resize(n_tokens * (c.rope_dim / 2));
    rope_sin_.resize(n_tokens * (c.rope_dim / 2));
  }
  if (n_logits * c.vocab_size > logits_.size()) {
    logits_.resize(n_logits * c.vocab_size);
    final_.resize(n_logits * c.dim);
  }
}

void Transformer::parallel(int64_t n, int64_t work,
                           const std::function<void(int64_t, int64_t)>& fn) {
  // Below this many (multiply-add or exp) operations, waking the pool costs more than it
  // saves.
  constexpr int64_t kMinParallelWork = 32 * 1024;
  if (pool_ == nullptr || n < 2 || work < kMinParallelWork) {
    if (n > 0) fn(0, n);
    return;
  }
  pool_->parallel_for(n, fn);
}

void Transformer::attention(std::span<const BatchToken> batch, int layer, const float* q,
                            float* out) {
  const ModelConfig& c = model_.config;
  const int head_size = c.head_size();
  const int group = c.n_heads / c.n_kv_heads;  // query heads per K/V head
  const auto n = static_cast<int64_t>(batch.size());
  int64_t work = 0;
  for (const BatchToken& t : batch) work += int64_t{t.pos + 1} * c.n_heads * head_size * 2;
  // Head-major items, so that each thread gets a share of every token (late positions
  // of a prefill chunk cost more than early ones).
  parallel(n * c.n_heads, work, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> att;
    for (int64_t item = begin; item < end; ++item) {
      const auto h = static_cast<int>(item / n);
      const int64_t i = item % n;
      const BatchToken& t = batch[i];
      if (att.size() <= static_cast<size_t>(t.pos)) att.resize(static_cast<size_t>(t.pos) + 1);
      const int64_t offset = i * c.dim + h * head_size;
      const int kv_offset = (h / group) * head_size;
      attention_head(q + offset, t.cache->key(layer, 0) + kv_offset,
                     t.cache->value(layer, 0) + kv_offset, t.cache->position_stride(), t.pos + 1,
                     head_size, att.data(), out + offset);
    }
  });
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
  // RoPE angles depend on the position only: once per token, shared by heads and layers.
  const int pairs = c.rope_dim / 2;
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < pairs; ++j) {
      const float angle = static_cast<float>(batch[i].pos) * rope_freqs_[j];
      rope_cos_[i * pairs + j] = std::cos(angle);
      rope_sin_[i * pairs + j] = std::sin(angle);
    }
  }

  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    for (int64_t i = 0; i < n; ++i) {
      rmsnorm(xb_.data() + i * dim, x_.data() + i * dim, lw.attn_norm.f32(), dim, c.rms_eps);
    }
    matmul_shared_input({&lw.wq, &lw.wk, &lw.wv}, xb_.data(), n, {q_.data(), k_.data(), v_.data()},
                        pool_);
    // Store every token's K/V first: a token attends to earlier tokens of its sequence
    // that sit in the same batch (chunked prefill).
    for (int64_t i = 0; i < n; ++i) {
      const BatchToken& t = batch[i];
      float* q = q_.data() + i * dim;
      float* k = k_.data() + i * kv_dim;
      const float* cos = rope_cos_.data() + i * pairs;
      const float* sin = rope_sin_.data() + i * pairs;
      rope(q, c.n_heads, head_size, c.rope_dim, cos, sin);
      rope(k, c.n_kv_heads, head_size, c.rope_dim, cos, sin);
      std::memcpy(t.cache->key(l, t.pos), k, kv_dim * sizeof(float));
      std::memcpy(t.cache->value(l, t.pos), v_.data() + i * kv_dim, kv_dim * sizeof(float));
    }
    attention(batch, l, q_.data(), xb_.data());
    matmul(lw.wo, xb_.data(), n, xb2_.data(), pool_);
    for (int64_t i = 0; i < n * dim; ++i) x_[i] += xb2_[i];

    for (int64_t i = 0; i < n; ++i) {
      rmsnorm(xb_.data() + i * dim, x_.data() + i * dim, lw.ffn_norm.f32(), dim, c.rms_eps);
    }
    matmul_shared_input({&lw.w_gate, &lw.w_up}, xb_.data(), n, {hb_.data(), hb2_.data()}, pool_);
    // SiLU(gate) * up, elementwise: split across threads in slices of kSliceFloats.
    constexpr int64_t kSliceFloats = 512;
    const int64_t total = n * hidden;
    parallel((total + kSliceFloats - 1) / kSliceFloats, total * 8, [&](int64_t s0, int64_t s1) {
      const int64_t end = std::min(total, s1 * kSliceFloats);
      for (int64_t i = s0 * kSliceFloats; i < end; ++i) {
        const float g = hb_[i];
        hb_[i] = g * (1.0f / (1.0f + std::exp(-g))) * hb2_[i];
      }
    });
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
