#include "transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "kernels.h"
#include "quant.h"
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

// Rotates pairs of each head's first rope_dim dimensions by the angles whose cosines and
// sines are given (one per pair, the same for every head): adjacent pairs (i, i+1), or
// the halves (i, i + rope_dim/2).
void rope(float* v, int n_heads, int head_size, int rope_dim, RopeStyle style, const float* cos,
          const float* sin) {
  const int half = rope_dim / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* head = v + h * head_size;
    for (int j = 0; j < half; ++j) {
      const int i0 = style == RopeStyle::AdjacentPairs ? 2 * j : j;
      const int i1 = style == RopeStyle::AdjacentPairs ? 2 * j + 1 : j + half;
      const float c = cos[j];
      const float s = sin[j];
      const float v0 = head[i0];
      const float v1 = head[i1];
      head[i0] = v0 * c - v1 * s;
      head[i1] = v0 * s + v1 * c;
    }
  }
}

// GELU, tanh form, as llama.cpp computes it on CPU: the input rounded to fp16 looks up a
// table of fp16 results (|x| >= 10 short-cut), so that greedy choices agree with it.
float gelu(float x) {
  static const std::vector<float> table = [] {
    std::vector<float> t(1 << 16);
    for (uint32_t h = 0; h < t.size(); ++h) {
      const float v = fp16_to_fp32(static_cast<uint16_t>(h));
      const float y = 0.5f * v * (1.0f + std::tanh(0.7978845608f * v * (1.0f + 0.044715f * v * v)));
      t[h] = fp16_to_fp32(fp32_to_fp16(y));
    }
    return t;
  }();
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return table[fp32_to_fp16(x)];
}

void add_bias(float* v, const TensorView& bias, int64_t n, int64_t width) {
  if (bias.data == nullptr) return;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < width; ++j) v[i * width + j] += bias.f32()[j];
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
  const TensorView& divisors = model.weights.rope_freqs;
  for (int i = 0; i < c.rope_dim; i += 2) {
    // As llama2.c computes it, so that fp32 results match the reference bit for bit.
    float f = 1.0f / std::pow(c.rope_theta, static_cast<float>(i) / static_cast<float>(head_size));
    if (c.rope_freq_scale != 1.0f) f *= c.rope_freq_scale;
    if (divisors.data != nullptr) f /= divisors.f32()[i / 2];
    rope_freqs_.push_back(f);
    // Sliding-window layers (Gemma 3) have their own base and no scaling.
    rope_freqs_sliding_.push_back(
        1.0f /
        std::pow(c.rope_theta_sliding, static_cast<float>(i) / static_cast<float>(head_size)));
  }
  for (int l = 0; l < c.n_layers; ++l) has_sliding_ = has_sliding_ || c.sliding(l);
  reserve(1, 1);
}

