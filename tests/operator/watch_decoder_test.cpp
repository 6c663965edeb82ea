#include "llmops/kube/watch_decoder.h"

#include <gtest/gtest.h>

namespace llmops::kube {
namespace {

const std::string kStream =
    R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}})"
    "\n"
    R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"2"},"s":"é\n"}})"
    "\n"
    R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"3"}}})"
    "\r\n"
    R"({"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"4"}}})"
    "\n";

std::vector<std::string> decode_in_pieces(const std::vector<std::string>& pieces) {
  WatchDecoder decoder;
  std::vector<std::string> seen;
  for (const auto& piece : pieces) {
    decoder.feed(piece, [&seen](WatchEvent event) {
      seen.push_back(event.type + "@" + event.object["metadata"].value("resourceVersion", ""));
    });
  }
  EXPECT_EQ(decoder.pending(), 0u);
  return seen;
}

const std::vector<std::string> kExpected = {"ADDED@1", "MODIFIED@2", "BOOKMARK@3", "DELETED@4"};

TEST(WatchDecoder, WholeStreamInOneChunk) {
  EXPECT_EQ(decode_in_pieces({kStream}), kExpected);
}

TEST(WatchDecoder, SplitAtEveryByteOffset) {
  for (std::size_t cut = 0; cut <= kStream.size(); ++cut) {
    EXPECT_EQ(decode_in_pieces({kStream.substr(0, cut), kStream.substr(cut)}), kExpected)
        << "cut at " << cut;
  }
}

TEST(WatchDecoder, SplitAtEveryPairOfOffsets) {
  for (std::size_t a = 0; a <= kStream.size(); a += 3) {
    for (std::size_t b = a; b <= kStream.size(); b += 5) {
      EXPECT_EQ(
          decode_in_pieces({kStream.substr(0, a), kStream.substr(a, b - a), kStream.substr(b)}),
          kExpected)
          << "cuts at " << a << "," << b;
    }
  }
}

TEST(WatchDecoder, OneByteAtATime) {
  std::vector<std::string> pieces;
  for (char c : kStream) pieces.emplace_back(1, c);
  EXPECT_EQ(decode_in_pieces(pieces), kExpected);
}

TEST(WatchDecoder, IncompleteTailWaits) {
  WatchDecoder decoder;
  int events = 0;
  decoder.feed(R"({"type":"ADDED","object":{}})"
               "\n"
               R"({"type":"ADD)",
               [&events](WatchEvent) { ++events; });
  EXPECT_EQ(events, 1);
  EXPECT_GT(decoder.pending(), 0u);
}

TEST(WatchDecoder, BadLinesAreErrors) {
  WatchDecoder decoder;
  auto ignore = [](WatchEvent) {};
  EXPECT_THROW(decoder.feed("not json\n", ignore), WatchDecodeError);
  WatchDecoder second;
  EXPECT_THROW(second.feed(R"({"type":"ADDED"})"
                           "\n",
                           ignore),
               WatchDecodeError);
  WatchDecoder third;
  EXPECT_THROW(third.feed(R"({"object":{}})"
                          "\n",
                          ignore),
               WatchDecodeError);
}

}  // namespace
}  // namespace llmops::kube
