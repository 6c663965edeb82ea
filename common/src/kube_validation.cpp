#include "llmops/common/kube_validation.h"

#include <cmath>
#include <cstdio>

namespace llmops::kube_validation {

namespace {

bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool isAlnum(char c) {
  return isLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool matchesDns1123Label(std::string_view value) {
  if (value.empty() || !isLowerAlnum(value.front()) || !isLowerAlnum(value.back())) return false;
  for (char c : value) {
    if (!isLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

std::string tooLong(std::size_t max) {
  return "must be no more than " + std::to_string(max) + " characters";
}

const char* kDns1123LabelMessage =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const char* kDns1123SubdomainMessage =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const char* kDns1035LabelMessage =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const char* kLabelValueMessage =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const char* kQualifiedNameMessage =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
    "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const char* kQuantityMessage =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool matchesLabelValueChars(std::string_view value) {
  if (value.empty()) return true;
  if (!isAlnum(value.front()) || !isAlnum(value.back())) return false;
  for (char c : value) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

// Quantity.ParseQuantity: sign, digits with at most one '.', then one suffix.
std::optional<long double> parseQuantityValue(std::string_view text) {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  const std::size_t numberStart = i;
  std::size_t digits = 0;
  bool dot = false;
  for (; i < text.size(); ++i) {
    if (text[i] >= '0' && text[i] <= '9') {
      ++digits;
    } else if (text[i] == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (digits == 0) return std::nullopt;
  const std::string number(text.substr(numberStart, i - numberStart));
  const std::string_view suffix = text.substr(i);
  long double scale = -1;
  static const std::pair<std::string_view, long double> kSuffixes[] = {
      {"", 1},         {"n", 1e-9L},    {"u", 1e-6L},    {"m", 1e-3L},
      {"k", 1e3L},     {"M", 1e6L},     {"G", 1e9L},     {"T", 1e12L},
      {"P", 1e15L},    {"E", 1e18L},    {"Ki", 0x1p10L}, {"Mi", 0x1p20L},
      {"Gi", 0x1p30L}, {"Ti", 0x1p40L}, {"Pi", 0x1p50L}, {"Ei", 0x1p60L}};
  for (const auto& [name, factor] : kSuffixes) {
    if (suffix == name) scale = factor;
  }
  if (scale < 0 && suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::size_t j = 1;
    bool negativeExponent = false;
    if (suffix[j] == '+' || suffix[j] == '-') negativeExponent = suffix[j++] == '-';
    if (j == suffix.size()) return std::nullopt;
    int exponent = 0;
    for (; j < suffix.size(); ++j) {
      if (suffix[j] < '0' || suffix[j] > '9') return std::nullopt;
      exponent = exponent * 10 + (suffix[j] - '0');
      if (exponent > 1000) return std::nullopt;
    }
    scale = std::pow(10.0L, negativeExponent ? -exponent : exponent);
  }
  if (scale < 0) return std::nullopt;
  long double value = std::strtold(number.c_str(), nullptr) * scale;
  return negative ? -value : value;
}

}  // namespace

std::string dns1123LabelError(std::string_view value) {
  if (value.size() > kDns1123LabelMaxLength) return tooLong(kDns1123LabelMaxLength);
  return matchesDns1123Label(value) ? "" : kDns1123LabelMessage;
}

std::string dns1123SubdomainError(std::string_view value) {
  if (value.size() > kDns1123SubdomainMaxLength) return tooLong(kDns1123SubdomainMaxLength);
  if (value.empty()) return kDns1123SubdomainMessage;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = value.find('.', start);
    if (!matchesDns1123Label(value.substr(start, dot - start))) return kDns1123SubdomainMessage;
    if (dot == std::string_view::npos) return "";
    start = dot + 1;
  }
}

std::string dns1035LabelError(std::string_view value) {
  if (value.size() > kDns1123LabelMaxLength) return tooLong(kDns1123LabelMaxLength);
  if (!matchesDns1123Label(value) || value.front() < 'a' || value.front() > 'z') {
    return kDns1035LabelMessage;
  }
  return "";
}

std::string labelValueError(std::string_view value) {
  if (value.size() > kLabelValueMaxLength) return tooLong(kLabelValueMaxLength);
  return matchesLabelValueChars(value) ? "" : kLabelValueMessage;
}

std::string qualifiedNameError(std::string_view value) {
  std::string_view name = value;
  if (auto slash = value.find('/'); slash != std::string_view::npos) {
    const std::string_view prefix = value.substr(0, slash);
    if (prefix.empty()) return "prefix part must be non-empty";
    if (std::string error = dns1123SubdomainError(prefix); !error.empty()) {
      return "prefix part " + error;
    }
    name = value.substr(slash + 1);
  }
  if (name.empty()) return "name part must be non-empty";
  if (name.size() > 63) return "name part " + tooLong(63);
  return matchesLabelValueChars(name) ? "" : kQualifiedNameMessage;
}

std::optional<std::string> shortenedName(std::string_view base, std::string_view suffix,
                                         std::size_t maxLength) {
  if (base.size() + suffix.size() <= maxLength) return std::string(base) + std::string(suffix);
  char hash[16];
  std::snprintf(hash, sizeof hash, "%010llx",
                static_cast<unsigned long long>(fnv1a(base) & 0xffffffffffULL));
  const std::string marker = std::string("-") + hash;
  if (marker.size() + suffix.size() >= maxLength) return std::nullopt;
  std::string kept(base.substr(0, maxLength - marker.size() - suffix.size()));
  while (!kept.empty() && (kept.back() == '-' || kept.back() == '.')) kept.pop_back();
  if (kept.empty()) return marker.substr(1) + std::string(suffix);
  return kept + marker + std::string(suffix);
}

std::optional<int64_t> parseQuantity(std::string_view text, int64_t unit) {
  auto value = parseQuantityValue(text);
  if (!value) return std::nullopt;
  const long double scaled = *value * static_cast<long double>(unit);
  if (!std::isfinite(scaled) || std::fabs(scaled) > 9.2e18L) return std::nullopt;
  // Absorb the binary representation error of decimal fractions before rounding up.
  return static_cast<int64_t>(std::ceil(scaled - 1e-9L));
}

std::string quantityError(std::string_view text) {
  if (!parseQuantityValue(text)) return kQuantityMessage;
  if (!parseQuantity(text, 1000)) return "quantity is too large";
  return "";
}

}  // namespace llmops::kube_validation
