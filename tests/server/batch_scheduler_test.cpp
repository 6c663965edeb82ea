// The scheduler against a real (random-weight) model: batched sequences give exactly
// their sequential results, cancellation frees the KV cache, admission is bounded.
#include "server/batch_scheduler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "engine/generate.h"
#include "engine/model.h"
#include "engine/model_tokenizer.h"
#include "engine/model_writer.h"

namespace llmops::server {
namespace {

class Collector : public SequenceObserver {
 public:
  void on_text(std::string_view text) override {
    std::lock_guard lock(mutex_);
    text_ += text;
    ++chunks_;
    changed_.notify_all();
  }
  void on_finish(const SequenceResult& result) override {
    std::lock_guard lock(mutex_);
    result_ = result;
    ++finishes_;
    changed_.notify_all();
  }
  SequenceResult wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return finishes_ > 0; });
    return result_;
  }
  void wait_for_chunks(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return chunks_ >= n || finishes_ > 0; });
  }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }
  int finishes() {
    std::lock_guard lock(mutex_);
    return finishes_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;
  int chunks_ = 0;
  int finishes_ = 0;
  SequenceResult result_;
};

class BatchSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("llmops-scheduler-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    engine::MakeModelOptions options;
    options.dim = 64;
    options.hidden_dim = 128;
    options.n_layers = 2;
    options.n_heads = 4;
    options.n_kv_heads = 2;
    options.context_length = 96;
    options.type = engine::TensorType::Q8_0;
    options.out = (dir_ / "m.gguf").string();
    engine::make_model(options);
    model_ = std::make_unique<engine::Model>(engine::load_model(options.out));
    tokenizer_ = std::make_unique<engine::Tokenizer>(engine::load_tokenizer_for(*model_, ""));
    transformer_ = std::make_unique<engine::Transformer>(*model_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  engine::GenerationOptions greedy(int max_tokens) {
    engine::GenerationOptions o;
    o.max_tokens = max_tokens;
    o.sampling.temperature = 0.0f;
    return o;
  }

  std::filesystem::path dir_;
  std::unique_ptr<engine::Model> model_;
  std::unique_ptr<engine::Tokenizer> tokenizer_;
  std::unique_ptr<engine::Transformer> transformer_;
};

TEST_F(BatchSchedulerTest, BatchedResultsEqualSequentialOnes) {
  const std::vector<std::string> prompts = {
      "a", "hello there", "", "zz top", "12345678", "the quick brown fox jumps over the lazy dog",
      "x", "seventh"};
  std::vector<std::string> expected;
  for (const auto& p : prompts) {
    engine::Transformer alone(*model_);
    expected.push_back(engine::generate(alone, *tokenizer_, p, greedy(30)).text);
  }
  BatchScheduler scheduler(*transformer_, *tokenizer_, {.max_batch = 8, .prefill_budget = 5});
  std::vector<std::shared_ptr<Collector>> collectors;
  for (const auto& p : prompts) {
    collectors.push_back(std::make_shared<Collector>());
    ASSERT_EQ(scheduler.submit(tokenizer_->encode(p, true), greedy(30), collectors.back(),
                               std::make_shared<SequenceHandle>()),
              BatchScheduler::Admission::Accepted);
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    const SequenceResult r = collectors[i]->wait();
    EXPECT_EQ(collectors[i]->text(), expected[i]) << "prompt '" << prompts[i] << "'";
    EXPECT_EQ(r.completion_tokens, 30);
    EXPECT_FALSE(r.cancelled);
    EXPECT_TRUE(r.error.empty());
  }
  EXPECT_EQ(scheduler.stats().running, 0);
  EXPECT_EQ(scheduler.stats().kv_cache_usage_ratio, 0.0);
}

TEST_F(BatchSchedulerTest, CancellationFreesTheCacheAndFinishesOnce) {
  BatchScheduler scheduler(*transformer_, *tokenizer_, {.max_batch = 2});
  auto collector = std::make_shared<Collector>();
  auto handle = std::make_shared<SequenceHandle>();
  ASSERT_EQ(scheduler.submit(tokenizer_->encode("long", true), greedy(1000), collector, handle),
            BatchScheduler::Admission::Accepted);
  collector->wait_for_chunks(2);
  EXPECT_GT(scheduler.stats().kv_cache_usage_ratio, 0.0);
  handle->cancel();
  const SequenceResult r = collector->wait();
  EXPECT_TRUE(r.cancelled);
  for (int i = 0; i < 200 && scheduler.stats().running > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(scheduler.stats().running, 0);
  EXPECT_EQ(scheduler.stats().kv_cache_usage_ratio, 0.0);
  EXPECT_EQ(collector->finishes(), 1);
}

TEST_F(BatchSchedulerTest, BoundedQueueRefusesAndStopCancelsTheRest) {
  BatchScheduler scheduler(*transformer_, *tokenizer_, {.max_batch = 1, .max_queue = 2});
  std::vector<std::shared_ptr<Collector>> accepted;
  int refused = 0;
  for (int i = 0; i < 8; ++i) {
    auto c = std::make_shared<Collector>();
    const auto admission = scheduler.submit(tokenizer_->encode("q", true), greedy(1000), c,
                                            std::make_shared<SequenceHandle>());
    if (admission == BatchScheduler::Admission::Accepted) {
      accepted.push_back(c);
    } else {
      EXPECT_EQ(admission, BatchScheduler::Admission::QueueFull);
      ++refused;
    }
  }
  EXPECT_GE(refused, 5);  // one running (perhaps not yet admitted) + two queued
  EXPECT_LE(accepted.size(), 3u);
  scheduler.stop();
  for (auto& c : accepted) {
    EXPECT_TRUE(c->wait().cancelled || c->wait().completion_tokens > 0);
    EXPECT_EQ(c->finishes(), 1);
  }
  EXPECT_EQ(scheduler.submit(tokenizer_->encode("q", true), greedy(1),
                             std::make_shared<Collector>(), std::make_shared<SequenceHandle>()),
            BatchScheduler::Admission::Stopped);
}

TEST_F(BatchSchedulerTest, InvalidOptionsFinishWithAnError) {
  BatchScheduler scheduler(*transformer_, *tokenizer_, {});
  auto c = std::make_shared<Collector>();
  engine::GenerationOptions bad = greedy(5);
  bad.sampling.top_p = 7.0f;
  ASSERT_EQ(
      scheduler.submit(tokenizer_->encode("q", true), bad, c, std::make_shared<SequenceHandle>()),
      BatchScheduler::Admission::Accepted);
  EXPECT_NE(c->wait().error.find("top_p"), std::string::npos);
}

}  // namespace
}  // namespace llmops::server
