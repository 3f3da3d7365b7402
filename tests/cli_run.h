// Running `muroan` in-process from a test: the exit code and what it printed.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cli_app.h"

namespace muroan::testing_util {

struct CliRun {
  int code;
  std::string out, err;
};

// `muroan args...` through cli::run_cli, with stdout and stderr captured.
inline CliRun run_muroan(const std::vector<std::string>& args) {
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const int code = cli::run_cli(args);
  CliRun r{code, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
  return r;
}

// A failure reported as our errors are: a non-zero code and one "error: ..."
// line on stderr that contains `needle`.
inline void expect_one_line_error(const CliRun& r, const std::string& needle) {
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "'" << needle << "' not in: " << r.err;
}

}  // namespace muroan::testing_util
