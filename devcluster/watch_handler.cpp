#include "watch_handler.h"

#include <atomic>

#include "resource_handlers.h"
#include "selectors.h"
#include "status.h"
#include "table.h"

namespace llmops::devcluster {

using Json = nlohmann::json;

namespace {

struct WatchStream {
  std::shared_ptr<http::ResponseWriter> writer;
  ResourceType type;
  std::string namespaceName;
  std::string name;
  LabelSelector labels;
  FieldSelector fields;
  bool table = false;
  bool bookmarks = false;
  uint64_t watchId = 0;
  std::atomic<bool> done{false};

  bool matches(const Json& object) const {
    if (!object.is_object()) return false;
    const auto& metadata = object["metadata"];
    if (!namespaceName.empty() && metadata.value("namespace", "") != namespaceName) return false;
    if (!name.empty() && metadata.value("name", "") != name) return false;
    return labels.matches(metadata.value("labels", Json::object())) && fields.matches(object);
  }

  void send(const std::string& eventType, const Json& object) {
    Json presented = ResourceHandlers::present(type, object);
    Json payload = presented;
    if (table) {
      payload = makeTable(type, {presented},
                          {{"resourceVersion", presented["metadata"].value("resourceVersion", "")}},
                          TableOptions{});
    }
    writer->writeChunk(Json{{"type", eventType}, {"object", payload}}.dump() + "\n");
  }

  void sendBookmark(uint64_t resourceVersion, bool initialEventsEnd) {
    Json metadata = {{"resourceVersion", std::to_string(resourceVersion)}};
    if (initialEventsEnd) metadata["annotations"] = {{"k8s.io/initial-events-end", "true"}};
    Json object = {{"kind", type.kind}, {"apiVersion", type.apiVersion()}, {"metadata", metadata}};
    writer->writeChunk(Json{{"type", "BOOKMARK"}, {"object", object}}.dump() + "\n");
  }

  void onEvent(const StoreEvent& event) {
    if (done) return;
    bool now = event.type != "DELETED" && matches(event.object);
    bool before = event.type == "DELETED" ? matches(event.object) : matches(event.previous);
    if (event.type == "ADDED" && now) send("ADDED", event.object);
    if (event.type == "MODIFIED") {
      if (now && before) send("MODIFIED", event.object);
      if (now && !before) send("ADDED", event.object);
      if (!now && before) send("DELETED", event.object);
    }
    if (event.type == "DELETED" && before) send("DELETED", event.object);
  }
};

std::string queryValue(const ApiRequest& request, const std::string& key) {
  auto it = request.info.query.find(key);
  return it == request.info.query.end() ? "" : it->second;
}

void scheduleBookmark(const std::shared_ptr<WatchStream>& stream, ObjectStore& store,
                      std::chrono::milliseconds interval) {
  std::weak_ptr<WatchStream> weak = stream;
  stream->writer->runAfter(interval, [weak, &store, interval] {
    auto stream = weak.lock();
    if (!stream || stream->done) return;
    {
      auto lock = store.lock();
      stream->sendBookmark(store.resourceVersion(), false);
    }
    scheduleBookmark(stream, store, interval);
  });
}

}  // namespace

void WatchHandler::start(const ApiRequest& request, std::shared_ptr<http::ResponseWriter> writer) {
  auto stream = std::make_shared<WatchStream>();
  stream->writer = writer;
  stream->type = request.type;
  stream->namespaceName = request.type.namespaced ? request.info.namespaceName : "";
  stream->name = request.info.name;
  stream->labels = LabelSelector::parse(queryValue(request, "labelSelector"));
  stream->fields = FieldSelector::parse(queryValue(request, "fieldSelector"));
  stream->table = request.wantsTable;
  stream->bookmarks = queryFlag(request.info.query, "allowWatchBookmarks");
  const bool initialEvents = queryFlag(request.info.query, "sendInitialEvents");
  int64_t timeoutSeconds = 1800;
  if (auto text = queryValue(request, "timeoutSeconds"); !text.empty()) {
    try {
      timeoutSeconds = std::stoll(text);
    } catch (const std::exception&) {
      throw badRequest("invalid timeoutSeconds " + text);
    }
    if (timeoutSeconds <= 0) timeoutSeconds = 1800;
  }
  const std::string resourceVersion = queryValue(request, "resourceVersion");
  uint64_t after = 0;
  bool replayCurrent = resourceVersion.empty() || resourceVersion == "0" || initialEvents;
  if (!replayCurrent) {
    try {
      size_t used = 0;
      after = std::stoull(resourceVersion, &used);
      if (used != resourceVersion.size()) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      throw badRequest("invalid resource version \"" + resourceVersion + "\"");
    }
  }

  writer->startStream(200, {{"Content-Type", "application/json"}, {"Cache-Control", "no-cache"}});
  auto lock = store_.lock();
  if (replayCurrent) {
    for (const auto& object : store_.list(request.type.storageKey(), stream->namespaceName)) {
      if (stream->matches(object)) stream->send("ADDED", object);
    }
    after = store_.resourceVersion();
    if (initialEvents && stream->bookmarks) stream->sendBookmark(after, true);
  }
  try {
    std::weak_ptr<WatchStream> weak = stream;
    stream->watchId =
        store_.watch(request.type.storageKey(), after, [weak](const StoreEvent& event) {
          if (auto locked = weak.lock()) locked->onEvent(event);
        });
  } catch (const ApiError& error) {
    writer->writeChunk(Json{{"type", "ERROR"}, {"object", error.toStatus()}}.dump() + "\n");
    writer->endStream();
    return;
  }
  ObjectStore& store = store_;
  auto finish = [stream, &store] {
    if (stream->done.exchange(true)) return;
    store.unwatch(stream->watchId);
  };
  writer->onClose(finish);
  writer->runAfter(std::chrono::seconds(timeoutSeconds), [finish, writer] {
    finish();
    writer->endStream();
  });
  if (stream->bookmarks) scheduleBookmark(stream, store_, bookmarkInterval_);
}

}  // namespace llmops::devcluster
