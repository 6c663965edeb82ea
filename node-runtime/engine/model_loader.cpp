#include <cmath>
#include <cstring>

#include "errors.h"
#include "gguf.h"
#include "llama2c.h"
#include "mapped_file.h"
#include "model.h"
#include "model_arch.h"
#include "model_loader.h"
#include "quant.h"
#include "tokenizer.h"

namespace llmops::engine {

namespace {

// The same limits as for llama2.c checkpoints: sizes stay far from overflow.
constexpr uint32_t kMaxDim = 1u << 16;
constexpr uint32_t kMaxHidden = 1u << 20;
constexpr uint32_t kMaxLayers = 1024;
constexpr uint32_t kMaxVocab = 1u << 22;
constexpr uint32_t kMaxContext = 1u << 22;

std::string shape_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

class GgufModelBuilder {
 public:
  GgufModelBuilder(const GgufFile& g, const uint8_t* data) : g_(g), data_(data) {}

  Model build() {
    Model m;
    m.path = g_.name();
    m.format = ModelFormat::Gguf;
    const std::string arch = g_.get_string("general.architecture");
    spec_ = find_arch(arch);
    if (spec_ == nullptr) {
      g_.fail("general.architecture is \"" + arch +
              "\", which is not supported (supported: " + supported_archs() + ")");
    }
    prefix_ = arch + ".";
    read_config(m.config);
    read_tensors(m);
    apply_arch(*spec_, m.config);
    m.vocab = vocab_from_gguf(g_);
    m.chat_template = g_.find_string("tokenizer.chat_template").value_or("");
    if (m.vocab && m.vocab->size() != static_cast<size_t>(m.config.vocab_size)) {
      g_.fail("tokenizer.ggml.tokens has " + std::to_string(m.vocab->size()) +
              " tokens but token_embd.weight has " + std::to_string(m.config.vocab_size) + " rows");
    }
    return m;
  }

 private:
  std::string key(std::string_view name) const { return prefix_ + std::string(name); }

  uint32_t bounded(const std::string& k, std::optional<uint32_t> v, uint32_t max) {
    if (!v) g_.fail("missing key " + k);
    if (*v == 0 || *v > max) {
      g_.fail("key " + k + " = " + std::to_string(*v) + " is out of range (1.." +
              std::to_string(max) + ")");
    }
    return *v;
  }
  uint32_t bounded(std::string_view name, uint32_t max) {
    const std::string k = key(name);
    return bounded(k, g_.find_u32(k), max);
  }

  float positive_float(const std::string& k, float fallback) {
    const float v = g_.find_f32(k).value_or(fallback);
    if (!(v > 0.0f) || !std::isfinite(v)) {
      g_.fail("key " + k + " = " + std::to_string(v) + " must be a positive finite number");
    }
    return v;
  }

  void read_config(ModelConfig& c) {
    const uint32_t dim = bounded("embedding_length", kMaxDim);
    const uint32_t hidden = bounded("feed_forward_length", kMaxHidden);
    const uint32_t layers = bounded("block_count", kMaxLayers);
    const uint32_t heads = bounded("attention.head_count", dim);
    const std::string kv_key = key("attention.head_count_kv");
    const uint32_t kv_heads = bounded(kv_key, g_.find_u32(kv_key).value_or(heads), heads);
    const uint32_t context = bounded("context_length", kMaxContext);
    // The head size: <arch>.attention.key_length when present (Qwen 3, Gemma 3), else
    // dim / heads.
    const std::string k_len = key("attention.key_length");
    const std::string v_len = key("attention.value_length");
    uint32_t head_size = 0;
    if (g_.find_u32(k_len)) {
      head_size = bounded(k_len, g_.find_u32(k_len), kMaxDim);
    } else {
      if (dim % heads != 0) {
        g_.fail(key("embedding_length") + " " + std::to_string(dim) + " is not a multiple of " +
                key("attention.head_count") + " " + std::to_string(heads) + " (and " + k_len +
                " is absent)");
      }
      head_size = dim / heads;
    }
    if (heads % kv_heads != 0) {
      g_.fail(key("attention.head_count") + " " + std::to_string(heads) + " is not a multiple of " +
              kv_key + " " + std::to_string(kv_heads));
    }
    if (const auto v = g_.find_u32(v_len); v && *v != head_size) {
      g_.fail(v_len + " " + std::to_string(*v) + " differs from the key length " +
              std::to_string(head_size) + " (not supported)");
    }
    if (head_size % 2 != 0) {
      g_.fail("head size " + std::to_string(head_size) + " is odd; RoPE needs pairs");
    }
    if (static_cast<uint64_t>(head_size) * heads > kMaxDim) {
      g_.fail("head size " + std::to_string(head_size) + " times " + std::to_string(heads) +
              " heads is more than the supported " + std::to_string(kMaxDim));
    }
    const uint32_t rope_dim = g_.find_u32(key("rope.dimension_count")).value_or(head_size);
    if (rope_dim != head_size) {
      g_.fail(key("rope.dimension_count") + " " + std::to_string(rope_dim) +
              " differs from the head size " + std::to_string(head_size) +
              " (partial RoPE is not supported)");
    }
    c.dim = static_cast<int>(dim);
    c.hidden_dim = static_cast<int>(hidden);
    c.n_layers = static_cast<int>(layers);
    c.n_heads = static_cast<int>(heads);
    c.n_kv_heads = static_cast<int>(kv_heads);
    c.head_dim = static_cast<int>(head_size);
    c.context_length = static_cast<int>(context);
    c.rms_eps = positive_float(key("attention.layer_norm_rms_epsilon"), spec_->default_rms_eps);
    c.rope_theta = positive_float(key("rope.freq_base"), 10000.0f);
    c.rope_dim = static_cast<int>(rope_dim);
    read_rope_scaling(c);
    if (spec_->sliding_window) {
      c.sliding_window = static_cast<int>(bounded("attention.sliding_window", kMaxContext));
    }
  }

