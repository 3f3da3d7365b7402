// Certification records and summary: statistics, JSON, and the table for people.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>

#include "muroan/certify.h"
#include "muroan/defense.h"
#include "muroan/version.h"

namespace muroan {
namespace {

// Certified accuracy at radii 0 .. the largest radius of a correct record.
std::vector<RadiusPoint> accuracy_curve(const std::vector<CertifyRecord>& records,
                                        const std::function<int64_t(const CertifyRecord&)>& radius) {
  int64_t r_max = 0;
  for (const auto& r : records)
    if (r.correct) r_max = std::max(r_max, radius(r));
  std::vector<int64_t> at_least(static_cast<size_t>(r_max + 2), 0);
  for (const auto& r : records)
    if (r.correct) ++at_least[static_cast<size_t>(radius(r))];
  // Suffix sums: correct records with radius >= j.
  for (int64_t j = r_max; j >= 0; --j) at_least[static_cast<size_t>(j)] += at_least[static_cast<size_t>(j + 1)];
  std::vector<RadiusPoint> curve;
  const double n = static_cast<double>(std::max<size_t>(1, records.size()));
  for (int64_t j = 0; j <= r_max; ++j) curve.push_back({j, static_cast<double>(at_least[static_cast<size_t>(j)]) / n});
  return curve;
}

nlohmann::ordered_json named(const std::vector<std::string>& names, const std::vector<int64_t>& values) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (size_t m = 0; m < names.size() && m < values.size(); ++m) j[names[m]] = values[m];
  return j;
}

nlohmann::ordered_json curve_json(const std::vector<RadiusPoint>& curve) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto& p : curve) a.push_back({{"radius", p.radius}, {"accuracy", p.accuracy}});
  return a;
}

double accuracy_at(const std::vector<RadiusPoint>& curve, int64_t r) {
  return r < static_cast<int64_t>(curve.size()) ? curve[static_cast<size_t>(r)].accuracy : 0.0;
}

}  // namespace

CertifySummary summarize_certification(const std::vector<CertifyRecord>& records, const std::string& model,
                                       const CertifyOptions& options) {
  CertifySummary s;
  s.model = model;
  s.options = options;
  s.samples = static_cast<int64_t>(records.size());
  if (!records.empty()) s.modality_names = records.front().modality_names;
  int64_t votes_right = 0;
  double seconds = 0;
  std::vector<int64_t> radii;
  for (const auto& r : records) {
    s.abstentions += r.prediction < 0 ? 1 : 0;
    votes_right += r.vote == r.label ? 1 : 0;
    seconds += r.seconds;
    if (r.correct) radii.push_back(r.radius.total);
  }
  const double n = static_cast<double>(std::max<int64_t>(1, s.samples));
  s.vote_accuracy = static_cast<double>(votes_right) / n;
  s.curve = accuracy_curve(records, [](const CertifyRecord& r) { return r.radius.total; });
  s.certified_accuracy = accuracy_at(s.curve, 0);
  for (size_t m = 0; m < s.modality_names.size(); ++m)
    s.curve_per_modality.push_back(
        accuracy_curve(records, [m](const CertifyRecord& r) { return r.radius.per_modality.at(m); }));
  if (!radii.empty()) {
    std::sort(radii.begin(), radii.end());
    const size_t k = radii.size();
    s.median_radius =
        k % 2 ? static_cast<double>(radii[k / 2]) : 0.5 * static_cast<double>(radii[k / 2 - 1] + radii[k / 2]);
  }
  s.seconds_per_sample = seconds / n;
  return s;
}

nlohmann::ordered_json certify_record_to_json(const CertifyRecord& r) {
  nlohmann::ordered_json j;
  j["id"] = r.id;
  j["index"] = r.index;
  j["label"] = r.label;
  j["points"] = named(r.modality_names, r.points);
  j["keep"] = named(r.modality_names, r.keep);
  j["counts"] = r.counts;
  j["vote"] = r.vote;
  j["candidate"] = r.candidate;
  j["candidate_count"] = r.candidate_count;
  j["p_lower"] = r.p_lower;
  j["prediction"] = r.prediction;
  j["correct"] = r.correct;
  j["radius"] = r.radius.total;
  j["radius_per_modality"] = named(r.modality_names, r.radius.per_modality);
  j["seconds"] = r.seconds;
  return j;
}

