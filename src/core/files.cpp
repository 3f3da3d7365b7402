#include "muroan/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "muroan/error.h"

namespace muroan {
namespace {

std::string reason(int err) { return std::strerror(err); }

// Writes all of [data, data + size) to fd; false (errno set) on failure.
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Hands the file's content to `take(data, n)` chunk by chunk; the file is
// closed whatever `take` throws.
void read_chunks(const std::string& path, const std::function<void(const char*, size_t)>& take) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path, "cannot open for reading: " + reason(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::vector<char> buf(1 << 16);
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError(path, "read failed: " + reason(errno));
    }
    if (n == 0) return;
    take(buf.data(), static_cast<size_t>(n));
  }
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& text, const std::string& tag) {
  const std::string tmp = path + (tag.empty() ? "" : "." + tag) + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(tmp, "cannot open for writing: " + reason(errno));
  auto fail = [&](const std::string& what, int err, bool opened) {
    if (opened) ::close(fd);
    ::unlink(tmp.c_str());
    throw InputError(tmp, what + ": " + reason(err) + " (" + path + " is unchanged)");
  };
  if (!write_all(fd, text.data(), text.size())) fail("write failed", errno, true);
  if (::fsync(fd) != 0) fail("flush to disk failed", errno, true);
  if (::close(fd) != 0) fail("close failed", errno, false);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw InputError(path, "cannot replace: " + reason(err));
  }
  // The rename itself reaches the disk with the directory (best effort).
  const int dir = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void check_regular_file(const std::string& path, uint64_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw InputError(path, "cannot open for reading: " + reason(errno));
  if (!S_ISREG(st.st_mode))
    throw InputError(path, S_ISDIR(st.st_mode) ? "a directory, expected a file" : "not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    throw InputError(path, std::to_string(st.st_size) + " bytes, more than the " + std::to_string(max_bytes) +
                               " this file may have");
}

std::string read_file_limited(const std::string& path, uint64_t max_bytes) {
  check_regular_file(path, max_bytes);
  std::string out;
  read_chunks(path, [&](const char* data, size_t n) {
    out.append(data, n);
    if (out.size() > max_bytes)  // it grew while being read
      throw InputError(path, "more than the " + std::to_string(max_bytes) + " bytes this file may have");
  });
  return out;
}

uint64_t fnv1a(const void* data, size_t size, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = seed;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string file_fingerprint(const std::vector<std::string>& paths) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& path : paths) {
    read_chunks(path, [&h](const char* data, size_t n) { h = fnv1a(data, n, h); });
    const char end = 0;  // file boundaries matter
    h = fnv1a(&end, 1, h);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

AppendFile::AppendFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(path, "cannot open for appending: " + reason(errno));
}

AppendFile::AppendFile(AppendFile&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) { other.fd_ = -1; }

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::fsync(fd_);
      ::close(fd_);
    }
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
}

void AppendFile::write_line(const std::string& line) {
  if (fd_ < 0) throw InputError(path_, "not open for appending");
  std::string buf = line;
  buf += '\n';
  if (!write_all(fd_, buf.data(), buf.size())) throw InputError(path_, "write failed: " + reason(errno));
}

void AppendFile::sync() {
  if (fd_ >= 0 && ::fsync(fd_) != 0) throw InputError(path_, "flush to disk failed: " + reason(errno));
}

void AppendFile::close() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  const bool synced = ::fsync(fd) == 0;
  const int sync_err = errno;
  if (::close(fd) != 0) throw InputError(path_, "close failed: " + reason(errno));
  if (!synced) throw InputError(path_, "flush to disk failed: " + reason(sync_err));
}

}  // namespace muroan
