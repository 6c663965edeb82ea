#include "schema.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace llmops::devcluster {
namespace {

using Json = nlohmann::json;

const Json kSchema = Json::parse(R"({
  "type": "object",
  "properties": {
    "spec": {
      "type": "object",
      "required": ["name"],
      "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
        "batch": {"type": "integer", "minimum": 0, "exclusiveMinimum": true,
                  "maximum": 8, "exclusiveMaximum": true},
        "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
        "ratio": {"type": "number", "format": "double"},
        "small": {"type": "integer", "format": "int32"},
        "big": {"type": "integer", "format": "int64"},
        "when": {"type": "string", "format": "date-time"},
        "every": {"type": "string", "format": "duration"},
        "args": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "quantity": {"x-kubernetes-int-or-string": true},
        "maybe": {"type": "string", "nullable": true},
        "never": {"type": "string"},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "flag": {"type": "boolean"},
        "step": {"type": "object", "minProperties": 1, "maxProperties": 1,
                 "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}},
        "even": {"type": "integer", "multipleOf": 2}
      }
    }
  }
})");

struct KeywordCase {
  std::string keyword;
  Json spec;  // merged over {"name": "ok"}
  std::string field;
  std::string reason;
};

TEST(SchemaValidation, OneViolationPerKeyword) {
  const std::vector<KeywordCase> cases = {
      {"type", {{"replicas", "x"}}, "spec.replicas", "FieldValueTypeInvalid"},
      {"type boolean", {{"flag", 1}}, "spec.flag", "FieldValueTypeInvalid"},
      {"required", {{"name", nullptr}}, "spec.name", "FieldValueRequired"},
      {"enum", {{"mode", "c"}}, "spec.mode", "FieldValueNotSupported"},
      {"minimum", {{"replicas", 0}}, "spec.replicas", "FieldValueInvalid"},
      {"maximum", {{"replicas", 11}}, "spec.replicas", "FieldValueInvalid"},
      {"exclusiveMinimum", {{"batch", 0}}, "spec.batch", "FieldValueInvalid"},
      {"exclusiveMaximum", {{"batch", 8}}, "spec.batch", "FieldValueInvalid"},
      {"minLength", {{"name", "a"}}, "spec.name", "FieldValueInvalid"},
      {"maxLength", {{"name", "abcdef"}}, "spec.name", "FieldValueTooLong"},
      {"pattern", {{"name", "AB"}}, "spec.name", "FieldValueInvalid"},
      {"items", {{"args", {1}}}, "spec.args[0]", "FieldValueTypeInvalid"},
      {"minItems", {{"args", Json::array()}}, "spec.args", "FieldValueInvalid"},
      {"maxItems", {{"args", {"a", "b", "c"}}}, "spec.args", "FieldValueTooMany"},
      {"additionalProperties", {{"labels", {{"k", 1}}}}, "spec.labels.k", "FieldValueTypeInvalid"},
      {"nullable (array item)", {{"args", {nullptr}}}, "spec.args[0]", "FieldValueTypeInvalid"},
      {"format int32", {{"small", 2147483648LL}}, "spec.small", "FieldValueInvalid"},
      {"format int64", {{"big", 1e19}}, "spec.big", "FieldValueInvalid"},
      {"format double", {{"ratio", "x"}}, "spec.ratio", "FieldValueTypeInvalid"},
      {"format date-time", {{"when", "2024-13"}}, "spec.when", "FieldValueInvalid"},
      {"format duration", {{"every", "5 minutes"}}, "spec.every", "FieldValueInvalid"},
      {"x-kubernetes-int-or-string", {{"quantity", 1.5}}, "spec.quantity", "FieldValueTypeInvalid"},
      {"minProperties", {{"step", Json::object()}}, "spec.step", "FieldValueInvalid"},
      {"maxProperties", {{"step", {{"a", 1}, {"b", 2}}}}, "spec.step", "FieldValueTooMany"},
      {"multipleOf", {{"even", 3}}, "spec.even", "FieldValueInvalid"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.keyword);
    Json object = {{"apiVersion", "x/v1"},
                   {"kind", "X"},
                   {"metadata", {{"name", "n"}}},
                   {"spec", {{"name", "ok"}}}};
    for (const auto& [key, value] : c.spec.items()) {
      if (value.is_null()) {
        object["spec"].erase(key);
      } else {
        object["spec"][key] = value;
      }
    }
    applyDefaults(kSchema, object);
    auto causes = validateAgainstSchema(kSchema, object);
    ASSERT_EQ(causes.size(), 1u) << object.dump();
    EXPECT_EQ(causes[0].field, c.field);
    EXPECT_EQ(causes[0].reason, c.reason);
    EXPECT_NE(causes[0].message.find(c.reason == "FieldValueRequired" ? "Required" : ""),
              std::string::npos);
  }
}

TEST(SchemaValidation, AcceptsValidValues) {
  Json object = Json::parse(R"({"apiVersion":"x/v1","kind":"X","metadata":{"name":"n"},
    "spec":{"name":"ok","replicas":3,"batch":4,"mode":"b","ratio":0.5,"small":7,"big":9000000000,
            "when":"2024-01-02T03:04:05.5+01:00","every":"1h30m","args":["a"],"labels":{"k":"v"},
            "quantity":"4Gi","maybe":null,"free":{"any":[1,{"x":2}]},"flag":true,"step":{"a":1},
            "even":4}})");
  applyDefaults(kSchema, object);
  EXPECT_TRUE(validateAgainstSchema(kSchema, object).empty());
  object["spec"]["quantity"] = 4;
  EXPECT_TRUE(validateAgainstSchema(kSchema, object).empty());
}

TEST(SchemaDefaulting, FillsAbsentAndDropsNonNullableNulls) {
  Json object = {{"spec", {{"name", "ok"}, {"never", nullptr}, {"maybe", nullptr}}}};
  applyDefaults(kSchema, object);
  EXPECT_EQ(object["spec"]["replicas"], 1);
  EXPECT_EQ(object["spec"]["mode"], "a");
  EXPECT_FALSE(object["spec"].contains("never"));
  EXPECT_TRUE(object["spec"].contains("maybe"));
}

TEST(SchemaPruning, RemovesUnknownFieldsAndReportsThem) {
  Json object = Json::parse(R"({"apiVersion":"x/v1","kind":"X","metadata":{"name":"n","extra":1},
    "spec":{"name":"ok","mystery":1,"free":{"kept":true},"labels":{"k":"v"}},"other":2})");
  auto pruned = pruneUnknownFields(kSchema, object);
  std::sort(pruned.begin(), pruned.end());
  EXPECT_EQ(pruned, (std::vector<std::string>{"other", "spec.mystery"}));
  EXPECT_FALSE(object.contains("other"));
  EXPECT_FALSE(object["spec"].contains("mystery"));
  EXPECT_TRUE(object["spec"]["free"]["kept"]);
  EXPECT_EQ(object["metadata"]["extra"], 1);
  EXPECT_EQ(object["spec"]["labels"]["k"], "v");
}

}  // namespace
}  // namespace llmops::devcluster
