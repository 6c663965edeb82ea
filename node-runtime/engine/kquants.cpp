#include "kquants.h"

#include <algorithm>
#include <cmath>

#include "quant.h"

namespace llmops::engine {

namespace {

constexpr int kSub = 32;    // Q4_K / Q5_K sub-block
constexpr int kGroup = 16;  // Q6_K scale group

// round(v) clamped to [lo, hi]; NaN gives lo (no undefined float-to-int conversion).
int quantize_value(float v, int lo, int hi) {
  if (!(v >= static_cast<float>(lo))) return lo;
  if (v >= static_cast<float>(hi)) return hi;
  return static_cast<int>(std::nearbyint(v));
}

// An asymmetric sub-block fit: x ≈ scale·q − min, q in [0, nmax], scale ≥ 0, min ≥ 0.
struct ScaleMin {
  float scale = 0.0f;
  float min = 0.0f;
};

float fit_error(const float* x, int n, int nmax, float scale, float min) {
  const float inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
  float err = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int q = quantize_value((x[i] + min) * inverse, 0, nmax);
    const float e = scale * static_cast<float>(q) - min - x[i];
    err += e * e;
  }
  return err;
}

// Starts from the [min(x, 0), max(x)] range mapped onto 0..nmax, then tries grids a
// little finer and coarser: for each, the least-squares line through (q, x) (with the
// offset held at ≤ 0, as the format needs) is a candidate; the smallest error wins.
ScaleMin fit_scale_min(const float* x, int n, int nmax) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  lo = std::min(lo, 0.0f);
  if (!(hi > lo)) return {0.0f, -lo};
  ScaleMin best{(hi - lo) / static_cast<float>(nmax), -lo};
  float best_err = fit_error(x, n, nmax, best.scale, best.min);
  int q[kSub];
  for (int step = -4; step <= 8; ++step) {
    const float iscale = (static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / (hi - lo);
    float sq = 0, sx = 0, sqq = 0, sqx = 0;
    for (int i = 0; i < n; ++i) {
      q[i] = quantize_value(iscale * (x[i] - lo), 0, nmax);
      const auto qf = static_cast<float>(q[i]);
      sq += qf;
      sx += x[i];
      sqq += qf * qf;
      sqx += qf * x[i];
    }
    const float nf = static_cast<float>(n);
    const float det = nf * sqq - sq * sq;
    if (!(det > 0.0f)) continue;
    float a = (nf * sqx - sq * sx) / det;
    float b = (sx - a * sq) / nf;
    if (b > 0.0f) {
      b = 0.0f;
      a = sqx / sqq;
    }
    if (!(a > 0.0f)) continue;
    const float err = fit_error(x, n, nmax, a, -b);
    if (err < best_err) {
      best_err = err;
      best = {a, -b};
    }
  }
  return best;
}

// A symmetric group fit: x ≈ scale·q, q in [−32, 31]. The largest magnitude maps to −32
// (one level more than +31), then a few nearby grids with least-squares scales compete.
float fit_scale_symmetric(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (!(amax > 0.0f)) return 0.0f;
  auto error = [&](float scale) {
    const float inverse = 1.0f / scale;
    float err = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float e = scale * static_cast<float>(quantize_value(x[i] * inverse, -32, 31)) - x[i];
      err += e * e;
    }
    return err;
  };
  float best = max / -32.0f;
  float best_err = error(best);
  for (int step = -8; step <= 8; ++step) {
    const float iscale = -(32.0f + 0.25f * static_cast<float>(step)) / max;
    float sqq = 0, sqx = 0;
    for (int i = 0; i < n; ++i) {
      const auto q = static_cast<float>(quantize_value(iscale * x[i], -32, 31));
      sqq += q * q;
      sqx += q * x[i];
    }
    if (!(sqq > 0.0f) || sqx == 0.0f) continue;
    const float scale = sqx / sqq;
    const float err = error(scale);
    if (err < best_err) {
      best_err = err;
      best = scale;
    }
  }
  return best;
}

