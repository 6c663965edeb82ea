// A loaded decoder-only transformer (Llama, Qwen 2, Qwen 3, Gemma 3: model_arch.h says how
// they differ): hyper-parameters and views of its weights, whatever the file format.
// Weights usually point into a read-only mmap of the file, kept alive by the Model. The
// forward pass (transformer.h) reads only this struct.
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

// Where RoPE's rotated pairs sit within a head: adjacent (i, i+1) as llama2.c and
// llama.cpp's "llama" files store Q/K, or the two halves (i, i + rope_dim/2) as Hugging
// Face's rotate_half and llama.cpp's "NEOX" architectures (Qwen, Gemma) do.
enum class RopeStyle { AdjacentPairs, Halves };
// The feed-forward gate's activation: SiLU (SwiGLU) or GELU's tanh form (GeGLU).
enum class Activation { Silu, GeluTanh };

struct ModelConfig {
  std::string arch = "llama";  // general.architecture
  int dim = 0;                 // embedding length
  int hidden_dim = 0;          // feed-forward length
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int vocab_size = 0;
  int context_length = 0;
  float rms_eps = 1e-5f;
  float rope_theta = 10000.0f;
  int rope_dim = 0;  // rotated dimensions per head (== head_size for llama2.c)
  int head_dim = 0;  // per head; 0 means dim / n_heads (Qwen 3 and Gemma 3 differ)
  RopeStyle rope_style = RopeStyle::AdjacentPairs;
  float rope_freq_scale = 1.0f;  // linear RoPE scaling: positions times this
  Activation activation = Activation::Silu;
  float embedding_scale = 1.0f;  // token embeddings are multiplied by this (Gemma: √dim)
  float attention_scale = 0.0f;  // q·k scale; 0 means 1/√head_size
  // Sliding-window attention (Gemma 3): layers where sliding(l) attend to the last
  // `sliding_window` positions only, with RoPE base rope_theta_sliding.
  int sliding_window = 0;          // 0: every layer attends to the whole context
  int sliding_window_pattern = 0;  // every Nth layer (l % N == N - 1) is global
  float rope_theta_sliding = 10000.0f;

  int head_size() const { return head_dim > 0 ? head_dim : dim / n_heads; }
  int q_dim() const { return head_size() * n_heads; }
  int kv_dim() const { return head_size() * n_kv_heads; }
  bool sliding(int layer) const {
    return sliding_window > 0 && sliding_window_pattern > 0 &&
           layer % sliding_window_pattern != sliding_window_pattern - 1;
  }
};

// Shapes (rows x cols): wq q_dim x dim, wk/wv kv_dim x dim, wo dim x q_dim,
// w_gate/w_up hidden x dim, w_down dim x hidden; norms 1 x dim (always F32).
// Optional tensors (data == nullptr when the architecture has none; always F32):
// bq/bk/bv biases 1 x q_dim / kv_dim (Qwen 2), q_norm/k_norm 1 x head_size RMSNorm of
// each head (Qwen 3, Gemma 3), post_attn_norm/post_ffn_norm 1 x dim on each block's
// output before the residual add (Gemma 3).
struct LayerWeights {
  TensorView attn_norm, wq, wk, wv, wo;
  TensorView ffn_norm, w_gate, w_up, w_down;
  TensorView bq, bk, bv, q_norm, k_norm, post_attn_norm, post_ffn_norm;
};

struct ModelWeights {
  TensorView token_embd;  // vocab x dim
  std::vector<LayerWeights> layers;
  TensorView output_norm;  // 1 x dim
  TensorView output;       // vocab x dim; same bytes as token_embd when shared
  TensorView rope_freqs;   // optional 1 x rope_dim/2 (Llama 3.1+): frequency divisors
  bool shared_classifier = false;

  // Every view: token_embd, output_norm, output, rope_freqs, then each layer's; optional
  // tensors the model does not have are left out.
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