nlohmann::ordered_json certify_summary_to_json(const CertifySummary& s) {
  nlohmann::ordered_json j;
  j["format"] = kCertifyFormat;
  j["model"] = s.model;
  const auto keep = expand_keep_list(s.options.keep.empty() ? std::vector<int64_t>{kKeepAll} : s.options.keep,
                                     std::max<size_t>(1, s.modality_names.size()));
  nlohmann::ordered_json keep_json = nlohmann::ordered_json::object();
  for (size_t m = 0; m < s.modality_names.size(); ++m)
    keep_json[s.modality_names[m]] =
        keep[m] == kKeepAll ? nlohmann::ordered_json("all") : nlohmann::ordered_json(keep[m]);
  j["options"] = {{"keep", keep_json},      {"n0", s.options.n0},
                  {"n", s.options.n},       {"alpha", s.options.alpha},
                  {"seed", s.options.seed}, {"text_removal", text_removal_name(s.options.text_removal)}};
  j["bound"] =
      "Levine & Feizi 2020 randomized ablation, per modality keep-k_m of n_m: certified at r when "
      "p_lower - max_{sum r_m = r} (1 - prod_m C(n_m - r_m, k_m) / C(n_m, k_m)) > 1/2; "
      "p_lower: one-sided Clopper-Pearson at level alpha (docs/certification.md)";
  j["samples"] = s.samples;
  j["abstentions"] = s.abstentions;
  j["vote_accuracy"] = s.vote_accuracy;
  j["certified_accuracy"] = s.certified_accuracy;
  j["median_radius"] = s.median_radius;
  j["curve"] = curve_json(s.curve);
  nlohmann::ordered_json per = nlohmann::ordered_json::object();
  for (size_t m = 0; m < s.modality_names.size(); ++m) per[s.modality_names[m]] = curve_json(s.curve_per_modality[m]);
  j["curve_per_modality"] = per;
  j["seconds_per_sample"] = s.seconds_per_sample;
  j["versions"] = software_versions();
  return j;
}

std::string format_certify_table(const CertifySummary& s) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%s: %lld samples, n0 %lld, n %lld, alpha %g, keep %s\n", s.model.c_str(),
                static_cast<long long>(s.samples), static_cast<long long>(s.options.n0),
                static_cast<long long>(s.options.n), s.options.alpha, keep_list_to_string(s.options.keep).c_str());
  out << line;
  std::snprintf(line, sizeof line, "  smoothed vote accuracy %.3f, abstentions %lld, median certified radius %g\n",
                s.vote_accuracy, static_cast<long long>(s.abstentions), s.median_radius);
  out << line;
  static const int64_t kRadii[] = {0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
  out << "  certified accuracy at radius r\n  r            ";
  std::vector<int64_t> shown;
  int64_t r_max = static_cast<int64_t>(s.curve.size()) - 1;
  for (const auto& c : s.curve_per_modality) r_max = std::max(r_max, static_cast<int64_t>(c.size()) - 1);
  for (int64_t r : kRadii)
    if (r <= std::max<int64_t>(r_max + 1, 1)) shown.push_back(r);
  for (int64_t r : shown) {
    std::snprintf(line, sizeof line, "%7lld", static_cast<long long>(r));
    out << line;
  }
  out << "\n";
  auto row = [&](const std::string& label, const std::vector<RadiusPoint>& curve) {
    std::snprintf(line, sizeof line, "  %-12.12s ", label.c_str());
    out << line;
    for (int64_t r : shown) {
      std::snprintf(line, sizeof line, "%7.3f", accuracy_at(curve, r));
      out << line;
    }
    out << "\n";
  };
  row("any split", s.curve);
  for (size_t m = 0; m < s.modality_names.size(); ++m) row(s.modality_names[m] + " only", s.curve_per_modality[m]);
  return out.str();
}

}  // namespace muroan