void pack_scales(const uint8_t* sc, const uint8_t* m, uint8_t* out) {
  for (int j = 0; j < 4; ++j) {
    out[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    out[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    out[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
}

// Q4_K and Q5_K share everything but the width of q: fills d, dmin, scales and q[256].
template <int kMax>
void quantize_super_asymmetric(const float* x, uint16_t* d, uint16_t* dmin, uint8_t* scales,
                               uint8_t* q) {
  ScaleMin fits[8];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < 8; ++j) {
    fits[j] = fit_scale_min(x + j * kSub, kSub, kMax);
    max_scale = std::max(max_scale, fits[j].scale);
    max_min = std::max(max_min, fits[j].min);
  }
  *d = fp32_to_fp16(max_scale / 63.0f);
  *dmin = fp32_to_fp16(max_min / 63.0f);
  const float dq = fp16_to_fp32(*d), mq = fp16_to_fp32(*dmin);
  const float inverse_d = dq > 0.0f ? 1.0f / dq : 0.0f;
  const float inverse_m = mq > 0.0f ? 1.0f / mq : 0.0f;
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = static_cast<uint8_t>(quantize_value(fits[j].scale * inverse_d, 0, 63));
    m[j] = static_cast<uint8_t>(quantize_value(fits[j].min * inverse_m, 0, 63));
  }
  pack_scales(sc, m, scales);
  // Quantize against the scales as stored, so that decoding meets the same values.
  for (int j = 0; j < 8; ++j) {
    const float step = dq * static_cast<float>(sc[j]);
    const float offset = mq * static_cast<float>(m[j]);
    const float inverse = step > 0.0f ? 1.0f / step : 0.0f;
    for (int i = 0; i < kSub; ++i) {
      q[j * kSub + i] =
          static_cast<uint8_t>(quantize_value((x[j * kSub + i] + offset) * inverse, 0, kMax));
    }
  }
}

}  // namespace

uint16_t fp32_to_bf16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

void quantize_row_q4_k(const float* x, BlockQ4_K* out, int64_t n) {
  uint8_t q[kSuperBlock];
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    BlockQ4_K& blk = out[b];
    quantize_super_asymmetric<15>(x + b * kSuperBlock, &blk.d, &blk.dmin, blk.scales, q);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        blk.qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
      }
    }
  }
}

