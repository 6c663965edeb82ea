// Each subcommand of llmops-runtime takes its arguments (after the command name) and
// returns the process exit code; usage mistakes throw UsageError.
#pragma once

#include <string>
#include <vector>

namespace llmops::cli {

int run_generate(const std::vector<std::string>& args);
int run_convert(const std::vector<std::string>& args);
int run_make_model(const std::vector<std::string>& args);
int run_serve(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);
int run_topology(const std::vector<std::string>& args);
int run_tokenize(const std::vector<std::string>& args);
int run_chat_template(const std::vector<std::string>& args);

}  // namespace llmops::cli
