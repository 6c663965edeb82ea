// The programs' one command-line parser: long options `--name value` and `--name=value`,
// switches (`--name`, `--name=true|false`), repeatable flags, and a --help text written
// from the declared flags. Unknown flags and bad values are UsageErrors naming the flag.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "llmops/common/usage_error.h"

namespace llmops {

class FlagSet {
 public:
  // `usage` is the synopsis line(s) printed before the flags, e.g. "usage: prog --x X".
  explicit FlagSet(std::string usage, std::string description = "");

  // Each declaration binds a variable; its value before parse() is the default shown.
  // `value_name` is the placeholder in the help text (PATH, HOST:PORT, N).
  FlagSet& text(const std::string& name, std::string* target, const std::string& help,
                const std::string& value_name = "VALUE");
  FlagSet& boolean(const std::string& name, bool* target, const std::string& help);
  // An integer in [min, max]; "--name wants an integer, got X" / "must be in".
  FlagSet& integer(const std::string& name, int* target, const std::string& help, int min, int max,
                   const std::string& value_name = "N");
  // Every occurrence appends.
  FlagSet& repeated(const std::string& name, std::vector<std::string>* target,
                    const std::string& help, const std::string& value_name = "VALUE");
  // The value goes to `apply`, which may throw UsageError (or std::invalid_argument, which
  // becomes one prefixed by the flag).
  FlagSet& custom(const std::string& name, std::function<void(const std::string&)> apply,
                  const std::string& help, const std::string& value_name = "VALUE",
                  const std::string& default_text = "");

  // Parses `args` (without the program name). --help and -h set help_requested() and stop
  // nothing: the caller prints help() and exits 0. Non-flag arguments are returned in
  // order. Throws UsageError on an unknown flag, a missing or bad value.
  std::vector<std::string> parse(const std::vector<std::string>& args);

  // For a main without positional arguments: parses argv[1..]; after --help prints help()
  // on stdout and exits 0; on a mistake calls exit_with_usage.
  void parse_or_exit(int argc, char** argv);
  // Prints "error: <error>" and help() on stderr and exits 2.
  [[noreturn]] void exit_with_usage(const std::string& error) const;

  bool help_requested() const { return help_requested_; }
  // True when the flag appeared at least once.
  bool seen(const std::string& name) const { return seen_.count(name) != 0; }
  // The usage, the description, and one entry per flag in declaration order.
  std::string help() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string value_name;  // "" for a switch
    std::string default_text;
    std::function<void(const std::string&)> apply;
  };
  FlagSet& add(Flag flag);

  std::string usage_;
  std::string description_;
  std::vector<Flag> flags_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, int> seen_;
  bool help_requested_ = false;
};

}  // namespace llmops
