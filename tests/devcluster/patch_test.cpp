#include "patch.h"

#include <gtest/gtest.h>

#include "status.h"

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

TEST(MergePatch, Rfc7386Examples) {
  // Cases from RFC 7386 appendix A.
  const std::vector<std::tuple<Json, Json, Json>> cases = {
      {{{"a", "b"}}, {{"a", "c"}}, {{"a", "c"}}},
      {{{"a", "b"}}, {{"b", "c"}}, {{"a", "b"}, {"b", "c"}}},
      {{{"a", "b"}}, {{"a", nullptr}}, Json::object()},
      {{{"a", {"b"}}}, {{"a", "c"}}, {{"a", "c"}}},
      {{{"a", {{"b", "c"}}}}, {{"a", {{"b", "d"}, {"c", nullptr}}}}, {{"a", {{"b", "d"}}}}},
      {{{"e", nullptr}}, {{"a", 1}}, {{"e", nullptr}, {"a", 1}}},
  };
  for (const auto& [target, patch, expected] : cases) {
    EXPECT_EQ(applyMergePatch(target, patch), expected) << patch.dump();
  }
  EXPECT_THROW(applyMergePatch(Json::object(), Json::array()), ApiError);
}

TEST(JsonPatch, Rfc6902Operations) {
  Json doc = {{"spec", {{"replicas", 1}, {"args", {"a"}}}}};
  Json patched = applyJsonPatch(doc, Json::parse(R"([
    {"op":"replace","path":"/spec/replicas","value":3},
    {"op":"add","path":"/spec/args/-","value":"b"},
    {"op":"copy","from":"/spec/replicas","path":"/spec/copy"},
    {"op":"move","from":"/spec/copy","path":"/spec/moved"},
    {"op":"test","path":"/spec/moved","value":3},
    {"op":"remove","path":"/spec/args/0"}])"));
  EXPECT_EQ(patched, Json::parse(R"({"spec":{"replicas":3,"args":["b"],"moved":3}})"));
}

TEST(JsonPatch, FailuresAreStatusErrors) {
  Json doc = {{"a", 1}};
  auto code = [&](const std::string& patch) {
    try {
      applyJsonPatch(doc, Json::parse(patch));
    } catch (const ApiError& error) {
      return error.code();
    }
    return 0;
  };
  EXPECT_EQ(code(R"({"op":"add"})"), 400);
  EXPECT_EQ(code(R"([{"path":"/a"}])"), 400);
  EXPECT_EQ(code(R"([{"op":"test","path":"/a","value":2}])"), 422);
  EXPECT_EQ(code(R"([{"op":"remove","path":"/missing"}])"), 422);
  EXPECT_EQ(code(R"([{"op":"frobnicate","path":"/a"}])"), 422);
}

TEST(StrategicMergePatch, MergesListsByKey) {
  Json pod = Json::parse(R"({"metadata":{"finalizers":["a"]},"spec":{"containers":[
      {"name":"c1","image":"i:1","env":[{"name":"A","value":"1"}]},{"name":"c2","image":"j:1"}],
      "tolerations":[{"key":"x"}]}})");
  Json patch = Json::parse(R"({"metadata":{"finalizers":["b"]},"spec":{
      "$setElementOrder/containers":[{"name":"c1"},{"name":"c2"}],
      "containers":[{"name":"c1","image":"i:2","env":[{"name":"B","value":"2"}]},
                    {"name":"c2","$patch":"delete"},{"name":"c3","image":"k"}],
      "tolerations":[{"key":"y"}]}})");
  Json expected = Json::parse(R"({"metadata":{"finalizers":["a","b"]},"spec":{"containers":[
      {"name":"c1","image":"i:2","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
      {"name":"c3","image":"k"}],"tolerations":[{"key":"y"}]}})");
  EXPECT_EQ(applyStrategicMergePatch(pod, patch), expected);
}

TEST(StrategicMergePatch, DirectivesAndServicePorts) {
  Json service =
      Json::parse(R"({"spec":{"ports":[{"port":80,"name":"http"}],"selector":{"a":"b"}}})");
  Json patched = applyStrategicMergePatch(
      service, Json::parse(R"({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}],
                                       "selector":{"$patch":"replace","c":"d"}}})"));
  EXPECT_EQ(patched, Json::parse(R"({"spec":{"ports":[{"port":80,"name":"http","targetPort":8080},
                                   {"port":443}],"selector":{"c":"d"}}})"));
  Json list = applyStrategicMergePatch(
      Json::parse(R"({"metadata":{"finalizers":["a","b"]}})"),
      Json::parse(R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})"));
  EXPECT_EQ(list, Json::parse(R"({"metadata":{"finalizers":["b"]}})"));
}

}  // namespace
}  // namespace llmops::devcluster
