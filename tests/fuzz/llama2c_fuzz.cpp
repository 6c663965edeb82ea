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
    unsigned sum = 0;
    for (const TensorView* v : m.weights.views()) sum += touch(*v);
    (void)sum;
  } catch (const ModelError&) {
  }
  return 0;
}
