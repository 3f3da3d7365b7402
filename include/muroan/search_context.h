// What an attack method sees of one sample while it searches: the model, the
// input space, the objective, batched and counted candidate evaluation, and the
// search steps that several methods share (candidates, best pick, pruning).
// Attack::attack builds it; methods (src/attacks/*_attack.cpp) use it.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <vector>

#include "muroan/attack.h"
#include "muroan/decoupling.h"

namespace muroan {

// Thrown by SearchContext when options.max_queries is spent; Attack::attack
// catches it and judges the smallest successful set evaluated so far.
class QueryLimitReached : public std::runtime_error {
 public:
  QueryLimitReached() : std::runtime_error("query limit reached") {}
};

// One evaluated row.
struct CandidateEval {
  double loss = 0.0;  // the objective; lower is closer to success
  int64_t prediction = -1;
  bool success = false;    // the success criterion (a change or target hit; under
                           // the fooled criterion also keeping the truth)
  bool admissible = true;  // false: the oracle rejects x_S; the row was not queried
                           // (loss +inf, prediction -1), and no superset is tried by greedy
};

class SearchContext {
 public:
  // Queries the clean sample once (counted). `sample` must be on model.device().
  // `truth` (may be null): the sample's oracle; with it and a criterion other
  // than flip, the search looks for fooled sets only.
  SearchContext(Classifier& model, const Inputs& sample, const AttackOptions& options, uint64_t stream,
                const SampleTruth* truth = nullptr);

  Classifier& model() { return model_; }
  const AttackOptions& options() const { return options_; }
  const InputSpace& space() const { return space_; }
  const std::vector<ModalitySpec>& specs() const { return space_.specs(); }
  // Whether options.modalities lets the attack touch modality m.
  bool allowed(size_t m) const { return allowed_.at(m); }
  int64_t clean_prediction() const { return clean_prediction_; }
  const torch::Tensor& clean_logits() const { return clean_logits_; }  // [1,K]
  // [1,D] from the same pass as the clean logits; undefined when the model
  // has no fusion embedding.
  const torch::Tensor& clean_fusion() const { return clean_fusion_; }
  // Whether sets must keep the sample's truth (fooled criterion with an oracle).
  bool judges_truth() const { return fooled_; }
  // Whether the oracle keeps the truth of x_S (always true without judges_truth()).
  bool admissible(const DecouplingSet& set) const;
  // The same for many sets, judged in one batch (one call of a truth module).
  std::vector<bool> admissible_all(const std::vector<DecouplingSet>& sets) const;
  // Whether token `position` of modality m holds a protected token id.
  bool is_protected(size_t m, int64_t position) const;
  // Largest |S| the budget allows.
  int64_t point_budget() const { return point_budget_; }
  bool within_budget(const DecouplingSet& set) const;

  // x_S for every set (rows), evaluated in forward passes of at most
  // options.batch_size rows; every row counts as one query. Under
  // judges_truth(), rows the oracle rejects are answered without a query
  // (admissible false).
  std::vector<CandidateEval> evaluate(const std::vector<DecouplingSet>& sets);
  // Differentiable objective [B] from logits [B,K] and (fusion objective) z [B,D].
  torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& fusion) const;
  bool uses_fusion() const { return options_.objective == Objective::kFusion; }
  // Whether a row with this prediction meets the decision criterion.
  bool is_success(int64_t prediction) const;
  // Counting for methods that call the model themselves (gradients). Throws
  // QueryLimitReached when `rows` more forward rows exceed options.max_queries.
  void count_forward(int64_t rows);
  void count_backward(int64_t rows) { backward_passes_ += rows; }
  int64_t forward_passes() const { return forward_passes_; }
  int64_t backward_passes() const { return backward_passes_; }

  // Randomness of this sample: options.seed mixed with the stream.
  std::mt19937_64& rng() { return rng_; }

  // Candidate elements of the allowed modalities: image regions at the options'
  // granularity, and every real token position that is not protected.
  std::vector<DecouplingElement> image_candidates() const;
  std::vector<DecouplingElement> token_candidates() const;
  // Every feature of the allowed tabular modalities.
  std::vector<DecouplingElement> feature_candidates() const;
  // Image candidates, then token candidates, then feature candidates.
  std::vector<DecouplingElement> candidates() const;
  // Quadtree cells of `r` (side s -> ceil(s/2)), clipped, non-empty.
  static std::vector<PixelRegion> quadrants(const PixelRegion& r);

  // Greedy growth from `set`: each step evaluates set + c for every candidate c
  // of `pool` that adds points and fits the budget and `max_points` (< 0: the
  // budget only; batched), and keeps the best (pick_best), until success or no
  // candidate is left.
  struct Outcome {
    DecouplingSet set;
    bool success = false;
  };
  Outcome grow_greedy(DecouplingSet set, const std::vector<DecouplingElement>& pool, int64_t max_points = -1);
  // Index of the best evaluation: a success adding the fewest points (then the
  // lowest loss), else the lowest loss (then the fewest points); the first on
  // a full tie. `added[i]` is the points row i adds.
  static size_t pick_best(const std::vector<CandidateEval>& evals, const std::vector<int64_t>& added);
  // Whether loss a is lower than b by more than rounding: 1e-5 relative (at
  // least 1e-5). Two rows with the same input can get losses a few float32 ulps
  // apart depending on where they sit in a forward pass (docs/performance.md);
  // such a tie is broken by the fewest points, then the first candidate, so
  // neither the batch size nor the sample-parallel packing can decide it.
  static bool lower_loss(double a, double b);
  // Pruning: restores, one batched round at a time, the element whose
  // restoration keeps the attack successful and frees the most points, until
  // none can be restored. `set` must be successful.
  DecouplingSet prune(DecouplingSet set);

  // The smallest successful set (within budget) evaluated so far.
  const std::optional<DecouplingSet>& best_success() const { return best_success_; }

 private:
  // Whether the oracle's verdict is the sample's own label.
  bool keeps_truth(const TruthVerdict& v) const;
  std::vector<CandidateEval> score(const torch::Tensor& logits, const torch::Tensor& fusion) const;
  std::vector<CandidateEval> evaluate_queried(const std::vector<DecouplingSet>& sets);
  // One forward chunk (already counted), modalities that a group of rows
  // leaves clean shared when options.share_encodings.
  std::vector<CandidateEval> evaluate_chunk(const std::vector<DecouplingSet>& chunk);
  void note_successes(const std::vector<DecouplingSet>& sets, const std::vector<CandidateEval>& evals);

  Classifier& model_;
  AttackOptions options_;
  const SampleTruth* truth_ = nullptr;
  bool fooled_ = false;
  InputSpace space_;
  std::vector<bool> allowed_;
  int64_t clean_prediction_ = -1;
  torch::Tensor clean_logits_;
  torch::Tensor clean_fusion_;
  int64_t point_budget_ = 0;
  int64_t forward_passes_ = 0, backward_passes_ = 0;
  std::mt19937_64 rng_;
  std::optional<DecouplingSet> best_success_;
  int64_t best_success_size_ = 0;
};

}  // namespace muroan
