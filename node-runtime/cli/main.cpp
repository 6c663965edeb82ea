// llmops-runtime: the CPU inference runtime's command line.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "args.h"
#include "commands.h"
#include "llmops/common/logging.h"
#include "llmops/version.h"

namespace {

constexpr const char* kUsage = R"(usage: llmops-runtime COMMAND [flags]

commands:
  serve       serve the OpenAI-compatible API with continuous batching
              --model PATH|file://…|https://… [--tokenizer PATH] [--model-name NAME]
              [--model-sha256 HEX] [--model-cache DIR] [--model-ca-file PEM]
              [--host H (127.0.0.1)] [--port P (8080; 0 = any free port)]
              [--max-batch N (16)] [--max-queue N (64)] [--context N (model's)]
              [--api-key KEY (or env LLMOPS_API_KEY)] [--lame-duck-seconds S (5)]
              [--drain-seconds S (30)] [--inject-error-rate R (0)]
              [--chat-template FILE (Jinja; default: the GGUF's)]
              [--chat-format llama2|chatml|plain (a built-in format instead)] [PLACEMENT]
environment: LLMOPS_KERNELS=scalar|avx2|avx512 forces a kernel variant (default: the
best this CPU runs)
  generate    generate text from a prompt
              --model PATH [--tokenizer PATH] --prompt TEXT [--max-tokens N (256)]
              [--temperature T (0.8; 0 = greedy)] [--top-p P (1.0)] [--top-k K (0 = off)]
              [--seed S (random, printed)] [--stop TEXT] [--print-ids] [PLACEMENT]
  bench       measure prefill and decode speed; prints one JSON object
              --model PATH [--prompt-tokens N (128)] [--gen-tokens N (64)] [--batch B (1)]
              [PLACEMENT]
  topology    print this machine's topology (hwloc) and the placement plan as JSON
              [PLACEMENT]
  convert     re-encode a GGUF file, or convert a llama2.c checkpoint, to GGUF of TYPE
              --in PATH [--tokenizer PATH (llama2.c only)] --out X.gguf [--type TYPE (f32)]
              TYPE: f32|f16|bf16|q8_0|q4_0|q4_k|q5_k|q6_k (one type for every weight
              matrix) or q4_k_m|q5_k_m (llama.cpp's mixes)
  chat-template  print the prompt a chat template renders for a list of messages
              (--model M | --template FILE) --messages FILE.json [--add-generation-prompt]
              [--bos-token S] [--eos-token S] [--now UNIX_SECONDS] [--ids (needs --model)]
  make-model  write a GGUF with random weights
              [--arch llama (default)|qwen2|qwen3|gemma3]
              --dim D --hidden H --layers L --heads N [--kv-heads K (N)] --context C
              [--head-dim D (dim/heads)] [--sliding-window W (gemma3; 512)]
              [--rope-base B (10000 llama, 1e6 others)] [--rope-freqs (llama 3.1)]
              [--tied (no output.weight)]
              [--vocab-from tokenizer.bin|tokenizer.json|FOLDER] [--pre NAME]
              [--type TYPE (f32), as for convert] --out X.gguf [--seed S (1)]
  tokenize    print a model's token ids for a text as a JSON array (no BOS/EOS)
              --model PATH [--tokenizer PATH] --text T [--special (control tokens'
              texts become their ids)]; or --texts FILE.json (an array of strings):
              prints [{"ids": [...], "text": decoded}, ...]
  version     print the version (also --version)

PLACEMENT (serve, generate, bench, topology):
  --threads N   compute threads, each pinned to its own physical core, filling a NUMA
                node's cores before the next (0 = one per physical core allowed; default)
  --numa bind|interleave|none
                bind (default): copy the weights into memory on the threads' NUMA node;
                interleave: over the allowed nodes; none: leave them in the file mapping
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "help") {
    std::FILE* out = argc < 2 ? stderr : stdout;
    std::fprintf(out, "llmops-runtime %s\n", llmops::kVersion);
    std::fputs(kUsage, out);
    return argc < 2 ? 2 : 0;
  }
  if (std::string(argv[1]) == "--version" || std::string(argv[1]) == "version") {
    std::printf("llmops-runtime %s\n", llmops::kVersion);
    return 0;
  }
  // Logs go to stderr: stdout carries the commands' output (generated text, ids, JSON).
  llmops::setup_logging("info", "llmops-runtime");
  const std::string command = argv[1];
  const std::vector<std::string> rest(argv + 2, argv + argc);
  try {
    if (command == "generate") return llmops::cli::run_generate(rest);
    if (command == "convert") return llmops::cli::run_convert(rest);
    if (command == "make-model") return llmops::cli::run_make_model(rest);
    if (command == "serve") return llmops::cli::run_serve(rest);
    if (command == "bench") return llmops::cli::run_bench(rest);
    if (command == "topology") return llmops::cli::run_topology(rest);
    if (command == "tokenize") return llmops::cli::run_tokenize(rest);
    if (command == "chat-template") return llmops::cli::run_chat_template(rest);
    std::cerr << "llmops-runtime: unknown command '" << command << "'\n\n" << kUsage;
    return 2;
  } catch (const llmops::UsageError& e) {
    std::cerr << "llmops-runtime " << command << ": " << e.what()
              << "\n(see llmops-runtime --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "llmops-runtime " << command << ": error: " << e.what() << "\n";
    return 1;
  }
}
