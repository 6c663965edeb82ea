#include "llmops/kube/reflector.h"

#include <spdlog/spdlog.h>

#include <random>

#include "llmops/kube/api_error.h"
#include "llmops/kube/indexer.h"

namespace llmops::kube {

Reflector::Reflector(std::shared_ptr<KubeClient> client, GroupVersionResource gvr, std::string ns,
                     ReflectorSink& sink, ReflectorOptions options)
    : client_(std::move(client)),
      gvr_(std::move(gvr)),
      namespace_(std::move(ns)),
      sink_(sink),
      options_(std::move(options)),
      backoff_(options_.initial_backoff) {}

Reflector::~Reflector() {
  stop();
}

void Reflector::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { run(); });
}

void Reflector::stop() {
  {
    std::lock_guard lock(mutex_);
    running_ = false;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string Reflector::last_resource_version() const {
  std::lock_guard lock(mutex_);
  return resource_version_;
}

void Reflector::back_off() {
  std::unique_lock lock(mutex_);
  thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(1.0, 1.2);
  auto wait = std::chrono::milliseconds(static_cast<long>(backoff_.count() * jitter(random)));
  wake_.wait_for(lock, wait, [this] { return !running_.load(); });
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
}

void Reflector::list_and_replace() {
  ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.field_selector = options_.field_selector;
  list_options.limit = options_.page_size;
  nlohmann::json list = client_->list_all(gvr_, namespace_, list_options);
  std::string version = list["metadata"].value("resourceVersion", "");
  std::vector<nlohmann::json> items;
  items.reserve(list["items"].size());
  for (auto& item : list["items"]) items.push_back(std::move(item));
  spdlog::info("event=listed resource={} namespace={} items={} resource_version={}",
               gvr_.describe(), namespace_.empty() ? "*" : namespace_, items.size(), version);
  sink_.replace(std::move(items));
  {
    std::lock_guard lock(mutex_);
    resource_version_ = version;
  }
  synced_ = true;
}

void Reflector::watch_once() {
  thread_local std::mt19937 random{std::random_device{}()};
  ListOptions watch_options;
  watch_options.label_selector = options_.label_selector;
  watch_options.field_selector = options_.field_selector;
  watch_options.resource_version = last_resource_version();
  watch_options.allow_watch_bookmarks = true;
  long min_timeout = std::max<long>(1, options_.min_watch_timeout.count());
  watch_options.timeout_seconds = static_cast<int>(
      std::uniform_int_distribution<long>(min_timeout, 2 * min_timeout - 1)(random));
  auto started = std::chrono::steady_clock::now();
  int events = 0;
  client_->watch(
      gvr_, namespace_, watch_options,
      [this, &events](WatchEvent event) {
        ++events;
        std::string version = resource_version_of(event.object);
        if (event.type != "BOOKMARK") sink_.apply(std::move(event));
        if (!version.empty()) {
          std::lock_guard lock(mutex_);
          resource_version_ = version;
        }
        backoff_ = options_.initial_backoff;  // the connection works
      },
      [this] { return running_.load(); });
  // A watch that ends at once without events is a server in trouble: do not spin.
  if (running_ && events == 0 &&
      std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
    back_off();
  }
}

void Reflector::run() {
  bool need_list = true;
  while (running_) {
    try {
      if (need_list) {
        list_and_replace();
        need_list = false;
        backoff_ = options_.initial_backoff;
      }
      watch_once();
    } catch (const ExpiredError& error) {
      // Our resourceVersion is older than the server's watch history: only a relist
      // brings the cache back to a state the server can continue from.
      spdlog::info("event=watch_expired resource={} error=\"{}\"", gvr_.describe(), error.what());
      if (options_.on_watch_restart) options_.on_watch_restart("expired");
      need_list = true;
    } catch (const std::exception& error) {
      if (!running_) break;
      spdlog::warn("event=watch_error resource={} relist={} error=\"{}\" backoff_ms={}",
                   gvr_.describe(), need_list, error.what(), backoff_.count());
      if (options_.on_watch_restart) options_.on_watch_restart("error");
      back_off();
    }
  }
}

}  // namespace llmops::kube