  // <arch>.rope.scaling.type: none, or linear with <arch>.rope.scaling.factor.
  void read_rope_scaling(ModelConfig& c) {
    const std::string type_key = key("rope.scaling.type");
    const std::string type = g_.find_string(type_key).value_or("none");
    if (type == "none") return;
    if (type != "linear") {
      g_.fail(type_key + " is \"" + type + "\"; supported: none, linear");
    }
    const float factor = positive_float(key("rope.scaling.factor"), 1.0f);
    c.rope_freq_scale = 1.0f / factor;
  }

  const GgufTensorInfo& require(const std::string& name) {
    const GgufTensorInfo* t = g_.find_tensor(name);
    if (t == nullptr) {
      g_.fail("missing tensor " + name + " (required by architecture " + std::string(spec_->name) +
              ")");
    }
    return *t;
  }

  TensorView view_of(const GgufTensorInfo& t, int64_t rows, int64_t cols) {
    const uint8_t* p = data_ + t.file_offset;
    const size_t need = t.type == TensorType::F32 ? alignof(float) : alignof(uint16_t);
    if (reinterpret_cast<uintptr_t>(p) % need != 0) {
      g_.fail("tensor " + t.name + " data at offset " + std::to_string(t.file_offset) + " is not " +
              std::to_string(need) + "-byte aligned for type " + std::string(type_name(t.type)));
    }
    TensorView v;
    v.name = t.name;
    v.type = t.type;
    v.rows = rows;
    v.cols = cols;
    v.data = p;
    return v;
  }

  // A rows x cols matrix: GGUF dims [cols, rows].
  TensorView matrix(const std::string& name, int64_t rows, int64_t cols) {
    const GgufTensorInfo& t = require(name);
    if (t.dims.size() != 2 || t.dims[0] != cols || t.dims[1] != rows) {
      g_.fail("tensor " + name + " has shape " + shape_string(t.dims) + ", expected [" +
              std::to_string(cols) + ", " + std::to_string(rows) + "]");
    }
    return view_of(t, rows, cols);
  }

  // A vector of n elements (norms, biases, rope_freqs), always F32 in the Model (F16
  // converted into owned).
  TensorView vector(Model& m, const std::string& name, int64_t n) {
    const GgufTensorInfo& t = require(name);
    if (t.dims.size() != 1 || t.dims[0] != n) {
      g_.fail("tensor " + name + " has shape " + shape_string(t.dims) + ", expected [" +
              std::to_string(n) + "]");
    }
    if (t.type == TensorType::F32) return view_of(t, 1, n);
    if (t.type != TensorType::F16) {
      g_.fail("tensor " + name + " has type " + std::string(type_name(t.type)) +
              "; norms, biases and rope_freqs must be f32 or f16");
    }
    std::vector<float> values(static_cast<size_t>(n));
    const uint8_t* p = data_ + t.file_offset;
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      values[static_cast<size_t>(i)] = fp16_to_fp32(h);
    }
    m.owned.push_back(std::move(values));
    TensorView v;
    v.name = name;
    v.type = TensorType::F32;
    v.rows = 1;
    v.cols = n;
    v.data = m.owned.back().data();
    return v;
  }

  // An optional vector: an empty view when the file has no such tensor.
  TensorView optional_vector(Model& m, const std::string& name, int64_t n) {
    if (g_.find_tensor(name) == nullptr) return TensorView{};
    return vector(m, name, n);
  }

