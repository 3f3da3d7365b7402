// Early (feature-level) fusion: concatenate the pooled features, one ReLU layer.
#include "fusions.h"

namespace muroan {

ConcatFusionImpl::ConcatFusionImpl(const FusionConfig& config) : out_dim_(config.hidden) {
  proj_ = register_module("proj", torch::nn::Linear(config.image_dim + config.text_dim, /*out=*/config.hidden));
}

torch::Tensor ConcatFusionImpl::forward(const ImageFeatures& image, const TextFeatures& text) {
  return torch::relu(proj_->forward(torch::cat({image.pooled, text.pooled}, /*dim=*/1)));
}

}  // namespace muroan
