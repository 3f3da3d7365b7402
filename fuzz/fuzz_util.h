// Shared by the fuzz targets: a scratch directory for the files a reader takes
// by path, and the rule every target checks: a reader either returns or throws
// muroan::Error (one clear line for the user). Anything else (another
// exception, a crash, a sanitizer report, a hang) is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "muroan/error.h"

namespace muroan::fuzz {

// A directory of this process (on /dev/shm when there is one), made once and
// removed when the process exits normally.
inline const std::filesystem::path& scratch_dir() {
  struct Scratch {
    std::filesystem::path path;
    Scratch() {
      const std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
      path = base / ("muroan-fuzz-" + std::to_string(::getpid()));
      std::filesystem::create_directories(path);
    }
    ~Scratch() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Scratch dir;
  return dir.path;
}

inline std::string write_scratch(const std::string& name, const uint8_t* data, size_t size) {
  const auto path = (scratch_dir() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Runs `f`; a muroan::Error is the expected answer to bad input.
template <typename F>
void expect_answer_or_error(F&& f) {
  try {
    f();
  } catch (const muroan::Error&) {
  }
}

}  // namespace muroan::fuzz
