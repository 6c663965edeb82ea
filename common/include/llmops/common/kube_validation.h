// Kubernetes' own rules for names, label values and resource quantities, as the real
// apiserver applies them (k8s.io/apimachinery/pkg/util/validation, api/resource), shared
// by the devcluster (which must reject what a real server rejects) and the operator
// (which must only generate what a real server accepts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmops::kube_validation {

inline constexpr std::size_t kDns1123LabelMaxLength = 63;
inline constexpr std::size_t kDns1123SubdomainMaxLength = 253;
inline constexpr std::size_t kLabelValueMaxLength = 63;

// Each returns "" when `value` is valid, else the apiserver's explanation.
std::string dns1123LabelError(std::string_view value);      // namespaces, container names
std::string dns1123SubdomainError(std::string_view value);  // most object names
std::string dns1035LabelError(std::string_view value);      // Services
std::string labelValueError(std::string_view value);
std::string qualifiedNameError(std::string_view value);  // label and annotation keys

// A name derived from `base` that keeps `suffix` and fits `maxLength`, as Kubernetes'
// controllers build child names: unchanged when base + suffix fits, otherwise base is cut
// and "-<hash of base>" inserted before the suffix, so distinct bases stay distinct.
// Trailing '-' and '.' of the cut are dropped. nullopt when the suffix leaves no room.
std::optional<std::string> shortenedName(std::string_view base, std::string_view suffix,
                                         std::size_t maxLength);

// A resource quantity ("500m", "1.5Gi", "2e3", "100u") in base units times `unit`
// (1000 for millicores), rounded up as Quantity.MilliValue/Value do. nullopt when the
// text is not a quantity or does not fit in 63 bits.
std::optional<int64_t> parseQuantity(std::string_view text, int64_t unit);
// "" when valid, else the apiserver's message for a malformed quantity.
std::string quantityError(std::string_view text);

}  // namespace llmops::kube_validation
