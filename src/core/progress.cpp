#include "muroan/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace muroan {

std::string format_duration(double seconds) {
  char buf[32];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else if (seconds < 3600) {
    const int s = static_cast<int>(std::lround(seconds));
    std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
  } else {
    const int s = static_cast<int>(std::lround(seconds));
    std::snprintf(buf, sizeof buf, "%dh%02dm", s / 3600, (s % 3600) / 60);
  }
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total, bool quiet)
    : label_(std::move(label)),
      total_(total > 0 ? total : 1),
      quiet_(quiet),
      tty_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::update(int64_t done, const std::string& status) {
  if (quiet_) return;
  const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
  const double elapsed = elapsed_seconds();
  const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0.0;
  if (tty_) {
    const auto now = std::chrono::steady_clock::now();
    if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %3d%% %s ETA %s", label_.c_str(), bar.c_str(), static_cast<int>(frac * 100),
                 status.c_str(), format_duration(eta).c_str());
    std::fflush(stderr);
  } else {
    const int decile = static_cast<int>(frac * 10);
    if (decile == last_decile_ || decile == 0) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s %3d%% %s ETA %s\n", label_.c_str(), decile * 10, status.c_str(),
                 format_duration(eta).c_str());
  }
}

void ProgressBar::finish(const std::string& summary) {
  if (quiet_) return;
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s: %s (%s)\n", label_.c_str(), summary.c_str(), format_duration(elapsed_seconds()).c_str());
  std::fflush(stderr);
}

}  // namespace muroan
