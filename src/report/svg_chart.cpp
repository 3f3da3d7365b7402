#include "svg_chart.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "html_text.h"

namespace muroan::report {
namespace {

// Tableau 10: distinct, readable on white, kind to most colour-blind readers.
constexpr std::array<const char*, 10> kPalette = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                                  "#b8860b", "#b07aa1", "#ff9da7", "#9c755f", "#7f7f7f"};
constexpr std::array<const char*, 3> kDashes = {"", "6 3", "2 3"};

constexpr int kMarginLeft = 52;
constexpr int kMarginTop = 30;
constexpr int kMarginBottom = 46;
constexpr int kMarginRightBare = 16;
constexpr int kLegendWidth = 138;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// "0.1%", "1%", "10%", "100%"
std::string tick_label(double x) {
  char buf[32];
  const double p = 100.0 * x;
  if (p >= 1.0)
    std::snprintf(buf, sizeof buf, "%.0f%%", p);
  else
    std::snprintf(buf, sizeof buf, "%g%%", p);
  return buf;
}

}  // namespace

std::string series_color(size_t i) { return kPalette[i % kPalette.size()]; }

std::string series_dash(size_t i) { return kDashes[(i / kPalette.size()) % kDashes.size()]; }

std::string render_log_chart(const std::vector<ChartSeries>& series, const LogChart& c) {
  const int right = c.legend ? kLegendWidth : kMarginRightBare;
  const double plot_w = c.width - kMarginLeft - right;
  const double plot_h = c.height - kMarginTop - kMarginBottom;
  const double lx_min = std::log10(c.x_min), lx_max = std::log10(c.x_max);
  auto px = [&](double x) {
    x = std::clamp(x, c.x_min, c.x_max);
    return kMarginLeft + plot_w * (std::log10(x) - lx_min) / (lx_max - lx_min);
  };
  auto py = [&](double y) { return kMarginTop + plot_h * (1.0 - std::clamp(y, 0.0, 1.0)); };

  std::ostringstream s;
  s << "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 " << c.width << ' ' << c.height << "\" width=\"" << c.width
    << "\" height=\"" << c.height << "\" font-family=\"system-ui, sans-serif\" font-size=\"12\">";
  s << "<title>" << escape_html(c.title) << "</title>";
  s << "<text x=\"" << kMarginLeft << "\" y=\"18\" font-size=\"14\" font-weight=\"600\" fill=\"#222\">"
    << escape_html(c.title) << "</text>";

  // Grid and ticks: y every 25%; x at 1, 2 and 5 of each decade, labels at decades.
  for (int k = 0; k <= 4; ++k) {
    const double y = py(k / 4.0);
    s << "<line x1=\"" << kMarginLeft << "\" x2=\"" << num(kMarginLeft + plot_w) << "\" y1=\"" << num(y) << "\" y2=\""
      << num(y) << "\" stroke=\"#e3e3e3\"/>";
    s << "<text x=\"" << kMarginLeft - 6 << "\" y=\"" << num(y + 4) << "\" text-anchor=\"end\" fill=\"#555\">" << k * 25
      << "%</text>";
  }
  for (int e = static_cast<int>(std::floor(lx_min)); e <= static_cast<int>(std::ceil(lx_max)); ++e) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double x = m * std::pow(10.0, e);
      if (x < c.x_min * (1 - 1e-9) || x > c.x_max * (1 + 1e-9)) continue;
      const double X = px(x);
      s << "<line x1=\"" << num(X) << "\" x2=\"" << num(X) << "\" y1=\"" << kMarginTop << "\" y2=\""
        << num(kMarginTop + plot_h) << "\" stroke=\"" << (m == 1.0 ? "#d5d5d5" : "#efefef") << "\"/>";
      if (m == 1.0)
        s << "<text x=\"" << num(X) << "\" y=\"" << num(kMarginTop + plot_h + 16)
          << "\" text-anchor=\"middle\" fill=\"#555\">" << tick_label(x) << "</text>";
    }
  }
  s << "<rect x=\"" << kMarginLeft << "\" y=\"" << kMarginTop << "\" width=\"" << num(plot_w) << "\" height=\""
    << num(plot_h) << "\" fill=\"none\" stroke=\"#999\"/>";
  s << "<text x=\"" << num(kMarginLeft + plot_w / 2) << "\" y=\"" << c.height - 8
    << "\" text-anchor=\"middle\" fill=\"#333\">" << escape_html(c.x_label) << "</text>";
  s << "<text transform=\"translate(13 " << num(kMarginTop + plot_h / 2)
    << ") rotate(-90)\" text-anchor=\"middle\" fill=\"#333\">" << escape_html(c.y_label) << "</text>";

  if (c.marker > 0 && c.marker >= c.x_min && c.marker <= c.x_max) {
    const double X = px(c.marker);
    s << "<line x1=\"" << num(X) << "\" x2=\"" << num(X) << "\" y1=\"" << kMarginTop << "\" y2=\""
      << num(kMarginTop + plot_h) << "\" stroke=\"#444\" stroke-dasharray=\"4 3\"/>";
    s << "<text x=\"" << num(X - 4) << "\" y=\"" << kMarginTop + 12 << "\" text-anchor=\"end\" fill=\"#444\">"
      << escape_html(c.marker_label) << "</text>";
  }

  for (size_t i = 0; i < series.size(); ++i) {
    if (series[i].points.empty()) continue;
    s << "<polyline fill=\"none\" stroke=\"" << series[i].color << "\" stroke-width=\"2.2\"";
    if (!series[i].dash.empty()) s << " stroke-dasharray=\"" << series[i].dash << "\"";
    s << " points=\"";
    for (size_t k = 0; k < series[i].points.size(); ++k)
      s << (k ? " " : "") << num(px(series[i].points[k].first)) << ',' << num(py(series[i].points[k].second));
    s << "\"><title>" << escape_html(series[i].name) << "</title></polyline>";
  }

  if (c.legend) {
    const double x0 = kMarginLeft + plot_w + 14;
    for (size_t i = 0; i < series.size(); ++i) {
      const double y = kMarginTop + 8 + 18.0 * static_cast<double>(i);
      s << "<line x1=\"" << num(x0) << "\" x2=\"" << num(x0 + 22) << "\" y1=\"" << num(y) << "\" y2=\"" << num(y)
        << "\" stroke=\"" << series[i].color << "\" stroke-width=\"2.5\"";
      if (!series[i].dash.empty()) s << " stroke-dasharray=\"" << series[i].dash << "\"";
      s << "/><text x=\"" << num(x0 + 28) << "\" y=\"" << num(y + 4) << "\" fill=\"#222\">"
        << escape_html(series[i].name) << "</text>";
    }
  }
  s << "</svg>";
  return s.str();
}

}  // namespace muroan::report
