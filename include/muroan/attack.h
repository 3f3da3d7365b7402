// Decoupling attacks and their baselines (DESIGN.md section 3), one interface,
// selected by name: reference, greedy, saliency, random, sparse-rs, exact,
// drop, pgd.
//
//   muroan::AttackOptions opts;            // defaults: greedy, margin objective,
//   opts.method = "greedy";                // no budget, patches of 7x7 pixels
//   opts.budget = 0.05;                    // |S| / N <= 5%
//   auto attack = muroan::make_attack(opts);                 // throws UsageError
//   muroan::AttackResult r = attack->attack(model, sample);  // sample: 1 row per modality
//   if (r.success) std::cout << r.decoupling_rate << "\n";
//
// Attack::attack is final: it checks the inputs, calls the method's search, then
// judges the proposed set itself (rebuilds x_S with InputSpace::apply, queries
// the model, counts the union of points, enforces budget and modalities), so no
// method can report a success it did not achieve. A search that finds nothing
// is a normal result (success false), not an error.
#pragma once

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "muroan/classifier.h"
#include "muroan/decoupling.h"
#include "muroan/inputs.h"
#include "muroan/oracle.h"

namespace muroan {

// What the search minimises (success is always the decision criterion below).
enum class Objective {
  kMargin,    // logit_y - max_{j != y} logit_j, y = clean prediction (default)
  kFusion,    // cos(z(x_S), z(x)): maximises the fusion deviation 1 - cos; needs has_fusion()
  kTargeted,  // max_{j != t} logit_j - logit_t for the target class t
};
const char* objective_name(Objective o);
// "margin", "fusion" or "targeted"; throws UsageError otherwise.
Objective parse_objective(const std::string& name);

// What counts as a success (oracle.h). Whatever the criterion, the judge
// classifies every decision change when it is given the sample's truth.
enum class SuccessCriterion {
  kAuto,    // fooled when the sample's truth is known (built-in tasks), else flip
  kFlip,    // any decision change, as the paper counts
  kFooled,  // a decision change whose x_S keeps the sample's truth; needs an oracle
};
const char* success_criterion_name(SuccessCriterion c);
// "auto", "flip" or "fooled"; throws UsageError otherwise.
SuccessCriterion parse_success_criterion(const std::string& name);

// The candidate elements of image modalities for greedy, saliency and random.
enum class Granularity {
  kPixel,     // every pixel position
  kPatch,     // a grid of patch x patch squares (clipped at the edges)
  kQuadtree,  // quadtree cells of every level, from half the image down to `patch`
};
const char* granularity_name(Granularity g);
// "pixel", "patch" or "quadtree"; throws UsageError otherwise.
Granularity parse_granularity(const std::string& name);

// The largest max_size of the exact method.
inline constexpr int64_t kMaxExactSize = 4;

struct AttackOptions {
  std::string method = "greedy";  // reference | greedy | saliency | random | sparse-rs | exact | drop | pgd
  Objective objective = Objective::kMargin;
  int64_t target = -1;  // target class of the targeted objective
  SuccessCriterion success = SuccessCriterion::kAuto;
  std::vector<int64_t> protected_tokens;  // token ids no attack may decouple (e.g. the id of "not")
  double budget = 1.0;                    // max |S| / N in (0, 1]; 1.0: no budget
  std::vector<std::string> modalities;    // modality names the attack may touch; empty: all
  int64_t max_queries = 0;                // forward rows per sample; 0: unlimited
  uint64_t seed = 1;                      // random and pgd; mixed with the sample's stream
  Granularity granularity = Granularity::kPatch;
  int64_t patch = 7;   // patch side (pixels), smallest quadtree cell
  int64_t top_k = 16;  // saliency: candidates re-ranked exactly per step
  TextRemoval text_removal = TextRemoval::kDelete;
  int64_t batch_size = 256;     // rows per forward pass (1: one query at a time)
  bool share_encodings = true;  // encode a modality that rows leave clean once per pass
  // reference
  int64_t reference_min_side = 10;  // recurse into a flipping quadrant while side > this
  int64_t max_combinations = 500;   // combinations of candidates tried at most
  // greedy: after a success of s points, search again from nothing among the
  // candidates of fewer than s points (capped at s - 1 points), while that
  // finds a smaller set (docs/attacks.md: two words where a patch was found)
  bool refine = false;
  // random
  int64_t random_trials = 1;  // random orders tried
  // exact
  int64_t max_size = 3;  // elements per set at most, 1..kMaxExactSize
  // pgd (L-infinity, on image modalities, values clamped to [clamp_min, clamp_max])
  double eps = 8.0 / 255.0;
  double step_size = 2.0 / 255.0;
  int64_t steps = 10;
  bool random_start = true;
  double clamp_min = 0.0, clamp_max = 1.0;
};

// Options as JSON (all fields, enum names as strings) and back; from_json
// throws UsageError naming a malformed field; missing fields keep defaults.
nlohmann::ordered_json attack_options_to_json(const AttackOptions& options);
AttackOptions attack_options_from_json(const nlohmann::ordered_json& j);
// Modality names of a model from a user's list: a modality's name is kept;
// "image", "text" (or "tokens"), "tabular", "audio" and "signal" also stand for every modality of that kind.
// Without repeats, in the list's order. Throws UsageError "modalities: ..." for
// a name the model does not have.
std::vector<std::string> resolve_modality_names(const std::vector<std::string>& items,
                                                const std::vector<ModalitySpec>& specs);

// Checks values that do not depend on a model; throws UsageError.
void validate_attack_options(const AttackOptions& options);
// Checks the options against a model (modality names, target class, fusion).
void validate_attack_options(const AttackOptions& options, const Classifier& model);

// One sample's outcome, as judged by Attack::attack.
struct AttackResult {
  bool success = false;                                  // the criterion's verdict (see `criterion`)
  bool flipped = false;                                  // the decision changed (or hit the target), whatever the truth
  SuccessCriterion criterion = SuccessCriterion::kFlip;  // the one applied: flip or fooled
  SuccessClass success_class = SuccessClass::kNone;      // of a decision change, when the truth is known
  std::optional<int64_t> truth_label;                    // the oracle's label of x_S (nullopt: undefined or no oracle)
  std::string truth_reason;                              // why the truth of x_S differs from the label, if it does
  bool decoupling = true;                                // false for pgd: no set, no rate
  int64_t clean_prediction = -1;
  double clean_confidence = 0.0;  // softmax probability of the prediction
  int64_t adversarial_prediction = -1;
  double adversarial_confidence = 0.0;
  DecouplingSet set;  // the proposed set (also when not successful)
  TextRemoval text_removal = TextRemoval::kDelete;
  PointCount points;                   // union of decoupled points per modality, and N_m
  double decoupling_rate = 0.0;        // |S| / N; meaningless when !decoupling
  std::optional<double> fusion_shift;  // 1 - cos(z(x_S), z(x)) when has_fusion()
  std::optional<double> linf;          // pgd: L-infinity distance of the perturbation
  int64_t forward_passes = 0;          // rows evaluated by the search (clean pass included)
  int64_t backward_passes = 0;         // rows back-propagated by the search
  double seconds = 0.0;
  std::string note;    // why an attack stopped early or was not run, if so
  Inputs adversarial;  // x_S (or the pgd input), one row, on the model's device
};

class SearchContext;

// A method's answer to Attack::attack: a decoupling set, or (pgd) a perturbed input.
struct Proposal {
  DecouplingSet set;
  Inputs perturbed;  // non-empty only for perturbation attacks
  std::string note;
};

class Attack {
 public:
  explicit Attack(AttackOptions options);
  virtual ~Attack() = default;
  Attack(const Attack&) = delete;
  Attack& operator=(const Attack&) = delete;

