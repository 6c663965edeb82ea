#include "table.h"

#include <gtest/gtest.h>

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

TEST(JsonPath, PrinterColumnSubset) {
  Json object = Json::parse(R"({"spec":{"replicas":3,"list":[{"n":1},{"n":2}]},
    "status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Degraded","status":"False"}]}})");
  EXPECT_EQ(evaluateJsonPath(object, ".spec.replicas"), std::vector<Json>{3});
  EXPECT_EQ(evaluateJsonPath(object, "{.spec.list[1].n}"), std::vector<Json>{2});
  EXPECT_EQ(evaluateJsonPath(object, ".spec.list[-1].n"), std::vector<Json>{2});
  EXPECT_EQ(evaluateJsonPath(object, ".spec.list[*].n"), (std::vector<Json>{1, 2}));
  EXPECT_EQ(evaluateJsonPath(object, R"(.status.conditions[?(@.type=="Ready")].status)"),
            std::vector<Json>{"True"});
  EXPECT_EQ(evaluateJsonPath(object, ".status.conditions[?(@.type=='Degraded')].status"),
            std::vector<Json>{"False"});
  EXPECT_TRUE(evaluateJsonPath(object, ".spec.missing").empty());
  EXPECT_TRUE(evaluateJsonPath(object, ".spec.list[9]").empty());
}

TEST(HumanDuration, MatchesKubernetes) {
  const std::vector<std::pair<int, std::string>> cases = {
      {0, "0s"},      {59, "59s"},      {119, "119s"},  {120, "2m"},      {125, "2m5s"},
      {600, "10m"},   {10799, "179m"},  {10800, "3h"},  {11100, "3h5m"},  {28800, "8h"},
      {172800, "2d"}, {180000, "2d2h"}, {691200, "8d"}, {63072000, "2y"}, {-5, "<invalid>"}};
  for (const auto& [seconds, text] : cases) {
    EXPECT_EQ(humanDuration(std::chrono::seconds(seconds)), text) << seconds;
  }
}

TEST(Table, PrinterColumnsOfACustomResource) {
  ResourceType type;
  type.group = "g";
  type.version = "v1";
  type.kind = "K";
  type.custom = true;
  type.printerColumns =
      Json::parse(R"([{"name":"Replicas","type":"integer","jsonPath":".spec.replicas"},
     {"name":"Phase","type":"string","jsonPath":".status.phase"},
     {"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}])");
  Json object = {{"metadata", {{"name", "a"}, {"creationTimestamp", "2024-01-01T00:00:00Z"}}},
                 {"spec", {{"replicas", 2}}}};
  TableOptions options;
  options.now = std::chrono::system_clock::from_time_t(1704067200 + 300);
  Json table = makeTable(type, {object}, {{"resourceVersion", "7"}}, options);
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["columnDefinitions"].size(), 4u);
  EXPECT_EQ(table["rows"][0]["cells"], Json::parse(R"(["a",2,null,"5m"])"));
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(table["metadata"]["resourceVersion"], "7");
}

}  // namespace
}  // namespace llmops::devcluster
