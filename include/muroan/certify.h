// Certification by randomized ablation (Levine & Feizi 2020, "Robustness
// certificates for sparse adversarial attacks by randomized ablation"), for
// several modalities (DESIGN.md section 6; the bound: docs/certification.md).
//
// The smoothed classifier g(x) votes over copies of x in which only k_m random
// points of each modality m are kept and the others decoupled (section 2). With
// N copies, a Clopper-Pearson lower bound p_A on the probability of the top
// class at level alpha, and
//   Delta(r_1..r_M) = 1 - prod_m C(n_m - r_m, k_m) / C(n_m, k_m),
// g's vote provably stays A under any decoupling (or arbitrary change) of up
// to r points in total, however split over the modalities, when
//   p_A - max_{r_1 + .. + r_M = r} Delta(r_1..r_M) > 1/2.
//
//   muroan::CertifyOptions o;
//   o.keep = {45, muroan::kKeepAll};   // per modality; one value: every modality
//   o.n = 1000; o.alpha = 0.05; o.out_dir = "runs/certify";
//   muroan::CertifyResult r = muroan::run_certification(model, split.inputs, split.labels, split.ids, o);
//   std::cout << muroan::format_certify_table(r.summary);
//
// Files in out_dir: certify.jsonl (one record per sample) and
// certify_summary.json ("format": "muroan-certify/1").
#pragma once

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "muroan/classifier.h"
#include "muroan/decoupling.h"
#include "muroan/inputs.h"

