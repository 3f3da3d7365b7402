// Writing result files so that a failing disk or an interrupted process never
// loses finished work: one implementation for every module.
//
//   muroan::write_file_atomically("runs/x/summary.json", text);  // all or nothing
//   muroan::AppendFile jsonl("runs/x/results.jsonl");             // one record a line
//   jsonl.write_line(record_json);                                // on disk before it returns
//
// Errors are InputError naming the file and the system's reason ("No space
// left on device"), never a silently short file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace muroan {

// Writes `text` to `path` through "<path>[.<tag>].tmp": written in full,
// flushed to the disk (fsync), closed (its error checked), then renamed over
// `path`. On any failure the temporary is removed and `path` keeps its old
// content. `tag` names the temporary of one of several concurrent writers.
void write_file_atomically(const std::string& path, const std::string& text, const std::string& tag = "");

// The whole content of a regular file of at most `max_bytes`. Throws
// InputError (with the system's reason) for a missing or unreadable file, for
// what is not a regular file (a device such as /dev/zero, a directory), and for
// a larger file, before reading it.
std::string read_file_limited(const std::string& path, uint64_t max_bytes);
// Throws InputError unless `path` is a regular file of at most `max_bytes`.
void check_regular_file(const std::string& path, uint64_t max_bytes);

// A fingerprint of the contents of `paths` (FNV-1a 64, hex), to tell whether
// a model or data file changed between two runs. Throws InputError for a file
// that cannot be read.
std::string file_fingerprint(const std::vector<std::string>& paths);
// The same over bytes in memory, e.g. tensors' storage; `seed` chains calls.
uint64_t fnv1a(const void* data, size_t size, uint64_t seed = 0xcbf29ce484222325ULL);

// A file opened for appending whole lines. Each write_line hands the whole
// line to the system (a process killed afterwards loses nothing); sync()
// flushes to the disk; the destructor syncs and closes, ignoring errors (call
// close() to see them).
class AppendFile {
 public:
  AppendFile() = default;
  explicit AppendFile(const std::string& path);  // creates the file if missing
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  AppendFile(AppendFile&& other) noexcept;
  AppendFile& operator=(AppendFile&& other) noexcept;

  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  // Appends `line` and a newline. Throws InputError when not all of it is written.
  void write_line(const std::string& line);
  void sync();
  void close();

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace muroan
