#include "llmops/common/token_compare.h"

#include <openssl/crypto.h>

#include <string>

namespace llmops {

bool constant_time_equals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool bearer_token_matches(std::string_view authorization, std::string_view token) {
  const std::string expected = "Bearer " + std::string(token);
  return constant_time_equals(authorization, expected);
}

}  // namespace llmops