namespace muroan {

constexpr const char* kCertifyFormat = "muroan-certify/1";

// ---- statistics -------------------------------------------------------------------

// The regularized incomplete beta function I_x(a, b) (a, b > 0, x in [0,1]),
// by its continued fraction (Numerical Recipes 6.4).
double regularized_incomplete_beta(double a, double b, double x);
// The x in [0,1] with I_x(a, b) = p, by bisection to 1e-15; `round_up` returns
// the upper end of the last bracket instead of the lower one.
double beta_quantile(double p, double a, double b, bool round_up = false);
// One-sided Clopper-Pearson bounds on a binomial proportion, each holding with
// probability >= 1 - alpha: lower = B^{-1}(alpha; s, n-s+1) (0 when s = 0),
// upper = B^{-1}(1-alpha; s+1, n-s) (1 when s = n). Rounded outwards.
// Throws UsageError unless 0 <= successes <= trials, trials > 0, alpha in (0,1).
double clopper_pearson_lower(int64_t successes, int64_t trials, double alpha);
double clopper_pearson_upper(int64_t successes, int64_t trials, double alpha);

// ---- the ablation bound -----------------------------------------------------------

// log(C(n-r, k) / C(n, k)): the log-probability that a uniform k-subset of n
// points misses r given points; -infinity when n - r < k; 0 when r = 0. k is
// clipped to n (keeping more points than there are keeps them all).
double ablation_log_miss(int64_t n, int64_t k, int64_t r);
// Delta of one split (r_m points changed in modality m): 1 - prod_m miss_m.
double ablation_delta(const std::vector<int64_t>& n, const std::vector<int64_t>& k, const std::vector<int64_t>& r);
// The largest Delta over all splits of r points (sum r_m = r, 0 <= r_m <= n_m),
// exactly, by dynamic programming over the modalities; 1 when r > sum n_m.
double worst_ablation_delta(const std::vector<int64_t>& n, const std::vector<int64_t>& k, int64_t r);

struct CertifiedRadius {
  int64_t total = -1;                 // any split over the modalities; -1: nothing certified
  std::vector<int64_t> per_modality;  // only modality m changed
};
// The largest r with p_lower - worst_ablation_delta(n, k, r) > 1/2, and per
// modality; -1 everywhere when p_lower <= 1/2.
CertifiedRadius certified_radius(double p_lower, const std::vector<int64_t>& n, const std::vector<int64_t>& k);

// ---- certification of a model -------------------------------------------------------

struct CertifyOptions {
  std::vector<int64_t> keep;  // points kept per modality (kKeepAll: all); one value: every modality
  int64_t n0 = 64;            // copies that select the candidate class
  int64_t n = 1000;           // copies that bound its probability
  double alpha = 0.05;        // the certificate fails with probability at most alpha per sample
  uint64_t seed = 1;          // mixed with the sample index: a sample's copies do not depend on the others
  TextRemoval text_removal = TextRemoval::kDelete;
  int64_t batch_size = 256;    // rows per forward pass
  int64_t limit = 0;           // the first `limit` samples; 0: all
  std::string out_dir;         // empty: nothing written
  bool quiet = false;          // no progress bar
  bool record_seconds = true;  // false writes 0 seconds, for byte-identical files
  std::string model_name;      // default: model.name()
};

// Checks values that do not depend on a model; throws UsageError.
void validate_certify_options(const CertifyOptions& options);

struct CertifyRecord {
  int64_t index = 0;
  std::string id;
  int64_t label = -1;
  std::vector<std::string> modality_names;
  std::vector<int64_t> points;  // n_m of the sample
  std::vector<int64_t> keep;    // k_m = min(keep_m, n_m)
  std::vector<int64_t> counts;  // votes per class among the n copies
  int64_t vote = -1;            // arg-max of counts: g's plain majority vote
  int64_t candidate = -1;       // class selected by the n0 copies
  int64_t candidate_count = 0;  // its votes among the n copies
  double p_lower = 0.0;         // Clopper-Pearson lower bound of its probability
  int64_t prediction = -1;      // the candidate, or -1 (abstain) when p_lower <= 1/2
  bool correct = false;         // prediction == label
  CertifiedRadius radius;
  double seconds = 0.0;
};

// Certifies one sample (one row per modality, on any device).
CertifyRecord certify_sample(Classifier& model, const Inputs& sample, int64_t label, int64_t index,
                             const CertifyOptions& options);

struct RadiusPoint {
  int64_t radius = 0;
  double accuracy = 0.0;  // share of samples certified correct at this radius
};

struct CertifySummary {
  std::string model;
  CertifyOptions options;
  std::vector<std::string> modality_names;
  int64_t samples = 0;
  int64_t abstentions = 0;
  double vote_accuracy = 0.0;       // g's majority vote == label (no abstention)
  double certified_accuracy = 0.0;  // at radius 0: prediction == label
  std::vector<RadiusPoint> curve;   // radii 0 .. the largest certified
  std::vector<std::vector<RadiusPoint>> curve_per_modality;
  double median_radius = -1;  // over samples certified correct; -1 if none
  double seconds_per_sample = 0.0;
};

CertifySummary summarize_certification(const std::vector<CertifyRecord>& records, const std::string& model,
                                       const CertifyOptions& options);
nlohmann::ordered_json certify_record_to_json(const CertifyRecord& record);
// format, model, options {keep, n0, n, alpha, seed, text_removal}, bound,
// samples, abstentions, vote_accuracy, certified_accuracy, median_radius,
// curve [{radius, accuracy}], curve_per_modality {name: [...]},
// seconds_per_sample, versions.
nlohmann::ordered_json certify_summary_to_json(const CertifySummary& summary);
// Certified accuracy at a few radii, for people.
std::string format_certify_table(const CertifySummary& summary);

struct CertifyResult {
  CertifySummary summary;
  std::vector<CertifyRecord> records;
  std::string jsonl_path, summary_path;  // empty without out_dir
};

// Certifies every sample (inputs: N rows per modality, any device; labels
// int64 [N]; ids: N or empty), writing certify.jsonl as records are produced
// and the summary at the end. Throws UsageError for bad options, Error for
// inputs that do not fit the model.
CertifyResult run_certification(Classifier& model, const Inputs& inputs, const torch::Tensor& labels,
                                const std::vector<std::string>& ids, const CertifyOptions& options);

}  // namespace muroan
