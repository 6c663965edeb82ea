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
#include "llama2c.h"
#include "mapped_file.h"
#include "model.h"
#include "model_loader.h"
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

void add_llama_metadata(GgufWriter& w, const std::string& name, const ModelConfig& c, FileType type,
                        const Vocab& vocab) {
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", name);
  w.add_u32("general.alignment", 32);
  w.add_u32("general.file_type", llama_file_type(type));
  if (is_quantized(type.type)) w.add_u32("general.quantization_version", 2);
  w.add_u32("llama.context_length", static_cast<uint32_t>(c.context_length));
  w.add_u32("llama.embedding_length", static_cast<uint32_t>(c.dim));
  w.add_u32("llama.block_count", static_cast<uint32_t>(c.n_layers));
  w.add_u32("llama.feed_forward_length", static_cast<uint32_t>(c.hidden_dim));
  w.add_u32("llama.rope.dimension_count", static_cast<uint32_t>(c.head_size()));
  w.add_u32("llama.attention.head_count", static_cast<uint32_t>(c.n_heads));
  w.add_u32("llama.attention.head_count_kv", static_cast<uint32_t>(c.n_kv_heads));
  w.add_f32("llama.attention.layer_norm_rms_epsilon", c.rms_eps);
  w.add_f32("llama.rope.freq_base", c.rope_theta);

  std::vector<std::string> tokens;
  tokens.reserve(vocab.size());
  for (const std::string& p : vocab.pieces) tokens.push_back(text_to_gguf_piece(p));
  std::vector<int32_t> types;
  types.reserve(vocab.types.size());
  for (TokenType t : vocab.types) types.push_back(static_cast<int32_t>(t));
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string_array("tokenizer.ggml.tokens", std::move(tokens));
  w.add_f32_array("tokenizer.ggml.scores", vocab.scores);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(vocab.bos_id));
  w.add_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(vocab.eos_id));
  w.add_u32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(vocab.unk_id));
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  w.add_bool("tokenizer.ggml.add_eos_token", false);
}