void Transformer::reserve(size_t n_tokens, size_t n_logits) {
  const ModelConfig& c = model_.config;
  if (n_tokens > capacity_) {
    capacity_ = n_tokens;
    x_.resize(n_tokens * c.dim);
    xb_.resize(n_tokens * std::max(c.dim, c.q_dim()));  // norm output, attention output
    xb2_.resize(n_tokens * c.dim);
    q_.resize(n_tokens * c.q_dim());
    k_.resize(n_tokens * c.kv_dim());
    v_.resize(n_tokens * c.kv_dim());
    hb_.resize(n_tokens * c.hidden_dim);
    hb2_.resize(n_tokens * c.hidden_dim);
    rope_cos_.resize(n_tokens * (c.rope_dim / 2) * (has_sliding_ ? 2 : 1));
    rope_sin_.resize(n_tokens * (c.rope_dim / 2) * (has_sliding_ ? 2 : 1));
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
  const int64_t q_dim = c.q_dim();
  const bool sliding = c.sliding(layer);
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
      const int64_t offset = i * q_dim + h * head_size;
      const int kv_offset = (h / group) * head_size;
      // A sliding-window layer sees the last `window` positions (this one included).
      const int first = sliding ? std::max(0, t.pos + 1 - c.sliding_window) : 0;
      attention_head(q + offset, t.cache->key(layer, first) + kv_offset,
                     t.cache->value(layer, first) + kv_offset, t.cache->position_stride(),
                     t.pos + 1 - first, head_size, att.data(), out + offset);
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
  const int dim = c.dim, kv_dim = c.kv_dim(), q_dim = c.q_dim(), hidden = c.hidden_dim,
            head_size = c.head_size();

  for (int64_t i = 0; i < n; ++i) get_row(w.token_embd, batch[i].token, x_.data() + i * dim);
  if (c.embedding_scale != 1.0f) {
    for (int64_t i = 0; i < n * dim; ++i) x_[i] *= c.embedding_scale;
  }
  // RoPE angles depend on the position only: once per token, shared by heads and layers
  // (sliding-window layers' set after the global one).
  const int pairs = c.rope_dim / 2;
  const int64_t sliding_offset = n * pairs;
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < pairs; ++j) {
      const float angle = static_cast<float>(batch[i].pos) * rope_freqs_[j];
      rope_cos_[i * pairs + j] = std::cos(angle);
      rope_sin_[i * pairs + j] = std::sin(angle);
      if (!has_sliding_) continue;
      const float angle_sliding = static_cast<float>(batch[i].pos) * rope_freqs_sliding_[j];
      rope_cos_[sliding_offset + i * pairs + j] = std::cos(angle_sliding);
      rope_sin_[sliding_offset + i * pairs + j] = std::sin(angle_sliding);
    }
  }
  // Queries scaled so that attention_head's 1/√head_size makes c.attention_scale.
  const float q_scale = c.attention_scale > 0.0f
                            ? c.attention_scale * std::sqrt(static_cast<float>(head_size))
                            : 1.0f;

  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    for (int64_t i = 0; i < n; ++i) {
      rmsnorm(xb_.data() + i * dim, x_.data() + i * dim, lw.attn_norm.f32(), dim, c.rms_eps);
    }
    matmul_shared_input({&lw.wq, &lw.wk, &lw.wv}, xb_.data(), n, {q_.data(), k_.data(), v_.data()},
                        pool_);
    add_bias(q_.data(), lw.bq, n, q_dim);
    add_bias(k_.data(), lw.bk, n, kv_dim);
    add_bias(v_.data(), lw.bv, n, kv_dim);
    const int64_t rope_offset = c.sliding(l) ? sliding_offset : 0;
    // Store every token's K/V first: a token attends to earlier tokens of its sequence
    // that sit in the same batch (chunked prefill).
    for (int64_t i = 0; i < n; ++i) {
      const BatchToken& t = batch[i];
      float* q = q_.data() + i * q_dim;
      float* k = k_.data() + i * kv_dim;
      if (lw.q_norm.data != nullptr) {  // RMSNorm of every head (Qwen 3, Gemma 3)
        for (int h = 0; h < c.n_heads; ++h) {
          rmsnorm(q + h * head_size, q + h * head_size, lw.q_norm.f32(), head_size, c.rms_eps);
        }
        for (int h = 0; h < c.n_kv_heads; ++h) {
          rmsnorm(k + h * head_size, k + h * head_size, lw.k_norm.f32(), head_size, c.rms_eps);
        }
      }
      const float* cos = rope_cos_.data() + rope_offset + i * pairs;
      const float* sin = rope_sin_.data() + rope_offset + i * pairs;
      rope(q, c.n_heads, head_size, c.rope_dim, c.rope_style, cos, sin);
      rope(k, c.n_kv_heads, head_size, c.rope_dim, c.rope_style, cos, sin);
      if (q_scale != 1.0f) {
        for (int j = 0; j < q_dim; ++j) q[j] *= q_scale;
      }
      std::memcpy(t.cache->key(l, t.pos), k, kv_dim * sizeof(float));
      std::memcpy(t.cache->value(l, t.pos), v_.data() + i * kv_dim, kv_dim * sizeof(float));
    }
    attention(batch, l, q_.data(), xb_.data());
    matmul(lw.wo, xb_.data(), n, xb2_.data(), pool_);
    if (lw.post_attn_norm.data != nullptr) {  // Gemma 3: norm before the residual add
      for (int64_t i = 0; i < n; ++i) {
        rmsnorm(xb2_.data() + i * dim, xb2_.data() + i * dim, lw.post_attn_norm.f32(), dim,
                c.rms_eps);
      }
    }
    for (int64_t i = 0; i < n * dim; ++i) x_[i] += xb2_[i];

    for (int64_t i = 0; i < n; ++i) {
      rmsnorm(xb_.data() + i * dim, x_.data() + i * dim, lw.ffn_norm.f32(), dim, c.rms_eps);
    }
    matmul_shared_input({&lw.w_gate, &lw.w_up}, xb_.data(), n, {hb_.data(), hb2_.data()}, pool_);
    // SiLU(gate) * up, elementwise: split across threads in slices of kSliceFloats.
    constexpr int64_t kSliceFloats = 512;
    const int64_t total = n * hidden;
    const bool gelu_gate = c.activation == Activation::GeluTanh;
    parallel((total + kSliceFloats - 1) / kSliceFloats, total * 8, [&](int64_t s0, int64_t s1) {
      const int64_t end = std::min(total, s1 * kSliceFloats);
      if (gelu_gate) {
        for (int64_t i = s0 * kSliceFloats; i < end; ++i) hb_[i] = gelu(hb_[i]) * hb2_[i];
        return;
      }
      for (int64_t i = s0 * kSliceFloats; i < end; ++i) {
        const float g = hb_[i];
        hb_[i] = g * (1.0f / (1.0f + std::exp(-g))) * hb2_[i];
      }
    });
    matmul(lw.w_down, hb_.data(), n, xb_.data(), pool_);
    if (lw.post_ffn_norm.data != nullptr) {
      for (int64_t i = 0; i < n; ++i) {
        rmsnorm(xb_.data() + i * dim, xb_.data() + i * dim, lw.post_ffn_norm.f32(), dim, c.rms_eps);
      }
    }
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
