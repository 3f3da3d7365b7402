// Summary statistics of per-sample records, the summary JSON and its table.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "muroan/error.h"
#include "muroan/measurement.h"
#include "muroan/version.h"

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

// Fewer correctly classified samples than this get a warning about the interval.
constexpr int64_t kFewSamples = 30;

nlohmann::ordered_json rate_json(const std::optional<RateStats>& r) {
  if (!r) return nullptr;
  return {{"count", r->count}, {"mean", r->mean}, {"median", r->median},
          {"p90", r->p90},     {"min", r->min},   {"max", r->max}};
}

nlohmann::ordered_json interval_json(const Interval& i) { return nlohmann::ordered_json::array({i.low, i.high}); }

std::string percent(double x) {
  char buf[32];
  if (x != 0 && std::abs(x) < 0.01)
    std::snprintf(buf, sizeof buf, "%.2f%%", 100 * x);
  else
    std::snprintf(buf, sizeof buf, "%.1f%%", 100 * x);
  return buf;
}

}  // namespace

Interval wilson_interval(int64_t k, int64_t n, double z) {
  if (n <= 0) return {0.0, 1.0};
  const double nn = static_cast<double>(n), p = static_cast<double>(k) / nn, z2 = z * z;
  const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

MeasurementSummary summarize(const std::vector<SampleRecord>& records, const std::string& model,
                             const AttackOptions& options, const std::string& oracle) {
  MeasurementSummary s;
  s.model = model;
  s.method = options.method;
  s.options = options;
  s.samples = static_cast<int64_t>(records.size());
  s.decoupling = options.method != "pgd";
  s.oracle = oracle;
  std::vector<double> rates, fooled_rates, headline_rates;
  std::map<std::string, double> share_sum;  // per modality, over headline successes
  std::vector<std::string> order;           // modality names in first-seen order
  int64_t share_n = 0;
  double shift_sum = 0, linf_sum = 0, fwd = 0, bwd = 0, secs = 0;
  int64_t shift_n = 0, linf_n = 0;
  std::map<std::string, int64_t> notes, labels;
  bool judged = false;  // an oracle classified the records
  int64_t fooled = 0;
  for (const auto& r : records) {
    s.correct += r.correct ? 1 : 0;
    ++labels[std::to_string(r.label)];
    if (!r.note.empty()) ++notes[r.note];
    if (!r.attacked) {
      if (r.success || r.flipped)
        throw Error("record of sample '" + r.id + "': a success on a sample that was not attacked");
      continue;
    }
    if (!r.correct)
      throw Error("record of sample '" + r.id + "': attacked although misclassified (clean prediction " +
                  std::to_string(r.clean_prediction) + ", label " + std::to_string(r.label) + ")");
    if (r.success && !r.flipped) throw Error("record of sample '" + r.id + "': a success without a decision change");
    ++s.attacked;
    if (!r.decoupling) s.decoupling = false;
    if (r.criterion == SuccessCriterion::kFooled) s.criterion = "fooled";
    if (r.success_class) judged = true;
    fwd += static_cast<double>(r.forward_passes);
    bwd += static_cast<double>(r.backward_passes);
    secs += r.seconds;
    s.successes += r.success ? 1 : 0;
    if (!r.flipped) continue;
    ++s.flips;
    if (r.decoupling_rate) rates.push_back(*r.decoupling_rate);
    const bool is_fooled = r.success_class == SuccessClass::kFooled;
    if (r.success_class) ++s.success_classes[success_class_name(*r.success_class)];
    if (is_fooled) {
      ++fooled;
      if (r.decoupling_rate) fooled_rates.push_back(*r.decoupling_rate);
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
  if (judged) {  // an oracle classified decoupling records (pgd records have no class)
    s.fooled = fooled;
    for (const char* c : {"fooled", "truth-changed", "undefined"}) s.success_classes.emplace(c, 0);
  } else {
    s.success_classes.clear();
  }
  // The headline successes (fooled where judged, else flips): the size curve and the modality mix.
  for (const auto& r : records) {
    if (!r.attacked || !r.flipped) continue;
    if (s.fooled && r.success_class != SuccessClass::kFooled) continue;
    if (r.decoupling_rate) headline_rates.push_back(*r.decoupling_rate);
    int64_t decoupled = 0;
    for (int64_t p : r.points) decoupled += p;
    if (decoupled <= 0) continue;
    ++share_n;
    for (size_t m = 0; m < r.modality_names.size() && m < r.points.size(); ++m) {
      if (!share_sum.count(r.modality_names[m])) order.push_back(r.modality_names[m]);
      share_sum[r.modality_names[m]] += static_cast<double>(r.points[m]) / static_cast<double>(decoupled);
    }
  }
  s.clean_accuracy = ratio(static_cast<double>(s.correct), static_cast<double>(s.samples));
  int64_t majority = 0;
  for (const auto& [label, n] : labels) majority = std::max(majority, n);
  s.majority_share = ratio(static_cast<double>(majority), static_cast<double>(s.samples));
  s.asr = ratio(static_cast<double>(s.flips), static_cast<double>(s.attacked));
  s.asr_ci = wilson_interval(s.flips, s.attacked);
  if (s.fooled) {
    s.fooled_asr = ratio(static_cast<double>(*s.fooled), static_cast<double>(s.attacked));
    s.fooled_asr_ci = wilson_interval(*s.fooled, s.attacked);
  }
  if (s.decoupling) {
    if (!rates.empty()) s.rate = rate_stats(rates);
    if (!fooled_rates.empty()) s.fooled_rate = rate_stats(fooled_rates);
    for (double b : default_budgets()) {
      const auto within =
          std::count_if(headline_rates.begin(), headline_rates.end(), [b](double r) { return r <= b + 1e-12; });
      s.found_size_curve.push_back({b, ratio(static_cast<double>(within), static_cast<double>(s.attacked))});
    }
    for (const auto& name : order) s.points_share[name] = ratio(share_sum[name], static_cast<double>(share_n));
  }
  if (s.samples > 0 && s.clean_accuracy <= s.majority_share + kNearChanceMargin) {
    char buf[300];
    std::snprintf(buf, sizeof buf,
                  "clean accuracy %.1f%% is within %.0f points of the majority class share %.1f%%: the "
                  "model has barely learnt the task, and its ASR says little about robustness",
                  100 * s.clean_accuracy, 100 * kNearChanceMargin, 100 * s.majority_share);
    s.warnings.push_back(buf);
  }
  if (notes.count(kNondeterministicNote))
    s.warnings.push_back(std::to_string(notes[kNondeterministicNote]) +
                         " samples left unattacked: the model answered them differently in two queries (it is "
                         "nondeterministic or depends on the rest of the batch); its numbers are unreliable");
  if (s.attacked > 0 && s.attacked < kFewSamples) {
    s.warnings.push_back("only " + std::to_string(s.attacked) +
                         " attacked samples: the ASR's 95% "
                         "interval is wide (see asr_ci)");
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
  j["clean_accuracy"] = s.clean_accuracy;
  j["majority_share"] = s.majority_share;
  j["success_criterion"] = s.criterion;
  j["oracle"] = s.oracle.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.oracle);
  j["successes"] = s.successes;
  j["headline"] = {{"metric", s.has_fooled() ? "fooled_asr" : "asr"},
                   {"value", s.headline_asr()},
                   {"ci95", interval_json(s.headline_ci())},
                   {"count", s.headline_count()},
                   {"of", s.attacked}};
  j["flips"] = s.flips;
  j["asr"] = s.asr;
  j["asr_ci95"] = interval_json(s.asr_ci);
  j["fooled"] = s.fooled ? nlohmann::ordered_json(*s.fooled) : nullptr;
  j["fooled_asr"] = s.fooled_asr ? nlohmann::ordered_json(*s.fooled_asr) : nullptr;
  j["fooled_asr_ci95"] = s.fooled_asr_ci ? interval_json(*s.fooled_asr_ci) : nullptr;
  if (s.success_classes.empty()) {
    j["success_classes"] = nullptr;
  } else {
    nlohmann::ordered_json classes = nlohmann::ordered_json::object();
    for (const char* c : {"fooled", "truth-changed", "undefined"}) classes[c] = s.success_classes.at(c);
    j["success_classes"] = std::move(classes);
  }
  j["decoupling"] = s.decoupling;
  j["decoupling_rate"] = rate_json(s.rate);
  j["fooled_decoupling_rate"] = rate_json(s.fooled_rate);
  if (s.decoupling) {
    nlohmann::ordered_json curve = nlohmann::ordered_json::array();
    for (const auto& p : s.found_size_curve) curve.push_back({{"budget", p.budget}, {"share", p.share}});
    j["found_size_curve"] = std::move(curve);
    nlohmann::ordered_json share = nlohmann::ordered_json::object();
    for (const auto& [name, v] : s.points_share) share[name] = v;
    j["points_share"] = std::move(share);
  } else {
    j["found_size_curve"] = nullptr;
    j["points_share"] = nullptr;
  }
  j["fusion_shift_mean"] = s.fusion_shift_mean ? nlohmann::ordered_json(*s.fusion_shift_mean) : nullptr;
  j["linf_mean"] = s.linf_mean ? nlohmann::ordered_json(*s.linf_mean) : nullptr;
  j["queries_per_sample"] = s.queries_per_sample;
  j["backward_per_sample"] = s.backward_per_sample;
  j["seconds_per_sample"] = s.seconds_per_sample;
  j["notes"] = s.notes;
  j["warnings"] = s.warnings;
  j["versions"] = software_versions();
  return j;
}

std::string format_summary_table(const MeasurementSummary& s) {
  std::ostringstream out;
  char buf[256];
  auto row = [&out](const char* label, const std::string& value) {
    char head[32];
    std::snprintf(head, sizeof head, "  %-16s", label);
    out << head << value << "\n";
  };
  row("model", s.model);
  row("method", s.method + " (objective " + objective_name(s.options.objective) +
                    (s.options.budget < 1.0 ? ", budget " + percent(s.options.budget) : "") + ")");
  std::snprintf(buf, sizeof buf, "%lld, clean accuracy %s", static_cast<long long>(s.samples),
                percent(s.clean_accuracy).c_str());
  row("samples", buf);
  auto rate_line = [](const std::optional<RateStats>& r) {
    return "mean " + percent(r->mean) + ", median " + percent(r->median) + ", p90 " + percent(r->p90) + ", min " +
           percent(r->min);
  };
  if (s.fooled_asr) {
    std::snprintf(buf, sizeof buf, "%s [95%% CI %s-%s] (%lld of %lld attacked; oracle %s)",
                  percent(*s.fooled_asr).c_str(), percent(s.fooled_asr_ci->low).c_str(),
                  percent(s.fooled_asr_ci->high).c_str(), static_cast<long long>(*s.fooled),
                  static_cast<long long>(s.attacked), s.oracle.empty() ? "?" : s.oracle.c_str());
    row("fooled ASR", buf);
    if (s.fooled_rate) row("  decoupling", rate_line(s.fooled_rate));
  }
  std::snprintf(buf, sizeof buf, "%s [95%% CI %s-%s] (%lld of %lld attacked)", percent(s.asr).c_str(),
                percent(s.asr_ci.low).c_str(), percent(s.asr_ci.high).c_str(), static_cast<long long>(s.flips),
                static_cast<long long>(s.attacked));
  row(s.fooled_asr ? "any flip" : "ASR (any flip)", buf);
  if (s.rate) {
    row("  decoupling", rate_line(s.rate));
  } else if (s.decoupling) {
    row("  decoupling", "no success");
  }
  if (!s.options.protected_tokens.empty()) {
    std::string ids;
    for (int64_t id : s.options.protected_tokens) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    row("protected", "token ids " + ids + " (never decoupled)");
  }
  if (!s.success_classes.empty()) {
    std::snprintf(buf, sizeof buf, "fooled %lld, truth-changed %lld, undefined %lld (search: %s)",
                  static_cast<long long>(s.success_classes.at("fooled")),
                  static_cast<long long>(s.success_classes.at("truth-changed")),
                  static_cast<long long>(s.success_classes.at("undefined")),
                  s.criterion == "fooled" ? "fooled sets only" : "any flip");
    row("flips", buf);
  } else if (s.decoupling) {
    row("truth", "no oracle: every decision change counts, including ones that change the truth");
  }
  if (!s.found_size_curve.empty()) {
    std::string curve;
    for (const auto& p : s.found_size_curve)
      curve += (curve.empty() ? "" : "  ") + percent(p.budget) + ": " + percent(p.share);
    row("found sizes", curve + "  (share of samples, sizes found without a budget)");
  }
  if (!s.points_share.empty()) {
    std::string share;
    for (const auto& [name, v] : s.points_share) share += (share.empty() ? "" : ", ") + name + " " + percent(v);
    row("points", share + " (mean share per success)");
  }
  if (s.fusion_shift_mean) {
    std::snprintf(buf, sizeof buf, "%.4f (1 - cos, mean over successes)", *s.fusion_shift_mean);
    row("fusion shift", buf);
  }
  if (s.linf_mean) {
    std::snprintf(buf, sizeof buf, "%.4f (mean over successes)", *s.linf_mean);
    row("L-inf", buf);
  }
  std::snprintf(buf, sizeof buf, "%.1f queries, %.1f backward, %.3f s per attacked sample", s.queries_per_sample,
                s.backward_per_sample, s.seconds_per_sample);
  row("cost", buf);
  for (const auto& w : s.warnings) out << "  WARNING: " << w << "\n";
  return out.str();
}

}  // namespace muroan
