#include "body_decoding.h"

#include <gtest/gtest.h>

#include "status.h"

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

TEST(BodyDecoding, JsonAndYaml) {
  EXPECT_EQ(decodeBody(R"({"a":[1,2]})", "application/json"), Json::parse(R"({"a":[1,2]})"));
  EXPECT_EQ(
      decodeBody("a: 1\nb: '2'\nc: true\nd: ~\ne: 1.5\nf: hello\ng: [x, 3]\n", "application/yaml"),
      Json::parse(R"({"a":1,"b":"2","c":true,"d":null,"e":1.5,"f":"hello","g":["x",3]})"));
  // apply-patch+yaml bodies are usually JSON.
  EXPECT_EQ(decodeBody(R"({"a":1})", "application/apply-patch+yaml"), Json::parse(R"({"a":1})"));
}

TEST(BodyDecoding, MalformedBodiesAre400) {
  for (const auto& [body, type] : std::vector<std::pair<std::string, std::string>>{
           {"{bad", "application/json"},
           {"", "application/json"},
           {"a: [b\n  c: {", "application/yaml"},
           {std::string(300, '[') + std::string(300, ']'), "application/json"},
           {"\x0a\x08k8s\x00", "application/vnd.kubernetes.protobuf"},
           {std::string("k8s\0\x0a\x05\x0a\x02v1", 10), "application/vnd.kubernetes.protobuf"},
           {std::string("k8s\0\x0a\x0a\x0a\x02v1\x12\x04", 11),
            "application/vnd.kubernetes.protobuf"}}) {
    try {
      decodeBody(body, type);
      ADD_FAILURE() << "accepted: " << body.substr(0, 20);
    } catch (const ApiError& error) {
      EXPECT_TRUE(error.code() == 400 || error.code() == 415) << error.code();
    }
  }
}

// "Billion laughs": each level repeats the previous one ten times through aliases, so a
// few hundred bytes expand to gigabytes. The expansion is bounded (the real apiserver
// refuses excessive aliasing) and answered 413 before memory grows.
TEST(BodyDecoding, YamlAliasExpansionIsBounded) {
  std::string laughs =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  std::string previous = "a";
  for (char level = 'b'; level <= 'i'; ++level) {
    std::string name(1, level);
    laughs += name + ": &" + name + " [";
    for (int i = 0; i < 9; ++i) laughs += (i ? ",*" : "*") + previous;
    laughs += "]\n";
    previous = name;
  }
  ASSERT_LT(laughs.size(), 600u);
  try {
    decodeBody(laughs, "application/yaml");
    ADD_FAILURE() << "a billion laughs were accepted";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.code(), 413) << error.what();
  }
  // Sharing an anchor a few times stays fine.
  EXPECT_EQ(decodeBody("a: &x {k: v}\nb: *x\n", "application/yaml"),
            Json::parse(R"({"a":{"k":"v"},"b":{"k":"v"}})"));
  // A long string repeated through aliases counts by its size, not once.
  std::string wide = "s: &s " + std::string(100000, 'x') + "\nl: [";
  for (int i = 0; i < 60; ++i) wide += (i ? ",*s" : "*s");
  wide += "]\n";
  EXPECT_THROW(decodeBody(wide, "application/yaml"), ApiError);
}

TEST(BodyDecoding, KubernetesProtobufEnvelope) {
  // What `kubectl create namespace team` sends.
  const std::string body("k8s\0\x0a\x0f\x0a\x02v1\x12\x09Namespace\x12\x08\x0a\x06\x0a\x04team",
                         31);
  EXPECT_EQ(decodeBody(body, "application/vnd.kubernetes.protobuf"),
            Json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}})"));
  const std::string pod("k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod\x12\x00", 17);
  try {
    decodeBody(pod, "application/vnd.kubernetes.protobuf");
    ADD_FAILURE() << "decoded a Pod";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.code(), 415);
  }
}

}  // namespace
}  // namespace llmops::devcluster