void quantize_row_q5_k(const float* x, BlockQ5_K* out, int64_t n) {
  uint8_t q[kSuperBlock];
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    BlockQ5_K& blk = out[b];
    quantize_super_asymmetric<31>(x + b * kSuperBlock, &blk.d, &blk.dmin, blk.scales, q);
    std::fill(std::begin(blk.qh), std::end(blk.qh), uint8_t{0});
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
        blk.qs[32 * c + l] = static_cast<uint8_t>((lo & 15) | ((hi & 15) << 4));
        blk.qh[l] =
            static_cast<uint8_t>(blk.qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
}

void quantize_row_q6_k(const float* x, BlockQ6_K* out, int64_t n) {
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    const float* xb = x + b * kSuperBlock;
    BlockQ6_K& blk = out[b];
    float scales[kSuperBlock / kGroup];
    float amax = 0.0f;
    for (int g = 0; g < kSuperBlock / kGroup; ++g) {
      scales[g] = fit_scale_symmetric(xb + g * kGroup, kGroup);
      amax = std::max(amax, std::fabs(scales[g]));
    }
    blk.d = fp32_to_fp16(amax / 127.0f);
    const float dq = fp16_to_fp32(blk.d);
    const float inverse_d = dq > 0.0f ? 1.0f / dq : 0.0f;
    uint8_t q[kSuperBlock];  // q + 32, 0..63
    for (int g = 0; g < kSuperBlock / kGroup; ++g) {
      const int sc = quantize_value(scales[g] * inverse_d, -127, 127);
      blk.scales[g] = static_cast<int8_t>(sc);
      const float step = dq * static_cast<float>(sc);
      const float inverse = step != 0.0f ? 1.0f / step : 0.0f;
      for (int i = 0; i < kGroup; ++i) {
        q[g * kGroup + i] =
            static_cast<uint8_t>(quantize_value(xb[g * kGroup + i] * inverse, -32, 31) + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const uint8_t* qh = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        blk.ql[64 * h + l] = static_cast<uint8_t>((qh[l] & 15) | ((qh[l + 64] & 15) << 4));
        blk.ql[64 * h + 32 + l] =
            static_cast<uint8_t>((qh[l + 32] & 15) | ((qh[l + 96] & 15) << 4));
        blk.qh[32 * h + l] =
            static_cast<uint8_t>((qh[l] >> 4) | ((qh[l + 32] >> 4) << 2) |
                                 ((qh[l + 64] >> 4) << 4) | ((qh[l + 96] >> 4) << 6));
      }
    }
  }
}

void dequantize_row_q4_k(const BlockQ4_K* in, float* out, int64_t n) {
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    const BlockQ4_K& blk = in[b];
    const float d = fp16_to_fp32(blk.d), dmin = fp16_to_fp32(blk.dmin);
    float* y = out + b * kSuperBlock;
    for (int c = 0; c < 4; ++c) {
      uint8_t sc0, m0, sc1, m1;
      unpack_scale_min(blk.scales, 2 * c, &sc0, &m0);
      unpack_scale_min(blk.scales, 2 * c + 1, &sc1, &m1);
      const float d0 = d * sc0, o0 = dmin * m0, d1 = d * sc1, o1 = dmin * m1;
      for (int l = 0; l < 32; ++l) {
        y[64 * c + l] = d0 * static_cast<float>(blk.qs[32 * c + l] & 15) - o0;
        y[64 * c + 32 + l] = d1 * static_cast<float>(blk.qs[32 * c + l] >> 4) - o1;
      }
    }
  }
}

void dequantize_row_q5_k(const BlockQ5_K* in, float* out, int64_t n) {
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    const BlockQ5_K& blk = in[b];
    const float d = fp16_to_fp32(blk.d), dmin = fp16_to_fp32(blk.dmin);
    float* y = out + b * kSuperBlock;
    for (int c = 0; c < 4; ++c) {
      uint8_t sc0, m0, sc1, m1;
      unpack_scale_min(blk.scales, 2 * c, &sc0, &m0);
      unpack_scale_min(blk.scales, 2 * c + 1, &sc1, &m1);
      const float d0 = d * sc0, o0 = dmin * m0, d1 = d * sc1, o1 = dmin * m1;
      for (int l = 0; l < 32; ++l) {
        const int lo = (blk.qs[32 * c + l] & 15) | (((blk.qh[l] >> (2 * c)) & 1) << 4);
        const int hi = (blk.qs[32 * c + l] >> 4) | (((blk.qh[l] >> (2 * c + 1)) & 1) << 4);
        y[64 * c + l] = d0 * static_cast<float>(lo) - o0;
        y[64 * c + 32 + l] = d1 * static_cast<float>(hi) - o1;
      }
    }
  }
}

void dequantize_row_q6_k(const BlockQ6_K* in, float* out, int64_t n) {
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    const BlockQ6_K& blk = in[b];
    const float d = fp16_to_fp32(blk.d);
    float* y = out + b * kSuperBlock;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = blk.ql + 64 * h;
      const uint8_t* qh = blk.qh + 32 * h;
      const int8_t* sc = blk.scales + 8 * h;
      float* yh = y + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int g = l / 16;
        const int q0 = ((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q1 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        yh[l] = d * static_cast<float>(sc[g]) * static_cast<float>(q0);
        yh[l + 32] = d * static_cast<float>(sc[g + 2]) * static_cast<float>(q1);
        yh[l + 64] = d * static_cast<float>(sc[g + 4]) * static_cast<float>(q2);
        yh[l + 96] = d * static_cast<float>(sc[g + 6]) * static_cast<float>(q3);
      }
    }
  }
}

}  // namespace llmops::engine
