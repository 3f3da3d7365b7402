#include "csv_tables.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "html_text.h"
#include "muroan/error.h"
#include "ranking.h"

namespace muroan::report {
namespace {

namespace fs = std::filesystem;

void write_text(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(tmp.string(), "cannot open for writing");
    out << text;
    if (!out) throw InputError(tmp.string(), "write failed");
  }
  fs::rename(tmp, path);
}

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
  overview << "rank,fusion,clean_accuracy,worst_method,worst_asr,worst_median_rate,asr_at_"
           << format_number(100 * kReferenceBudget, 0) << "pct,asr_at_" << format_number(100 * kReferenceBudget, 0)
           << "pct_method,parameters,training_seconds\n";
  int rank = 0;
  for (const auto& f : rank_fusions(data)) {
    overview << ++rank << ',' << csv_field(f.fusion) << ',' << format_number(f.clean_accuracy) << ','
             << csv_field(f.worst ? f.worst->method : "") << ','
             << (f.worst ? format_number(f.worst->summary.asr) : "") << ','
             << (f.worst && f.worst->summary.rate ? format_number(f.worst->summary.rate->median) : "") << ','
             << format_number(f.asr_at_reference) << ',' << csv_field(f.reference_method) << ','
             << (f.model ? std::to_string(f.model->parameters) : "") << ','
             << (f.model ? format_number(f.model->training_seconds, 2) : "") << '\n';
  }
  write_text(tables / "overview.csv", overview.str());

  const auto modalities = modality_names(data);
  std::ostringstream runs;
  runs << "fusion,method,model,samples,correct,attacked,successes,clean_accuracy,asr,rate_count,rate_mean,"
          "rate_median,rate_p90,rate_min,rate_max";
  for (const auto& m : modalities) runs << ',' << csv_field("share_" + m);
  runs << ",fusion_shift_mean,linf_mean,queries_per_sample,backward_per_sample,seconds_per_sample,attack_seconds,"
          "dir\n";
  for (const auto& r : data.runs) {
    const auto& s = r.summary;
    runs << csv_field(r.fusion) << ',' << csv_field(r.method) << ',' << csv_field(r.model) << ',' << s.samples << ','
         << s.correct << ',' << s.attacked << ',' << s.successes << ',' << format_number(s.clean_accuracy) << ','
         << format_number(s.asr) << ',' << (s.rate ? std::to_string(s.rate->count) : "") << ','
         << (s.rate ? format_number(s.rate->mean) : "") << ',' << (s.rate ? format_number(s.rate->median) : "")
         << ',' << (s.rate ? format_number(s.rate->p90) : "") << ',' << (s.rate ? format_number(s.rate->min) : "")
         << ',' << (s.rate ? format_number(s.rate->max) : "");
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
  curve << "fusion,method,budget,asr\n";
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
  write_text(tables / "asr_vs_budget.csv", curve.str());

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
