#include "llmops/reconcilers/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>

namespace llmops::reconcilers {
namespace {

TEST(PrometheusText, ReadsSamplesLabelsAndSpecialValues) {
  const auto samples = parse_prometheus_text(
      "# HELP llmops_runtime_requests_total HTTP requests\n"
      "# TYPE llmops_runtime_requests_total counter\n"
      "llmops_runtime_requests_total{code=\"200\",model=\"story\"} 12\n"
      "llmops_runtime_requests_total{model=\"a \\\"quoted\\\" \\\\ name\\n\", code=\"500\"} 3 "
      "1700000000000\n"
      "\n"
      "x_bucket{le=\"+Inf\"} +Inf\r\n"
      "plain 1.5e3\n"
      "nan_value NaN\n"
      "empty_labels{} -2");
  ASSERT_EQ(samples.size(), 6u);
  EXPECT_EQ(samples[0].name, "llmops_runtime_requests_total");
  EXPECT_EQ(samples[0].labels.at("code"), "200");
  EXPECT_EQ(samples[0].value, 12);
  EXPECT_EQ(samples[1].labels.at("model"), "a \"quoted\" \\ name\n");
  EXPECT_EQ(samples[1].value, 3);
  EXPECT_TRUE(std::isinf(samples[2].value));
  EXPECT_EQ(samples[3].value, 1500);
  EXPECT_TRUE(std::isnan(samples[4].value));
  EXPECT_EQ(samples[5].value, -2);
  EXPECT_TRUE(samples[5].labels.empty());
}

TEST(PrometheusText, MalformedLinesNameTheLine) {
  for (const char* text : {"m{a=\"1\" 2", "m{a=1} 2", "m 12abc", "m", "m 1 2 3", "{a=\"b\"} 1",
                           "m{a=\"unterminated} 1"}) {
    SCOPED_TRACE(text);
    try {
      parse_prometheus_text(std::string("ok 1\n") + text);
      FAIL() << "accepted";
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find("line 2"), std::string::npos) << error.what();
    }
  }
}

}  // namespace
}  // namespace llmops::reconcilers
