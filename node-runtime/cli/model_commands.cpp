#include <iostream>

#include "args.h"
#include "commands.h"
#include "engine/gguf_convert.h"
#include "engine/model_writer.h"

namespace llmops::cli {

namespace {

engine::FileType type_flag(const Args& args, const char* fallback) {
  try {
    return engine::parse_file_type(args.opt("type").value_or(fallback));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--type: ") + e.what());
  }
}

}  // namespace

// A GGUF input is re-encoded (dequantize, quantize); anything else is read as a llama2.c
// checkpoint, which needs --tokenizer.
int run_convert(const std::vector<std::string>& argv) {
  const Args args(argv, {"in", "tokenizer", "out", "type"}, {});
  if (engine::is_gguf_file(args.str("in"))) {
    if (args.opt("tokenizer")) {
      throw UsageError("--tokenizer is for llama2.c checkpoints; " + args.str("in") +
                       " is a GGUF file and carries its vocabulary");
    }
    const engine::GgufConvertOptions options{args.str("in"), args.str("out"),
                                             type_flag(args, "f32")};
    engine::convert_gguf(options);
    std::cerr << "wrote " << options.out << "\n";
    return 0;
  }
  engine::ConvertOptions options;
  options.in = args.str("in");
  options.tokenizer = args.str("tokenizer");
  options.out = args.str("out");
  options.type = type_flag(args, "f32");
  engine::convert_llama2c_to_gguf(options);
  std::cerr << "wrote " << options.out << "\n";
  return 0;
}

int run_make_model(const std::vector<std::string>& argv) {
  const Args args(argv,
                  {"arch", "dim", "hidden", "layers", "heads", "kv-heads", "head-dim", "context",
                   "sliding-window", "rope-base", "vocab-from", "pre", "type", "out", "seed"},
                  {"rope-freqs", "tied"});
  engine::MakeModelOptions options;
  options.arch = args.opt("arch").value_or("llama");
  options.head_dim = static_cast<int>(args.integer("head-dim", 0));
  options.sliding_window = static_cast<int>(args.integer("sliding-window", 0));
  options.rope_theta = static_cast<float>(args.number("rope-base", 0.0));
  options.rope_freqs = args.has("rope-freqs");
  options.tied = args.has("tied");
  options.pre = args.opt("pre").value_or("");
  options.dim = static_cast<int>(args.integer("dim"));
  options.hidden_dim = static_cast<int>(args.integer("hidden"));
  options.n_layers = static_cast<int>(args.integer("layers"));
  options.n_heads = static_cast<int>(args.integer("heads"));
  options.n_kv_heads = static_cast<int>(args.integer("kv-heads", options.n_heads));
  options.context_length = static_cast<int>(args.integer("context"));
  options.vocab_from = args.opt("vocab-from").value_or("");
  options.type = type_flag(args, "f32");
  options.out = args.str("out");
  options.seed = static_cast<uint64_t>(args.integer("seed", 1));
  engine::make_model(options);
  std::cerr << "wrote " << options.out << "\n";
  return 0;
}

}  // namespace llmops::cli
