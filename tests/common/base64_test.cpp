#include "llmops/common/base64.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmops {
namespace {

// RFC 4648 section 10's test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded) << plain;
    EXPECT_EQ(base64_decode(encoded), plain) << encoded;
  }
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= bytes.size(); n += 37) {
    const std::string part = bytes.substr(0, n);
    EXPECT_EQ(base64_decode(base64_encode(part)), part) << n;
  }
  EXPECT_EQ(base64_encode("\xff\xfe\xfd"), "//79");
}

TEST(Base64, DecoderIsLenientAsKubeconfigsNeed) {
  EXPECT_EQ(base64_decode("Zm9v\nYmFy\r\n"), "foobar");
  EXPECT_EQ(base64_decode("Zm8"), "fo");                    // no padding
  EXPECT_EQ(base64_decode("__79"), base64_decode("//79"));  // URL-safe alphabet
  EXPECT_EQ(base64_decode("--79"), base64_decode("++79"));
}

TEST(Base64, DecoderRejectsOtherCharacters) {
  EXPECT_EQ(base64_decode("Zm9v!"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm\t9v"), std::nullopt);
  EXPECT_EQ(base64_decode("\xc3\xa9"), std::nullopt);
}

}  // namespace
}  // namespace llmops
