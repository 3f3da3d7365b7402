#include "csv_tables.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "html_text.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "ranking.h"

namespace muroan::report {
namespace {

namespace fs = std::filesystem;

void write_text(const fs::path& path, const std::string& text) { write_file_atomically(path.string(), text); }

std::string opt(const std::optional<double>& v) { return v ? format_number(*v) : ""; }

}  // namespace

const std::vector<double>& csv_budgets() {
  static const std::vector<double> kBudgets{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0};
  return kBudgets;
}

std::vector<std::string> modality_names(const ReportData& data) {
  std::vector<std::string> names;
  for (const auto& r : data.runs)
    for (const auto& [name, share] : r.summary.points_share)
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  return names;
}

void write_csv_tables(const ReportData& data, const std::string& dir) {
  const fs::path tables = fs::path(dir) / "tables";
  std::error_code ec;
  fs::create_directories(tables, ec);
  if (ec) throw InputError(tables.string(), "cannot create directory: " + ec.message());

  std::ostringstream overview;
  // worst_*: the headline metric (fooled ASR where an oracle judged, else any flip);
  // found_within_*: the share whose set, found without a budget, is that small.
  overview << "rank,fusion,clean_accuracy,metric,worst_method,worst_asr,worst_asr_ci_low,worst_asr_ci_high,"
              "worst_median_rate,found_within_"
           << format_number(100 * kReferenceBudget, 0) << "pct,found_within_"
           << format_number(100 * kReferenceBudget, 0) << "pct_method,parameters,training_seconds\n";
  int rank = 0;
  for (const auto& f : rank_fusions(data)) {
    const MeasurementSummary* w = f.worst ? &f.worst->summary : nullptr;
    overview << ++rank << ',' << csv_field(f.fusion) << ',' << format_number(f.clean_accuracy) << ','
             << (w ? (w->has_fooled() ? "fooled_asr" : "asr") : "") << ',' << csv_field(f.worst ? f.worst->method : "")
             << ',' << (w ? format_number(w->headline_asr()) : "") << ','
             << (w ? format_number(w->headline_ci().low) : "") << ',' << (w ? format_number(w->headline_ci().high) : "")
             << ',' << (w && w->headline_rate() ? format_number(w->headline_rate()->median) : "") << ','
             << format_number(f.asr_at_reference) << ',' << csv_field(f.reference_method) << ','
             << (f.model ? std::to_string(f.model->parameters) : "") << ','
             << (f.model ? format_number(f.model->training_seconds, 2) : "") << '\n';
  }
  write_text(tables / "overview.csv", overview.str());

  const auto modalities = modality_names(data);
  std::ostringstream runs;
  // asr and rate_*: any decision change (the paper's); fooled_*: the fooled
  // successes where an oracle judged (empty without one).
  runs << "fusion,method,model,samples,correct,attacked,success_criterion,successes,clean_accuracy,majority_share,"
          "flips,asr,asr_ci_low,asr_ci_high,fooled,fooled_asr,fooled_ci_low,fooled_ci_high,truth_changed,undefined,"
          "fooled_rate_median,fooled_rate_p90,rate_count,rate_mean,rate_median,rate_p90,rate_min,rate_max";
  for (const auto& m : modalities) runs << ',' << csv_field("share_" + m);
  runs << ",fusion_shift_mean,linf_mean,queries_per_sample,backward_per_sample,seconds_per_sample,attack_seconds,"
          "dir\n";
  for (const auto& r : data.runs) {
    const auto& s = r.summary;
    auto klass = [&s](const char* c) {
      return s.success_classes.empty() ? std::string() : std::to_string(s.success_classes.at(c));
    };
    runs << csv_field(r.fusion) << ',' << csv_field(r.method) << ',' << csv_field(r.model) << ',' << s.samples << ','
         << s.correct << ',' << s.attacked << ',' << s.criterion << ',' << s.successes << ','
         << format_number(s.clean_accuracy) << ',' << format_number(s.majority_share) << ',' << s.flips << ','
         << format_number(s.asr) << ',' << format_number(s.asr_ci.low) << ',' << format_number(s.asr_ci.high) << ','
         << (s.fooled ? std::to_string(*s.fooled) : "") << ',' << opt(s.fooled_asr) << ','
         << (s.fooled_asr_ci ? format_number(s.fooled_asr_ci->low) : "") << ','
         << (s.fooled_asr_ci ? format_number(s.fooled_asr_ci->high) : "") << ',' << klass("truth-changed") << ','
         << klass("undefined") << ',' << (s.fooled_rate ? format_number(s.fooled_rate->median) : "") << ','
         << (s.fooled_rate ? format_number(s.fooled_rate->p90) : "") << ','
         << (s.rate ? std::to_string(s.rate->count) : "") << ',' << (s.rate ? format_number(s.rate->mean) : "") << ','
         << (s.rate ? format_number(s.rate->median) : "") << ',' << (s.rate ? format_number(s.rate->p90) : "") << ','
         << (s.rate ? format_number(s.rate->min) : "") << ',' << (s.rate ? format_number(s.rate->max) : "");
    for (const auto& m : modalities) {
      auto it = s.points_share.find(m);
      runs << ',' << (it != s.points_share.end() ? format_number(it->second) : "");
    }
    runs << ',' << opt(s.fusion_shift_mean) << ',' << opt(s.linf_mean) << ',' << format_number(s.queries_per_sample, 2)
         << ',' << format_number(s.backward_per_sample, 2) << ',' << format_number(s.seconds_per_sample, 4) << ','
         << format_number(r.attack_seconds, 2) << ',' << csv_field(r.dir) << '\n';
  }
  write_text(tables / "runs.csv", runs.str());

  std::ostringstream curve;
  // The found-size curve: share of attacked samples with a headline success whose
  // set, found without a budget, is at most `budget` (not the ASR of a run under it).
  curve << "fusion,method,budget,share\n";
  for (const auto& fusion : data.fusions) {
    bool any = false;
    for (const auto& r : data.runs) {
      if (r.fusion != fusion || !r.summary.decoupling) continue;
      any = true;
      for (double b : csv_budgets())
        curve << csv_field(fusion) << ',' << csv_field(r.method) << ',' << format_number(b, 4) << ','
              << format_number(r.asr_at(b)) << '\n';
    }
    if (!any) continue;
    for (double b : csv_budgets())
      curve << csv_field(fusion) << ",strongest," << format_number(b, 4) << ','
            << format_number(envelope_asr(data, fusion, b)) << '\n';
  }
  write_text(tables / "found_sizes.csv", curve.str());

  std::ostringstream timings;
  timings << "step,fusion,method,seconds,reused\n";
  for (const auto& m : data.models)
    timings << "train," << csv_field(m.fusion) << ",," << format_number(m.training_seconds, 2) << ','
            << (m.reused ? "true" : "false") << '\n';
  for (const auto& r : data.runs)
    timings << "attack," << csv_field(r.fusion) << ',' << csv_field(r.method) << ','
            << format_number(r.attack_seconds, 2) << ",\n";
  write_text(tables / "timings.csv", timings.str());
}

}  // namespace muroan::report
