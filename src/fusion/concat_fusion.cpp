// Early (feature-level) fusion: concatenate the pooled features, one ReLU layer.
#include "fusions.h"

namespace muroan {

ConcatFusionImpl::ConcatFusionImpl(const FusionConfig& config) : out_dim_(config.hidden) {
  proj_ = register_module("proj", torch::nn::Linear(total_dim(config), /*out=*/config.hidden));
}

torch::Tensor ConcatFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  std::vector<torch::Tensor> pooled;
  for (const auto& s : streams) pooled.push_back(s.pooled);
  return torch::relu(proj_->forward(torch::cat(pooled, /*dim=*/1)));
}

}  // namespace muroan
