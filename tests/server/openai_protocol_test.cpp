#include "server/openai_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace llmops::server {
namespace {

using nlohmann::json;

CompletionRequest parse(const std::string& body, bool chat = false) {
  return parse_completion_request(body, chat, 77);
}

TEST(OpenAiProtocol, CompletionDefaultsFollowOpenAi) {
  const auto r = parse(R"({"model":"m","prompt":"hi"})");
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.prompt, "hi");
  EXPECT_EQ(r.options.max_tokens, 16);
  EXPECT_FLOAT_EQ(r.options.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r.options.sampling.top_p, 1.0f);
  EXPECT_EQ(r.options.sampling.seed, 77u);
  EXPECT_FALSE(r.stream);
}

TEST(OpenAiProtocol, ChatParsesMessagesPartsAndLimits) {
  const auto r = parse(R"({"messages":[{"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
      "max_completion_tokens":7,"stop":["x","y"],"seed":5,"stream":true,
      "stream_options":{"include_usage":true},"temperature":0})",
                       true);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].content, "ab");
  EXPECT_EQ(r.options.max_tokens, 7);
  EXPECT_EQ(r.options.stop, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(r.options.sampling.seed, 5u);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(parse(R"({"messages":[{"role":"user","content":"a"}]})", true).options.max_tokens, -1);
}

TEST(OpenAiProtocol, PromptAsTokenIds) {
  const auto r = parse(R"({"prompt":[1,5,9]})");
  EXPECT_EQ(r.prompt_ids, (std::vector<int32_t>{1, 5, 9}));
}

struct BadCase {
  std::string body;
  bool chat;
  std::string param;
};

class OpenAiProtocolErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(OpenAiProtocolErrors, Answer400NamingTheParam) {
  const auto& c = GetParam();
  try {
    parse(c.body, c.chat);
    FAIL() << "accepted " << c.body;
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    const json body = e.body();
    EXPECT_EQ(body["error"]["type"], "invalid_request_error");
    if (c.param.empty()) {
      EXPECT_TRUE(body["error"]["param"].is_null());
    } else {
      EXPECT_EQ(body["error"]["param"], c.param) << e.what();
    }
    EXPECT_FALSE(std::string(e.what()).empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, OpenAiProtocolErrors,
    ::testing::Values(BadCase{"{bad", false, ""}, BadCase{"[1]", false, ""},
                      BadCase{R"({"prompt":"a","temperature":3})", false, "temperature"},
                      BadCase{R"({"prompt":"a","temperature":"hot"})", false, "temperature"},
                      BadCase{R"({"prompt":"a","max_tokens":-1})", false, "max_tokens"},
                      BadCase{R"({"prompt":"a","max_tokens":1.5})", false, "max_tokens"},
                      BadCase{R"({"prompt":"a","n":2})", false, "n"},
                      BadCase{R"({"prompt":"a","top_p":1.5})", false, "top_p"},
                      BadCase{R"({"prompt":"a","stop":["1","2","3","4","5"]})", false, "stop"},
                      BadCase{R"({"prompt":"a","stream":"yes"})", false, "stream"},
                      BadCase{R"({"prompt":"a","model":3})", false, "model"},
                      BadCase{R"({"prompt":"a","seed":"x"})", false, "seed"},
                      BadCase{R"({"prompt":{"a":1}})", false, "prompt"},
                      // Token ids beyond 32 bits must not wrap into the vocabulary.
                      BadCase{R"({"prompt":[4294967297]})", false, "prompt"},
                      BadCase{R"({"prompt":[1,18446744073709551615]})", false, "prompt"},
                      BadCase{R"({"prompt":[-4294967295]})", false, "prompt"},
                      BadCase{R"({"max_tokens":3})", false, "prompt"},
                      BadCase{R"({"prompt":"a"})", true, "messages"},
                      BadCase{R"({"messages":[]})", true, "messages"},
                      BadCase{R"({"messages":[{"content":"a"}]})", true, "messages[0].role"},
                      BadCase{R"({"messages":[{"role":"user","content":5}]})", true,
                              "messages[0].content"}));

TEST(OpenAiProtocol, ResponsesHaveTheOpenAiShape) {
  CompletionFormatter chat(true, "m", "chatcmpl-1");
  const json full = chat.complete("hello", "stop", {3, 2});
  EXPECT_EQ(full["object"], "chat.completion");
  EXPECT_EQ(full["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(full["choices"][0]["message"]["content"], "hello");
  EXPECT_EQ(full["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(full["usage"]["total_tokens"], 5);
  EXPECT_EQ(chat.first_chunk()["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(chat.chunk("x")["choices"][0]["delta"]["content"], "x");
  EXPECT_EQ(chat.final_chunk("length")["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(chat.usage_chunk({1, 1})["choices"].empty());

  CompletionFormatter text(false, "m", "cmpl-1");
  EXPECT_EQ(text.complete("t", "length", {1, 1})["object"], "text_completion");
  EXPECT_EQ(text.complete("t", "length", {1, 1})["choices"][0]["text"], "t");
  EXPECT_EQ(text.chunk("u")["choices"][0]["text"], "u");
  EXPECT_TRUE(text.chunk("u")["choices"][0]["finish_reason"].is_null());
}

}  // namespace
}  // namespace llmops::server
