// Private: which fusion breaks first. The answer the report opens with.
#pragma once

#include <string>
#include <vector>

#include "report_data.h"

namespace muroan::report {

// The budget of the ranking sentence and the overview's "ASR @ budget" column.
constexpr double kReferenceBudget = 0.05;

// The decoupling run with the highest ASR (ties: the smaller median rate), over
// every run when `fusion` is empty, else over that fusion's runs; nullptr when
// there is none (no run, or only pgd).
const RunView* worst_run(const ReportData& data, const std::string& fusion = "");

struct FusionRank {
  std::string fusion;
  size_t color_index = 0;            // position in data.fusions: the fusion's colour everywhere
  const ModelView* model = nullptr;  // null for a single run folder
  const RunView* worst = nullptr;    // worst_run(data, fusion)
  double asr_at_reference = 0;       // strongest method at kReferenceBudget
  std::string reference_method;
  double clean_accuracy = 0;  // the model's test accuracy, else that of the attacked samples
};

// The fusions, most vulnerable first: ASR at kReferenceBudget, then worst ASR,
// then the analysis order.
std::vector<FusionRank> rank_fusions(const ReportData& data);

// ASR of the strongest decoupling method of `fusion` at each budget: the
// pointwise maximum over its runs.
double envelope_asr(const ReportData& data, const std::string& fusion, double budget);

}  // namespace muroan::report
