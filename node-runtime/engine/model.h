// A loaded Llama-architecture model: hyper-parameters and views of its weights, whatever
// the file format. Weights usually point into a read-only mmap of the file, kept alive
// by the Model. The forward pass (transformer.h) reads only this struct.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tensor.h"
#include "vocab.h"

namespace llmops::engine {

class MappedFile;

struct ModelConfig {
  int dim = 0;         // embedding length
  int hidden_dim = 0;  // feed-forward length
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int vocab_size = 0;
  int context_length = 0;
  float rms_eps = 1e-5f;
  float rope_theta = 10000.0f;
  int rope_dim = 0;  // rotated dimensions per head (== head_size for llama2.c)

  int head_size() const { return dim / n_heads; }
  int kv_dim() const { return head_size() * n_kv_heads; }
};

// Shapes (rows x cols): wq dim x dim, wk/wv kv_dim x dim, wo dim x dim,
// w_gate/w_up hidden x dim, w_down dim x hidden; norms 1 x dim (always F32).
struct LayerWeights {
  TensorView attn_norm, wq, wk, wv, wo;
  TensorView ffn_norm, w_gate, w_up, w_down;
};

struct ModelWeights {
  TensorView token_embd;  // vocab x dim
  std::vector<LayerWeights> layers;
  TensorView output_norm;  // 1 x dim
  TensorView output;       // vocab x dim; same bytes as token_embd when shared
  bool shared_classifier = false;

  // Every view: token_embd, output_norm, output, then each layer's nine.
  std::vector<TensorView*> views();
  std::vector<const TensorView*> views() const;
};

enum class ModelFormat { Llama2c, Gguf };

struct Model {
  std::string path;
  ModelFormat format = ModelFormat::Llama2c;
  ModelConfig config;
  ModelWeights weights;
  // The tokenizer carried in the file's metadata (GGUF); llama2.c files have none.
  std::optional<Vocab> vocab;
  // GGUF tokenizer.chat_template (Jinja), empty when absent.
  std::string chat_template;
  // Keeps the mapping alive, and any tensors the loader had to convert (e.g. F16 norms).
  std::shared_ptr<const MappedFile> file;
  std::vector<std::vector<float>> owned;
  // NUMA-bound copy of the weights the views point into after `--numa bind|interleave`
  // (topology/binding.h); shared so that copies of the Model stay valid. Null otherwise.
  std::shared_ptr<void> weights_memory;
};

// Loads a model, detecting the format from the file's first bytes ("GGUF" magic, else a
// llama2.c header). Throws ModelError naming the file and what is wrong.
Model load_model(const std::string& path);

}  // namespace llmops::engine
