// Private: line charts as inline SVG (no script, no external font or file).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace muroan::report {

struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x > 0, y in [0,1]) in drawing order
  std::string color;                              // e.g. series_color(i)
  std::string dash;                               // stroke-dasharray; "" for a solid line
};

// A chart with a logarithmic x axis (a share of the input, shown in %) and a
// linear y axis from 0 to 100%.
struct LogChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  int width = 600;
  int height = 360;
  double x_min = 1e-3;
  double x_max = 1.0;
  double marker = 0;         // a dashed vertical reference line at this x; 0: none
  std::string marker_label;  // e.g. "5% budget"
  bool legend = true;        // one entry per series, right of the plot
};

// The colour of the i-th series (ten distinct colours, then they repeat with
// a dash pattern, see series_dash).
std::string series_color(size_t i);
// "" for the first ten series, then dash patterns.
std::string series_dash(size_t i);

// An <svg> element (with role="img" and a <title>) drawing each series as a
// polyline; every text is HTML-escaped.
std::string render_log_chart(const std::vector<ChartSeries>& series, const LogChart& chart);

}  // namespace muroan::report
