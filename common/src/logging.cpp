#include "llmops/common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace llmops {

void setup_logging(const std::string& level, const std::string& name) {
  auto logger = spdlog::stderr_logger_mt(name);
  logger->set_pattern("time=%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);  // tests and log shippers read it live
  spdlog::set_default_logger(logger);
}

}  // namespace llmops
