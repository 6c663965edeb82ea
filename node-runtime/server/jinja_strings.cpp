#include "jinja_strings.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace llmops::server::jinja {

namespace {

// The characters of s as (offset, length, code point).
struct Char {
  size_t at;
  size_t len;
  uint32_t cp;
};

std::vector<Char> chars_of(const std::string& s) {
  std::vector<Char> out;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    const uint32_t cp = utf8_decode(s, i, len);
    out.push_back({i, len, cp});
    i += len;
  }
  return out;
}

bool is_space(const std::string& s, const Char& c) {
  size_t len = 1;
  return is_space_at(s, c.at, len);
}

bool is_line_break(uint32_t cp) {
  return cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x1C || cp == 0x1D ||
         cp == 0x1E || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
char to_upper(char c) {
  return is_lower(c) ? static_cast<char>(c - 32) : c;
}
char to_lower(char c) {
  return is_upper(c) ? static_cast<char>(c + 32) : c;
}

}  // namespace

Text py_strip(const Text& s, int where, const Text* chars) {
  const std::string& str = s.str();
  const std::vector<Char> cs = chars_of(str);
  std::vector<uint32_t> set;
  if (chars) {
    for (const Char& c : chars_of(chars->str())) set.push_back(c.cp);
  }
  auto strip = [&](const Char& c) {
    return chars ? std::find(set.begin(), set.end(), c.cp) != set.end() : is_space(str, c);
  };
  size_t b = 0, e = cs.size();
  if (where & 1) {
    while (b < e && strip(cs[b])) ++b;
  }
  if (where & 2) {
    while (e > b && strip(cs[e - 1])) --e;
  }
  const size_t begin = b < cs.size() ? cs[b].at : str.size();
  const size_t end = e > 0 && e > b ? cs[e - 1].at + cs[e - 1].len : begin;
  return s.substr(begin, end - begin);
}

std::vector<Text> py_split(const Text& s, const Text* sep, int64_t maxsplit, bool from_right) {
  const std::string& str = s.str();
  std::vector<Text> out;
  if (sep) {
    const std::string& d = sep->str();
    if (d.empty()) throw std::invalid_argument("empty separator");
    if (!from_right) {
      size_t at = 0;
      while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
        const size_t hit = str.find(d, at);
        if (hit == std::string::npos) break;
        out.push_back(s.substr(at, hit - at));
        at = hit + d.size();
      }
      out.push_back(s.substr(at));
      return out;
    }
    size_t end = str.size();
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      if (end < d.size()) break;
      const size_t hit = str.rfind(d, end - d.size());
      if (hit == std::string::npos) break;
      out.push_back(s.substr(hit + d.size(), end - hit - d.size()));
      end = hit;
    }
    out.push_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
    return out;
  }
  // Runs of whitespace separate; no empty strings at either end.
  const std::vector<Char> cs = chars_of(str);
  if (!from_right) {
    size_t i = 0;
    while (true) {
      while (i < cs.size() && is_space(str, cs[i])) ++i;
      if (i == cs.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
        out.push_back(s.substr(cs[i].at));
        break;
      }
      const size_t start = i;
      while (i < cs.size() && !is_space(str, cs[i])) ++i;
      const size_t end = i < cs.size() ? cs[i].at : str.size();
      out.push_back(s.substr(cs[start].at, end - cs[start].at));
    }
    return out;
  }
  size_t i = cs.size();
  while (true) {
    while (i > 0 && is_space(str, cs[i - 1])) --i;
    if (i == 0) break;
    const size_t end = cs[i - 1].at + cs[i - 1].len;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
      out.push_back(s.substr(0, end));
      break;
    }
    while (i > 0 && !is_space(str, cs[i - 1])) --i;
    out.push_back(s.substr(cs[i].at, end - cs[i].at));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<Text> py_splitlines(const Text& s, bool keepends) {
  const std::string& str = s.str();
  const std::vector<Char> cs = chars_of(str);
  std::vector<Text> out;
  size_t line_start = 0;
  for (size_t i = 0; i < cs.size(); ++i) {
    if (!is_line_break(cs[i].cp)) continue;
    const size_t break_start = cs[i].at;
    if (cs[i].cp == '\r' && i + 1 < cs.size() && cs[i + 1].cp == '\n') ++i;
    const size_t break_end = cs[i].at + cs[i].len;
    const size_t end = keepends ? break_end : break_start;
    out.push_back(s.substr(line_start, end - line_start));
    line_start = break_end;
  }
  if (line_start < str.size()) out.push_back(s.substr(line_start));
  return out;
}

