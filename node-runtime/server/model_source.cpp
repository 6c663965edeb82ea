#include "server/model_source.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace llmops::server {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr long kConnectTimeoutSeconds = 30;
constexpr long kLowSpeedBytesPerSecond = 1;
constexpr long kLowSpeedSeconds = 60;
constexpr long kMaxRedirects = 10;
constexpr int kMaxAttempts = 3;  // per resolve; each retry resumes from the .partial file
constexpr auto kProgressInterval = std::chrono::seconds(5);
constexpr size_t kReadChunk = 1 << 20;

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string to_hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

struct DigestCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using DigestCtx = std::unique_ptr<EVP_MD_CTX, DigestCtxFree>;

DigestCtx new_sha256(const std::string& what) {
  DigestCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw ModelSourceError("sha256 of " + what + ": OpenSSL could not initialise SHA-256");
  }
  return ctx;
}

std::string finish_sha256(EVP_MD_CTX* ctx, const std::string& what) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, digest, &len) != 1) {
    throw ModelSourceError("sha256 of " + what + ": OpenSSL could not finish SHA-256");
  }
  return to_hex(digest, len);
}

std::string sha256_string(std::string_view data) {
  DigestCtx ctx = new_sha256("URL");
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  return finish_sha256(ctx.get(), "URL");
}

std::string lowercase(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A URL as it may appear in logs and error messages: user info, query string and fragment
// can carry credentials (signed URLs, tokens), so only scheme, host and path remain.
std::string redact_url(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const size_t authority_begin = scheme_end + 3;
  size_t end = url.find_first_of("?#", authority_begin);
  if (end == std::string::npos) end = url.size();
  size_t authority_end = url.find('/', authority_begin);
  if (authority_end == std::string::npos || authority_end > end) authority_end = end;
  const std::string_view authority(url.data() + authority_begin, authority_end - authority_begin);
  const size_t at = authority.rfind('@');
  const size_t host_begin =
      at == std::string_view::npos ? authority_begin : authority_begin + at + 1;
  std::string out = url.substr(0, authority_begin);
  out += url.substr(host_begin, end - host_begin);
  return out;
}

// "https" for "HTTPS://host/x"; nullopt when `location` is not "scheme://…" (a path).
std::optional<std::string> url_scheme(const std::string& location) {
  const size_t end = location.find("://");
  if (end == std::string::npos || end == 0 || !is_alpha(location[0])) return std::nullopt;
  for (size_t i = 1; i < end; ++i) {
    const char c = location[i];
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return std::nullopt;
  }
  return lowercase(location.substr(0, end));
}

std::string percent_decode(const std::string& text, const std::string& location) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = hi >= 0 ? hex_value(text[i + 2]) : -1;
    if (lo < 0) {
      throw ModelSourceError("invalid percent-encoding at offset " + std::to_string(i) + " of " +
                             location + ": '%' must be followed by two hex digits");
    }
    if (hi == 0 && lo == 0) throw ModelSourceError("file URL " + location + " encodes a NUL byte");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// The path named by file:///abs/path (percent-decoded). Hosts are refused: this process
// can only read its own filesystem.
std::string file_url_path(const std::string& location) {
  const std::string rest = location.substr(std::string_view("file://").size());
  if (rest.empty()) throw ModelSourceError("file URL " + location + " has no path");
  if (rest[0] != '/') {
    const std::string host = rest.substr(0, rest.find('/'));
    throw ModelSourceError("file URL " + location + " names the host \"" + host +
                           "\": only file:///absolute/path (no host) is supported");
  }
  return percent_decode(rest, location);
}

// `path` if it is an existing, readable regular file (symlinks followed).
std::string require_regular_file(const std::string& path, const std::string& location) {
  const std::string named = path == location ? path : path + " (from " + location + ")";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw ModelSourceError("model file " + named + ": " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    throw ModelSourceError("model file " + named + " is not a regular file" +
                           (S_ISDIR(st.st_mode) ? " (it is a directory)" : ""));
  }
  if (::access(path.c_str(), R_OK) != 0) {
    throw ModelSourceError("model file " + named + " is not readable: " + errno_text(errno));
  }
  return path;
}

std::string normalized_sha256(const std::string& sha256, const std::string& location) {
  if (sha256.empty()) return sha256;
  bool ok = sha256.size() == 64;
  for (char c : sha256) ok = ok && hex_value(c) >= 0;
  if (!ok) {
    throw ModelSourceError("invalid sha256 \"" + sha256 + "\" for " + location +
                           ": expected 64 hex digits, got " + std::to_string(sha256.size()) +
                           " characters");
  }
  return lowercase(sha256);
}

void log_line(const std::string& line) {
  // One write per line so that concurrent writers do not interleave within it.
  const std::string text = "model_source: " + line + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

std::string human_bytes(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) {
    bytes /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[unit]);
  return buf;
}

std::string default_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/llmops/models";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return std::string(home) + "/.cache/llmops/models";
  throw ModelSourceError(
      "no model cache directory: neither XDG_CACHE_HOME nor HOME is set; pass --model-cache DIR");
}

