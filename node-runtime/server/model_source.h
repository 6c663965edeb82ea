// Model source: turns `serve --model PATH|URL [--model-sha256 HEX] [--model-cache DIR]`
// into a local file the engine can map. Local paths and file:// URLs are used in place;
// https:// URLs are downloaded once into a cache directory (resumable, verified TLS).
#pragma once

#include <stdexcept>
#include <string>

namespace llmops::server {

// A model location that cannot be turned into a usable local file. The message names the
// location (with any URL query string and user info removed), and the values at fault.
class ModelSourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ModelSourceOptions {
  // A filesystem path, a file:///abs/path URL (percent-encoded) or an https:// URL.
  // http:// is refused: its bytes could be changed in transit unnoticed.
  std::string location;
  // Optional expected SHA-256 of the bytes, 64 hex digits in either case.
  std::string sha256;
  // Where downloads are kept. Default: $XDG_CACHE_HOME/llmops/models, else
  // $HOME/.cache/llmops/models. Created (with parents) when missing.
  std::string cache_dir;
  // Optional PEM bundle of CAs trusted for https in addition to the system trust store
  // (tests use it for their own CA). TLS peers and host names are always verified.
  std::string ca_file;
};

// Returns the path of a local regular file holding the model's bytes. A download is
// cached under a name derived from the URL, so a second call needs no network; with
// `sha256` set, the bytes are verified before returning and a mismatching download is
// removed from the cache. Safe against other processes resolving the same URL (flock).
// Throws ModelSourceError.
std::string resolve_model(const ModelSourceOptions& options);

// The SHA-256 of a file's contents as 64 lowercase hex digits, read in chunks (models
// can be many GB). Throws ModelSourceError naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace llmops::server
