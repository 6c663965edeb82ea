#include "llmops/reconcilers/prometheus_text.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace llmops::reconcilers {

namespace {

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}

class LineReader {
 public:
  LineReader(std::string_view line, std::size_t number) : line_(line), number_(number) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("metrics line " + std::to_string(number_) + ": " + what + ": \"" +
                                std::string(line_) + "\"");
  }
  void skip_spaces() {
    while (pos_ < line_.size() && (line_[pos_] == ' ' || line_[pos_] == '\t')) ++pos_;
  }
  bool at_end() const { return pos_ >= line_.size(); }
  char peek() const { return at_end() ? '\0' : line_[pos_]; }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string name() {
    if (!name_start(peek())) fail("expected a metric or label name");
    std::size_t start = pos_;
    while (!at_end() && name_char(line_[pos_])) ++pos_;
    return std::string(line_.substr(start, pos_ - start));
  }
  std::string quoted() {
    expect('"');
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated label value");
      char c = line_[pos_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (at_end()) fail("unterminated escape");
        char escaped = line_[pos_++];
        out += escaped == 'n' ? '\n' : escaped;
      } else {
        out += c;
      }
    }
  }
  std::string token() {
    std::size_t start = pos_;
    while (!at_end() && line_[pos_] != ' ' && line_[pos_] != '\t') ++pos_;
    return std::string(line_.substr(start, pos_ - start));
  }

 private:
  std::string_view line_;
  std::size_t number_;
  std::size_t pos_ = 0;
};

double parse_value(const std::string& text, const LineReader& reader) {
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text.empty()) reader.fail("missing value");
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) reader.fail("bad value \"" + text + "\"");
  return value;
}

}  // namespace

std::vector<PromSample> parse_prometheus_text(std::string_view text) {
  std::vector<PromSample> samples;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    LineReader reader(line, number);
    reader.skip_spaces();
    if (reader.at_end() || reader.peek() == '#') continue;
    PromSample sample;
    sample.name = reader.name();
    reader.skip_spaces();
    if (reader.peek() == '{') {
      reader.expect('{');
      reader.skip_spaces();
      while (reader.peek() != '}') {
        std::string label = reader.name();
        reader.skip_spaces();
        reader.expect('=');
        reader.skip_spaces();
        sample.labels[label] = reader.quoted();
        reader.skip_spaces();
        if (reader.peek() == ',') {
          reader.expect(',');
          reader.skip_spaces();
        } else if (reader.peek() != '}') {
          reader.fail("expected ',' or '}'");
        }
      }
      reader.expect('}');
    }
    reader.skip_spaces();
    sample.value = parse_value(reader.token(), reader);
    reader.skip_spaces();
    if (!reader.at_end()) {
      const std::string timestamp = reader.token();  // optional; not used
      char* stop = nullptr;
      std::strtoll(timestamp.c_str(), &stop, 10);
      if (stop != timestamp.c_str() + timestamp.size()) reader.fail("bad timestamp");
      reader.skip_spaces();
      if (!reader.at_end()) reader.fail("unexpected text after the value");
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

}  // namespace llmops::reconcilers
