#include "llmops/kube/controller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "llmops/kube/metrics.h"

namespace llmops::kube {
namespace {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 2000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return condition();
}

TEST(Controller, ResultsDecideWhatHappensNext) {
  std::mutex mutex;
  std::map<std::string, int> calls;
  OperatorMetrics metrics;
  ControllerOptions options;
  options.name = "test";
  options.workers = 3;
  options.metrics = &metrics;
  Controller controller(options, [&](const std::string& key) -> Result {
    int n;
    {
      std::lock_guard lock(mutex);
      n = ++calls[key];
    }
    if (key == "done") return Result::done();
    if (key == "requeue") return n < 3 ? Result::requeue_after(5ms) : Result::done();
    if (key == "flaky") {
      if (n < 4) return Result::error("not yet");
      return Result::done();
    }
    if (key == "throws") {
      if (n < 2) throw std::runtime_error("boom");
      return Result::done();
    }
    if (key == "terminal") throw TerminalError("bad spec");
    return Result::terminal_error("unknown key");
  });
  controller.start();
  for (const char* key : {"done", "requeue", "flaky", "throws", "terminal", "other"}) {
    controller.queue().add(key);
  }
  auto count = [&](const std::string& key) {
    std::lock_guard lock(mutex);
    return calls[key];
  };
  EXPECT_TRUE(eventually([&] { return count("requeue") == 3; }));
  EXPECT_TRUE(eventually([&] { return count("flaky") == 4; }));  // 5+10+20 ms of backoff
  EXPECT_TRUE(eventually([&] { return count("throws") == 2; }));
  std::this_thread::sleep_for(50ms);
  controller.stop();
  EXPECT_EQ(count("done"), 1);
  EXPECT_EQ(count("terminal"), 1) << "never retried";
  EXPECT_EQ(count("other"), 1);
  EXPECT_EQ(count("requeue"), 3);
  EXPECT_EQ(controller.queue().num_requeues("flaky"), 0) << "success forgets the backoff";
  std::string text = metrics.render();
  EXPECT_NE(text.find(R"(llmops_reconcile_total{controller="test",result="terminal_error"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(llmops_reconcile_total{controller="test",result="error"} 4)"),
            std::string::npos);
}

TEST(Controller, StopLetsTheCurrentReconcileFinish) {
  std::atomic<bool> finished{false};
  std::atomic<bool> started{false};
  Controller controller({}, [&](const std::string&) {
    started = true;
    std::this_thread::sleep_for(50ms);
    finished = true;
    return Result::done();
  });
  controller.start();
  controller.queue().add("k");
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  controller.stop();
  EXPECT_TRUE(finished.load());
}

}  // namespace
}  // namespace llmops::kube
