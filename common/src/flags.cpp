#include "llmops/common/flags.h"

#include <cstdlib>
#include <iostream>
#include <stdexcept>

namespace llmops {

FlagSet::FlagSet(std::string usage, std::string description)
    : usage_(std::move(usage)), description_(std::move(description)) {}

FlagSet& FlagSet::add(Flag flag) {
  if (flag.name.size() < 3 || flag.name.rfind("--", 0) != 0 || index_.count(flag.name) != 0) {
    throw std::logic_error("flag declared twice or without --: " + flag.name);
  }
  index_[flag.name] = flags_.size();
  flags_.push_back(std::move(flag));
  return *this;
}

FlagSet& FlagSet::text(const std::string& name, std::string* target, const std::string& help,
                       const std::string& value_name) {
  return add({name, help, value_name, *target, [target](const std::string& v) { *target = v; }});
}

FlagSet& FlagSet::boolean(const std::string& name, bool* target, const std::string& help) {
  return add({name, help, "", "", [name, target](const std::string& v) {
                if (v == "true") {
                  *target = true;
                } else if (v == "false") {
                  *target = false;
                } else {
                  throw UsageError(name + " wants true or false, got \"" + v + "\"");
                }
              }});
}

FlagSet& FlagSet::integer(const std::string& name, int* target, const std::string& help, int min,
                          int max, const std::string& value_name) {
  return add({name, help, value_name, std::to_string(*target),
              [name, target, min, max](const std::string& v) {
                long long number = 0;
                std::size_t used = 0;
                try {
                  number = std::stoll(v, &used);
                } catch (const std::exception&) {
                  used = 0;
                }
                if (v.empty() || used != v.size()) {
                  throw UsageError(name + " wants an integer, got \"" + v + "\"");
                }
                if (number < min || number > max) {
                  throw UsageError(name + " must be in " + std::to_string(min) + ".." +
                                   std::to_string(max) + ", got " + v);
                }
                *target = static_cast<int>(number);
              }});
}

FlagSet& FlagSet::repeated(const std::string& name, std::vector<std::string>* target,
                           const std::string& help, const std::string& value_name) {
  return add(
      {name, help, value_name, "", [target](const std::string& v) { target->push_back(v); }});
}

FlagSet& FlagSet::custom(const std::string& name, std::function<void(const std::string&)> apply,
                         const std::string& help, const std::string& value_name,
                         const std::string& default_text) {
  return add({name, help, value_name, default_text, std::move(apply)});
}

std::vector<std::string> FlagSet::parse(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positional.push_back(arg);
      continue;
    }
    const auto equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    const auto found = index_.find(name);
    if (found == index_.end()) throw UsageError("unknown flag " + name);
    const Flag& flag = flags_[found->second];
    std::string value;
    if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (flag.value_name.empty()) {
      value = "true";
    } else {
      if (i + 1 >= args.size()) throw UsageError(name + " needs a value");
      value = args[++i];
    }
    try {
      flag.apply(value);
    } catch (const UsageError&) {
      throw;
    } catch (const std::invalid_argument& error) {
      throw UsageError(name + ": " + error.what());
    }
    ++seen_[name];
  }
  return positional;
}

void FlagSet::parse_or_exit(int argc, char** argv) {
  try {
    const std::vector<std::string> rest = parse(std::vector<std::string>(argv + 1, argv + argc));
    if (!rest.empty()) throw UsageError("unexpected argument " + rest.front());
  } catch (const UsageError& error) {
    exit_with_usage(error.what());
  }
  if (help_requested_) {
    std::cout << help();
    std::exit(0);
  }
}

void FlagSet::exit_with_usage(const std::string& error) const {
  std::cerr << "error: " << error << "\n" << help();
  std::exit(2);
}

std::string FlagSet::help() const {
  std::string out = usage_ + "\n";
  if (!description_.empty()) out += "\n" + description_ + "\n";
  if (!flags_.empty()) out += "\nflags:\n";
  for (const Flag& flag : flags_) {
    std::string left = "  " + flag.name;
    if (!flag.value_name.empty()) left += " " + flag.value_name;
    constexpr std::size_t kColumn = 30;
    out += left.size() + 2 <= kColumn ? left + std::string(kColumn - left.size(), ' ')
                                      : left + "\n" + std::string(kColumn, ' ');
    for (char c : flag.help) {  // continuation lines line up under the first
      out += c;
      if (c == '\n') out += std::string(kColumn, ' ');
    }
    if (!flag.default_text.empty()) out += " (default " + flag.default_text + ")";
    out += "\n";
  }
  out += "  --help                      this text\n";
  return out;
}

}  // namespace llmops
