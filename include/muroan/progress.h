// A progress bar with ETA on standard error, and one summary line when a step
// ends. On a terminal the bar redraws in place; otherwise it prints a line at
// each 10% so that logs stay short. Quiet bars print nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace muroan {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool quiet = false);
  // `done` of `total` finished; `status` is shown after the bar (e.g. "loss 0.41").
  void update(int64_t done, const std::string& status = "");
  // Clears the bar and prints `label: summary (elapsed)` on one line.
  void finish(const std::string& summary);
  double elapsed_seconds() const;

 private:
  std::string label_;
  int64_t total_;
  bool quiet_;
  bool tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "1m05s", "3.2s"
std::string format_duration(double seconds);

}  // namespace muroan
