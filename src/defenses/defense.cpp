// Defense options, their JSON, and install_defense's dispatch.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "defenses/defenses.h"
#include "muroan/error.h"

namespace muroan {

const char* defense_name(DefenseKind kind) {
  switch (kind) {
    case DefenseKind::kNone:
      return "none";
    case DefenseKind::kPgdAt:
      return "pgd-at";
    case DefenseKind::kAblation:
      return "ablation";
    case DefenseKind::kDecouplingAt:
      return "decoupling-at";
  }
  return "none";
}

DefenseKind parse_defense(const std::string& name) {
  for (auto k : {DefenseKind::kNone, DefenseKind::kPgdAt, DefenseKind::kAblation, DefenseKind::kDecouplingAt})
    if (name == defense_name(k)) return k;
  throw UsageError("defense.kind: expected none, pgd-at, ablation or decoupling-at, got '" + name + "'");
}

void validate_defense_options(const DefenseOptions& o) {
  if (!(o.fraction > 0.0 && o.fraction <= 1.0)) throw UsageError("defense.fraction: must be in (0,1]");
  switch (o.kind) {
    case DefenseKind::kNone:
      return;
    case DefenseKind::kPgdAt:
      if (!(o.eps >= 0.0) || !(o.text_eps >= 0.0)) throw UsageError("defense.eps, defense.text_eps: must be >= 0");
      if (o.eps == 0.0 && o.text_eps == 0.0)
        throw UsageError("defense.eps, defense.text_eps: both 0, so pgd-at would perturb nothing");
      if (o.steps <= 0) throw UsageError("defense.steps: must be positive");
      if (o.step_size < 0.0) throw UsageError("defense.step_size: must be >= 0 (0: 2.5 * eps / steps)");
      if (o.step_size > 0.0 && o.eps == 0.0)
        throw UsageError("defense.step_size: is relative to the image radius defense.eps, which is 0");
      return;
    case DefenseKind::kAblation:
      if (o.ablation_keep.empty()) {
        if (!(o.ablation_rate >= 0.0 && o.ablation_rate <= 1.0))
          throw UsageError("defense.ablation_rate: must be in [0,1]");
      } else {
        for (int64_t k : o.ablation_keep)
          if (k < 0 && k != kKeepAll) throw UsageError("defense.ablation_keep: counts must be >= 0 or 'all'");
      }
      return;
    case DefenseKind::kDecouplingAt:
      if (o.steps <= 0) throw UsageError("defense.steps: must be positive");
      if (o.patch <= 0) throw UsageError("defense.patch: must be positive");
      if (o.elements_per_step <= 0) throw UsageError("defense.elements_per_step: must be positive");
      return;
  }
}

nlohmann::json defense_options_to_json(const DefenseOptions& o) {
  nlohmann::json j = {{"name", defense_name(o.kind)}};
  if (o.kind == DefenseKind::kNone) return j;
  j["fraction"] = o.fraction;
  j["seed"] = o.seed;
  switch (o.kind) {
    case DefenseKind::kNone:
      break;
    case DefenseKind::kPgdAt:
      j["eps"] = o.eps;
      j["text_eps"] = o.text_eps;
      j["steps"] = o.steps;
      j["step_size"] = o.step_size > 0 ? o.step_size : 2.5 * o.eps / static_cast<double>(o.steps);
      j["text_step_size"] =
          o.step_size > 0 ? o.step_size * o.text_eps / o.eps : 2.5 * o.text_eps / static_cast<double>(o.steps);
      break;
    case DefenseKind::kAblation:
      j["text_removal"] = text_removal_name(o.text_removal);
      if (o.ablation_keep.empty())
        j["ablation_rate"] = o.ablation_rate;
      else
        j["ablation_keep"] = keep_list_to_string(o.ablation_keep);
      break;
    case DefenseKind::kDecouplingAt:
      j["text_removal"] = text_removal_name(o.text_removal);
      j["steps"] = o.steps;
      j["patch"] = o.patch;
      j["elements_per_step"] = o.elements_per_step;
      break;
  }
  return j;
}

nlohmann::json Defense::to_json() const {
  nlohmann::json j = defense_options_to_json(options_);
  nlohmann::json stats = {{"batches", batches_}, {"defended_rows", defended_rows_}};
  add_stats(stats);
  j["stats"] = std::move(stats);
  return j;
}

namespace {

class NoDefense : public Defense {
 public:
  explicit NoDefense(const DefenseOptions& o) : Defense(o) {}
};

}  // namespace

std::shared_ptr<Defense> install_defense(const DefenseOptions& options, MultimodalNet net,
                                         const std::vector<ModalitySpec>& specs, TrainOptions& train) {
  validate_defense_options(options);
  // pgd-at perturbs an image and token embeddings; decoupling-at decouples the points of any input.
  const bool image_text = specs.size() == 2 && specs[0].is_image() && specs[1].is_tokens();
  if (options.kind == DefenseKind::kPgdAt && !image_text)
    throw UsageError("defense 'pgd-at' is written for one image and one token input; this model has " +
                     std::to_string(specs.size()) + " inputs of other kinds (use decoupling-at, ablation or none)");
  switch (options.kind) {
    case DefenseKind::kNone:
      return std::make_shared<NoDefense>(options);
    case DefenseKind::kPgdAt:
      return install_pgd_at(options, std::move(net), train);
    case DefenseKind::kAblation:
      return install_ablation(options, specs, train);
    case DefenseKind::kDecouplingAt:
      return install_decoupling_at(options, std::move(net), specs, train);
  }
  throw UsageError("unknown defense");
}

int64_t defended_rows(double fraction, int64_t rows) {
  const auto n = static_cast<int64_t>(std::ceil(fraction * static_cast<double>(rows) - 1e-9));
  return std::max<int64_t>(1, std::min(rows, n));
}

Inputs splice_rows(const Inputs& defended, const Inputs& original, int64_t head) {
  Inputs out;
  for (size_t m = 0; m < original.size(); ++m) {
    if (head >= original[m].size(0))
      out.push_back(defended[m].slice(0, 0, head));
    else
      out.push_back(torch::cat({defended[m].slice(0, 0, head), original[m].slice(0, head)}, 0));
  }
  return out;
}

torch::Generator make_cpu_generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

}  // namespace muroan
