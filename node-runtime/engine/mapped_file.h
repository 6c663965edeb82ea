// A read-only memory mapping of a whole file, kept alive by shared ownership so that
// tensor views into it stay valid as long as some Model holds the mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace llmops::engine {

// Throws ModelError unless `path` is a regular file (symlinks followed): checked before
// opening, because opening a FIFO for reading waits for a writer, forever.
void require_regular_file(const std::string& path);

class MappedFile {
 public:
  // Maps `path` read-only. An empty file maps to data() == nullptr, size() == 0.
  // Throws ModelError naming the path and the system error.
  static std::shared_ptr<const MappedFile> open(const std::string& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}

  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace llmops::engine