Text py_replace(const Text& s, const Text& old_text, const Text& new_text, int64_t count) {
  const std::string& str = s.str();
  const std::string& old = old_text.str();
  Text out;
  int64_t done = 0;
  if (old.empty()) {
    const std::vector<Char> cs = chars_of(str);
    for (size_t i = 0; i <= cs.size(); ++i) {
      if (count < 0 || done < count) {
        out.append(new_text);
        ++done;
      }
      if (i < cs.size()) out.append(s.substr(cs[i].at, cs[i].len));
    }
    return out;
  }
  size_t at = 0;
  while (count < 0 || done < count) {
    const size_t hit = str.find(old, at);
    if (hit == std::string::npos) break;
    out.append(s.substr(at, hit - at));
    out.append(new_text);
    at = hit + old.size();
    ++done;
  }
  out.append(s.substr(at));
  return out;
}

int64_t py_count(const std::string& s, const std::string& sub) {
  if (sub.empty()) return static_cast<int64_t>(utf8_length(s)) + 1;
  int64_t n = 0;
  for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
  return n;
}

std::string ascii_lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = to_lower(c);
  return out;
}

std::string ascii_upper(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = to_upper(c);
  return out;
}

std::string ascii_swapcase(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = is_upper(c) ? to_lower(c) : to_upper(c);
  return out;
}

std::string py_title(const std::string& s) {
  std::string out = s;
  bool prev_cased = false;
  for (char& c : out) {
    const bool cased = is_lower(c) || is_upper(c);
    if (cased) c = prev_cased ? to_lower(c) : to_upper(c);
    prev_cased = cased;
  }
  return out;
}

std::string py_capitalize(const std::string& s) {
  std::string out = ascii_lower(s);
  if (!out.empty()) out[0] = to_upper(out[0]);
  return out;
}

std::string jinja_title(const std::string& s) {
  std::string out = s;
  bool word_start = true;
  for (size_t i = 0; i < out.size(); ++i) {
    size_t len = 1;
    const bool separator = out[i] == '-' || out[i] == '(' || out[i] == '{' || out[i] == '[' ||
                           out[i] == '<' || is_space_at(out, i, len);
    if (separator) {
      word_start = true;
      i += len - 1;
      continue;
    }
    out[i] = word_start ? to_upper(out[i]) : to_lower(out[i]);
    word_start = false;
  }
  return out;
}

bool py_is(const std::string& method, const std::string& s) {
  if (s.empty()) return false;
  if (method == "isspace") {
    for (size_t i = 0; i < s.size();) {
      size_t len = 1;
      if (!is_space_at(s, i, len)) return false;
      i += len;
    }
    return true;
  }
  if (method == "isupper" || method == "islower") {
    bool cased = false;
    for (char c : s) {
      if (method == "isupper" ? is_lower(c) : is_upper(c)) return false;
      cased = cased || is_lower(c) || is_upper(c);
    }
    return cased;
  }
  for (unsigned char c : s) {
    const bool digit = c >= '0' && c <= '9';
    const bool alpha =
        is_lower(static_cast<char>(c)) || is_upper(static_cast<char>(c)) || c >= 0x80;
    if (method == "isdigit" && !digit) return false;
    if (method == "isalpha" && !alpha) return false;
    if (method == "isalnum" && !(alpha || digit)) return false;
  }
  return true;
}

namespace {

std::string strip_ascii_space(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || (s[b] >= '\t' && s[b] <= '\r'))) ++b;
  while (e > b && (s[e - 1] == ' ' || (s[e - 1] >= '\t' && s[e - 1] <= '\r'))) --e;
  return s.substr(b, e - b);
}

