#include "html_text.h"

#include <cmath>
#include <cstdio>

namespace muroan::report {

std::string escape_html(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out.push_back(c);
  }
  return out + "\"";
}

std::string format_percent(double share) {
  char buf[32];
  const double p = 100.0 * share;
  if (p == 0.0 || p == 100.0)
    std::snprintf(buf, sizeof buf, "%.0f%%", p);
  else if (std::abs(p) < 1.0)
    std::snprintf(buf, sizeof buf, "%.2f%%", p);
  else
    std::snprintf(buf, sizeof buf, "%.1f%%", p);
  return buf;
}

std::string format_rate(double rate) {
  char buf[32];
  const double p = 100.0 * rate;
  if (p == 0.0)
    std::snprintf(buf, sizeof buf, "0%%");
  else if (std::abs(p) < 0.1)
    std::snprintf(buf, sizeof buf, "%.3f%%", p);
  else if (std::abs(p) < 10.0)
    std::snprintf(buf, sizeof buf, "%.2f%%", p);
  else
    std::snprintf(buf, sizeof buf, "%.1f%%", p);
  return buf;
}

std::string format_number(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

std::string format_seconds(double seconds) {
  char buf[48];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else if (seconds < 3600) {
    const long s = std::lround(seconds);
    std::snprintf(buf, sizeof buf, "%ld min %02ld s", s / 60, s % 60);
  } else {
    const long s = std::lround(seconds);
    std::snprintf(buf, sizeof buf, "%ld h %02ld min", s / 3600, (s % 3600) / 60);
  }
  return buf;
}

}  // namespace muroan::report
