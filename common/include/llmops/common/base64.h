// Base64 (RFC 4648): the encoder writes the standard alphabet with '=' padding (as
// Kubernetes' []byte fields and kubeconfig *-data); the decoder is as lenient as
// client-go's kubeconfig loading needs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace llmops {

std::string base64_encode(std::string_view data);

// Accepts the standard and the URL-safe alphabet, with or without '=' padding, and skips
// line breaks and spaces. nullopt on any other character.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace llmops
