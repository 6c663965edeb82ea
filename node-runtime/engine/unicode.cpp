#include "unicode.h"

#include <algorithm>
#include <array>

namespace llmops::engine {

namespace {

CodepointInfo lookup(uint32_t cp) {
  const UnicodeRange* end = kUnicodeRanges + kUnicodeRangeCount;
  // The last range whose first code point is <= cp.
  const UnicodeRange* it = std::upper_bound(
      kUnicodeRanges, end, cp, [](uint32_t c, const UnicodeRange& r) { return c < r.first; });
  if (it == kUnicodeRanges || cp > 0x10FFFF) return {};
  const uint8_t flags = (it - 1)->flags;
  return {static_cast<UnicodeClass>(flags & 7), (flags & 8) != 0};
}

}  // namespace

CodepointInfo codepoint_info(uint32_t cp) {
  // ASCII, most of most text, from a table; the rest by binary search of the ranges.
  static const auto ascii = [] {
    std::array<CodepointInfo, 128> t{};
    for (uint32_t c = 0; c < 128; ++c) t[c] = lookup(c);
    return t;
  }();
  return cp < 128 ? ascii[cp] : lookup(cp);
}

size_t utf8_sequence_length(uint8_t lead) {
  static constexpr uint8_t kByHighBits[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kByHighBits[lead >> 4];
}

std::vector<uint32_t> utf8_to_codepoints(std::string_view text) {
  std::vector<uint32_t> out;
  out.reserve(text.size());
  size_t i = 0;
  const size_t n = text.size();
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const auto continuation = [&](size_t k) { return k < n && (byte(k) & 0xC0) == 0x80; };
  while (i < n) {
    const uint8_t b = byte(i);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
    } else if ((b & 0xE0) == 0xC0 && continuation(i + 1)) {
      out.push_back((uint32_t{b & 0x1Fu} << 6) | (byte(i + 1) & 0x3Fu));
      i += 2;
    } else if ((b & 0xF0) == 0xE0 && continuation(i + 1) && continuation(i + 2)) {
      out.push_back((uint32_t{b & 0x0Fu} << 12) | (uint32_t{byte(i + 1) & 0x3Fu} << 6) |
                    (byte(i + 2) & 0x3Fu));
      i += 3;
    } else if ((b & 0xF8) == 0xF0 && continuation(i + 1) && continuation(i + 2) &&
               continuation(i + 3)) {
      out.push_back((uint32_t{b & 0x07u} << 18) | (uint32_t{byte(i + 1) & 0x3Fu} << 12) |
                    (uint32_t{byte(i + 2) & 0x3Fu} << 6) | (byte(i + 3) & 0x3Fu));
      i += 4;
    } else {
      out.push_back(0xFFFD);
      ++i;
    }
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | ((cp >> 18) & 0x07)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace llmops::engine
