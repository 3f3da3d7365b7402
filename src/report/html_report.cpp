// write_report: report.html and tables/*.csv from a result folder's JSON.
// The page answers "how robust is the fusion, and which fusion breaks first?"
// on its first screen (headline, chart, overview), then gives the details.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "csv_tables.h"
#include "gallery_html.h"
#include "html_text.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/report.h"
#include "ranking.h"
#include "report_data.h"
#include "svg_chart.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;
using report::escape_html;
using report::format_percent;
using report::format_rate;
using report::format_seconds;
using report::FusionRank;
using report::ReportData;
using report::RunView;

// Gallery items shown per fusion.
constexpr size_t kGalleryPerFusion = 3;
// Smallest left end of the budget axis (a point of a 56x56 image is 0.03%).
constexpr double kAxisFloor = 1e-5;
constexpr double kAxisDefault = 1e-3;

// Inline styles only: the page's Content-Security-Policy allows no other source.
constexpr const char* kStyle = R"css(
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0;background:#f6f6f4}
main{max-width:1240px;margin:0 auto;padding:18px 24px 40px}
h1{font-size:22px;margin:0 0 2px}
h2{font-size:18px;margin:28px 0 10px;padding-top:6px;border-top:1px solid #ddd}
h3{font-size:15px;margin:18px 0 6px}
.sub,.note,.meta{color:#555}
.sub{margin:0 0 12px}
.answer{background:#fff;border:1px solid #ddd;border-radius:8px;padding:14px 18px}
.headline{font-size:24px;line-height:1.25;margin:0 0 6px;font-weight:600}
.headline b{color:#c62828}
.headline .ci{font-size:15px;font-weight:400;color:#555}
.warning{background:#fff3e0;border-left:4px solid #ef6c00;padding:6px 10px}
.answer p{margin:4px 0}
.figs{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start;margin-top:10px}
.figs>div{flex:0 0 auto}
.figs>div.grow{flex:1 1 360px;min-width:0}
table{border-collapse:collapse;background:#fff;margin:4px 0 8px;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top}
th{background:#f0f0ee;font-weight:600;font-size:13px}
td.num,th.num{text-align:right}
.runs td,td.name{white-space:nowrap}
table.runs{width:100%}
tr:nth-child(even) td{background:#fafafa}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.charts{display:flex;flex-wrap:wrap;gap:14px}
.chart{background:#fff;border:1px solid #e2e2e2;border-radius:6px}
.gallery{display:flex;flex-wrap:wrap;gap:14px}
.gallery-item{background:#fff;border:1px solid #ddd;border-radius:8px;padding:10px;margin:0;width:372px}
.pair{display:flex;gap:10px}
.shot{display:flex;flex-direction:column;align-items:center;font-size:12px;color:#555}
.shot svg{background:#000;border:1px solid #ccc}
.px{image-rendering:pixelated}
.cut{fill:rgba(229,57,53,.18);stroke:#e53935;stroke-width:1.5px;vector-effect:non-scaling-stroke}
.words{font-size:15px;margin:8px 0 4px}
.words del{color:#c62828;text-decoration-thickness:2px}
.features{font-size:14px;margin:6px 0 4px}
.features del{color:#c62828;text-decoration-thickness:2px}
.decision{margin:2px 0}
.arrow{color:#c62828}
.meta{font-size:12px;margin:2px 0}
pre{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 10px;white-space:pre-wrap;word-break:break-all}
.kv td:first-child{color:#555}
footer{color:#777;font-size:12px;margin-top:30px}
)css";

// "5%", "0.5%": a budget as people write it.
std::string budget_text(double budget) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", 100.0 * budget);
  return buf;
}

std::string num_cell(const std::string& text) { return "<td class=\"num\">" + text + "</td>"; }

std::string swatch(size_t color_index) {
  return "<span class=\"swatch\" style=\"background:" + report::series_color(color_index) + "\"></span>";
}

std::string version_of(const ReportData& d, const char* key) {
  auto it = d.versions.find(key);
  return it != d.versions.end() && it->is_string() ? it->get<std::string>() : "";
}

double axis_min(const ReportData& d) {
  double lo = 1.0;
  for (const auto& r : d.runs)
    if (!r.success_rates.empty()) lo = std::min(lo, r.success_rates.front());
  if (lo >= kAxisDefault) return kAxisDefault;
  return std::max(kAxisFloor, std::pow(10.0, std::floor(std::log10(lo))));
}

// A step curve of an ASR that rises at each success's rate.
std::vector<std::pair<double, double>> step_points(const std::function<double(double)>& asr, std::vector<double> breaks,
                                                   double x_min) {
  std::sort(breaks.begin(), breaks.end());
  breaks.erase(std::unique(breaks.begin(), breaks.end()), breaks.end());
  std::vector<std::pair<double, double>> pts{{x_min, asr(x_min)}};
  for (double b : breaks) {
    if (b <= x_min || b > 1.0) continue;
    const double before = pts.back().second, after = asr(b);
    if (after == before) continue;
    pts.emplace_back(b, before);
    pts.emplace_back(b, after);
  }
  pts.emplace_back(1.0, asr(1.0));
  return pts;
}

std::vector<double> fusion_breaks(const ReportData& d, const std::string& fusion) {
  std::vector<double> breaks;
  for (const auto& r : d.runs)
    if (r.fusion == fusion && r.summary.decoupling)
      breaks.insert(breaks.end(), r.success_rates.begin(), r.success_rates.end());
  return breaks;
}

std::string modality_mix_sentence(const RunView& r) {
  if (r.summary.points_share.empty()) return "";
  std::vector<std::pair<std::string, double>> parts;
  for (const auto& [name, share] : r.summary.points_share)
    if (share > 0) parts.emplace_back(name, share);
  if (parts.empty()) return "";
  std::stable_sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (parts.size() == 1) return "All the points it decouples are " + escape_html(parts[0].first) + ".";
  std::string s = "Of the points it decouples, ";
  for (size_t i = 0; i < parts.size(); ++i)
    s += (i == 0                  ? ""
          : i + 1 == parts.size() ? " and "
                                  : ", ") +
         format_percent(parts[i].second) + " are " + escape_html(parts[i].first);
  return s + ".";
}

// Whether an oracle judged the runs (then the headline metric is fooled ASR).
bool has_oracle(const ReportData& d) {
  for (const auto& r : d.runs)
    if (r.summary.has_fooled()) return true;
  return false;
}
std::string headline_word(const ReportData& d) { return has_oracle(d) ? "Fooled ASR" : "ASR"; }
std::string success_word(const ReportData& d) { return has_oracle(d) ? "fooled" : "flipped"; }

std::string headline(const ReportData& d, const std::vector<FusionRank>& ranks) {
  std::ostringstream s;
  const RunView* worst = report::worst_run(d);
  if (!worst) {
    s << "<p class=\"headline\">No decoupling attack in this folder.</p>";
    return s.str();
  }
  const auto& w = worst->summary;
  if (w.attacked == 0) {
    s << "<p class=\"headline\">No sample was attacked (none was classified correctly), so there is nothing to "
         "report.</p>";
    return s.str();
  }
  const bool fooled = w.has_fooled();
  const std::string what = fooled ? "fooled" : "flipped";
  const Interval ci = w.headline_ci();
  const auto& rate = w.headline_rate();
  const std::string ci_text = "95% CI " + format_percent(ci.low) + "&ndash;" + format_percent(ci.high);
  if (w.headline_count() == 0 || !rate) {
    s << "<p class=\"headline\"><b>0%</b> of samples " << what << " (" << ci_text << ", " << w.attacked
      << " attacked): no decoupling attack " << (fooled ? "fooled the model" : "changed a decision") << ".</p>";
  } else {
    s << "<p class=\"headline\"><b>" << format_percent(w.headline_asr()) << "</b> of samples " << what
      << " by decoupling a median <b>" << format_rate(rate->median) << "</b> of the input <span class=\"ci\">("
      << ci_text << ", " << w.headline_count() << " of " << w.attacked << ")</span></p><p>";
    const std::string who = d.analysis
                                ? std::string(d.fusions.size() > 1 ? "The weakest fusion, <b>" : "The fusion <b>") +
                                      escape_html(worst->fusion) + "</b>,"
                                : "<b>" + escape_html(worst->model) + "</b>";
    s << who << " is " << what << " on " << format_percent(w.headline_asr()) << " of the attacked (correctly "
      << "classified) samples by the " << escape_html(worst->method) << " attack. The smallest set removes "
      << format_rate(rate->min) << ". " << modality_mix_sentence(*worst) << "</p>";
  }
  if (fooled) {
    s << "<p class=\"note\"><b>Fooled</b>: the decision changed while the task's oracle (" << escape_html(w.oracle)
      << ") says the truth of the decoupled input did not; a change that deletes the word deciding the answer is "
      << "not counted. ";
    if (w.criterion == "fooled")
      s << "The attacks searched for such sets only. The paper's criterion, any decision change, is measured with "
           "<code>--success flip</code>, whose flips are then classified.</p>";
    else
      s << "The attacks searched for any decision change (<code>--success flip</code>): " << format_percent(w.asr)
        << " (" << w.flips << " of " << w.attacked << "); of these " << w.success_classes.at("truth-changed")
        << " changed the truth and " << w.success_classes.at("undefined") << " left it undefined.</p>";
  } else {
    s << "<p class=\"note\">No oracle knows the truth of this model's decoupled inputs: every decision change "
         "counts, including one that deletes the very word that decides the answer. Protect such words "
         "(<code>--protect-words</code>) to exclude them.</p>";
  }
  for (const auto& r : d.runs)
    for (const auto& warning : r.summary.warnings)
      s << "<p class=\"warning\"><b>Warning</b> (" << escape_html(r.fusion) << ", " << escape_html(r.method)
        << "): " << escape_html(warning) << "</p>";
  if (d.analysis && ranks.size() > 1) {
    s << "<p>Which fusion breaks first: share of samples " << success_word(d) << " with a set of at most "
      << budget_text(report::kReferenceBudget) << " of the input (found sizes, strongest attack per fusion): ";
    for (size_t i = 0; i < ranks.size(); ++i)
      s << (i ? ", " : "") << "<b>" << escape_html(ranks[i].fusion) << "</b> "
        << format_percent(ranks[i].asr_at_reference);
    s << ".</p>";
  }
  return s.str();
}

std::string main_chart(const ReportData& d, const std::vector<FusionRank>& ranks, double x_min) {
  std::vector<report::ChartSeries> series;
  for (const auto& f : ranks) {
    if (!f.worst) continue;
    report::ChartSeries cs;
    cs.name = f.fusion;
    cs.color = report::series_color(f.color_index);
    cs.dash = report::series_dash(f.color_index);
    const std::string fusion = f.fusion;
    cs.points =
        step_points([&](double b) { return report::envelope_asr(d, fusion, b); }, fusion_breaks(d, fusion), x_min);
    series.push_back(std::move(cs));
  }
  report::LogChart c;
  c.title = d.methods.size() > 1
                ? "Found sizes: samples " + success_word(d) + " within |S|/N (strongest attack per fusion)"
                : "Found sizes: samples " + success_word(d) + " within |S|/N (" +
                      (d.methods.empty() ? "" : d.methods[0]) + ")";
  c.x_label = "decoupling rate |S|/N of the set found without a budget (log scale)";
  c.y_label = "share of attacked samples";
  c.x_min = x_min;
  c.marker = report::kReferenceBudget;
  c.marker_label = budget_text(report::kReferenceBudget) + " budget";
  c.legend = series.size() > 1;  // one line needs no legend (and a model name may be long)
  c.width = c.legend ? 600 : 480;
  c.height = 350;
  return report::render_log_chart(series, c);
}

std::string overview_table(const ReportData& d, const std::vector<FusionRank>& ranks) {
  std::ostringstream s;
  s << "<table class=\"overview\"><thead><tr><th>#</th><th>" << (d.analysis ? "Fusion" : "Model")
    << "</th><th class=\"num\">Clean accuracy</th><th class=\"num\">" << success_word(d) << " within "
    << budget_text(report::kReferenceBudget) << "</th><th class=\"num\">Worst " << headline_word(d)
    << "</th><th class=\"num\">95% CI</th><th>by</th><th class=\"num\">Median rate</th></tr></thead><tbody>";
  int rank = 0;
  for (const auto& f : ranks) {
    s << "<tr><td>" << ++rank << "</td><td class=\"name\">" << swatch(f.color_index) << escape_html(f.fusion) << "</td>"
      << num_cell(format_percent(f.clean_accuracy))
      << num_cell(f.worst ? format_percent(f.asr_at_reference) : "&ndash;")
      << num_cell(f.worst ? format_percent(f.worst->summary.headline_asr()) : "&ndash;")
      << num_cell(f.worst ? format_percent(f.worst->summary.headline_ci().low) + "&ndash;" +
                                format_percent(f.worst->summary.headline_ci().high)
                          : "&ndash;")
      << "<td>" << (f.worst ? escape_html(f.worst->method) : "") << "</td>"
      << num_cell(f.worst && f.worst->summary.headline_rate() ? format_rate(f.worst->summary.headline_rate()->median)
                                                              : "&ndash;")
      << "</tr>";
  }
  s << "</tbody></table><p class=\"note\">Clean accuracy: "
    << (d.models.empty() ? "on the attacked samples" : "on the test split") << ". " << headline_word(d)
    << ": share of the attacked (correctly classified) samples "
    << (has_oracle(d) ? "whose decision changes while the oracle says their truth does not"
                      : "whose decision changes (no oracle: any change)")
    << "; 95% Wilson interval. Within " << budget_text(report::kReferenceBudget)
    << ": the share whose set, found without a budget, is at most that large (a run under that budget, "
    << "<code>--budget</code>, measures the ASR at it). Rate: decoupled points |S| / N, N = pixels + words (+ "
       "features).</p>";
  return s.str();
}

std::string fusion_tables(const ReportData& d, const std::vector<FusionRank>& ranks) {
  const auto modalities = report::modality_names(d);
  const bool gaps =
      std::any_of(d.runs.begin(), d.runs.end(), [](const RunView& r) { return r.optimality.has_value(); });
  std::ostringstream s;
  for (const auto& f : ranks) {
    s << "<section class=\"fusion\" id=\"fusion-" << escape_html(f.fusion) << "\"><h3>" << swatch(f.color_index)
      << escape_html(f.fusion) << "</h3><p class=\"note\">";
    if (f.model && f.model->test_accuracy)
      s << "Clean accuracy " << format_percent(*f.model->test_accuracy) << " on " << f.model->test_samples
        << " test samples (" << f.model->parameters << " parameters, best epoch " << f.model->best_epoch
        << (f.model->reused ? ", checkpoint reused" : "") << "). ";
    const RunView* any = nullptr;
    for (const auto& r : d.runs)
      if (r.fusion == f.fusion) any = &r;
    if (any)
      s << any->summary.correct << " of the " << any->summary.samples
        << " attacked samples are correctly classified (clean accuracy " << format_percent(any->summary.clean_accuracy)
        << ").";
    s << "</p><table class=\"runs\"><thead><tr><th>Attack</th><th class=\"num\">" << headline_word(d)
      << "</th><th class=\"num\">95% CI</th><th class=\"num\">Count</th><th class=\"num\">Any flip</th>"
      << (has_oracle(d) ? "<th class=\"num\">Truth changed / undefined</th>" : "")
      << "<th class=\"num\">Median rate</th><th class=\"num\">Mean rate</th><th class=\"num\">p90 rate</th>"
      << "<th class=\"num\">Smallest</th>";
    for (const auto& m : modalities) s << "<th class=\"num\">Points: " << escape_html(m) << "</th>";
    s << "<th class=\"num\">Fusion shift</th><th class=\"num\">Queries / sample</th><th class=\"num\">Time / "
         "sample</th>"
      << (gaps ? "<th class=\"num\">Exact minimum hit (mean excess)</th>" : "") << "</tr></thead><tbody>";
    for (const auto& r : d.runs) {
      if (r.fusion != f.fusion) continue;
      const auto& m = r.summary;
      const auto& rate = m.headline_rate();
      s << "<tr><td>" << escape_html(r.method) << "</td>" << num_cell(format_percent(m.headline_asr()))
        << num_cell(format_percent(m.headline_ci().low) + "&ndash;" + format_percent(m.headline_ci().high))
        << num_cell(std::to_string(m.headline_count()) + " / " + std::to_string(m.attacked))
        << num_cell(format_percent(m.asr));
      if (has_oracle(d))
        s << num_cell(m.success_classes.empty() ? "&ndash;"
                                                : std::to_string(m.success_classes.at("truth-changed")) + " / " +
                                                      std::to_string(m.success_classes.at("undefined")));
      if (rate)
        s << num_cell(format_rate(rate->median)) << num_cell(format_rate(rate->mean))
          << num_cell(format_rate(rate->p90)) << num_cell(format_rate(rate->min));
      else
        s << num_cell("&ndash;") << num_cell("&ndash;") << num_cell("&ndash;") << num_cell("&ndash;");
      for (const auto& name : modalities) {
        auto it = m.points_share.find(name);
        s << num_cell(it != m.points_share.end() ? format_percent(it->second) : "&ndash;");
      }
      s << num_cell(m.fusion_shift_mean ? report::format_number(*m.fusion_shift_mean, 3) : "&ndash;")
        << num_cell(report::format_number(m.queries_per_sample, 0)) << num_cell(format_seconds(m.seconds_per_sample));
      if (gaps)
        s << num_cell(r.optimality ? std::to_string(r.optimality->hit) + " / " + std::to_string(r.optimality->known) +
                                         " (+" + report::format_number(r.optimality->mean_excess, 2) + ")"
                                   : "&ndash;");
      s << "</tr>";
    }
    s << "</tbody></table></section>";
  }
  s << "<p class=\"note\">Rates and points are over the " << (has_oracle(d) ? "fooled " : "") << "successes. "
    << "Any flip: the paper's ASR, every decision change. Points: mean over successes of each sample's share of "
    << "decoupled points per modality. "
    << "Fusion shift: mean 1 &minus; cos between the fusion embeddings of x and x<sub>S</sub> (over successes)."
    << (gaps ? " Exact minimum hit: of the samples whose smallest set is known (the exact method found one of at "
               "most max-size + 1 points), those the attack solved with a set of that size / all of them (a "
               "failure is a miss); mean excess in points over the ones it solved."
             : "")
    << "</p>";
  return s.str();
}

std::string method_charts(const ReportData& d, const std::vector<FusionRank>& ranks, double x_min) {
  std::ostringstream s;
  s << "<div class=\"charts\">";
  for (const auto& method : d.methods) {
    std::vector<report::ChartSeries> series;
    for (const auto& f : ranks) {
      const RunView* r = d.find_run(f.fusion, method);
      if (!r || !r->summary.decoupling) continue;
      report::ChartSeries cs;
      cs.name = f.fusion;
      cs.color = report::series_color(f.color_index);
      cs.dash = report::series_dash(f.color_index);
      cs.points = step_points([r](double b) { return r->asr_at(b); }, r->success_rates, x_min);
      series.push_back(std::move(cs));
    }
    if (series.empty()) continue;
    report::LogChart c;
    c.title = method;
    c.x_label = "decoupling budget |S|/N";
    c.y_label = "ASR";
    c.x_min = x_min;
    c.marker = report::kReferenceBudget;
    c.width = 400;
    c.height = 260;
    s << report::render_log_chart(series, c);
  }
  s << "</div>";
  return s.str();
}

std::string gallery(const ReportData& d, const std::vector<FusionRank>& ranks) {
  std::ostringstream s;
  size_t shown = 0;
  for (const auto& f : ranks) {
    // Round robin over the fusion's methods (each method's items are smallest
    // rate first), one item per sample.
    std::vector<std::pair<const RunView*, size_t>> cursors;
    for (const auto& r : d.runs)
      if (r.fusion == f.fusion && !r.gallery.empty()) cursors.emplace_back(&r, 0);
    std::vector<std::string> cards;
    std::set<std::string> ids;
    for (bool more = true; more && cards.size() < kGalleryPerFusion;) {
      more = false;
      for (auto& [run, next] : cursors) {
        while (next < run->gallery.size() && cards.size() < kGalleryPerFusion) {
          const auto& item = run->gallery[next++];
          if (!item.is_object()) continue;
          const std::string id = item.value("id", "");
          if (!ids.insert(id).second) continue;
          cards.push_back(report::render_gallery_item(item, run->method));
          more = true;
          break;
        }
      }
    }
    if (cards.empty()) continue;
    s << "<h3>" << swatch(f.color_index) << escape_html(f.fusion) << "</h3><div class=\"gallery\">";
    for (const auto& c : cards) s << c;
    s << "</div>";
    shown += cards.size();
  }
  if (shown == 0)
    return "<p class=\"note\">No gallery: no successful attack, or the run folders hold no gallery.json "
           "(<code>muroan report DIR --checkpoint CK</code> or <code>--manifest M</code> builds one for an attack "
           "folder).</p>";
  return "<p class=\"note\">Left: the input. Right: x<sub>S</sub>, the input with the decoupled points removed "
         "(outlined in red; on an audio input's spectrogram or a signal's traces, the decoupled frames); deleted words "
         "are struck through, "
         "as are decoupled features (with the fill value they "
         "took). Decision before &rarr; after, with the model's "
         "confidence.</p>" +
         s.str();
}

std::string json_value_text(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v.get<double>());
    return buf;
  }
  if (v.is_array()) {
    std::string joined;
    for (const auto& e : v) joined += (joined.empty() ? "" : ", ") + json_value_text(e);
    return joined;
  }
  return v.dump();
}

// "training_seconds" -> "training, all steps"; "total_seconds" -> "total (wall clock)".
std::string timing_label(const std::string& key) {
  if (key == "total_seconds") return "wall clock of the last run of the command";
  const auto cut = key.rfind("_seconds");
  std::string name = cut == std::string::npos ? key : key.substr(0, cut);
  std::replace(name.begin(), name.end(), '_', ' ');
  return name + ", all steps";
}

std::string key_value_table(const nlohmann::ordered_json& j) {
  std::ostringstream s;
  s << "<table class=\"kv\"><tbody>";
  for (auto it = j.begin(); it != j.end(); ++it)
    s << "<tr><td>" << escape_html(it.key()) << "</td><td>" << escape_html(json_value_text(it.value())) << "</td></tr>";
  s << "</tbody></table>";
  return s.str();
}

std::string settings(const ReportData& d) {
  std::ostringstream s;
  if (!d.command.empty()) s << "<p>Reproduce with:</p><pre><code>" << escape_html(d.command) << "</code></pre>";
  s << "<div class=\"figs\"><div class=\"grow\"><h3>Settings</h3>";
  nlohmann::ordered_json general = nlohmann::ordered_json::object();
  if (!d.task.empty()) general["task"] = d.task;
  general["seed"] = d.seed;
  if (!d.device.empty()) general["device"] = d.device;
  if (d.samples) general["samples per run"] = d.samples;
  if (!d.fusions.empty()) general[d.analysis ? "fusions" : "model"] = d.fusions;
  if (!d.methods.empty()) general["attacks"] = d.methods;
  for (auto it = d.settings.begin(); it != d.settings.end(); ++it) general[it.key()] = it.value();
  s << key_value_table(general) << "</div><div class=\"grow\"><h3>Software</h3>" << key_value_table(d.versions);
  s << "<h3>Timings</h3><table class=\"timings\"><thead><tr><th>Step</th><th "
       "class=\"num\">Time</th></tr></thead><tbody>";
  for (const auto& m : d.models)
    s << "<tr><td>train " << escape_html(m.fusion) << (m.reused ? " (checkpoint reused)" : "") << "</td>"
      << num_cell(format_seconds(m.training_seconds)) << "</tr>";
  for (const auto& r : d.runs)
    s << "<tr><td>attack " << escape_html(r.fusion) << " / " << escape_html(r.method) << "</td>"
      << num_cell(format_seconds(r.attack_seconds)) << "</tr>";
  for (auto it = d.timings.begin(); it != d.timings.end(); ++it)
    if (it.value().is_number())
      s << "<tr><th>" << escape_html(timing_label(it.key())) << "</th>"
        << num_cell(format_seconds(it.value().get<double>())) << "</tr>";
  s << "</tbody></table></div></div>";
  return s.str();
}

std::string render(const ReportData& d) {
  const auto ranks = report::rank_fusions(d);
  const double x_min = axis_min(d);
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    // Nothing but this file: no script, no fetch, images only as data URIs.
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
       "style-src 'unsafe-inline'\">"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    << "<title>MUROAN report: " << escape_html(d.title) << "</title><style>" << kStyle << "</style></head><body><main>";
  h << "<header><h1>" << escape_html(d.title) << "</h1><p class=\"sub\">MUROAN "
    << escape_html(version_of(d, "muroan"));
  if (d.analysis)
    h << " &middot; " << d.fusions.size() << " fusions &times; " << d.methods.size() << " attacks &middot; "
      << (d.samples > 0 ? "first " + std::to_string(d.samples) + " test samples each" : "the whole test split");
  else
    h << " &middot; " << d.samples << " samples";
  h << " &middot; seed " << d.seed << "</p></header>";
  h << "<section class=\"answer\" id=\"answer\">" << headline(d, ranks) << "<div class=\"figs\"><div>"
    << main_chart(d, ranks, x_min) << "</div><div class=\"grow\">" << overview_table(d, ranks)
    << "</div></div></section>";
  h << "<section id=\"fusions\"><h2>" << (d.analysis ? "Per fusion" : "Results") << "</h2>" << fusion_tables(d, ranks)
    << "</section>";
  if (d.analysis)
    h << "<section id=\"curves\"><h2>ASR versus decoupling budget, per attack</h2>" << method_charts(d, ranks, x_min)
      << "</section>";
  h << "<section id=\"gallery\"><h2>Successful attacks</h2>" << gallery(d, ranks) << "</section>";
  h << "<section id=\"settings\"><h2>Settings, software and timings</h2>" << settings(d) << "</section>";
  h << "<footer>Rendered by MUROAN from the JSON files of this folder (summary.json, run.json, results.jsonl, "
       "gallery.json); <code>muroan report DIR</code> renders it again. Tables as CSV: tables/.</footer>";
  h << "</main></body></html>\n";
  return h.str();
}

}  // namespace

std::string write_report(const std::string& result_dir) {
  const ReportData data = report::load_report_data(result_dir);
  report::write_csv_tables(data, result_dir);
  const fs::path path = fs::path(result_dir) / "report.html";
  write_file_atomically(path.string(), render(data));
  return path.string();
}

}  // namespace muroan