  void read_tensors(Model& m) {
    ModelConfig& c = m.config;
    ModelWeights& w = m.weights;
    const GgufTensorInfo& embd = require("token_embd.weight");
    if (embd.dims.size() != 2 || embd.dims[0] != c.dim) {
      g_.fail("tensor token_embd.weight has shape " + shape_string(embd.dims) + ", expected [" +
              std::to_string(c.dim) + ", n_vocab]");
    }
    if (embd.dims[1] > static_cast<int64_t>(kMaxVocab)) {
      g_.fail("tensor token_embd.weight has " + std::to_string(embd.dims[1]) +
              " rows, more than the supported vocabulary of " + std::to_string(kMaxVocab));
    }
    c.vocab_size = static_cast<int>(embd.dims[1]);
    const int64_t dim = c.dim, hidden = c.hidden_dim, kv_dim = c.kv_dim(), q_dim = c.q_dim(),
                  vocab = c.vocab_size, head = c.head_size();
    w.token_embd = view_of(embd, vocab, dim);
    w.layers.resize(static_cast<size_t>(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      LayerWeights& lw = w.layers[static_cast<size_t>(l)];
      lw.attn_norm = vector(m, p + "attn_norm.weight", dim);
      lw.wq = matrix(p + "attn_q.weight", q_dim, dim);
      lw.wk = matrix(p + "attn_k.weight", kv_dim, dim);
      lw.wv = matrix(p + "attn_v.weight", kv_dim, dim);
      lw.wo = matrix(p + "attn_output.weight", dim, q_dim);
      lw.ffn_norm = vector(m, p + "ffn_norm.weight", dim);
      lw.w_gate = matrix(p + "ffn_gate.weight", hidden, dim);
      lw.w_up = matrix(p + "ffn_up.weight", hidden, dim);
      lw.w_down = matrix(p + "ffn_down.weight", dim, hidden);
      if (spec_->qkv_bias) {
        lw.bq = vector(m, p + "attn_q.bias", q_dim);
        lw.bk = vector(m, p + "attn_k.bias", kv_dim);
        lw.bv = vector(m, p + "attn_v.bias", kv_dim);
      } else if (spec_->name == "llama") {  // llama.cpp reads Llama biases when present
        lw.bq = optional_vector(m, p + "attn_q.bias", q_dim);
        lw.bk = optional_vector(m, p + "attn_k.bias", kv_dim);
        lw.bv = optional_vector(m, p + "attn_v.bias", kv_dim);
      }
      if (spec_->qk_norm) {
        lw.q_norm = vector(m, p + "attn_q_norm.weight", head);
        lw.k_norm = vector(m, p + "attn_k_norm.weight", head);
      }
      if (spec_->post_norms) {
        lw.post_attn_norm = vector(m, p + "post_attention_norm.weight", dim);
        lw.post_ffn_norm = vector(m, p + "post_ffw_norm.weight", dim);
      }
    }
    w.output_norm = vector(m, "output_norm.weight", dim);
    if (spec_->name == "llama")
      w.rope_freqs = optional_vector(m, "rope_freqs.weight", c.rope_dim / 2);
    if (w.rope_freqs.data != nullptr) {
      for (int64_t i = 0; i < w.rope_freqs.cols; ++i) {
        const float f = w.rope_freqs.f32()[i];
        if (!(f > 0.0f) || !std::isfinite(f)) {
          g_.fail("tensor rope_freqs.weight[" + std::to_string(i) + "] = " + std::to_string(f) +
                  " must be a positive finite number");
        }
      }
    }
    if (g_.find_tensor("output.weight") != nullptr) {
      w.output = matrix("output.weight", vocab, dim);
      w.shared_classifier = false;
    } else {
      w.output = w.token_embd;
      w.shared_classifier = true;
    }
  }

  const GgufFile& g_;
  const uint8_t* data_;
  const ArchSpec* spec_ = nullptr;
  std::string prefix_;
};

}  // namespace

std::optional<Vocab> vocab_from_gguf(const GgufFile& g) {
  const std::vector<std::string>* tokens = g.find_string_array("tokenizer.ggml.tokens");
  const std::optional<std::string> model = g.find_string("tokenizer.ggml.model");
  if (tokens == nullptr && !model) return std::nullopt;
  if (!model) g.fail("missing key tokenizer.ggml.model");
  Vocab v;
  if (*model == "llama") {
    v.model = VocabModel::SentencePiece;
  } else if (*model == "gpt2") {
    v.model = VocabModel::BytePairEncoding;
  } else {
    g.fail("tokenizer.ggml.model is \"" + *model +
           "\", which is not supported (supported: llama (SentencePiece), gpt2 (byte-level BPE))");
  }
  const bool bpe = v.model == VocabModel::BytePairEncoding;
  v.spm_flavour = SpmFlavour::LlamaCpp;
  if (tokens == nullptr) g.fail("missing key tokenizer.ggml.tokens");
  const size_t n = tokens->size();
  if (n == 0) g.fail("tokenizer.ggml.tokens is empty");
  if (n > kMaxVocab) g.fail("tokenizer.ggml.tokens has " + std::to_string(n) + " tokens");

  v.pieces = *tokens;
  auto check_len = [&](const char* key, size_t len) {
    if (len != n) {
      g.fail(std::string(key) + " has " + std::to_string(len) +
             " entries but tokenizer.ggml.tokens has " + std::to_string(n));
    }
  };
  if (auto scores = g.find_f32_array("tokenizer.ggml.scores")) {
    check_len("tokenizer.ggml.scores", scores->size());
    v.scores = std::move(*scores);
  } else {
    v.scores.assign(n, 0.0f);
  }
  if (auto types = g.find_i32_array("tokenizer.ggml.token_type")) {
    check_len("tokenizer.ggml.token_type", types->size());
    v.types.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const int32_t t = (*types)[i];
      if (t < static_cast<int32_t>(TokenType::Normal) ||
          t > static_cast<int32_t>(TokenType::Byte)) {
        g.fail("tokenizer.ggml.token_type[" + std::to_string(i) + "] is " + std::to_string(t) +
               " (expected 1..6)");
      }
      v.types.push_back(static_cast<TokenType>(t));
    }
  } else {
    v.types.assign(n, TokenType::Normal);
  }
  if (bpe) {
    const std::vector<std::string>* merges = g.find_string_array("tokenizer.ggml.merges");
    if (merges == nullptr)
      g.fail("missing key tokenizer.ggml.merges (required by gpt2 vocabularies)");
    v.merges = *merges;
    // llama.cpp takes a missing pre-tokenizer for "default"; an unknown one is an error.
    const std::string pre = g.find_string("tokenizer.ggml.pre").value_or("default");
    const std::optional<PreTokenizer> parsed = parse_pre_tokenizer(pre);
    if (!parsed) {
      g.fail("tokenizer.ggml.pre is \"" + pre +
             "\", which is not supported (supported: " + supported_pre_tokenizers() + ")");
    }
    v.pre = *parsed;
  }
  auto special = [&](const char* key, int32_t fallback) {
    const std::optional<uint32_t> id = g.find_u32(key);
    if (!id) return fallback;
    if (*id >= n) {
      g.fail(std::string(key) + " " + std::to_string(*id) + " is out of range for " +
             std::to_string(n) + " tokens");
    }
    return static_cast<int32_t>(*id);
  };
  v.bos_id = special("tokenizer.ggml.bos_token_id", bpe ? -1 : 1);
  v.eos_id = special("tokenizer.ggml.eos_token_id", bpe ? -1 : 2);
  v.unk_id = special("tokenizer.ggml.unknown_token_id", bpe ? -1 : 0);
  v.eot_id = special("tokenizer.ggml.eot_token_id", -1);
  v.eom_id = special("tokenizer.ggml.eom_token_id", -1);
  // llama.cpp's defaults when the flags are absent: SentencePiece adds BOS and a space
  // prefix; byte-level BPE adds neither, except Llama 3's pre-tokenizer, which adds BOS.
  v.add_bos =
      g.find_bool("tokenizer.ggml.add_bos_token").value_or(!bpe || v.pre == PreTokenizer::Llama3);
  v.add_eos = g.find_bool("tokenizer.ggml.add_eos_token").value_or(false);
  v.add_space_prefix = g.find_bool("tokenizer.ggml.add_space_prefix").value_or(!bpe);
  if (v.add_bos && v.bos_id < 0)
    g.fail("tokenizer.ggml.add_bos_token is set but the file has no bos_token_id");
  if (v.add_eos && v.eos_id < 0)
    g.fail("tokenizer.ggml.add_eos_token is set but the file has no eos_token_id");
  return v;
}

Model model_from_gguf(const GgufFile& gguf, const uint8_t* data) {
  return GgufModelBuilder(gguf, data).build();
}

Model model_from_bytes(const uint8_t* data, size_t size, const std::string& name) {
  if (size >= 4 && std::memcmp(data, "GGUF", 4) == 0) {
    const GgufFile gguf = GgufFile::parse(data, size, name);
    return model_from_gguf(gguf, data);
  }
  return model_from_llama2c(data, size, name);
}

Model load_model(const std::string& path) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  Model m = model_from_bytes(file->data(), file->size(), path);
  m.file = std::move(file);
  return m;
}

}  // namespace llmops::engine
