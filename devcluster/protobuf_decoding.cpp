#include "protobuf_decoding.h"

#include <map>

#include "llmops/common/base64.h"
#include "status.h"
#include "time_format.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

enum class FieldKind {
  String,
  Bytes,
  Int,
  Bool,
  Time,
  Message,
  StringMap,
  BytesMap,
  Strings,
  Messages
};

struct MessageSchema;
struct FieldSchema {
  std::string name;
  FieldKind kind;
  const MessageSchema* message = nullptr;
};
struct MessageSchema {
  std::map<uint32_t, FieldSchema> fields;
};

// Field numbers from k8s.io/api and k8s.io/apimachinery generated.proto.
const MessageSchema kOwnerReference = {{{1, {"kind", FieldKind::String}},
                                        {3, {"name", FieldKind::String}},
                                        {4, {"uid", FieldKind::String}},
                                        {5, {"apiVersion", FieldKind::String}},
                                        {6, {"controller", FieldKind::Bool}},
                                        {7, {"blockOwnerDeletion", FieldKind::Bool}}}};
const MessageSchema kObjectMeta = {
    {{1, {"name", FieldKind::String}},
     {2, {"generateName", FieldKind::String}},
     {3, {"namespace", FieldKind::String}},
     {5, {"uid", FieldKind::String}},
     {6, {"resourceVersion", FieldKind::String}},
     {7, {"generation", FieldKind::Int}},
     {8, {"creationTimestamp", FieldKind::Time}},
     {11, {"labels", FieldKind::StringMap}},
     {12, {"annotations", FieldKind::StringMap}},
     {13, {"ownerReferences", FieldKind::Messages, &kOwnerReference}},
     {14, {"finalizers", FieldKind::Strings}}}};
const MessageSchema kNamespaceSpec = {{{1, {"finalizers", FieldKind::Strings}}}};
const MessageSchema kNamespace = {{{1, {"metadata", FieldKind::Message, &kObjectMeta}},
                                   {2, {"spec", FieldKind::Message, &kNamespaceSpec}}}};
const MessageSchema kConfigMap = {{{1, {"metadata", FieldKind::Message, &kObjectMeta}},
                                   {2, {"data", FieldKind::StringMap}},
                                   {3, {"binaryData", FieldKind::BytesMap}},
                                   {4, {"immutable", FieldKind::Bool}}}};
const MessageSchema kSecret = {{{1, {"metadata", FieldKind::Message, &kObjectMeta}},
                                {2, {"data", FieldKind::BytesMap}},
                                {3, {"type", FieldKind::String}},
                                {4, {"stringData", FieldKind::StringMap}},
                                {5, {"immutable", FieldKind::Bool}}}};
const MessageSchema kObjectReference = {{{1, {"kind", FieldKind::String}},
                                         {2, {"namespace", FieldKind::String}},
                                         {3, {"name", FieldKind::String}}}};
const MessageSchema kServiceAccount = {
    {{1, {"metadata", FieldKind::Message, &kObjectMeta}},
     {2, {"secrets", FieldKind::Messages, &kObjectReference}},
     {3, {"imagePullSecrets", FieldKind::Messages, &kObjectReference}},
     {4, {"automountServiceAccountToken", FieldKind::Bool}}}};
const MessageSchema kTypeMeta = {
    {{1, {"apiVersion", FieldKind::String}}, {2, {"kind", FieldKind::String}}}};
const MessageSchema kUnknown = {{{1, {"typeMeta", FieldKind::Message, &kTypeMeta}},
                                 {2, {"raw", FieldKind::Bytes}},
                                 {3, {"contentEncoding", FieldKind::String}},
                                 {4, {"contentType", FieldKind::String}}}};

ApiError malformed(const std::string& why) {
  return badRequest("malformed protobuf body: " + why);
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return position_ >= data_.size(); }
  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (done()) throw malformed("truncated varint");
      auto byte = static_cast<uint8_t>(data_[position_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return value;
    }
    throw malformed("varint too long");
  }
  std::string_view bytes() {
    uint64_t length = varint();
    if (length > data_.size() - position_) throw malformed("length beyond the message");
    auto out = data_.substr(position_, length);
    position_ += length;
    return out;
  }
  void skip(uint32_t wireType) {
    if (wireType == 0) {
      varint();
    } else if (wireType == 2) {
      bytes();
    } else if (wireType == 1 || wireType == 5) {
      size_t width = wireType == 1 ? 8 : 4;
      if (data_.size() - position_ < width) throw malformed("truncated fixed field");
      position_ += width;
    } else {
      throw malformed("unsupported wire type " + std::to_string(wireType));
    }
  }

 private:
  std::string_view data_;
  size_t position_ = 0;
};

