// ablation: random decoupling of points in every training sample, by rate or
// keep-K (the base classifier of certification by randomized ablation).
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "defenses/defenses.h"

namespace muroan {
namespace {

class AblationDefense : public Defense {
 public:
  AblationDefense(const DefenseOptions& o, std::vector<ModalitySpec> specs)
      : Defense(o),
        specs_(std::move(specs)),
        gen_(make_cpu_generator(o.seed)),
        decoupled_(specs_.size(), 0),
        points_(specs_.size(), 0) {}

  Inputs transform(const Inputs& batch) {
    torch::NoGradGuard no_grad;
    const int64_t head = defended_rows(options().fraction, batch_size(batch));
    const Inputs rows = slice_rows(batch, 0, head);
    const PointMasks masks = options().ablation_keep.empty()
                                 ? random_rate_masks(rows, specs_, options().ablation_rate, gen_)
                                 : random_keep_masks(rows, specs_, options().ablation_keep, gen_);
    const auto n = count_points(rows, specs_);
    const auto d = count_masked(masks, head);
    for (size_t m = 0; m < specs_.size(); ++m) {
      decoupled_[m] += d[m].sum().item<int64_t>();
      points_[m] += n[m].sum().item<int64_t>();
    }
    ++batches_;
    defended_rows_ += head;
    return splice_rows(apply_point_masks(rows, specs_, masks, options().text_removal), batch, head);
  }

 protected:
  void add_stats(nlohmann::json& stats) const override {
    nlohmann::json rate = nlohmann::json::object();
    for (size_t m = 0; m < specs_.size(); ++m)
      rate[specs_[m].name] = points_[m] ? static_cast<double>(decoupled_[m]) / static_cast<double>(points_[m]) : 0.0;
    stats["decoupled_share"] = rate;  // decoupled points / points of the defended rows
  }

 private:
  std::vector<ModalitySpec> specs_;
  torch::Generator gen_;
  std::vector<int64_t> decoupled_, points_;
};

}  // namespace

std::shared_ptr<Defense> install_ablation(const DefenseOptions& options, const std::vector<ModalitySpec>& specs,
                                          TrainOptions& train) {
  if (!options.ablation_keep.empty()) expand_keep_list(options.ablation_keep, specs.size());  // checks the length
  auto d = std::make_shared<AblationDefense>(options, specs);
  train.transform_batch = [d](const Inputs& batch, const torch::Tensor&) { return d->transform(batch); };
  return d;
}

}  // namespace muroan