// Removes "_" between digits; false when an underscore is misplaced.
bool drop_underscores(const std::string& s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '_') {
      out += s[i];
      continue;
    }
    if (i == 0 || i + 1 >= s.size() || !std::isalnum(static_cast<unsigned char>(s[i - 1])) ||
        !std::isalnum(static_cast<unsigned char>(s[i + 1]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool parse_py_int(const std::string& input, int base, int64_t& out) {
  if (base != 0 && (base < 2 || base > 36)) return false;
  std::string s;
  if (!drop_underscores(strip_ascii_space(input), s) || s.empty()) return false;
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (s[0] == '-' || s[0] == '+') ++i;
  if (base == 0 || base == 16 || base == 8 || base == 2) {
    if (s.size() > i + 1 && s[i] == '0') {
      const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i + 1])));
      const int prefixed = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
      if (prefixed && (base == 0 || base == prefixed)) {
        base = prefixed;
        i += 2;
      }
    }
    if (base == 0) base = 10;
  }
  if (i >= s.size()) return false;
  for (size_t k = i; k < s.size(); ++k) {
    if (!std::isalnum(static_cast<unsigned char>(s[k]))) return false;
  }
  errno = 0;
  char* end = nullptr;
  const std::string digits = (negative ? "-" : "") + s.substr(i);
  const long long v = std::strtoll(digits.c_str(), &end, base);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

bool parse_py_float(const std::string& input, double& out) {
  std::string s;
  if (!drop_underscores(strip_ascii_space(input), s) || s.empty()) return false;
  const std::string lower = ascii_lower(s);
  const std::string body = lower[0] == '-' || lower[0] == '+' ? lower.substr(1) : lower;
  if (body == "inf" || body == "infinity" || body == "nan") {
    const double v = body == "nan" ? NAN : INFINITY;
    out = lower[0] == '-' ? -v : v;
    return true;
  }
  // Decimal digits, one dot, an exponent: no hex floats, no "inf" spellings strtod takes.
  for (char c : body) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' ||
          c == '-')) {
      return false;
    }
  }
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && end != s.c_str();
}

std::vector<int64_t> py_slice_indices(int64_t n, std::optional<int64_t> start,
                                      std::optional<int64_t> stop, std::optional<int64_t> step) {
  const int64_t st = step.value_or(1);
  if (st == 0) throw std::invalid_argument("slice step cannot be zero");
  auto adjust = [n](int64_t i, int64_t lo, int64_t hi) {
    if (i < 0) {
      i = i < -n ? lo : i + n;  // -n..-1 → 0..n-1
      return std::max(i, lo);
    }
    return std::min(i, hi);
  };
  int64_t b = 0, e = 0;
  if (st > 0) {
    b = start ? adjust(*start, 0, n) : 0;
    e = stop ? adjust(*stop, 0, n) : n;
  } else {
    b = start ? adjust(*start, -1, n - 1) : n - 1;
    e = stop ? adjust(*stop, -1, n - 1) : -1;
  }
  std::vector<int64_t> out;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) {
    out.push_back(i);
    if ((st > 0 && i > INT64_MAX - st) || (st < 0 && i < INT64_MIN - st)) break;
  }
  return out;
}

std::vector<int64_t> py_range(int64_t start, int64_t stop, int64_t step,
                              const std::function<void(uint64_t)>& check) {
  uint64_t count = 0;
  if (step > 0 && start < stop) {
    count = (static_cast<uint64_t>(stop) - static_cast<uint64_t>(start) - 1) /
                static_cast<uint64_t>(step) +
            1;
  } else if (step < 0 && start > stop) {
    count = (static_cast<uint64_t>(start) - static_cast<uint64_t>(stop) - 1) /
                (static_cast<uint64_t>(0) - static_cast<uint64_t>(step)) +
            1;
  }
  check(count);
  std::vector<int64_t> out;
  out.reserve(count);
  int64_t v = start;
  for (uint64_t i = 0; i < count; ++i) {
    out.push_back(v);
    v = static_cast<int64_t>(static_cast<uint64_t>(v) + static_cast<uint64_t>(step));
  }
  return out;
}

std::string py_strftime(const std::string& format, const std::tm& tm) {
  if (format.empty()) return "";
  if (format.size() > 4096) throw std::invalid_argument("strftime format longer than 4096 bytes");
  // A sentinel makes an empty result distinguishable from a too-small buffer.
  const std::string f = format + "\x01";
  for (size_t size = 256; size <= (1u << 20); size *= 4) {
    std::string buf(size, '\0');
    const size_t n = std::strftime(buf.data(), buf.size(), f.c_str(), &tm);
    if (n > 0) return buf.substr(0, n - 1);
  }
  throw std::invalid_argument("strftime result too long");
}

}  // namespace llmops::server::jinja
