// A fresh directory under the system temp folder, removed at the end of the test.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace muroan::testing_util {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "muroan-test") {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace muroan::testing_util
