// llama-cpp-harness: llama.cpp's C API driven with exactly the protocol of
// `llmops-runtime bench`, for the figures llama.cpp's own tools do not print: prefill of a
// random prompt in chunks of 64 tokens; then B sequences decoding together, each after its
// own prompt, one token per step with the argmax of its logits (the sampling cost counts).
// Also the time per step split into llama_decode and reading the logits + argmax.
// Built by bench/llama_cpp.py against the libllama it builds; never part of CI.
//
//   llama-cpp-harness --model M [--threads 2] [--prompt-tokens 128] [--gen-tokens 64]
//                     [--batch 1]
#include <llama.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

long flag(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

const char* str_flag(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return nullptr;
}

void quiet_log(ggml_log_level level, const char* text, void*) {
  if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

int argmax(const float* logits, int n) {
  return static_cast<int>(std::max_element(logits, logits + n) - logits);
}

struct Batch {
  llama_batch b;
  explicit Batch(int n) : b(llama_batch_init(n, 0, 1)) {}
  ~Batch() { llama_batch_free(b); }
  void clear() { b.n_tokens = 0; }
  void add(llama_token token, llama_pos pos, llama_seq_id seq, bool logits) {
    const int i = b.n_tokens++;
    b.token[i] = token;
    b.pos[i] = pos;
    b.n_seq_id[i] = 1;
    b.seq_id[i][0] = seq;
    b.logits[i] = logits;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* path = str_flag(argc, argv, "--model");
  const int threads = static_cast<int>(flag(argc, argv, "--threads", 2));
  const int prompt = static_cast<int>(flag(argc, argv, "--prompt-tokens", 128));
  const int gen = static_cast<int>(flag(argc, argv, "--gen-tokens", 64));
  const int batch = static_cast<int>(flag(argc, argv, "--batch", 1));
  if (path == nullptr || threads < 1 || prompt < 1 || gen < 1 || batch < 1) {
    std::fprintf(stderr,
                 "usage: llama-cpp-harness --model M [--threads T] [--prompt-tokens P] "
                 "[--gen-tokens G] [--batch B]\n");
    return 2;
  }
  llama_log_set(quiet_log, nullptr);
  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* model = llama_model_load_from_file(path, mp);
  if (model == nullptr) {
    std::fprintf(stderr, "llama-cpp-harness: cannot load %s\n", path);
    return 1;
  }
  const int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>((prompt + gen) * batch);
  cp.n_batch = 512;
  cp.n_ubatch = 512;
  cp.n_seq_max = static_cast<uint32_t>(batch);
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.no_perf = true;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (ctx == nullptr) {
    std::fprintf(stderr, "llama-cpp-harness: cannot create a context\n");
    return 1;
  }

  std::mt19937 rng(1);
  std::uniform_int_distribution<int> token(3, vocab - 1);
  Batch b(std::max(64, batch));
  // Warm-up (as llama-bench does): one token, then the cache is cleared.
  b.add(1, 0, 0, true);
  llama_decode(ctx, b.b);
  llama_memory_clear(llama_get_memory(ctx), true);

  double prefill_seconds = 0;
  for (int s = 0; s < batch; ++s) {
    const auto start = Clock::now();
    for (int begin = 0; begin < prompt; begin += 64) {
      b.clear();
      for (int p = begin; p < std::min(prompt, begin + 64); ++p) {
        b.add(token(rng), p, s, p + 1 == prompt);
      }
      if (llama_decode(ctx, b.b) != 0) {
        std::fprintf(stderr, "llama-cpp-harness: llama_decode failed in prefill\n");
        return 1;
      }
    }
    (void)llama_get_logits_ith(ctx, -1);  // waits for the computation
    if (s == 0) prefill_seconds = seconds(start, Clock::now());
  }

  std::vector<llama_token> last(batch, 1);
  double decode_call = 0, sample = 0;
  const auto start = Clock::now();
  for (int t = 0; t < gen; ++t) {
    b.clear();
    for (int s = 0; s < batch; ++s) b.add(last[s], prompt + t, s, true);
    const auto t0 = Clock::now();
    if (llama_decode(ctx, b.b) != 0) {
      std::fprintf(stderr, "llama-cpp-harness: llama_decode failed in decode\n");
      return 1;
    }
    llama_synchronize(ctx);
    const auto t1 = Clock::now();
    for (int s = 0; s < batch; ++s) last[s] = argmax(llama_get_logits_ith(ctx, s), vocab);
    const auto t2 = Clock::now();
    decode_call += seconds(t0, t1);
    sample += seconds(t1, t2);
  }
  const double decode_seconds = seconds(start, Clock::now());
  std::printf(
      "{\"engine\":\"llama.cpp C API\",\"threads\":%d,\"prompt_tokens\":%d,\"gen_tokens\":%d,"
      "\"batch\":%d,\"prefill_tokens_per_second\":%.3f,\"decode_tokens_per_second\":%.3f,"
      "\"decode_ms_per_step\":%.4f,\"llama_decode_ms_per_step\":%.4f,"
      "\"argmax_ms_per_step\":%.4f,\"model_bytes\":%llu}\n",
      threads, prompt, gen, batch, prompt / prefill_seconds,
      static_cast<double>(gen) * batch / decode_seconds, 1e3 * decode_seconds / gen,
      1e3 * decode_call / gen, 1e3 * sample / gen,
      static_cast<unsigned long long>(llama_model_size(model)));
  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
