#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"

namespace llmops::engine {

namespace {

[[noreturn]] void fail(const std::string& path, const char* what, int err) {
  throw ModelError(path + ": " + what + ": " + std::strerror(err));
}

// Closes the descriptor on every path out of open(); the mapping does not need it.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

void require_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, "cannot open", errno);
  if (!S_ISREG(st.st_mode)) {
    throw ModelError(path + ": not a regular file" +
                     (S_ISDIR(st.st_mode)    ? " (a directory)"
                      : S_ISFIFO(st.st_mode) ? " (a FIFO: reading it would wait for a writer)"
                                             : ""));
  }
}

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
  require_regular_file(path);
  // O_NONBLOCK: should the path turn into a FIFO between the check and here, open()
  // still returns at once, and fstat() below refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail(path, "cannot open", errno);
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) throw ModelError(path + ": not a regular file");
  const auto size = static_cast<size_t>(st.st_size);
  const uint8_t* data = nullptr;
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) fail(path, "cannot mmap", errno);
    data = static_cast<const uint8_t*>(p);
  }
  return std::shared_ptr<const MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace llmops::engine
