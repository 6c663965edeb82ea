// A reader of the Prometheus text exposition format (0.0.4), enough for the metrics the
// canary analysis consumes: samples with labels and values; comments, HELP and TYPE lines
// skipped. Throws std::invalid_argument naming the line number for a malformed line.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace llmops::reconcilers {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<PromSample> parse_prometheus_text(std::string_view text);

}  // namespace llmops::reconcilers
