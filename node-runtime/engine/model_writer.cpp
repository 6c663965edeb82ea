#include "model_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <stdexcept>

#include "errors.h"
#include "gguf.h"
#include "hf_vocab.h"
#include "llama2c.h"
#include "mapped_file.h"
#include "model.h"
#include "model_arch.h"
#include "model_loader.h"
#include "pre_tokenizer.h"
#include "quant.h"
#include "quant_mix.h"
#include "tokenizer.h"

namespace llmops::engine {

namespace {

using RowSource = std::function<void(int64_t row, float* out)>;

// A rows x cols weight in the type `plan` gives it, encoded row by row when written.
void add_matrix(GgufWriter& w, const std::string& name, int64_t rows, int64_t cols,
                const TensorTypePlan& plan, RowSource source) {
  const TensorType type = plan.type_for(name, {cols, rows}, TensorType::F32);
  w.add_tensor(name, {cols, rows}, type, [=, source = std::move(source)] {
    // Rows come from the source in order (a generator), then encode on every thread.
    std::vector<float> values(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) source(r, values.data() + r * cols);
    std::vector<uint8_t> out(row_bytes(type, cols) * static_cast<size_t>(rows));
    quantize_rows(type, values.data(), out.data(), rows, cols);
    return out;
  });
}

// Norms stay F32.
void add_norm(GgufWriter& w, const std::string& name, int64_t n, RowSource source) {
  w.add_tensor(name, {n}, TensorType::F32, [=, source = std::move(source)] {
    std::vector<float> v(static_cast<size_t>(n));
    source(0, v.data());
    std::vector<uint8_t> out(v.size() * sizeof(float));
    std::memcpy(out.data(), v.data(), out.size());
    return out;
  });
}

void add_vocab_metadata(GgufWriter& w, const Vocab& vocab) {
  std::vector<int32_t> types;
  types.reserve(vocab.types.size());
  for (TokenType t : vocab.types) types.push_back(static_cast<int32_t>(t));
  const bool bpe = vocab.model == VocabModel::BytePairEncoding;
  w.add_string("tokenizer.ggml.model", bpe ? "gpt2" : "llama");
  if (bpe) w.add_string("tokenizer.ggml.pre", std::string(pre_tokenizer_name(vocab.pre)));
  w.add_string_array("tokenizer.ggml.tokens", vocab.pieces);
  w.add_f32_array("tokenizer.ggml.scores", vocab.scores);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  if (bpe) w.add_string_array("tokenizer.ggml.merges", vocab.merges);
  const auto add_id = [&](const char* key, int32_t id) {
    if (id >= 0) w.add_u32(key, static_cast<uint32_t>(id));
  };
  add_id("tokenizer.ggml.bos_token_id", vocab.bos_id);
  add_id("tokenizer.ggml.eos_token_id", vocab.eos_id);
  add_id("tokenizer.ggml.unknown_token_id", vocab.unk_id);
  add_id("tokenizer.ggml.eot_token_id", vocab.eot_id);
  add_id("tokenizer.ggml.eom_token_id", vocab.eom_id);
  w.add_bool("tokenizer.ggml.add_bos_token", vocab.add_bos);
  w.add_bool("tokenizer.ggml.add_eos_token", vocab.add_eos);
  // SentencePiece adds a space prefix unless told otherwise (Gemma is told otherwise).
  if (!bpe && !vocab.add_space_prefix) w.add_bool("tokenizer.ggml.add_space_prefix", false);
}

void add_model_metadata(GgufWriter& w, const std::string& name, const ModelConfig& c, FileType type,
                        const Vocab& vocab, const std::string& chat_template) {
  const std::string a = c.arch + ".";
  w.add_string("general.architecture", c.arch);
  w.add_string("general.name", name);
  w.add_u32("general.alignment", 32);
  w.add_u32("general.file_type", llama_file_type(type));
  if (is_quantized(type.type)) w.add_u32("general.quantization_version", 2);
  w.add_u32(a + "context_length", static_cast<uint32_t>(c.context_length));
  w.add_u32(a + "embedding_length", static_cast<uint32_t>(c.dim));
  w.add_u32(a + "block_count", static_cast<uint32_t>(c.n_layers));
  w.add_u32(a + "feed_forward_length", static_cast<uint32_t>(c.hidden_dim));
  w.add_u32(a + "rope.dimension_count", static_cast<uint32_t>(c.head_size()));
  w.add_u32(a + "attention.head_count", static_cast<uint32_t>(c.n_heads));
  w.add_u32(a + "attention.head_count_kv", static_cast<uint32_t>(c.n_kv_heads));
  if (c.head_dim > 0 && c.head_dim * c.n_heads != c.dim) {
    w.add_u32(a + "attention.key_length", static_cast<uint32_t>(c.head_dim));
    w.add_u32(a + "attention.value_length", static_cast<uint32_t>(c.head_dim));
  }
  w.add_f32(a + "attention.layer_norm_rms_epsilon", c.rms_eps);
  w.add_f32(a + "rope.freq_base", c.rope_theta);
  if (c.sliding_window > 0)
    w.add_u32(a + "attention.sliding_window", static_cast<uint32_t>(c.sliding_window));
  add_vocab_metadata(w, vocab);
  if (!chat_template.empty()) w.add_string("tokenizer.chat_template", chat_template);
}

// Adds every tensor of a model with `c`'s shapes and `spec`'s extra tensors, in
// llama.cpp's names and order; `rows_of(view)` gives the rows of the tensor that `view`
// (a Model weight) describes.
void add_model_tensors(GgufWriter& w, const ModelConfig& c, const ArchSpec& spec,
                       bool shared_classifier, FileType file_type,
                       const std::function<RowSource(const TensorView&)>& rows_of,
                       const ModelWeights& shapes) {
  const TensorTypePlan type(file_type, c.n_layers, !shared_classifier);  // per tensor
  const int64_t dim = c.dim, hidden = c.hidden_dim, kv_dim = c.kv_dim(), q_dim = c.q_dim(),
                vocab = c.vocab_size, head = c.head_size();
  add_matrix(w, "token_embd.weight", vocab, dim, type, rows_of(shapes.token_embd));
  if (shapes.rope_freqs.cols > 0) {
    add_norm(w, "rope_freqs.weight", shapes.rope_freqs.cols, rows_of(shapes.rope_freqs));
  }
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& lw = shapes.layers[static_cast<size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    add_norm(w, p + "attn_norm.weight", dim, rows_of(lw.attn_norm));
    add_matrix(w, p + "attn_q.weight", q_dim, dim, type, rows_of(lw.wq));
    add_matrix(w, p + "attn_k.weight", kv_dim, dim, type, rows_of(lw.wk));
    add_matrix(w, p + "attn_v.weight", kv_dim, dim, type, rows_of(lw.wv));
    if (spec.qkv_bias) {
      add_norm(w, p + "attn_q.bias", q_dim, rows_of(lw.bq));
      add_norm(w, p + "attn_k.bias", kv_dim, rows_of(lw.bk));
      add_norm(w, p + "attn_v.bias", kv_dim, rows_of(lw.bv));
    }
    if (spec.qk_norm) {
      add_norm(w, p + "attn_q_norm.weight", head, rows_of(lw.q_norm));
      add_norm(w, p + "attn_k_norm.weight", head, rows_of(lw.k_norm));
    }
    add_matrix(w, p + "attn_output.weight", dim, q_dim, type, rows_of(lw.wo));
    if (spec.post_norms)
      add_norm(w, p + "post_attention_norm.weight", dim, rows_of(lw.post_attn_norm));
    add_norm(w, p + "ffn_norm.weight", dim, rows_of(lw.ffn_norm));
    add_matrix(w, p + "ffn_gate.weight", hidden, dim, type, rows_of(lw.w_gate));
    add_matrix(w, p + "ffn_up.weight", hidden, dim, type, rows_of(lw.w_up));
    add_matrix(w, p + "ffn_down.weight", dim, hidden, type, rows_of(lw.w_down));
    if (spec.post_norms) add_norm(w, p + "post_ffw_norm.weight", dim, rows_of(lw.post_ffn_norm));
  }
  add_norm(w, "output_norm.weight", dim, rows_of(shapes.output_norm));
  if (!shared_classifier) {
    add_matrix(w, "output.weight", vocab, dim, type, rows_of(shapes.output));
  }
}

std::string stem_of(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

void check_option(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("make-model: " + what);
}

// A view that only carries a shape (make_model fills rows from the generator).
TensorView shape(const std::string& name, int64_t rows, int64_t cols) {
  TensorView v;
  v.name = name;
  v.rows = rows;
  v.cols = cols;
  return v;
}

}  // namespace

void convert_llama2c_to_gguf(const ConvertOptions& options) {
  if (options.tokenizer.empty()) {
    throw std::invalid_argument("convert: a tokenizer.bin is required (" + options.in +
                                " is a llama2.c checkpoint, which carries no vocabulary)");
  }
  if (options.out.empty()) throw std::invalid_argument("convert: no output path");
  const std::shared_ptr<const MappedFile> file = MappedFile::open(options.in);
  const Model m = model_from_llama2c(file->data(), file->size(), options.in);
  const Vocab vocab = load_tokenizer_bin(options.tokenizer);
  if (vocab.size() != static_cast<size_t>(m.config.vocab_size)) {
    throw ModelError("tokenizer " + options.tokenizer + " has " + std::to_string(vocab.size()) +
                     " tokens but checkpoint " + options.in + " has vocab_size " +
                     std::to_string(m.config.vocab_size));
  }
  GgufWriter w;
  add_model_metadata(w, stem_of(options.in), m.config, options.type, vocab, "");
  // Rows are copied from the mapping (Q/K unchanged: both formats rotate adjacent pairs).
  auto rows_of = [](const TensorView& v) -> RowSource {
    return [v](int64_t r, float* out) {
      std::memcpy(out, v.row(r), static_cast<size_t>(v.cols) * sizeof(float));
    };
  };
  add_model_tensors(w, m.config, *find_arch("llama"), m.weights.shared_classifier, options.type,
                    rows_of, m.weights);
  w.write(options.out);
}

namespace {

// The vocabulary --vocab-from names: a llama2.c tokenizer.bin, or a Hugging Face
// tokenizer.json (or its folder) with its chat template.
HfTokenizer vocab_for(const MakeModelOptions& o) {
  if (o.vocab_from.empty()) {
    // The byte vocabulary and SentencePiece's space "▁" as a piece of its own, so that a
    // space is one token that decodes to a space (llama.cpp spells an unknown "▁" with
    // its three UTF-8 bytes).
    Vocab v = make_byte_vocab();
    v.pieces.push_back("\xE2\x96\x81");
    v.scores.push_back(0.0f);
    v.types.push_back(TokenType::Normal);
    return {std::move(v), ""};
  }
  std::error_code ec;
  const std::filesystem::path p = o.vocab_from;
  if (std::filesystem::is_directory(p, ec) || p.extension() == ".json") {
    return load_hf_tokenizer(o.vocab_from);
  }
  return {load_tokenizer_bin(o.vocab_from), ""};
}

// Llama 3.1's frequency divisors (factor 8, low/high frequency factors 1 and 4): long
// wavelengths are slowed down, short ones kept, a smooth ramp between. Its original
// context (8192) is taken down to a quarter of the model's when that is smaller, so that
// the divisors act within the positions a short test reaches.
std::vector<float> llama31_rope_freqs(const ModelConfig& c) {
  constexpr double kFactor = 8, kLow = 1, kHigh = 4;
  const double original_context = std::min(8192.0, std::max(4.0, c.context_length / 4.0));
  const double pi = std::acos(-1.0);
  std::vector<float> out;
  for (int i = 0; i < c.rope_dim; i += 2) {
    const double freq = 1.0 / std::pow(c.rope_theta, static_cast<double>(i) / c.rope_dim);
    const double wavelen = 2 * pi / freq;
    double divisor = 1;
    if (wavelen > original_context / kLow) {
      divisor = kFactor;
    } else if (wavelen >= original_context / kHigh) {
      const double smooth = (original_context / wavelen - kLow) / (kHigh - kLow);
      divisor = 1.0 / ((1 - smooth) / kFactor + smooth);
    }
    out.push_back(static_cast<float>(divisor));
  }
  return out;
}

}  // namespace

void make_model(const MakeModelOptions& o) {
  const ArchSpec* spec = find_arch(o.arch);
  check_option(spec != nullptr, "architecture \"" + o.arch +
                                    "\" is not supported (supported: " + supported_archs() + ")");
  check_option(o.dim > 0 && o.dim <= (1 << 16),
               "dim " + std::to_string(o.dim) + " is out of range (1..65536)");
  check_option(o.hidden_dim > 0 && o.hidden_dim <= (1 << 20),
               "hidden_dim " + std::to_string(o.hidden_dim) + " is out of range (1..1048576)");
  check_option(o.n_layers > 0 && o.n_layers <= 1024,
               "n_layers " + std::to_string(o.n_layers) + " is out of range (1..1024)");
  check_option(o.n_heads > 0 && (o.head_dim > 0 || o.dim % o.n_heads == 0),
               "dim " + std::to_string(o.dim) + " is not a positive multiple of n_heads " +
                   std::to_string(o.n_heads));
  check_option(o.n_kv_heads > 0 && o.n_heads % o.n_kv_heads == 0,
               "n_heads " + std::to_string(o.n_heads) + " is not a multiple of n_kv_heads " +
                   std::to_string(o.n_kv_heads));
  const int head = o.head_dim > 0 ? o.head_dim : o.dim / o.n_heads;
  check_option(head % 2 == 0, "head size " + std::to_string(head) + " is odd; RoPE needs pairs");
  check_option(head <= (1 << 12),
               "head size " + std::to_string(head) + " is out of range (2..4096)");
  check_option(
      o.context_length > 0 && o.context_length <= (1 << 22),
      "context_length " + std::to_string(o.context_length) + " is out of range (1..4194304)");
  check_option(o.sliding_window >= 0,
               "sliding window " + std::to_string(o.sliding_window) + " is negative");
  check_option(!o.out.empty(), "no output path");
  check_option(!o.rope_freqs || spec->name == "llama", "rope_freqs exist for llama models only");
  // llama.cpp's qwen2 shapes Q and the output as dim x dim: its head size is dim / heads.
  check_option(spec->name != "qwen2" || o.head_dim <= 0 || o.head_dim * o.n_heads == o.dim,
               "qwen2 models have a head size of dim / heads (llama.cpp reads no other)");

  HfTokenizer hf = vocab_for(o);
  Vocab& vocab = hf.vocab;
  if (!o.pre.empty()) {
    const std::optional<PreTokenizer> pre = parse_pre_tokenizer(o.pre);
    check_option(pre.has_value(), "pre-tokenizer \"" + o.pre + "\" is not supported (supported: " +
                                      supported_pre_tokenizers() + ")");
    check_option(vocab.model == VocabModel::BytePairEncoding,
                 "--pre needs a byte-level BPE vocabulary");
    vocab.pre = *pre;
  }
  // What the file gets is what a reader builds: fail now on a vocabulary we could not load.
  (void)Tokenizer(Vocab(vocab));

  ModelConfig c;
  c.dim = o.dim;
  c.hidden_dim = o.hidden_dim;
  c.n_layers = o.n_layers;
  c.n_heads = o.n_heads;
  c.n_kv_heads = o.n_kv_heads;
  c.head_dim = head;
  c.vocab_size = static_cast<int>(vocab.size());
  c.context_length = o.context_length;
  c.rope_dim = head;
  c.rms_eps = spec->default_rms_eps;
  c.rope_theta = o.rope_theta > 0 ? o.rope_theta : (spec->name == "llama" ? 10000.0f : 1000000.0f);
  if (spec->sliding_window) c.sliding_window = o.sliding_window > 0 ? o.sliding_window : 512;
  apply_arch(*spec, c);

  const int64_t dim = c.dim, hidden = c.hidden_dim, kv_dim = c.kv_dim(), q_dim = c.q_dim();
  ModelWeights shapes;
  shapes.token_embd = shape("embd", c.vocab_size, dim);
  shapes.output_norm = shape("norm", 1, dim);
  shapes.output = shape("output", c.vocab_size, dim);
  std::vector<float> rope_freqs;
  if (o.rope_freqs) {
    rope_freqs = llama31_rope_freqs(c);
    shapes.rope_freqs = shape("rope_freqs", 1, static_cast<int64_t>(rope_freqs.size()));
  }
  for (int l = 0; l < c.n_layers; ++l) {
    LayerWeights lw;
    lw.attn_norm = lw.ffn_norm = shape("norm", 1, dim);
    lw.wq = shape("w", q_dim, dim);
    lw.wo = shape("w", dim, q_dim);
    lw.wk = lw.wv = shape("w", kv_dim, dim);
    lw.w_gate = lw.w_up = shape("w", hidden, dim);
    lw.w_down = shape("w", dim, hidden);
    lw.bq = shape("bias", 1, q_dim);
    lw.bk = lw.bv = shape("bias", 1, kv_dim);
    lw.q_norm = lw.k_norm = shape("random_norm", 1, c.head_size());
    lw.post_attn_norm = lw.post_ffn_norm = shape("random_norm", 1, dim);
    shapes.layers.push_back(lw);
  }

  // Uniform values with standard deviation 1/sqrt(cols), from the raw generator output
  // (not std:: distributions, whose results differ between standard libraries), so a
  // seed gives the same file everywhere. Tensors are produced in order at write time.
  // The classifier is kOutputGain times larger, so that logits are peaked: greedy
  // choices then rarely hinge on rounding (llama.cpp comparisons).
  constexpr double kOutputGain = 4.0;
  std::mt19937_64 rng(o.seed);
  const auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };  // [0, 1)
  auto rows_of = [&](const TensorView& v) -> RowSource {
    const int64_t cols = v.cols;
    if (v.name == "norm") {
      return [cols](int64_t, float* out) { std::fill(out, out + cols, 1.0f); };
    }
    if (v.name == "rope_freqs") {
      return [&rope_freqs](int64_t, float* out) {
        std::copy(rope_freqs.begin(), rope_freqs.end(), out);
      };
    }
    if (v.name == "random_norm") {  // around 1, so that a norm left out shows
      return [&uniform, cols](int64_t, float* out) {
        for (int64_t i = 0; i < cols; ++i) out[i] = static_cast<float>(0.5 + uniform());
      };
    }
    const double half_width = v.name == "bias" ? 0.5
                              : v.name == "output"
                                  ? kOutputGain * std::sqrt(3.0 / static_cast<double>(cols))
                                  : std::sqrt(3.0 / static_cast<double>(cols));
    return [&uniform, half_width, cols](int64_t, float* out) {
      for (int64_t i = 0; i < cols; ++i)
        out[i] = static_cast<float>((2.0 * uniform() - 1.0) * half_width);
    };
  };
  GgufWriter w;
  add_model_metadata(w, stem_of(o.out), c, o.type, vocab, hf.chat_template);
  add_model_tensors(w, c, *spec, o.tied, o.type, rows_of, shapes);
  w.write(o.out);
}

}  // namespace llmops::engine
