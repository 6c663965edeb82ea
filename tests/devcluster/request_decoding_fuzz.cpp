// libFuzzer target for everything the devcluster decodes from a request before any
// handler logic: URL and query parsing, selectors, JSON/YAML bodies, the three patch
// formats, Kubernetes protobuf envelopes, server-side apply and structural-schema
// pruning/defaulting/validation. Only ApiError (a clean 4xx) may escape a decoder; anything else is
// a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "body_decoding.h"
#include "patch.h"
#include "request_info.h"
#include "schema.h"
#include "selectors.h"
#include "server_side_apply.h"
#include "status.h"

namespace {

using llmops::devcluster::ApiError;
using Json = nlohmann::json;

const Json& testSchema() {
  static const Json schema = Json::parse(R"({"type":"object","properties":{"spec":{"type":"object",
    "required":["name"],"properties":{"name":{"type":"string","pattern":"^[a-z]+$","maxLength":8},
    "replicas":{"type":"integer","minimum":0,"default":1,"format":"int32"},
    "every":{"type":"string","format":"duration"},"when":{"type":"string","format":"date-time"},
    "args":{"type":"array","maxItems":3,"items":{"type":"string"}},
    "labels":{"type":"object","additionalProperties":{"type":"string"}},
    "q":{"x-kubernetes-int-or-string":true},"free":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
    "n":{"type":"string","nullable":true,"enum":["a","b"]}}}}})");
  return schema;
}

template <class F>
void guarded(F&& f) {
  try {
    f();
  } catch (const ApiError& error) {
    if (error.code() < 400 || error.code() >= 500) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0] % 9;
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  // Two-part inputs: "first\0second".
  auto split = input.find('\0');
  std::string first = input.substr(0, split);
  std::string second = split == std::string::npos ? "{}" : input.substr(split + 1);
  switch (mode) {
    case 0:
      guarded([&] { llmops::devcluster::parseRequestInfo("GET", input); });
      guarded([&] { llmops::devcluster::parseRequestInfo("DELETE", input); });
      break;
    case 1:
      guarded([&] { llmops::devcluster::LabelSelector::parse(input).matches(Json{{"a", "b"}}); });
      guarded([&] {
        llmops::devcluster::FieldSelector::parse(input).matches(
            Json{{"metadata", {{"name", "x"}}}});
      });
      break;
    case 2:
      guarded([&] { llmops::devcluster::decodeBody(input, "application/json"); });
      break;
    case 3:
      guarded([&] { llmops::devcluster::decodeBody(input, "application/yaml"); });
      break;
    case 4:
    case 5:
    case 6:
      guarded([&] {
        Json target = llmops::devcluster::decodeBody(first, "application/json");
        Json patch = llmops::devcluster::decodeBody(second, "application/json");
        if (mode == 4) llmops::devcluster::applyMergePatch(target, patch);
        if (mode == 5) llmops::devcluster::applyJsonPatch(target, patch);
        if (mode == 6) {
          if (target.is_object()) llmops::devcluster::applyStrategicMergePatch(target, patch);
          if (patch.is_object() && target.is_object() && target.contains("metadata") &&
              target["metadata"].is_object()) {
            llmops::devcluster::serverSideApply(target, patch, "fuzz", "v1", false, "", "things");
          }
        }
      });
      break;
    case 7:
      guarded([&] {
        Json object = llmops::devcluster::decodeBody(input, "application/json");
        if (!object.is_object()) return;
        llmops::devcluster::pruneUnknownFields(testSchema(), object);
        llmops::devcluster::applyDefaults(testSchema(), object);
        llmops::devcluster::validateAgainstSchema(testSchema(), object);
      });
      break;
    case 8:
      guarded(
          [&] { llmops::devcluster::decodeBody(input, "application/vnd.kubernetes.protobuf"); });
      break;
  }
  return 0;
}