// "<32 hex digits of sha256(url)>-<basename>": unique per URL, readable in `ls`.
std::string cache_file_name(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  std::string base = path.substr(path.rfind('/') + 1);
  std::string safe;
  for (char c : base) {
    const bool ok = is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '-';
    safe.push_back(ok ? c : '_');
  }
  if (safe.size() > 80) safe.erase(0, safe.size() - 80);  // keep the extension
  if (safe.empty() || safe == "." || safe == "..") safe = "model";
  return sha256_string(url).substr(0, 32) + "-" + safe;
}

// An exclusive flock(2) held for the lifetime of the object. Lock files stay in the cache:
// removing one would race with a process that has just opened it.
class CacheLock {
 public:
  CacheLock(const std::string& path, const std::string& what)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_.get() < 0) throw ModelSourceError("lock file " + path + ": " + errno_text(errno));
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) == 0) return;
    if (errno != EWOULDBLOCK) {
      throw ModelSourceError("locking " + path + ": " + errno_text(errno));
    }
    log_line("waiting for another process downloading " + what + " (lock " + path + ")");
    while (::flock(fd_.get(), LOCK_EX) != 0) {
      if (errno != EINTR) throw ModelSourceError("locking " + path + ": " + errno_text(errno));
    }
  }

 private:
  Fd fd_;
};

void fsync_path(const std::string& path, int flags) {
  Fd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    throw ModelSourceError("fsync " + path + ": " + errno_text(errno));
  }
}

void verify_sha256(const std::string& path, const std::string& expected,
                   const std::string& location) {
  const std::string actual = sha256_file(path);
  if (actual != expected) {
    throw ModelSourceError("sha256 mismatch for " + location + ": expected " + expected + ", got " +
                           actual);
  }
}

// ---- https download -------------------------------------------------------------------

void init_curl_once() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) {
    throw ModelSourceError(std::string("libcurl initialisation failed: ") +
                           curl_easy_strerror(result));
  }
}

struct CurlFree {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

// State shared with libcurl's callbacks during one transfer attempt.
struct Transfer {
  CURL* curl = nullptr;
  int fd = -1;
  std::string shown_url;  // redacted
  std::string ca_file;
  curl_off_t offset = 0;  // bytes already in the .partial file when the attempt began
  bool body_started = false;
  int write_errno = 0;
  std::string ca_error;
  std::optional<curl_off_t> unsatisfiable_total;  // from "Content-Range: bytes */N"
  Clock::time_point last_progress = Clock::now();
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * count;
  std::string_view line(data, len);
  if (line.starts_with("HTTP/")) t->unsatisfiable_total.reset();  // a new response (redirects)
  constexpr std::string_view kName = "content-range:";
  if (line.size() > kName.size() && lowercase(std::string(line.substr(0, kName.size()))) == kName) {
    const std::string value(line.substr(kName.size()));
    const size_t star = value.find("*/");
    if (star != std::string::npos) {
      char* end = nullptr;
      const long long total = std::strtoll(value.c_str() + star + 2, &end, 10);
      if (end != value.c_str() + star + 2 && total >= 0) t->unsatisfiable_total = total;
    }
  }
  return len;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * count;
  if (!t->body_started) {
    t->body_started = true;
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    // Error bodies never reach the file (FAILONERROR is not used: it hides 416's headers).
    if (code >= 300) return 0;
    if (t->offset > 0 && code != 206) {
      // The server sent the whole file instead of the requested range: start over.
      log_line("server ignored the range request for " + t->shown_url + " (HTTP " +
               std::to_string(code) + "): downloading from the start");
      if (::ftruncate(t->fd, 0) != 0 || ::lseek(t->fd, 0, SEEK_SET) < 0) {
        t->write_errno = errno;
        return 0;
      }
      t->offset = 0;
    }
  }
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::write(t->fd, data + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      t->write_errno = errno;
      return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
    }
    done += static_cast<size_t>(n);
  }
  return len;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  const auto now = Clock::now();
  if (now - t->last_progress < kProgressInterval) return 0;
  t->last_progress = now;
  const double have = static_cast<double>(t->offset + dlnow);
  std::string line = "downloading " + t->shown_url + ": " + human_bytes(have);
  if (dltotal > 0) {
    const double total = static_cast<double>(t->offset + dltotal);
    line += " of " + human_bytes(total) + " (" +
            std::to_string(static_cast<int>(100.0 * have / total)) + "%)";
  }
  log_line(line);
  return 0;
}

CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* user) {
  auto* t = static_cast<Transfer*>(user);
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  ERR_clear_error();
  if (store == nullptr || X509_STORE_load_file(store, t->ca_file.c_str()) != 1) {
    char buf[256] = "no certificates found";
    if (const unsigned long err = ERR_get_error(); err != 0)
      ERR_error_string_n(err, buf, sizeof buf);
    t->ca_error = buf;
    return CURLE_SSL_CACERT_BADFILE;
  }
  return CURLE_OK;
}

template <typename T>
void set_option(CURL* curl, CURLoption option, T value, const char* name) {
  const CURLcode rc = curl_easy_setopt(curl, option, value);
  if (rc != CURLE_OK) {
    throw ModelSourceError(std::string("libcurl option ") + name + ": " + curl_easy_strerror(rc));
  }
}

enum class Outcome { kComplete, kRestart, kRetry };

// One transfer attempt into `partial_path`, resuming from its current size.
// Throws on errors that a retry would not cure.
Outcome transfer_once(const std::string& url, const std::string& partial_path,
                      const std::string& ca_file, std::string& last_error) {
  Fd fd(::open(partial_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw ModelSourceError("creating " + partial_path + ": " + errno_text(errno));
  const off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size < 0) throw ModelSourceError("seeking " + partial_path + ": " + errno_text(errno));

  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) throw ModelSourceError("libcurl could not create a handle");
  Transfer t;
  t.curl = curl.get();
  t.fd = fd.get();
  t.shown_url = redact_url(url);
  t.ca_file = ca_file;
  t.offset = size;
  char errbuf[CURL_ERROR_SIZE] = "";

  CURL* c = curl.get();
  set_option(c, CURLOPT_URL, url.c_str(), "URL");
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: the string forms; the bitmask ones are deprecated
  set_option(c, CURLOPT_PROTOCOLS_STR, "https", "PROTOCOLS_STR");
  set_option(c, CURLOPT_REDIR_PROTOCOLS_STR, "https", "REDIR_PROTOCOLS_STR");
#else
  set_option(c, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTPS), "PROTOCOLS");
  set_option(c, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTPS), "REDIR_PROTOCOLS");
