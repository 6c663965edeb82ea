// Building a Model from file bytes already in memory. load_model (model.h) maps the file
// and calls these; fuzzers and tests call them on buffers. Views point into `data`,
// which must outlive the Model (load_model keeps its mapping in Model::file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gguf.h"
#include "model.h"
#include "vocab.h"

namespace llmops::engine {

// Detects the format ("GGUF" magic, else llama2.c) and builds the Model.
Model model_from_bytes(const uint8_t* data, size_t size, const std::string& name);

// A parsed GGUF whose bytes are at `data`: a supported architecture (model_arch.h), its
// "<arch>.*" hyper-parameters, every tensor it needs with its shape, and the vocabulary. F16 norms
// are converted into Model::owned. Throws ModelError naming the file and the key or tensor at
// fault.
Model model_from_gguf(const GgufFile& gguf, const uint8_t* data);

// The tokenizer.ggml.* vocabulary ("llama" SentencePiece or "gpt2" byte-level BPE with
// its pre-tokenizer and merges), or nullopt when the file has none. Pieces as stored.
std::optional<Vocab> vocab_from_gguf(const GgufFile& gguf);

}  // namespace llmops::engine