// Adds every tensor of a Llama model with `c`'s shapes, in llama.cpp's names and order;
// `rows_of(view)` gives the rows of the tensor that `view` (a Model weight) describes.
void add_llama_tensors(GgufWriter& w, const ModelConfig& c, bool shared_classifier,
                       FileType file_type,
                       const std::function<RowSource(const TensorView&)>& rows_of,
                       const ModelWeights& shapes) {
  const TensorTypePlan type(file_type, c.n_layers, !shared_classifier);  // per tensor
  const int64_t dim = c.dim, hidden = c.hidden_dim, kv_dim = c.kv_dim(), vocab = c.vocab_size;
  add_matrix(w, "token_embd.weight", vocab, dim, type, rows_of(shapes.token_embd));
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& lw = shapes.layers[static_cast<size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    add_norm(w, p + "attn_norm.weight", dim, rows_of(lw.attn_norm));
    add_matrix(w, p + "attn_q.weight", dim, dim, type, rows_of(lw.wq));
    add_matrix(w, p + "attn_k.weight", kv_dim, dim, type, rows_of(lw.wk));
    add_matrix(w, p + "attn_v.weight", kv_dim, dim, type, rows_of(lw.wv));
    add_matrix(w, p + "attn_output.weight", dim, dim, type, rows_of(lw.wo));
    add_norm(w, p + "ffn_norm.weight", dim, rows_of(lw.ffn_norm));
    add_matrix(w, p + "ffn_gate.weight", hidden, dim, type, rows_of(lw.w_gate));
    add_matrix(w, p + "ffn_up.weight", hidden, dim, type, rows_of(lw.w_up));
    add_matrix(w, p + "ffn_down.weight", dim, hidden, type, rows_of(lw.w_down));
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
  add_llama_metadata(w, stem_of(options.in), m.config, options.type, vocab);
  // Rows are copied from the mapping (Q/K unchanged: both formats rotate adjacent pairs).
  auto rows_of = [](const TensorView& v) -> RowSource {
    return [v](int64_t r, float* out) {
      std::memcpy(out, v.row(r), static_cast<size_t>(v.cols) * sizeof(float));
    };
  };
  add_llama_tensors(w, m.config, m.weights.shared_classifier, options.type, rows_of, m.weights);
  w.write(options.out);
}

void make_model(const MakeModelOptions& o) {
  check_option(o.dim > 0 && o.dim <= (1 << 16),
               "dim " + std::to_string(o.dim) + " is out of range (1..65536)");
  check_option(o.hidden_dim > 0 && o.hidden_dim <= (1 << 20),
               "hidden_dim " + std::to_string(o.hidden_dim) + " is out of range (1..1048576)");
  check_option(o.n_layers > 0 && o.n_layers <= 1024,
               "n_layers " + std::to_string(o.n_layers) + " is out of range (1..1024)");
  check_option(o.n_heads > 0 && o.dim % o.n_heads == 0,
               "dim " + std::to_string(o.dim) + " is not a positive multiple of n_heads " +
                   std::to_string(o.n_heads));
  check_option(o.n_kv_heads > 0 && o.n_heads % o.n_kv_heads == 0,
               "n_heads " + std::to_string(o.n_heads) + " is not a multiple of n_kv_heads " +
                   std::to_string(o.n_kv_heads));
  check_option((o.dim / o.n_heads) % 2 == 0,
               "head size " + std::to_string(o.dim / o.n_heads) + " is odd; RoPE needs pairs");
  check_option(
      o.context_length > 0 && o.context_length <= (1 << 22),
      "context_length " + std::to_string(o.context_length) + " is out of range (1..4194304)");
  check_option(!o.out.empty(), "no output path");

  const Vocab vocab = o.vocab_from.empty() ? make_byte_vocab() : load_tokenizer_bin(o.vocab_from);
  ModelConfig c;
  c.dim = o.dim;
  c.hidden_dim = o.hidden_dim;
  c.n_layers = o.n_layers;
  c.n_heads = o.n_heads;
  c.n_kv_heads = o.n_kv_heads;
  c.vocab_size = static_cast<int>(vocab.size());
  c.context_length = o.context_length;
  c.rope_dim = c.head_size();

  const int64_t dim = c.dim, hidden = c.hidden_dim, kv_dim = c.kv_dim();
  ModelWeights shapes;
  shapes.token_embd = shape("embd", c.vocab_size, dim);
  shapes.output_norm = shape("norm", 1, dim);
  shapes.output = shape("w", c.vocab_size, dim);
  for (int l = 0; l < c.n_layers; ++l) {
    LayerWeights lw;
    lw.attn_norm = lw.ffn_norm = shape("norm", 1, dim);
    lw.wq = lw.wo = shape("w", dim, dim);
    lw.wk = lw.wv = shape("w", kv_dim, dim);
    lw.w_gate = lw.w_up = shape("w", hidden, dim);
    lw.w_down = shape("w", dim, hidden);
    shapes.layers.push_back(lw);
  }

  // Uniform values with standard deviation 1/sqrt(cols), from the raw generator output
  // (not std:: distributions, whose results differ between standard libraries), so a
  // seed gives the same file everywhere. Tensors are produced in order at write time.
  std::mt19937_64 rng(o.seed);
  auto rows_of = [&rng](const TensorView& v) -> RowSource {
    const int64_t cols = v.cols;
    if (v.name == "norm") {
      return [cols](int64_t, float* out) { std::fill(out, out + cols, 1.0f); };
    }
    const double half_width = std::sqrt(3.0 / static_cast<double>(cols));
    return [&rng, half_width, cols](int64_t, float* out) {
      for (int64_t i = 0; i < cols; ++i) {
        const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
        out[i] = static_cast<float>((2.0 * u - 1.0) * half_width);
      }
    };
  };
  GgufWriter w;
  add_llama_metadata(w, stem_of(o.out), c, o.type, vocab);
  add_llama_tensors(w, c, /*shared_classifier=*/false, o.type, rows_of, shapes);
  w.write(o.out);
}

}  // namespace llmops::engine
