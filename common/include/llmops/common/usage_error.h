// The one error type for a wrong command line (unknown flag, missing or bad value): the
// programs print its message and their usage and exit with status 2.
#pragma once

#include <stdexcept>

namespace llmops {

// An invalid_argument, so that code validating a value (a host:port, a number) can throw
// it and callers that only care about "bad input" still catch it.
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace llmops
