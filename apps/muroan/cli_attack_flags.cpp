// The flags of `muroan attack` that bind to AttackOptions' fields (attack.h).
#include "cli_flags.h"
#include "cli_options.h"
#include "muroan/attack.h"
#include "muroan/names.h"

namespace muroan::cli {

void bind_attack_options(FlagBinder& flags, AttackOptions& a) {
  std::vector<std::string> methods;
  for (const auto& info : attack_catalog()) methods.push_back(info.name);
  flags.bind("--method", "method", a.method, join_names(methods));
  flags.bind_enum("--objective", "objective", a.objective,
                  {{"margin", Objective::kMargin}, {"fusion", Objective::kFusion}, {"targeted", Objective::kTargeted}},
                  "margin, fusion (1 - cos of the fusion embedding) or targeted");
  flags.bind("--target", "target", a.target, "Target class index of --objective targeted");
  flags.bind_enum(
      "--success", "success", a.success,
      {{"auto", SuccessCriterion::kAuto}, {"flip", SuccessCriterion::kFlip}, {"fooled", SuccessCriterion::kFooled}},
      "What counts as a success: fooled (the decision changed and the task's oracle says the "
      "truth of x_S did not), flip (any decision change, as the paper counts), or auto "
      "(fooled where the task has an oracle, else flip)");
  flags.bind("--budget", "budget", a.budget, "Largest decoupling rate |S|/N allowed, in (0,1]");
  flags.bind("--max-queries", "max_queries", a.max_queries, "Forward rows per sample (0: unlimited)");
  flags.bind("--seed", "seed", a.seed, "Seed of random choices");
  flags.bind_enum(
      "--granularity", "granularity", a.granularity,
      {{"pixel", Granularity::kPixel}, {"patch", Granularity::kPatch}, {"quadtree", Granularity::kQuadtree}},
      "Image candidates: pixel, patch or quadtree");
  flags.bind("--patch", "patch", a.patch, "Patch side in pixels (smallest quadtree cell)");
  flags.bind("--top-k", "top_k", a.top_k, "saliency: candidates re-ranked exactly per step");
  flags.bind("--max-size", "max_size", a.max_size, "exact: elements per set at most (1-4)");
  flags.command().add_flag("--refine", a.refine,
                           "greedy: after a success, search again among the smaller candidates while that finds a "
                           "smaller set");
  flags.bind_enum("--text-removal", "text_removal", a.text_removal,
                  {{"delete", TextRemoval::kDelete}, {"mask", TextRemoval::kMask}},
                  "delete (shift left) or mask (pad id)");
  flags.bind("--batch-size", "batch_size", a.batch_size, "Rows per forward pass");
  flags.command().add_flag("!--no-encoder-sharing", a.share_encodings,
                           "Encode every row in full, also modalities a candidate leaves clean (for comparison)");
  flags.bind("--eps", "eps", a.eps, "pgd: L-infinity radius");
  flags.bind("--step-size", "step_size", a.step_size, "pgd: step size");
  flags.bind("--steps", "steps", a.steps, "pgd: steps");
}

}  // namespace muroan::cli