  const AttackOptions& options() const { return options_; }
  virtual std::string name() const = 0;
  // False for attacks that perturb values instead of decoupling points (pgd).
  virtual bool is_decoupling() const { return true; }
  // True for attacks that take gradients through the model (saliency, pgd).
  virtual bool uses_gradients() const { return false; }

  // Attacks one sample (one row per modality, any device). `stream` makes the
  // method's randomness depend on the sample (e.g. its index) and not on the
  // samples before it, so that a resumed run draws the same numbers. `truth`
  // (optional, from the task's oracle) classifies decision changes and, under
  // the fooled criterion, is what the search must keep.
  // Throws UsageError for options the model cannot serve (the fooled
  // criterion without a truth); Error for a sample that does not fit the model.
  AttackResult attack(Classifier& model, const Inputs& sample, uint64_t stream = 0, const SampleTruth* truth = nullptr);

 protected:
  // The method's search. Evaluate candidates through `ctx` (batched, counted).
  virtual Proposal run(SearchContext& ctx) = 0;

 private:
  AttackOptions options_;
};

struct AttackInfo {
  std::string name;
  std::string description;
};
// Every method, in listing order.
std::vector<AttackInfo> attack_catalog();
// The method named options.method; throws UsageError for an unknown name or
// invalid options.
std::unique_ptr<Attack> make_attack(const AttackOptions& options);

}  // namespace muroan
