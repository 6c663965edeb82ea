#include "transformer.h"

#include <algorithm>
#include <cmath>
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

Transformer::Transformer(const Model& model) : model_(model) {
  const ModelConfig& c = model.config;
  x_.resize(c.dim);
  xb_.resize(c.dim);
  xb2_.resize(c.dim);
  hb_.resize(c.hidden_dim);
  hb2_.resize(c.hidden_dim);
  q_.resize(c.dim);
  att_.resize(static_cast<size_t>(c.n_heads) * c.context_length);
  logits_.resize(c.vocab_size);
  const int head_size = c.head_size();
  for (int i = 0; i < c.rope_dim; i += 2) {
    // As llama2.c computes it, so that fp32 results match the reference bit for bit.
    rope_freqs_.push_back(
        1.0f / std::pow(c.rope_theta, static_cast<float>(i) / static_cast<float>(head_size)));
  }
}

void Transformer::attention(KvCache& cache, int layer, int pos) {
  const ModelConfig& c = model_.config;
  const int head_size = c.head_size();
  const int group = c.n_heads / c.n_kv_heads;  // query heads per K/V head
  const float sqrt_head = std::sqrt(static_cast<float>(head_size));
  for (int h = 0; h < c.n_heads; ++h) {
    const float* q = q_.data() + h * head_size;
    float* att = att_.data() + static_cast<size_t>(h) * c.context_length;
    const int kv_offset = (h / group) * head_size;
    for (int t = 0; t <= pos; ++t) {
      const float* k = cache.key(layer, t) + kv_offset;
      float score = 0.0f;
      for (int i = 0; i < head_size; ++i) score += q[i] * k[i];
      att[t] = score / sqrt_head;
    }
    softmax(att, pos + 1);
    float* out = xb_.data() + h * head_size;
    std::fill(out, out + head_size, 0.0f);
    for (int t = 0; t <= pos; ++t) {
      const float* v = cache.value(layer, t) + kv_offset;
      const float a = att[t];
      for (int i = 0; i < head_size; ++i) out[i] += a * v[i];
    }
  }
}

const float* Transformer::forward(KvCache& cache, int32_t token, int pos) {
  const ModelConfig& c = model_.config;
  const ModelWeights& w = model_.weights;
  if (token < 0 || token >= c.vocab_size) {
    throw std::out_of_range("token id " + std::to_string(token) + " outside the vocabulary of " +
                            std::to_string(c.vocab_size));
  }
  if (pos < 0 || pos >= cache.capacity()) {
    throw std::out_of_range("position " + std::to_string(pos) + " outside the context of " +
                            std::to_string(cache.capacity()));
  }
  const int dim = c.dim;
  const int head_size = c.head_size();
  get_row(w.token_embd, token, x_.data());

  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    rmsnorm(xb_.data(), x_.data(), lw.attn_norm.f32(), dim, c.rms_eps);
    matmul(lw.wq, xb_.data(), 1, q_.data());
    matmul(lw.wk, xb_.data(), 1, cache.key(l, pos));
    matmul(lw.wv, xb_.data(), 1, cache.value(l, pos));
    rope(q_.data(), c.n_heads, head_size, c.rope_dim, rope_freqs_.data(), pos);
    rope(cache.key(l, pos), c.n_kv_heads, head_size, c.rope_dim, rope_freqs_.data(), pos);

    attention(cache, l, pos);
    matmul(lw.wo, xb_.data(), 1, xb2_.data());
    for (int i = 0; i < dim; ++i) x_[i] += xb2_[i];

    rmsnorm(xb_.data(), x_.data(), lw.ffn_norm.f32(), dim, c.rms_eps);
    matmul(lw.w_gate, xb_.data(), 1, hb_.data());
    matmul(lw.w_up, xb_.data(), 1, hb2_.data());
    for (int i = 0; i < c.hidden_dim; ++i) {
      const float g = hb_[i];
      hb_[i] = g * (1.0f / (1.0f + std::exp(-g))) * hb2_[i];  // SiLU(gate) * up
    }
    matmul(lw.w_down, hb_.data(), 1, xb_.data());
    for (int i = 0; i < dim; ++i) x_[i] += xb_[i];
  }

  rmsnorm(x_.data(), x_.data(), w.output_norm.f32(), dim, c.rms_eps);
  matmul(w.output, x_.data(), 1, logits_.data());
  return logits_.data();
}

}  // namespace llmops::engine
