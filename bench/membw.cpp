// llmops-membw: the memory read bandwidth this machine gives T threads, the limit that
// decoding runs against (every weight is read once per token). Reads a buffer several
// times the size of the last-level cache with 32-byte loads, each thread its own slice,
// best of several passes. Prints one JSON object.
//
//   llmops-membw [--threads T (1)] [--mib M (1024)] [--passes P (5)]
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

__attribute__((target("avx2"))) uint64_t read_slice(const uint8_t* p, size_t bytes) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  for (size_t i = 0; i + 64 <= bytes; i += 64) {
    acc0 = _mm256_xor_si256(acc0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    acc1 = _mm256_xor_si256(acc1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
  }
  acc0 = _mm256_xor_si256(acc0, acc1);
  return static_cast<uint64_t>(_mm256_extract_epi64(acc0, 0));
}

long flag(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = static_cast<int>(std::max(1L, flag(argc, argv, "--threads", 1)));
  const size_t bytes = static_cast<size_t>(std::max(64L, flag(argc, argv, "--mib", 1024))) << 20;
  const int passes = static_cast<int>(std::max(1L, flag(argc, argv, "--passes", 5)));
  auto* buffer = static_cast<uint8_t*>(std::aligned_alloc(64, bytes));
  if (buffer == nullptr) {
    std::fprintf(stderr, "llmops-membw: cannot allocate %zu bytes\n", bytes);
    return 1;
  }
  std::memset(buffer, 1, bytes);  // touch every page before timing
  const size_t slice = bytes / threads / 64 * 64;
  double best = 0;
  uint64_t sink = 0;
  for (int pass = 0; pass < passes; ++pass) {
    std::vector<uint64_t> results(threads);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] { results[t] = read_slice(buffer + t * slice, slice); });
    }
    for (auto& w : workers) w.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(slice) * threads / seconds);
    for (uint64_t r : results) sink ^= r;
  }
  std::free(buffer);
  std::printf("{\"threads\":%d,\"bytes\":%zu,\"read_bytes_per_second\":%.0f,\"checksum\":%llu}\n",
              threads, bytes, best, static_cast<unsigned long long>(sink & 1));
  return 0;
}
