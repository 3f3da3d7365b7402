// Defenses of the fusion against decoupling (DESIGN.md section 6), applied while
// a built-in model trains. The batched point masks they use are point_masks.h.
//
//   muroan::DefenseOptions d;
//   d.kind = muroan::DefenseKind::kAblation;   // none | pgd-at | ablation | decoupling-at
//   d.ablation_keep = {45, muroan::kKeepAll};  // or d.ablation_rate = 0.5
//   muroan::TrainOptions t;                    // epochs, device, ...
//   auto defense = muroan::install_defense(d, net, data.modalities, t);  // sets t's hooks
//   muroan::train_model(net, data, t);
//   checkpoint.training["defense"] = defense->to_json();  // options and what it did
//
// The defenses:
//   pgd-at         traditional adversarial training (Madry et al.): each batch is
//                  replaced by PGD examples, L-infinity on the image (eps) and on
//                  the token embeddings (text_eps), maximising the cross-entropy;
//   ablation       random decoupling: in every sample, a share `ablation_rate` of
//                  the points of each modality (or all but `ablation_keep` of them)
//                  is decoupled, as in DESIGN.md section 2, so the model learns
//                  not to depend on a few points; with keep-K it is the base
//                  classifier that certification by randomized ablation needs;
//   decoupling-at  adversarial training on decoupled examples found on the fly by
//                  a cheap batched saliency attack over the points of every
//                  input (decoupling_examples below).
#pragma once

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "muroan/decoupling.h"
#include "muroan/inputs.h"
#include "muroan/modality.h"
#include "muroan/multimodal_net.h"
#include "muroan/point_masks.h"
#include "muroan/trainer.h"

namespace muroan {

// ---- defenses -------------------------------------------------------------------

enum class DefenseKind { kNone, kPgdAt, kAblation, kDecouplingAt };
const char* defense_name(DefenseKind kind);
// "none", "pgd-at", "ablation" or "decoupling-at"; throws UsageError otherwise.
DefenseKind parse_defense(const std::string& name);

struct DefenseOptions {
  DefenseKind kind = DefenseKind::kNone;
  double fraction = 1.0;                            // share of each batch replaced by defended examples, in (0,1]
  uint64_t seed = 1;                                // random starts, masks
  TextRemoval text_removal = TextRemoval::kDelete;  // ablation, decoupling-at
  // pgd-at
  double eps = 8.0 / 255.0;  // image L-infinity radius (values stay in [0,1])
  double text_eps = 0.1;     // token-embedding L-infinity radius; 0: image only
  int64_t steps = 5;         // pgd-at: PGD steps; decoupling-at: saliency steps
  double step_size = 0.0;    // pgd-at: 0 means 2.5 * eps / steps (also for text_eps)
  // ablation
  double ablation_rate = 0.5;          // share of each modality's points decoupled
  std::vector<int64_t> ablation_keep;  // when set: points kept per modality, instead of the rate
  // decoupling-at
  int64_t patch = 7;              // image elements are patch x patch squares (1: pixels)
  int64_t elements_per_step = 1;  // elements decoupled per saliency step
};

// Checks values; throws UsageError naming the option (--defense-eps, ...).
void validate_defense_options(const DefenseOptions& options);
// All options that matter for `options.kind`, as JSON.
nlohmann::json defense_options_to_json(const DefenseOptions& options);

// PGD examples of a batch for the net (which is left in its mode): the image
// within `eps` (L-infinity) of the original and in [0,1]; the token-embedding
// perturbation within `text_eps`, zero at pad positions.
struct PgdExamples {
  torch::Tensor image;            // [B,C,H,W]
  torch::Tensor embedding_delta;  // [B,L,E]; undefined when text_eps is 0
};
PgdExamples pgd_examples(MultimodalNet& net, const Inputs& batch, const torch::Tensor& labels,
                         const DefenseOptions& options, torch::Generator& gen);

// Decoupled examples of a batch from a cheap batched saliency attack: for
// `steps` steps, one forward + backward pass gives first-order estimates of the
// cross-entropy increase of decoupling each candidate (an image patch: the
// gradient times (fill - x) summed over its pixels and channels; a token: the
// gradient w.r.t. the embeddings dotted with the change of the embedded
// sequence after its removal), and the `elements_per_step` best candidates of
// every row that is still classified correctly are decoupled. Rows stop once
// their decision is wrong. No exact re-ranking, no pruning: cheaper and weaker
// than the saliency attack of attack.h.
struct DecouplingExamples {
  Inputs inputs;          // x_S, built with apply_point_masks
  PointMasks masks;       // S per row (original positions)
  torch::Tensor flipped;  // bool [B]: the net is wrong on x_S
  torch::Tensor rate;     // double [B]: |S| / N per row
};
DecouplingExamples decoupling_examples(MultimodalNet& net, const Inputs& batch, const torch::Tensor& labels,
                                       const std::vector<ModalitySpec>& specs, const DefenseOptions& options);

// A defense installed into TrainOptions; it counts what it does.
class Defense {
 public:
  virtual ~Defense() = default;
  const DefenseOptions& options() const { return options_; }
  // {"name", options..., "stats": {"batches", "defended_rows", ...}}
  virtual nlohmann::json to_json() const;

 protected:
  explicit Defense(DefenseOptions options) : options_(std::move(options)) {}
  virtual void add_stats(nlohmann::json& stats) const {}
  int64_t batches_ = 0, defended_rows_ = 0;

 private:
  DefenseOptions options_;
};

// Validates the options and sets `train`'s hooks (transform_batch, or for
// pgd-at batch_logits) for `net`; kind none sets nothing. The hooks share the
// returned object, whose to_json() reports what it did. Throws UsageError.
std::shared_ptr<Defense> install_defense(const DefenseOptions& options, MultimodalNet net,
                                         const std::vector<ModalitySpec>& specs, TrainOptions& train);

}  // namespace muroan