Json decodeMessage(std::string_view data, const MessageSchema& schema, int depth);

std::pair<std::string, std::string_view> decodeMapEntry(std::string_view data) {
  Reader reader(data);
  std::string key;
  std::string_view value;
  while (!reader.done()) {
    uint64_t tag = reader.varint();
    auto field = static_cast<uint32_t>(tag >> 3);
    auto wireType = static_cast<uint32_t>(tag & 7);
    if (wireType == 2 && field == 1) {
      key = std::string(reader.bytes());
    } else if (wireType == 2 && field == 2) {
      value = reader.bytes();
    } else {
      reader.skip(wireType);
    }
  }
  return {key, value};
}

Json decodeMessage(std::string_view data, const MessageSchema& schema, int depth) {
  if (depth > 8) throw malformed("nested too deeply");
  Json object = Json::object();
  Reader reader(data);
  while (!reader.done()) {
    uint64_t tag = reader.varint();
    auto number = static_cast<uint32_t>(tag >> 3);
    auto wireType = static_cast<uint32_t>(tag & 7);
    auto it = schema.fields.find(number);
    if (it == schema.fields.end()) {
      reader.skip(wireType);
      continue;
    }
    const FieldSchema& field = it->second;
    const bool lengthDelimited = field.kind != FieldKind::Int && field.kind != FieldKind::Bool;
    if ((wireType == 2) != lengthDelimited) throw malformed("wrong wire type for " + field.name);
    switch (field.kind) {
      case FieldKind::String: {
        // Go writes zero values of these optional fields; JSON clients omit them.
        auto text = reader.bytes();
        if (!text.empty()) object[field.name] = std::string(text);
        break;
      }
      case FieldKind::Bytes:
        object[field.name] = std::string(reader.bytes());  // raw payloads stay binary
        break;
      case FieldKind::Int:
        if (auto value = static_cast<int64_t>(reader.varint()); value != 0)
          object[field.name] = value;
        break;
      case FieldKind::Bool:
        if (reader.varint() != 0) object[field.name] = true;
        break;
      case FieldKind::Time: {
        Json time = decodeMessage(reader.bytes(), MessageSchema{{{1, {"seconds", FieldKind::Int}}}},
                                  depth + 1);
        if (time.value("seconds", 0) != 0) {
          object[field.name] =
              formatTimestamp(std::chrono::system_clock::from_time_t(time.value("seconds", 0)));
        }
        break;
      }
      case FieldKind::Message:
        object[field.name] = decodeMessage(reader.bytes(), *field.message, depth + 1);
        break;
      case FieldKind::Messages:
        object[field.name].push_back(decodeMessage(reader.bytes(), *field.message, depth + 1));
        break;
      case FieldKind::Strings:
        object[field.name].push_back(std::string(reader.bytes()));
        break;
      case FieldKind::StringMap: {
        auto [key, value] = decodeMapEntry(reader.bytes());
        object[field.name][key] = std::string(value);
        break;
      }
      case FieldKind::BytesMap: {
        auto [key, value] = decodeMapEntry(reader.bytes());
        object[field.name][key] = base64_encode(value);
        break;
      }
    }
  }
  return object;
}

}  // namespace

Json decodeKubernetesProtobuf(const std::string& body) {
  static const std::string kMagic("k8s\0", 4);
  if (body.compare(0, kMagic.size(), kMagic) != 0) throw malformed("missing the k8s envelope");
  Json unknown = decodeMessage(std::string_view(body).substr(kMagic.size()), kUnknown, 0);
  const std::string apiVersion = unknown.value("/typeMeta/apiVersion"_json_pointer, std::string());
  const std::string kind = unknown.value("/typeMeta/kind"_json_pointer, std::string());
  static const std::map<std::string, const MessageSchema*> kKinds = {
      {"Namespace", &kNamespace},
      {"ConfigMap", &kConfigMap},
      {"Secret", &kSecret},
      {"ServiceAccount", &kServiceAccount}};
  auto it = kKinds.find(kind);
  if (apiVersion != "v1" || it == kKinds.end()) {
    throw ApiError(415, "UnsupportedMediaType",
                   "the devcluster decodes protobuf only for v1 Namespace, ConfigMap, Secret and "
                   "ServiceAccount (got " +
                       apiVersion + " " + kind + "); send JSON or YAML");
  }
  Json object = decodeMessage(unknown.value("raw", std::string()), *it->second, 0);
  object["apiVersion"] = apiVersion;
  object["kind"] = kind;
  try {
    (void)object.dump();  // strings must be UTF-8 to become JSON
  } catch (const Json::type_error&) {
    throw malformed("a string field is not valid UTF-8");
  }
  return object;
}

}  // namespace llmops::devcluster
