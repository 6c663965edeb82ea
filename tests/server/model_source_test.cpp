// Tests for server/model_source: local paths and file:// URLs, SHA-256, and https downloads
// from a local HTTPS server (tests/server/https_test_server.py) with a CA made per run.
#include "server/model_source.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace llmops::server {
namespace {

namespace fs = std::filesystem;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/llmops-model-source-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out.flush()) throw std::runtime_error("writing " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("reading " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

// Deterministic bytes that are not a repeating pattern (so misplaced ranges show).
std::string model_bytes(size_t n) {
  std::string out(n, '\0');
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x & 0xff);
  }
  return out;
}

std::string percent_encode_path(const std::string& path) {
  std::string out;
  char buf[4];
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string resolve_error(const ModelSourceOptions& options) {
  try {
    const std::string path = resolve_model(options);
    return "no error; resolved to " + path;
  } catch (const ModelSourceError& e) {
    return e.what();
  }
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& output_path) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("spawning " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Runs a command to completion; throws with its output when it fails.
void run(const std::vector<std::string>& argv, const std::string& output_path) {
  const pid_t pid = spawn(argv, output_path);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(argv[0] + " " + argv[1] + " failed: " + read_file(output_path));
  }
}

std::string python() {
  return ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

// A CA and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI.
struct TestPki {
  TempDir dir;
  std::string ca_pem = dir.path() + "/ca.pem";
  std::string server_pem = dir.path() + "/server.pem";
  std::string server_key = dir.path() + "/server.key";

  TestPki() {
    const std::string d = dir.path();
    const std::string out = d + "/openssl.log";
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1"};
    std::vector<std::string> ca = {"openssl", "req",
                                   "-x509",   "-nodes",
                                   "-days",   "2",
                                   "-subj",   "/CN=llmops test CA",
                                   "-keyout", d + "/ca.key",
                                   "-out",    ca_pem,
                                   "-addext", "basicConstraints=critical,CA:TRUE",
                                   "-addext", "keyUsage=critical,keyCertSign,cRLSign"};
    ca.insert(ca.begin() + 2, ec.begin(), ec.end());
    run(ca, out);
    std::vector<std::string> csr = {"openssl",  "req",           "-nodes",
                                    "-subj",    "/CN=127.0.0.1", "-keyout",
                                    server_key, "-out",          d + "/server.csr"};
    csr.insert(csr.begin() + 2, ec.begin(), ec.end());
    run(csr, out);
    write_file(d + "/server.ext",
               "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
               "extendedKeyUsage=serverAuth\n");
    run({"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", ca_pem, "-CAkey",
         d + "/ca.key", "-CAcreateserial", "-days", "2", "-extfile", d + "/server.ext", "-out",
         server_pem},
        out);
  }
};

// tests/server/https_test_server.py serving `root`, stopped (SIGTERM) on destruction.
class HttpsServer {
 public:
  HttpsServer(const TestPki& pki, const std::string& root, const std::string& work,
              bool ignore_range = false)
      : log_path_(work + "/requests.log") {
    const std::string port_file = work + "/port";
    fs::remove(port_file);
    std::vector<std::string> argv = {
        python(), LLMOPS_HTTPS_TEST_SERVER, "--root",      root,      "--cert", pki.server_pem,
        "--key",  pki.server_key,           "--port-file", port_file, "--log",  log_path_};
    if (ignore_range) argv.push_back("--ignore-range");
    const std::string output = work + "/server.out";
    pid_ = spawn(argv, output);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fs::exists(port_file)) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("https_test_server.py exited: " + read_file(output));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        stop();
        throw std::runtime_error("https_test_server.py did not start: " + read_file(output));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    port_ = std::stoi(read_file(port_file));
  }
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;
  ~HttpsServer() { stop(); }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string requests() const { return fs::exists(log_path_) ? read_file(log_path_) : ""; }
  void clear_requests() const { write_file(log_path_, ""); }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
};

size_t count_occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// ---- local paths and file:// URLs ------------------------------------------------------

TEST(ModelSourceLocal, PlainPathIsReturnedAsIs) {
  TempDir tmp;
  const std::string path = tmp.path() + "/model.gguf";
  write_file(path, "GGUF");
  EXPECT_EQ(resolve_model({.location = path}), path);
}

TEST(ModelSourceLocal, FileUrlIsPercentDecoded) {
  TempDir tmp;
  fs::create_directory(tmp.path() + "/my models");
  const std::string path = tmp.path() + "/my models/story v2.gguf";
  write_file(path, "GGUF");
  const std::string url = "file://" + percent_encode_path(path);
  ASSERT_THAT(url, HasSubstr("%20"));
  EXPECT_EQ(resolve_model({.location = url}), path);
}

TEST(ModelSourceLocal, FileUrlWithHostIsRejected) {
  const std::string error = resolve_error({.location = "file://fileserver/models/a.gguf"});
  EXPECT_THAT(error, HasSubstr("fileserver"));
  EXPECT_THAT(error, HasSubstr("file:///"));
}

TEST(ModelSourceLocal, BadPercentEncodingIsRejected) {
  EXPECT_THAT(resolve_error({.location = "file:///tmp/a%2"}), HasSubstr("percent-encoding"));
  EXPECT_THAT(resolve_error({.location = "file:///tmp/a%zz.gguf"}), HasSubstr("percent-encoding"));
}

TEST(ModelSourceLocal, MissingFileNamesThePath) {
  TempDir tmp;
  const std::string path = tmp.path() + "/absent.gguf";
  const std::string error = resolve_error({.location = path});
  EXPECT_THAT(error, HasSubstr(path));
  EXPECT_THAT(error, HasSubstr("No such file"));
  const std::string url_error = resolve_error({.location = "file://" + path});
  EXPECT_THAT(url_error, HasSubstr(path));
}

TEST(ModelSourceLocal, DirectoryIsRejected) {
  TempDir tmp;
  const std::string error = resolve_error({.location = tmp.path()});
  EXPECT_THAT(error, HasSubstr(tmp.path()));
  EXPECT_THAT(error, HasSubstr("not a regular file"));
}

TEST(ModelSourceLocal, HttpIsRejectedWithTheReason) {
  const std::string error =
      resolve_error({.location = "http://models.example/a.gguf?token=s3cr3t"});
  EXPECT_THAT(error, HasSubstr("http://models.example/a.gguf"));
  EXPECT_THAT(error, HasSubstr("https://"));
  EXPECT_THAT(error, HasSubstr("not authenticated"));
  EXPECT_THAT(error, Not(HasSubstr("s3cr3t")));
}

TEST(ModelSourceLocal, UnknownSchemeIsRejected) {
  const std::string error = resolve_error({.location = "s3://bucket/model.gguf"});
  EXPECT_THAT(error, HasSubstr("\"s3\""));
  EXPECT_THAT(error, HasSubstr("s3://bucket/model.gguf"));
}

TEST(ModelSourceLocal, EmptyLocationIsRejected) {
  EXPECT_THAT(resolve_error({}), HasSubstr("--model"));
}

// ---- SHA-256 ---------------------------------------------------------------------------

TEST(ModelSourceSha256, KnownDigests) {
  TempDir tmp;
  const std::string path = tmp.path() + "/f";
  write_file(path, "abc");
  EXPECT_EQ(sha256_file(path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  write_file(path, "");
  EXPECT_EQ(sha256_file(path), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ModelSourceSha256, LargeFileReadInChunksMatchesOneShotDigest) {
  TempDir tmp;
  const std::string path = tmp.path() + "/big";
  const std::string content = model_bytes((3 << 20) + 12345);  // spans several read chunks
  write_file(path, content);
  EXPECT_EQ(sha256_file(path), sha256_hex(content));
}

TEST(ModelSourceSha256, MissingFileIsNamed) {
  EXPECT_THAT(
      [] {
        try {
          sha256_file("/nonexistent/llmops/model.bin");
        } catch (const ModelSourceError& e) {
          return std::string(e.what());
        }
        return std::string("no error");
      }(),
      HasSubstr("/nonexistent/llmops/model.bin"));
}

TEST(ModelSourceSha256, LocalFileMatchesInEitherCase) {
  TempDir tmp;
  const std::string path = tmp.path() + "/m.bin";
  write_file(path, "abc");
  const std::string upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
  EXPECT_EQ(resolve_model({.location = path, .sha256 = upper}), path);
}

TEST(ModelSourceSha256, LocalMismatchNamesBothHashes) {
  TempDir tmp;
  const std::string path = tmp.path() + "/m.bin";
  write_file(path, "abd");
  const std::string expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const std::string error = resolve_error({.location = path, .sha256 = expected});
  EXPECT_EQ(error, "sha256 mismatch for " + path + ": expected " + expected + ", got " +
                       sha256_hex("abd"));
}

TEST(ModelSourceSha256, MalformedHashIsRejected) {
  TempDir tmp;
  const std::string path = tmp.path() + "/m.bin";
  write_file(path, "abc");
  const std::string error = resolve_error({.location = path, .sha256 = "abc123"});
  EXPECT_THAT(error, HasSubstr("64 hex digits"));
  EXPECT_THAT(error, HasSubstr("abc123"));
}

// ---- https downloads -------------------------------------------------------------------

class ModelSourceHttps : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override {
    root_ = tmp_.path() + "/www";
    cache_ = tmp_.path() + "/cache";
    fs::create_directories(root_);
    content_ = model_bytes((1 << 20) + 4321);
    write_file(root_ + "/model.bin", content_);
  }

  std::unique_ptr<HttpsServer> start_server(bool ignore_range = false) {
    return std::make_unique<HttpsServer>(*pki_, root_, tmp_.path(), ignore_range);
  }
  ModelSourceOptions options(const HttpsServer& server, const std::string& path = "/model.bin") {
    return {.location = server.url(path), .cache_dir = cache_, .ca_file = pki_->ca_pem};
  }
  // Makes the cache look like an interrupted download: `.partial` holds `bytes`.
  std::string fake_partial(const std::string& cached_path, const std::string& bytes) {
    fs::remove(cached_path);
    write_file(cached_path + ".partial", bytes);
    return cached_path;
  }

  static TestPki* pki_;
  TempDir tmp_;
  std::string root_;
  std::string cache_;
  std::string content_;
};
TestPki* ModelSourceHttps::pki_ = nullptr;

TEST_F(ModelSourceHttps, DownloadsIntoTheCache) {
  auto server = start_server();
  const std::string path = resolve_model(options(*server));
  EXPECT_EQ(fs::path(path).parent_path(), fs::path(cache_));
  EXPECT_THAT(path, HasSubstr("model.bin"));
  EXPECT_TRUE(read_file(path) == content_);
  EXPECT_FALSE(fs::exists(path + ".partial"));
  EXPECT_EQ(count_occurrences(server->requests(), "GET /model.bin range=-"), 1u);
}

TEST_F(ModelSourceHttps, CacheDirectoryIsCreatedWithParents) {
  auto server = start_server();
  cache_ = tmp_.path() + "/a/b/c";
  const std::string path = resolve_model(options(*server));
  EXPECT_EQ(fs::path(path).parent_path(), fs::path(cache_));
}

TEST_F(ModelSourceHttps, DefaultCacheDirFollowsXdgCacheHome) {
  auto server = start_server();
  const std::string xdg = tmp_.path() + "/xdg";
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  ::setenv("XDG_CACHE_HOME", xdg.c_str(), 1);
  ModelSourceOptions o = options(*server);
  o.cache_dir.clear();
  std::string path;
  EXPECT_NO_THROW(path = resolve_model(o));
  if (old)
    ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else
    ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(fs::path(path).parent_path(), fs::path(xdg + "/llmops/models"));
}

TEST_F(ModelSourceHttps, SecondResolveUsesTheCacheWithoutNetwork) {
  auto server = start_server();
  ModelSourceOptions o = options(*server);
  o.sha256 = sha256_hex(content_);
  const std::string first = resolve_model(o);
  server->stop();
  EXPECT_EQ(resolve_model(o), first);
  o.sha256.clear();
  EXPECT_EQ(resolve_model(o), first);
  EXPECT_TRUE(read_file(first) == content_);
}

TEST_F(ModelSourceHttps, ResumesAPartialDownloadWithARangeRequest) {
  auto server = start_server();
  const std::string path = resolve_model(options(*server));
  const size_t half = content_.size() / 2;
  fake_partial(path, content_.substr(0, half));
  server->clear_requests();
  EXPECT_EQ(resolve_model(options(*server)), path);
  EXPECT_THAT(server->requests(),
              HasSubstr("GET /model.bin range=bytes=" + std::to_string(half) + "-"));
  EXPECT_TRUE(read_file(path) == content_);
  EXPECT_FALSE(fs::exists(path + ".partial"));
}

TEST_F(ModelSourceHttps, ResumesThroughARedirect) {
  auto server = start_server();
  const std::string path = resolve_model(options(*server, "/redirect/model.bin"));
  const size_t third = content_.size() / 3;
  fake_partial(path, content_.substr(0, third));
  server->clear_requests();
  EXPECT_EQ(resolve_model(options(*server, "/redirect/model.bin")), path);
  EXPECT_THAT(server->requests(),
              HasSubstr("GET /model.bin range=bytes=" + std::to_string(third) + "-"));
  EXPECT_TRUE(read_file(path) == content_);
}

TEST_F(ModelSourceHttps, ErrorWhileResumingKeepsThePartialDownload) {
  auto server = start_server();
  const std::string path = resolve_model(options(*server));
  const std::string half = content_.substr(0, content_.size() / 2);
  fake_partial(path, half);
  fs::remove(root_ + "/model.bin");
  EXPECT_THAT(resolve_error(options(*server)), HasSubstr("HTTP 404"));
  ASSERT_TRUE(fs::exists(path + ".partial"));
  EXPECT_TRUE(read_file(path + ".partial") == half);
}

TEST_F(ModelSourceHttps, ServerIgnoringRangeStillYieldsTheRightFile) {
  auto server = start_server(/*ignore_range=*/true);
  ModelSourceOptions o = options(*server);
  o.sha256 = sha256_hex(content_);
  const std::string path = resolve_model(o);
  const size_t half = content_.size() / 2;
  fake_partial(path, content_.substr(0, half));
  server->clear_requests();
  EXPECT_EQ(resolve_model(o), path);
  EXPECT_THAT(server->requests(), HasSubstr("range=bytes=" + std::to_string(half) + "-"));
  EXPECT_TRUE(read_file(path) == content_);
}

TEST_F(ModelSourceHttps, CompletePartialAnswered416IsAccepted) {
  auto server = start_server();
  const std::string path = resolve_model(options(*server));
  fake_partial(path, content_);
  server->clear_requests();
  EXPECT_EQ(resolve_model(options(*server)), path);
  EXPECT_THAT(server->requests(),
              HasSubstr("range=bytes=" + std::to_string(content_.size()) + "-"));
  EXPECT_TRUE(read_file(path) == content_);
}

TEST_F(ModelSourceHttps, OverlongStalePartialIsDownloadedAgain) {
  auto server = start_server();
  const std::string path = resolve_model(options(*server));
  fake_partial(path, content_ + "stale tail from another version");
  server->clear_requests();
  EXPECT_EQ(resolve_model(options(*server)), path);
  EXPECT_THAT(server->requests(), HasSubstr("GET /model.bin range=-"));
  EXPECT_TRUE(read_file(path) == content_);
}

TEST_F(ModelSourceHttps, NotFoundNamesTheStatusAndHidesTheQuery) {
  auto server = start_server();
  ::testing::internal::CaptureStderr();
  const std::string error = resolve_error(options(*server, "/missing.bin?X-Token=s3cr3t"));
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(error, HasSubstr("HTTP 404"));
  EXPECT_THAT(error, HasSubstr(server->url("/missing.bin")));
  EXPECT_THAT(error, Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(logged, Not(HasSubstr("s3cr3t")));
  EXPECT_EQ(count_occurrences(server->requests(), "GET /missing.bin"), 1u);  // 4xx: no retry
  for (const std::string& name : dir_entries(cache_)) EXPECT_THAT(name, EndsWith(".lock"));
}

TEST_F(ModelSourceHttps, UntrustedCertificateFails) {
  auto server = start_server();
  ModelSourceOptions o = options(*server);
  o.ca_file.clear();
  const std::string error = resolve_error(o);
  EXPECT_THAT(error, HasSubstr("certificate"));
  EXPECT_THAT(error, HasSubstr(server->url("/model.bin")));
}

TEST_F(ModelSourceHttps, MissingCaFileIsNamed) {
  auto server = start_server();
  ModelSourceOptions o = options(*server);
  o.ca_file = tmp_.path() + "/no-ca.pem";
  EXPECT_THAT(resolve_error(o), HasSubstr(o.ca_file));
}

TEST_F(ModelSourceHttps, Sha256MismatchRemovesTheDownload) {
  auto server = start_server();
  ModelSourceOptions o = options(*server);
  o.sha256 = sha256_hex("something else");
  const std::string error = resolve_error(o);
  EXPECT_EQ(error, "sha256 mismatch for " + server->url("/model.bin") + ": expected " + o.sha256 +
                       ", got " + sha256_hex(content_));
  for (const std::string& name : dir_entries(cache_)) EXPECT_THAT(name, EndsWith(".lock"));
}

TEST_F(ModelSourceHttps, CachedFileNotMatchingTheHashIsReplaced) {
  auto server = start_server();
  const std::string path = resolve_model(options(*server));
  write_file(path, "corrupted");
  ModelSourceOptions o = options(*server);
  o.sha256 = sha256_hex(content_);
  EXPECT_EQ(resolve_model(o), path);
  EXPECT_TRUE(read_file(path) == content_);
}

TEST_F(ModelSourceHttps, FollowsHttpsRedirectsButNotToHttp) {
  auto server = start_server();
  const std::string path = resolve_model(options(*server, "/redirect/model.bin"));
  EXPECT_TRUE(read_file(path) == content_);
  const std::string error = resolve_error(options(*server, "/redirect-http/model.bin"));
  EXPECT_THAT(error, HasSubstr("\"http\" not supported"));
  EXPECT_THAT(error, HasSubstr("/redirect-http/model.bin"));
}

TEST_F(ModelSourceHttps, ConcurrentResolvesDownloadOnce) {
  auto server = start_server();
  constexpr int kThreads = 4;
  std::vector<std::string> paths(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      try {
        paths[i] = resolve_model(options(*server));
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(errors[i], "");
    EXPECT_EQ(paths[i], paths[0]);
  }
  EXPECT_EQ(count_occurrences(server->requests(), "GET /model.bin"), 1u);
  EXPECT_TRUE(read_file(paths[0]) == content_);
}

}  // namespace
}  // namespace llmops::server
