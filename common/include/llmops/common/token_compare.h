// Secret comparison whose duration does not depend on where the inputs differ, so a
// client cannot guess a token byte by byte from response times.
#pragma once

#include <string_view>

namespace llmops {

// True when a == b. Only the length is compared in variable time (token lengths are not
// secret).
bool constant_time_equals(std::string_view a, std::string_view b);

// True when an Authorization header's value is exactly "Bearer <token>".
bool bearer_token_matches(std::string_view authorization, std::string_view token);

}  // namespace llmops
