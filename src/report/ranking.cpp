#include "ranking.h"

#include <algorithm>

namespace muroan::report {
namespace {

bool worse(const RunView& a, const RunView& b) {
  if (a.summary.headline_asr() != b.summary.headline_asr()) return a.summary.headline_asr() > b.summary.headline_asr();
  const auto& ra = a.summary.headline_rate();
  const auto& rb = b.summary.headline_rate();
  const double ma = ra ? ra->median : 2.0;
  const double mb = rb ? rb->median : 2.0;
  return ma < mb;
}

}  // namespace

const RunView* worst_run(const ReportData& data, const std::string& fusion) {
  const RunView* best = nullptr;
  for (const auto& r : data.runs) {
    if (!r.summary.decoupling || (!fusion.empty() && r.fusion != fusion)) continue;
    if (!best || worse(r, *best)) best = &r;
  }
  return best;
}

double envelope_asr(const ReportData& data, const std::string& fusion, double budget) {
  double v = 0;
  for (const auto& r : data.runs)
    if (r.fusion == fusion && r.summary.decoupling) v = std::max(v, r.asr_at(budget));
  return v;
}

std::vector<FusionRank> rank_fusions(const ReportData& data) {
  std::vector<FusionRank> out;
  for (size_t i = 0; i < data.fusions.size(); ++i) {
    FusionRank f;
    f.fusion = data.fusions[i];
    f.color_index = i;
    f.model = data.find_model(f.fusion);
    f.worst = worst_run(data, f.fusion);
    for (const auto& r : data.runs) {
      if (r.fusion != f.fusion) continue;
      if (!f.model || !f.model->test_accuracy) f.clean_accuracy = r.summary.clean_accuracy;
      if (r.summary.decoupling && (f.reference_method.empty() || r.asr_at(kReferenceBudget) > f.asr_at_reference)) {
        f.asr_at_reference = r.asr_at(kReferenceBudget);
        f.reference_method = r.method;
      }
    }
    if (f.model && f.model->test_accuracy) f.clean_accuracy = *f.model->test_accuracy;
    out.push_back(f);
  }
  std::stable_sort(out.begin(), out.end(), [](const FusionRank& a, const FusionRank& b) {
    if (a.asr_at_reference != b.asr_at_reference) return a.asr_at_reference > b.asr_at_reference;
    const double wa = a.worst ? a.worst->summary.headline_asr() : -1,
                 wb = b.worst ? b.worst->summary.headline_asr() : -1;
    return wa > wb;
  });
  return out;
}

}  // namespace muroan::report
