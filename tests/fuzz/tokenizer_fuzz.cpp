// Fuzzes the tokenizer two ways with each input: (a) as a tokenizer.bin file, which must
// parse or fail with ModelError, and whose tokenizer must then encode and decode a fixed
// text; (b) as text for a byte-vocabulary tokenizer, where decode(encode(x)) == x for
// valid UTF-8 and every decoded string and Utf8Stream output is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/errors.h"
#include "engine/tokenizer.h"

namespace {

using llmops::engine::ModelError;
using llmops::engine::Tokenizer;
using llmops::engine::Utf8Stream;

// An independent RFC 3629 check by code point (not the stream's lead-byte table).
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<uint8_t>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1Fu;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0Fu;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07u;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void fuzz_tokenizer_file(const uint8_t* data, size_t size) {
  std::vector<int32_t> ids;
  try {
    const Tokenizer tok(llmops::engine::parse_tokenizer_bin(data, size, "fuzz.bin"));
    ids = tok.encode("Hello w\xC3\xB6rld \xF0\x9F\xA4\x96\x80 x", true, true);
    check(ids.size() >= 2 && ids.front() == tok.bos() && ids.back() == tok.eos());
    check(valid_utf8(tok.decode(ids)));
  } catch (const ModelError&) {
  }
}

void fuzz_text(const uint8_t* data, size_t size) {
  static const Tokenizer tok(llmops::engine::make_byte_vocab());
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<int32_t> ids = tok.encode(text, true);
  const std::string decoded = tok.decode(ids);
  check(valid_utf8(decoded));
  if (valid_utf8(text)) check(decoded == text);

  // Streaming in uneven pieces gives what one push gives.
  Utf8Stream whole;
  const std::string expected = whole.push(text) + whole.finish();
  check(valid_utf8(expected));
  check(expected == decoded);
  Utf8Stream pieces;
  std::string streamed;
  const size_t step = size == 0 ? 1 : 1 + data[0] % 5;
  for (size_t i = 0; i < size; i += step) {
    const std::string out = pieces.push(text.substr(i, step));
    check(valid_utf8(out));
    streamed += out;
  }
  streamed += pieces.finish();
  check(streamed == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_tokenizer_file(data, size);
  fuzz_text(data, size);
  return 0;
}
