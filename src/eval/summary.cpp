// Summary statistics of per-sample records, the summary JSON and its table.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "muroan/version.h"
#include "muroan/measurement.h"


namespace muroan {

const std::vector<double>& default_budgets() {
  static const std::vector<double> kBudgets{0.005, 0.01, 0.02, 0.05, 0.10, 0.20, 0.50, 1.0};
  return kBudgets;
}

namespace {

RateStats rate_stats(std::vector<double> v) {
  RateStats s;
  s.count = static_cast<int64_t>(v.size());
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  const size_t n = v.size();
  s.mean = sum / static_cast<double>(n);
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
  const double pos = 0.9 * static_cast<double>(n - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(n - 1, lo + 1);
  s.p90 = v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
  s.min = v.front();
  s.max = v.back();
  return s;
}

double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

std::string percent(double x) {
  char buf[32];
  if (x != 0 && std::abs(x) < 0.01)
    std::snprintf(buf, sizeof buf, "%.2f%%", 100 * x);
  else
    std::snprintf(buf, sizeof buf, "%.1f%%", 100 * x);
  return buf;
}

}  // namespace

MeasurementSummary summarize(const std::vector<SampleRecord>& records, const std::string& model,
                             const AttackOptions& options) {
  MeasurementSummary s;
  s.model = model;
  s.method = options.method;
  s.options = options;
  s.samples = static_cast<int64_t>(records.size());
  s.decoupling = options.method != "pgd";
  std::vector<double> rates;
  std::map<std::string, int64_t> points;
  std::vector<std::string> order;  // modality names in first-seen order
  int64_t all_points = 0;
  double shift_sum = 0, linf_sum = 0, fwd = 0, bwd = 0, secs = 0;
  int64_t shift_n = 0, linf_n = 0;
  std::map<std::string, int64_t> notes;
  for (const auto& r : records) {
    s.correct += r.correct ? 1 : 0;
    if (!r.note.empty()) ++notes[r.note];
    if (!r.attacked) continue;
    ++s.attacked;
    if (!r.decoupling) s.decoupling = false;
    fwd += static_cast<double>(r.forward_passes);
    bwd += static_cast<double>(r.backward_passes);
    secs += r.seconds;
    if (!r.success) continue;
    ++s.successes;
    if (r.decoupling_rate) rates.push_back(*r.decoupling_rate);
    for (size_t m = 0; m < r.modality_names.size() && m < r.points.size(); ++m) {
      if (!points.count(r.modality_names[m])) order.push_back(r.modality_names[m]);
      points[r.modality_names[m]] += r.points[m];
      all_points += r.points[m];
    }
    if (r.fusion_shift) {
      shift_sum += *r.fusion_shift;
      ++shift_n;
    }
    if (r.linf) {
      linf_sum += *r.linf;
      ++linf_n;
    }
  }
  s.clean_accuracy = ratio(static_cast<double>(s.correct), static_cast<double>(s.samples));
  s.asr = ratio(static_cast<double>(s.successes), static_cast<double>(s.correct));
  if (s.decoupling) {
    if (!rates.empty()) s.rate = rate_stats(rates);
    for (double b : default_budgets()) {
      const auto within = std::count_if(rates.begin(), rates.end(),
                                        [b](double r) { return r <= b + 1e-12; });
      s.asr_vs_budget.push_back({b, ratio(static_cast<double>(within), static_cast<double>(s.correct))});
    }
    for (const auto& name : order)
      s.points_share[name] = ratio(static_cast<double>(points[name]), static_cast<double>(all_points));
  }
  if (shift_n) s.fusion_shift_mean = shift_sum / static_cast<double>(shift_n);
  if (linf_n) s.linf_mean = linf_sum / static_cast<double>(linf_n);
  s.queries_per_sample = ratio(fwd, static_cast<double>(s.attacked));
  s.backward_per_sample = ratio(bwd, static_cast<double>(s.attacked));
  s.seconds_per_sample = ratio(secs, static_cast<double>(s.attacked));
  for (const auto& [note, n] : notes) s.notes.push_back(note + " (" + std::to_string(n) + ")");
  return s;
}

nlohmann::ordered_json summary_to_json(const MeasurementSummary& s) {
  nlohmann::ordered_json j;
  j["format"] = kSummaryFormat;
  j["model"] = s.model;
  j["method"] = s.method;
  j["options"] = attack_options_to_json(s.options);
  j["seed"] = s.options.seed;
  j["samples"] = s.samples;
  j["correct"] = s.correct;
  j["attacked"] = s.attacked;
  j["successes"] = s.successes;
  j["clean_accuracy"] = s.clean_accuracy;
  j["asr"] = s.asr;
  j["decoupling"] = s.decoupling;
  if (s.rate) {
    j["decoupling_rate"] = {{"count", s.rate->count}, {"mean", s.rate->mean},  {"median", s.rate->median},
                            {"p90", s.rate->p90},     {"min", s.rate->min},    {"max", s.rate->max}};
  } else {
    j["decoupling_rate"] = nullptr;
  }
  if (s.decoupling) {
    nlohmann::ordered_json curve = nlohmann::ordered_json::array();
    for (const auto& p : s.asr_vs_budget) curve.push_back({{"budget", p.budget}, {"asr", p.asr}});
    j["asr_vs_budget"] = std::move(curve);
    nlohmann::ordered_json share = nlohmann::ordered_json::object();
    for (const auto& [name, v] : s.points_share) share[name] = v;
    j["points_share"] = std::move(share);
  } else {
    j["asr_vs_budget"] = nullptr;
    j["points_share"] = nullptr;
  }
  j["fusion_shift_mean"] = s.fusion_shift_mean ? nlohmann::ordered_json(*s.fusion_shift_mean) : nullptr;
  j["linf_mean"] = s.linf_mean ? nlohmann::ordered_json(*s.linf_mean) : nullptr;
  j["queries_per_sample"] = s.queries_per_sample;
  j["backward_per_sample"] = s.backward_per_sample;
  j["seconds_per_sample"] = s.seconds_per_sample;
  j["notes"] = s.notes;
  j["versions"] = software_versions();
  return j;
}

std::string format_summary_table(const MeasurementSummary& s) {
  std::ostringstream out;
  char buf[256];
  auto row = [&out](const char* label, const std::string& value) {
    char head[32];
    std::snprintf(head, sizeof head, "  %-14s", label);
    out << head << value << "\n";
  };
  row("model", s.model);
  row("method", s.method + " (objective " + objective_name(s.options.objective) +
                    (s.options.budget < 1.0 ? ", budget " + percent(s.options.budget) : "") + ")");
  std::snprintf(buf, sizeof buf, "%lld, clean accuracy %s", static_cast<long long>(s.samples),
                percent(s.clean_accuracy).c_str());
  row("samples", buf);
  std::snprintf(buf, sizeof buf, "%s (%lld of %lld correctly classified)", percent(s.asr).c_str(),
                static_cast<long long>(s.successes), static_cast<long long>(s.correct));
  row("ASR", buf);
  if (s.rate) {
    row("decoupling", "mean " + percent(s.rate->mean) + ", median " + percent(s.rate->median) + ", p90 " +
                          percent(s.rate->p90) + ", min " + percent(s.rate->min));
  } else if (s.decoupling) {
    row("decoupling", "no success");
  }
  if (!s.asr_vs_budget.empty()) {
    std::string curve;
    for (const auto& p : s.asr_vs_budget)
      curve += (curve.empty() ? "" : "  ") + percent(p.budget) + ": " + percent(p.asr);
    row("ASR @ budget", curve);
  }
  if (!s.points_share.empty()) {
    std::string share;
    for (const auto& [name, v] : s.points_share) share += (share.empty() ? "" : ", ") + name + " " + percent(v);
    row("points", share);
  }
  if (s.fusion_shift_mean) {
    std::snprintf(buf, sizeof buf, "%.4f (1 - cos, mean over successes)", *s.fusion_shift_mean);
    row("fusion shift", buf);
  }
  if (s.linf_mean) {
    std::snprintf(buf, sizeof buf, "%.4f (mean over successes)", *s.linf_mean);
    row("L-inf", buf);
  }
  std::snprintf(buf, sizeof buf, "%.1f queries, %.1f backward, %.3f s per attacked sample",
                s.queries_per_sample, s.backward_per_sample, s.seconds_per_sample);
  row("cost", buf);
  return out.str();
}

}  // namespace muroan