#endif
  set_option(c, CURLOPT_FOLLOWLOCATION, 1L, "FOLLOWLOCATION");
  set_option(c, CURLOPT_MAXREDIRS, kMaxRedirects, "MAXREDIRS");
  set_option(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds, "CONNECTTIMEOUT");
  set_option(c, CURLOPT_LOW_SPEED_LIMIT, kLowSpeedBytesPerSecond, "LOW_SPEED_LIMIT");
  set_option(c, CURLOPT_LOW_SPEED_TIME, kLowSpeedSeconds, "LOW_SPEED_TIME");
  set_option(c, CURLOPT_NOSIGNAL, 1L, "NOSIGNAL");
  set_option(c, CURLOPT_SSL_VERIFYPEER, 1L, "SSL_VERIFYPEER");
  set_option(c, CURLOPT_SSL_VERIFYHOST, 2L, "SSL_VERIFYHOST");
  set_option(c, CURLOPT_USERAGENT, "llmops-runtime", "USERAGENT");
  set_option(c, CURLOPT_ERRORBUFFER, errbuf, "ERRORBUFFER");
  set_option(c, CURLOPT_WRITEFUNCTION, on_body, "WRITEFUNCTION");
  set_option(c, CURLOPT_WRITEDATA, &t, "WRITEDATA");
  set_option(c, CURLOPT_HEADERFUNCTION, on_header, "HEADERFUNCTION");
  set_option(c, CURLOPT_HEADERDATA, &t, "HEADERDATA");
  set_option(c, CURLOPT_NOPROGRESS, 0L, "NOPROGRESS");
  set_option(c, CURLOPT_XFERINFOFUNCTION, on_progress, "XFERINFOFUNCTION");
  set_option(c, CURLOPT_XFERINFODATA, &t, "XFERINFODATA");
  if (!ca_file.empty()) {
    // Adds the CAs to the store libcurl filled from the system trust store (OpenSSL only).
    set_option(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx, "SSL_CTX_FUNCTION");
    set_option(c, CURLOPT_SSL_CTX_DATA, &t, "SSL_CTX_DATA");
  }
  if (size > 0) {
    set_option(c, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(size), "RESUME_FROM_LARGE");
    log_line("resuming " + t.shown_url + " at byte " + std::to_string(size));
  }

  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  const std::string prefix = "downloading " + t.shown_url + ": ";

  if (t.write_errno != 0) {
    throw ModelSourceError(prefix + "writing " + partial_path + ": " + errno_text(t.write_errno));
  }
  if (status == 416 && size > 0) {
    // The range starts at or past the end: complete if the sizes agree, else stale bytes.
    if (t.unsatisfiable_total && *t.unsatisfiable_total == size) return Outcome::kComplete;
    log_line(partial_path + " does not match " + t.shown_url + " (HTTP 416): downloading again");
    return Outcome::kRestart;
  }
  // Checked before CURLE_RANGE_ERROR, which libcurl also reports for an error response to
  // a resumed request: a 503 must not throw away a partial download.
  if (status >= 300 && (rc == CURLE_OK || rc == CURLE_WRITE_ERROR || rc == CURLE_RANGE_ERROR)) {
    last_error = prefix + "HTTP " + std::to_string(status);
    if (status >= 500 || status == 408 || status == 429) return Outcome::kRetry;
    throw ModelSourceError(last_error);
  }
  if (rc == CURLE_OK) return Outcome::kComplete;
  if (rc == CURLE_RANGE_ERROR) {
    log_line("server does not support resuming " + t.shown_url + ": downloading from the start");
    return Outcome::kRestart;
  }
  std::string detail = curl_easy_strerror(rc);
  if (errbuf[0] != '\0') detail += std::string(" (") + errbuf + ")";
  if (!t.ca_error.empty()) detail += "; loading CA file " + ca_file + ": " + t.ca_error;
  last_error = prefix + detail;
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return Outcome::kRetry;
    default:
      throw ModelSourceError(last_error);
  }
}

