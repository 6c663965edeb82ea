#include "pod_logs.h"

#include <fstream>
#include <sstream>

#include "status.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

std::string readFrom(const std::string& path, std::streamoff offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(offset);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string lastLines(const std::string& text, int64_t lines) {
  if (lines < 0) return text;
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  size_t start = end;
  int64_t found = 0;
  while (start > 0) {
    if (text[start - 1] == '\n' && ++found == lines) break;
    --start;
  }
  if (lines == 0) return "";
  return text.substr(start);
}

struct Follower : std::enable_shared_from_this<Follower> {
  PodLookup lookup;
  Kubelet& kubelet;
  Json pod;
  std::string container;
  std::string path;
  std::streamoff offset = 0;
  std::shared_ptr<http::ResponseWriter> writer;

  Follower(PodLookup l, Kubelet& k) : lookup(std::move(l)), kubelet(k) {}

  void poll() {
    if (writer->closed()) return;
    std::string data = readFrom(path, offset);
    offset += static_cast<std::streamoff>(data.size());
    if (!data.empty()) writer->writeChunk(std::move(data));
    bool running = false;
    std::optional<Json> current;
    try {
      current = lookup(pod["metadata"].value("namespace", ""), pod["metadata"].value("name", ""));
    } catch (const std::exception&) {
      current = pod;  // the API server is unreachable: the file still tells what runs
    }
    if (current && (*current)["metadata"].value("uid", "") == pod["metadata"].value("uid", "")) {
      try {
        LogLocation location = kubelet.logOf(*current, container, false);
        running = location.running && location.path == path;
      } catch (const ApiError&) {
      }
    }
    if (!running) {
      std::string rest = readFrom(path, offset);
      if (!rest.empty()) writer->writeChunk(std::move(rest));
      writer->endStream();
      return;
    }
    auto self = shared_from_this();
    writer->runAfter(std::chrono::milliseconds(250), [self] { self->poll(); });
  }
};

}  // namespace

void servePodLog(ObjectStore& store, Kubelet& kubelet, const ApiRequest& request,
                 std::shared_ptr<http::ResponseWriter> writer) {
  const auto& info = request.info;
  auto pod = store.get("/pods", info.namespaceName, info.name);
  if (!pod) throw notFound("", "pods", info.name);
  PodLookup lookup = [&store](const std::string& ns, const std::string& name) {
    return store.get("/pods", ns, name);
  };
  serveContainerLog(std::move(lookup), kubelet, *pod, info.query, std::move(writer));
}

void serveContainerLog(PodLookup lookup, Kubelet& kubelet, const Json& pod,
                       const QueryParams& params, std::shared_ptr<http::ResponseWriter> writer) {
  auto query = [&](const char* key) {
    auto it = params.find(key);
    return it == params.end() ? std::string() : it->second;
  };
  const bool previous = queryFlag(params, "previous");
  const bool follow = queryFlag(params, "follow");
  int64_t tail = -1;
  if (auto text = query("tailLines"); !text.empty()) {
    try {
      tail = std::stoll(text);
    } catch (const std::exception&) {
      throw badRequest("invalid tailLines " + text);
    }
  }
  LogLocation location = kubelet.logOf(pod, query("container"), previous);
  std::string content = readFrom(location.path, 0);
  const auto size = static_cast<std::streamoff>(content.size());
  content = lastLines(content, tail);
  if (!follow || !location.running) {
    writer->send({200, {{"Content-Type", "text/plain"}}, std::move(content)});
    return;
  }
  writer->startStream(200, {{"Content-Type", "text/plain"}});
  if (!content.empty()) writer->writeChunk(std::move(content));
  auto follower = std::make_shared<Follower>(std::move(lookup), kubelet);
  follower->pod = pod;
  follower->container = query("container");
  follower->path = location.path;
  follower->offset = size;
  follower->writer = writer;
  writer->runAfter(std::chrono::milliseconds(250), [follower] { follower->poll(); });
}

}  // namespace llmops::devcluster
