#include "llmops/reconcilers/canary_analysis.h"

#include <gtest/gtest.h>

namespace llmops::reconcilers {
namespace {

TEST(CanaryAnalysis, JudgesMaxAndMin) {
  AnalysisConfig config;
  config.metrics = {{kTokensPerSecond, std::nullopt, 10.0}, {kTtftP95, 0.5, std::nullopt}};
  Measurement m{TimePoint{}, {{kTokensPerSecond, 12.0}, {kTtftP95, 0.4}}};
  EXPECT_EQ(judge_sample(m, config).verdict, Verdict::kPass);
  m.values[kTokensPerSecond] = 8.0;
  const SampleJudgement slow = judge_sample(m, config);
  EXPECT_EQ(slow.verdict, Verdict::kFail);
  EXPECT_EQ(slow.metrics[0].verdict, Verdict::kFail);
  EXPECT_EQ(slow.metrics[1].verdict, Verdict::kPass);
  EXPECT_NE(slow.summary.find("tokens-per-second=8 (min 10) Fail"), std::string::npos)
      << slow.summary;
  m.values[kTokensPerSecond] = std::nullopt;
  m.values[kTtftP95] = 0.9;
  EXPECT_EQ(judge_sample(m, config).verdict, Verdict::kFail) << "a failure beats no data";
}

}  // namespace
}  // namespace llmops::reconcilers