// Fills `partial_path` with the complete body of `url`, resuming what is already there.
void download_with_retries(const std::string& url, const std::string& partial_path,
                           const std::string& ca_file) {
  init_curl_once();
  const std::string shown = redact_url(url);
  log_line("downloading " + shown + " to " + partial_path);
  const auto start = Clock::now();
  std::string last_error;
  int failures = 0;
  int restarts = 0;
  while (true) {
    const Outcome outcome = transfer_once(url, partial_path, ca_file, last_error);
    if (outcome == Outcome::kComplete) break;
    if (outcome == Outcome::kRestart) {
      // At most once: a server that keeps answering "restart" is not making progress.
      if (++restarts > 1)
        throw ModelSourceError("downloading " + shown + ": range handling failed twice");
      if (::truncate(partial_path.c_str(), 0) != 0) {
        throw ModelSourceError("truncating " + partial_path + ": " + errno_text(errno));
      }
      continue;
    }
    if (++failures >= kMaxAttempts) {
      throw ModelSourceError(last_error + " (after " + std::to_string(failures) + " attempts)");
    }
    log_line(last_error + "; retrying");
    std::this_thread::sleep_for(std::chrono::seconds(failures));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::error_code ec;
  const auto bytes = fs::file_size(partial_path, ec);
  char took[32];
  std::snprintf(took, sizeof took, "%.1f", seconds);
  log_line("downloaded " + shown + ": " + human_bytes(ec ? 0.0 : static_cast<double>(bytes)) +
           " in " + took + " s");
}

void download(const std::string& url, const std::string& partial_path, const std::string& ca_file) {
  try {
    download_with_retries(url, partial_path, ca_file);
  } catch (const ModelSourceError&) {
    // Keep bytes worth resuming; an empty file is only clutter in the cache.
    std::error_code ec;
    if (fs::file_size(partial_path, ec) == 0 && !ec) fs::remove(partial_path, ec);
    throw;
  }
}

std::string resolve_https(const ModelSourceOptions& options, const std::string& expected,
                          const std::string& shown) {
  const std::string dir = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw ModelSourceError("creating model cache directory " + dir + ": " + ec.message());
  if (!options.ca_file.empty() && ::access(options.ca_file.c_str(), R_OK) != 0) {
    throw ModelSourceError("CA file " + options.ca_file + ": " + errno_text(errno));
  }

  std::string final_path = dir + "/" + cache_file_name(options.location);
  const std::string partial_path = final_path + ".partial";
  CacheLock lock(final_path + ".lock", shown);

  struct stat st {};
  if (::stat(final_path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    if (expected.empty() || sha256_file(final_path) == expected) return final_path;
    // Stale or corrupt: the pinned hash is the truth, so fetch the bytes again.
    log_line("cached " + final_path + " does not match the expected sha256: downloading again");
    ::unlink(final_path.c_str());
  }

  download(options.location, partial_path, options.ca_file);
  fsync_path(partial_path, O_RDONLY);
  if (!expected.empty()) {
    try {
      verify_sha256(partial_path, expected, shown);
    } catch (const ModelSourceError&) {
      ::unlink(partial_path.c_str());  // never leave bytes we know are wrong in the cache
      throw;
    }
  }
  if (::rename(partial_path.c_str(), final_path.c_str()) != 0) {
    throw ModelSourceError("renaming " + partial_path + " to " + final_path + ": " +
                           errno_text(errno));
  }
  fsync_path(dir, O_RDONLY | O_DIRECTORY);
  return final_path;
}

}  // namespace

std::string sha256_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw ModelSourceError("sha256 of " + path + ": " + errno_text(errno));
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  DigestCtx ctx = new_sha256(path);
  std::vector<unsigned char> buf(kReadChunk);
  while (true) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ModelSourceError("sha256 of " + path + ": reading: " + errno_text(errno));
    }
    if (EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n)) != 1) {
      throw ModelSourceError("sha256 of " + path + ": OpenSSL digest update failed");
    }
  }
  return finish_sha256(ctx.get(), path);
}

std::string resolve_model(const ModelSourceOptions& options) {
  const std::string& location = options.location;
  const std::string shown = redact_url(location);
  if (location.empty()) throw ModelSourceError("no model location given (--model PATH|URL)");
  const std::string expected = normalized_sha256(options.sha256, shown);

  const std::optional<std::string> scheme = url_scheme(location);
  std::string path;
  if (!scheme) {
    path = require_regular_file(location, location);
  } else if (*scheme == "file") {
    path = require_regular_file(file_url_path(location), location);
  } else if (*scheme == "https") {
    return resolve_https(options, expected, shown);
  } else if (*scheme == "http") {
    throw ModelSourceError("refusing " + shown +
                           ": plain http:// is not authenticated, so the model could be altered "
                           "in transit unnoticed; use https://");
  } else {
    throw ModelSourceError("unsupported URL scheme \"" + *scheme + "\" in model location " + shown +
                           ": use a path, file:///absolute/path or https://");
  }
  if (!expected.empty()) verify_sha256(path, expected, shown);
  return path;
}

}  // namespace llmops::server
