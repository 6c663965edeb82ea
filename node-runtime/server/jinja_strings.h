// Python's str algorithms as chat templates use them (strip, split, splitlines, replace,
// title, int()/float() parsing, slice indices, range, strftime), on UTF-8 and keeping the
// provenance of Text where the result is made of pieces of the input. Case mapping
// changes ASCII letters only.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "jinja_value.h"

namespace llmops::server::jinja {

// where: 1 = left, 2 = right, 3 = both; chars: the characters to remove (default:
// whitespace as str.isspace() defines it).
Text py_strip(const Text& s, int where, const Text* chars);
// str.split / str.rsplit; sep null splits on runs of whitespace. Throws on an empty sep.
std::vector<Text> py_split(const Text& s, const Text* sep, int64_t maxsplit, bool from_right);
std::vector<Text> py_splitlines(const Text& s, bool keepends);
// str.replace(old, new, count); count < 0 replaces all.
Text py_replace(const Text& s, const Text& old_text, const Text& new_text, int64_t count);
int64_t py_count(const std::string& s, const std::string& sub);

std::string ascii_lower(const std::string& s);
std::string ascii_upper(const std::string& s);
std::string ascii_swapcase(const std::string& s);
std::string py_title(const std::string& s);       // str.title()
std::string py_capitalize(const std::string& s);  // str.capitalize()
std::string jinja_title(
    const std::string& s);  // the |title filter (words split at -, space, brackets)
// isdigit, isalpha, isalnum, isspace, isupper, islower.
bool py_is(const std::string& method, const std::string& s);

bool parse_py_int(const std::string& s, int base, int64_t& out);
bool parse_py_float(const std::string& s, double& out);

// The indices s[start:stop:step] picks from a sequence of n (Python's slice rules).
// Throws std::invalid_argument for step 0.
std::vector<int64_t> py_slice_indices(int64_t n, std::optional<int64_t> start,
                                      std::optional<int64_t> stop, std::optional<int64_t> step);
// range(start, stop, step); `check` sees the count before anything is allocated.
std::vector<int64_t> py_range(int64_t start, int64_t stop, int64_t step,
                              const std::function<void(uint64_t)>& check);

// time.strftime(format, tm) (C library conversions, C locale).
std::string py_strftime(const std::string& format, const std::tm& tm);

}  // namespace llmops::server::jinja
