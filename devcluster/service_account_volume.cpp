#include "service_account_volume.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "status.h"
#include "time_format.h"

namespace llmops::devcluster {

using Json = nlohmann::json;
using Clock = std::chrono::system_clock;

namespace {

// A relative path inside the volume, as the API validates it: no "..", not absolute.
std::string safeRelative(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find("..") != std::string::npos) {
    throw std::runtime_error("projected volume: invalid path \"" + path + "\"");
  }
  return path;
}

void writeAtomically(const std::string& dir, const std::string& relative,
                     const std::string& content, mode_t mode) {
  const std::filesystem::path target = std::filesystem::path(dir) / safeRelative(relative);
  std::filesystem::create_directories(target.parent_path());
  const std::string temporary = target.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) throw std::runtime_error("cannot write " + temporary);
  }
  ::chmod(temporary.c_str(), mode);
  std::filesystem::rename(temporary, target);
}

std::string fieldValue(const Json& pod, const std::string& field) {
  const Json& metadata = pod["metadata"];
  if (field == "metadata.namespace") return metadata.value("namespace", "");
  if (field == "metadata.name") return metadata.value("name", "");
  if (field == "metadata.uid") return metadata.value("uid", "");
  throw std::runtime_error("projected volume: downwardAPI field " + field +
                           " is not supported by the process kubelet");
}

}  // namespace

const Json* serviceAccountVolume(const Json& pod) {
  const Json& spec = pod["spec"];
  if (!spec.contains("volumes") || !spec["volumes"].is_array()) return nullptr;
  std::string volumeName;
  for (const char* list : {"initContainers", "containers"}) {
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (const auto& container : spec[list]) {
      if (!container.contains("volumeMounts") || !container["volumeMounts"].is_array()) continue;
      for (const auto& mount : container["volumeMounts"]) {
        if (mount.value("mountPath", "") == kServiceAccountMountPath) {
          volumeName = mount.value("name", "");
        }
      }
    }
  }
  if (volumeName.empty()) return nullptr;
  for (const auto& volume : spec["volumes"]) {
    if (volume.value("name", "") == volumeName && volume.contains("projected")) return &volume;
  }
  return nullptr;
}

Clock::time_point projectServiceAccountVolume(ApiClient& client, const Json& pod,
                                              const Json& volume, const std::string& dir,
                                              Clock::time_point now) {
  const Json& metadata = pod["metadata"];
  const std::string ns = metadata.value("namespace", "");
  const std::string name = metadata.value("name", "");
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0700);
  Clock::time_point refreshAt = now + std::chrono::hours(24);
  const Json& sources = volume["projected"].value("sources", Json::array());
  for (const auto& source : sources) {
    if (source.contains("serviceAccountToken")) {
      const Json& token = source["serviceAccountToken"];
      const std::string account = pod["spec"].value("serviceAccountName", "default");
      const int64_t seconds = token.value("expirationSeconds", int64_t{3600});
      Json request = {{"apiVersion", "authentication.k8s.io/v1"},
                      {"kind", "TokenRequest"},
                      {"spec",
                       {{"expirationSeconds", seconds},
                        {"boundObjectRef",
                         {{"apiVersion", "v1"},
                          {"kind", "Pod"},
                          {"name", name},
                          {"uid", metadata.value("uid", "")}}}}}};
      if (token.contains("audience") && token["audience"].is_string() &&
          !token["audience"].get<std::string>().empty()) {
        request["spec"]["audiences"] = Json::array({token["audience"]});
      }
      Json answer = client.create(
          "/api/v1/namespaces/" + ns + "/serviceaccounts/" + account + "/token", request);
      const Json status = answer.value("status", Json::object());
      const std::string value = status.value("token", "");
      if (value.empty()) throw std::runtime_error("TokenRequest answered without a token");
      writeAtomically(dir, token.value("path", "token"), value, 0600);
      auto expires = parseTimestamp(status.value("expirationTimestamp", ""));
      Clock::time_point expiry = expires ? *expires : now + std::chrono::seconds(seconds);
      auto lifetime = std::max<Clock::duration>(expiry - now, std::chrono::seconds(10));
      refreshAt = std::min(refreshAt, now + lifetime * 4 / 5);
    } else if (source.contains("configMap")) {
      const Json& ref = source["configMap"];
      const std::string mapName = ref.value("name", "");
      auto map = client.get("/api/v1/namespaces/" + ns + "/configmaps/" + mapName);
      if (!map) {
        if (ref.value("optional", false)) continue;
        throw std::runtime_error("configmap \"" + mapName + "\" not found");
      }
      const Json data = map->value("data", Json::object());
      if (ref.contains("items") && ref["items"].is_array()) {
        for (const auto& item : ref["items"]) {
          const std::string key = item.value("key", "");
          if (!data.contains(key)) {
            throw std::runtime_error("configmap \"" + mapName + "\" has no key " + key);
          }
          writeAtomically(dir, item.value("path", key), data[key].get<std::string>(), 0644);
        }
      } else {
        for (const auto& [key, value] : data.items()) {
          if (value.is_string()) writeAtomically(dir, key, value.get<std::string>(), 0644);
        }
      }
    } else if (source.contains("downwardAPI")) {
      for (const auto& item : source["downwardAPI"].value("items", Json::array())) {
        const std::string field =
            item.contains("fieldRef") ? item["fieldRef"].value("fieldPath", "") : "";
        writeAtomically(dir, item.value("path", ""), fieldValue(pod, field), 0644);
      }
    } else {
      throw std::runtime_error("projected volume " + volume.value("name", "") +
                               ": only serviceAccountToken, configMap and downwardAPI sources "
                               "are supported by the process kubelet");
    }
  }
  return refreshAt;
}

}  // namespace llmops::devcluster
