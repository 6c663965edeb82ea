#include "quant.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kquants.h"

namespace llmops::engine {

uint16_t fp32_to_fp16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);   // NaN
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (abs < 0x38800000u) {
    // Subnormal half (or zero): value = m * 2^-24, rounded to nearest even.
    const float a = std::bit_cast<float>(abs);
    const float scaled = a * 16777216.0f;  // 2^24
    const auto m = static_cast<uint32_t>(std::nearbyint(scaled));
    return static_cast<uint16_t>(sign | m);
  }
  // Normal: rebias the exponent, round the mantissa to 10 bits (nearest even).
  uint32_t mant = abs & 0x007fffffu;
  uint32_t exp = (abs >> 23) - 127 + 15;
  uint32_t half = (exp << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // may carry into exp
  return static_cast<uint16_t>(sign | half);
}

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

namespace {

void quantize_q8_0(const float* x, BlockQ8_0* out, int64_t nblocks) {
  for (int64_t b = 0; b < nblocks; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = fp32_to_fp16(d);
    for (int j = 0; j < kQuantBlock; ++j) {
      out[b].qs[j] = static_cast<int8_t>(std::lround(xb[j] * id));
    }
  }
}

void quantize_q4_0(const float* x, BlockQ4_0* out, int64_t nblocks) {
  for (int64_t b = 0; b < nblocks; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f;
    float max = 0.0f;  // the signed value of largest magnitude
    for (int j = 0; j < kQuantBlock; ++j) {
      if (std::fabs(xb[j]) > amax) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = fp32_to_fp16(d);
    for (int j = 0; j < kQuantBlock / 2; ++j) {
      const auto lo = std::min<int>(15, static_cast<int8_t>(xb[j] * id + 8.5f));
      const auto hi = std::min<int>(15, static_cast<int8_t>(xb[j + kQuantBlock / 2] * id + 8.5f));
      out[b].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

}  // namespace

void quantize_row(TensorType type, const float* x, void* out, int64_t n) {
  (void)row_bytes(type, n);  // validates n for quantized types
  switch (type) {
    case TensorType::F32:
      std::memcpy(out, x, static_cast<size_t>(n) * sizeof(float));
      return;
    case TensorType::F16: {
      auto* o = static_cast<uint16_t*>(out);
      for (int64_t i = 0; i < n; ++i) o[i] = fp32_to_fp16(x[i]);
      return;
    }
    case TensorType::Q8_0:
      quantize_q8_0(x, static_cast<BlockQ8_0*>(out), n / kQuantBlock);
      return;
    case TensorType::Q4_0:
      quantize_q4_0(x, static_cast<BlockQ4_0*>(out), n / kQuantBlock);
      return;
    case TensorType::BF16: {
      auto* o = static_cast<uint16_t*>(out);
      for (int64_t i = 0; i < n; ++i) o[i] = fp32_to_bf16(x[i]);
      return;
    }
    case TensorType::Q4_K:
      quantize_row_q4_k(x, static_cast<BlockQ4_K*>(out), n);
      return;
    case TensorType::Q5_K:
      quantize_row_q5_k(x, static_cast<BlockQ5_K*>(out), n);
      return;
    case TensorType::Q6_K:
      quantize_row_q6_k(x, static_cast<BlockQ6_K*>(out), n);
      return;
  }
  throw std::invalid_argument("quantize_row: unsupported type");
}

void quantize_rows(TensorType type, const float* x, void* out, int64_t rows, int64_t cols) {
  const size_t rb = row_bytes(type, cols);
  auto run = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      quantize_row(type, x + r * cols, static_cast<uint8_t*>(out) + rb * static_cast<size_t>(r),
                   cols);
    }
  };
  constexpr int64_t kMinValuesPerThread = 1 << 16;
  const int64_t threads = std::clamp<int64_t>(rows * cols / kMinValuesPerThread, 1,
                                              std::max(1u, std::thread::hardware_concurrency()));
  if (threads == 1) {
    run(0, rows);
    return;
  }
  std::vector<std::thread> workers;
  const int64_t per = (rows + threads - 1) / threads;
  for (int64_t t = 1; t < threads; ++t) {
    workers.emplace_back(run, std::min(rows, t * per), std::min(rows, (t + 1) * per));
  }
  run(0, std::min(rows, per));
  for (std::thread& w : workers) w.join();
}

void dequantize_row(TensorType type, const void* in, float* out, int64_t n) {
  (void)row_bytes(type, n);
  switch (type) {
    case TensorType::F32:
      std::memcpy(out, in, static_cast<size_t>(n) * sizeof(float));
      return;
    case TensorType::F16: {
      const auto* h = static_cast<const uint16_t*>(in);
      for (int64_t i = 0; i < n; ++i) out[i] = fp16_to_fp32(h[i]);
      return;
    }
    case TensorType::Q8_0: {
      const auto* blocks = static_cast<const BlockQ8_0*>(in);
      for (int64_t b = 0; b < n / kQuantBlock; ++b) {
        const float d = fp16_to_fp32(blocks[b].d);
        for (int j = 0; j < kQuantBlock; ++j) out[b * kQuantBlock + j] = d * blocks[b].qs[j];
      }
      return;
    }
    case TensorType::Q4_0: {
      const auto* blocks = static_cast<const BlockQ4_0*>(in);
      for (int64_t b = 0; b < n / kQuantBlock; ++b) {
        const float d = fp16_to_fp32(blocks[b].d);
        for (int j = 0; j < kQuantBlock / 2; ++j) {
          out[b * kQuantBlock + j] = d * ((blocks[b].qs[j] & 0x0f) - 8);
          out[b * kQuantBlock + j + kQuantBlock / 2] = d * ((blocks[b].qs[j] >> 4) - 8);
        }
      }
      return;
    }
    case TensorType::BF16: {
      const auto* h = static_cast<const uint16_t*>(in);
      for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_fp32(h[i]);
      return;
    }
    case TensorType::Q4_K:
      dequantize_row_q4_k(static_cast<const BlockQ4_K*>(in), out, n);
      return;
    case TensorType::Q5_K:
      dequantize_row_q5_k(static_cast<const BlockQ5_K*>(in), out, n);
      return;
    case TensorType::Q6_K:
      dequantize_row_q6_k(static_cast<const BlockQ6_K*>(in), out, n);
      return;
  }
  throw std::invalid_argument("dequantize_row: unsupported type");
}

}  // namespace llmops::engine
