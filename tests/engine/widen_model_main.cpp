// widen_model MODELS_DIR SMALL_OUT WIDE_OUT: the trained test model of MODELS_DIR as
// F32 GGUF (SMALL_OUT) and widened to dim 256 (WIDE_OUT), see widen_model.h.
#include <cstdio>
#include <exception>

#include "widen_model.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: widen_model MODELS_DIR SMALL_OUT WIDE_OUT\n");
    return 2;
  }
  try {
    llmops::engine::widen::widen_trained_model(argv[1], argv[2], argv[3]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "widen_model: %s\n", e.what());
    return 1;
  }
  return 0;
}
