// Fuzzes llama2.c checkpoint parsing: any input must either load or throw ModelError, and
// every view must lie inside the input.
#include <cstddef>
#include <cstdint>

#include "engine/errors.h"
#include "engine/llama2c.h"
#include "engine/model.h"

namespace {

using namespace llmops::engine;

unsigned touch(const TensorView& v) {
  const auto* p = static_cast<const volatile uint8_t*>(v.data);
  const size_t n = v.size_bytes();
  return n == 0 ? 0u : static_cast<unsigned>(p[0] + p[n - 1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const Model m = model_from_llama2c(data, size, "fuzz.bin");
    unsigned sum =
        touch(m.weights.token_embd) + touch(m.weights.output) + touch(m.weights.output_norm);
    for (const LayerWeights& l : m.weights.layers) {
      for (const TensorView* v :
           {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.w_gate, &l.w_up, &l.w_down}) {
        sum += touch(*v);
      }
    }
    (void)sum;
  } catch (const ModelError&) {
  }
  return 0;
}
