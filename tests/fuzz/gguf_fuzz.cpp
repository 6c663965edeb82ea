// Fuzzes the GGUF reader and the Model built from it, as load_model does: any input must
// either load or throw ModelError, and every view must lie inside the input.
#include <cstddef>
#include <cstdint>

#include "engine/errors.h"
#include "engine/gguf.h"
#include "engine/model.h"
#include "engine/model_loader.h"

namespace {

using namespace llmops::engine;

// Reads the first and last byte of a view, so ASan flags a view outside the input.
unsigned touch(const TensorView& v) {
  const auto* p = static_cast<const volatile uint8_t*>(v.data);
  const size_t n = v.size_bytes();
  return n == 0 ? 0u : static_cast<unsigned>(p[0] + p[n - 1]);
}

void exercise_getters(const GgufFile& g) {
  for (const std::string& key : g.keys()) {
    try {
      (void)g.find_u32(key);
    } catch (const ModelError&) {
    }
    try {
      (void)g.find_f32(key);
    } catch (const ModelError&) {
    }
    try {
      (void)g.find_i32_array(key);
    } catch (const ModelError&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const GgufFile g = GgufFile::parse(data, size, "fuzz.gguf");
    exercise_getters(g);
    const Model m = model_from_gguf(g, data);
    unsigned sum = 0;
    for (const TensorView* v : m.weights.views()) sum += touch(*v);
    if (m.vocab && m.vocab->size() != static_cast<size_t>(m.config.vocab_size)) __builtin_trap();
    (void)sum;
  } catch (const ModelError&) {
  }
  return 0;
}
