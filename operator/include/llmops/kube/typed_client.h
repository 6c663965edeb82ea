// Typed access over KubeClient for a C++ type T that nlohmann::json converts to and from
// (to_json/from_json found by ADL). One resource per TypedClient; the wire format stays
// the API's JSON, so fields T does not know are lost on update: use patch() to change a
// few fields of an object whose schema T does not fully cover.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "llmops/kube/kube_client.h"

namespace llmops::kube {

template <class T>
class TypedClient {
 public:
  TypedClient(std::shared_ptr<KubeClient> client, GroupVersionResource gvr)
      : client_(std::move(client)), gvr_(std::move(gvr)) {}

  T get(const std::string& ns, const std::string& name) {
    return client_->get(gvr_, ns, name).template get<T>();
  }
  std::vector<T> list(const std::string& ns, const ListOptions& options = {}) {
    std::vector<T> out;
    for (const auto& item : client_->list_all(gvr_, ns, options)["items"]) {
      out.push_back(item.template get<T>());
    }
    return out;
  }
  T create(const std::string& ns, const T& object) {
    return client_->create(gvr_, ns, nlohmann::json(object)).template get<T>();
  }
  T update(const T& object) {
    return client_->update(gvr_, nlohmann::json(object)).template get<T>();
  }
  T update_status(const T& object) {
    return client_->update_status(gvr_, nlohmann::json(object)).template get<T>();
  }
  T patch(const std::string& ns, const std::string& name, PatchType type,
          const nlohmann::json& body, const PatchOptions& options = {}) {
    return client_->patch(gvr_, ns, name, type, body, options).template get<T>();
  }
  void remove(const std::string& ns, const std::string& name, const DeleteOptions& options = {}) {
    client_->remove(gvr_, ns, name, options);
  }

 private:
  std::shared_ptr<KubeClient> client_;
  GroupVersionResource gvr_;
};

}  // namespace llmops::kube
