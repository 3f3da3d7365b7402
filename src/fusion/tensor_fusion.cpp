// Tensor fusion network (Zadeh et al. 2017): the outer product of [hi; 1] and
// [ht; 1] holds the unimodal features (the row and column of the appended 1)
// and every bimodal product hi_a * ht_b.
#include "fusions.h"

namespace muroan {

TensorFusionImpl::TensorFusionImpl(const FusionConfig& config) {
  image_proj_ = register_module("image_proj", torch::nn::Linear(config.image_dim, /*out=*/kProjDim));
  text_proj_ = register_module("text_proj", torch::nn::Linear(config.text_dim, /*out=*/kProjDim));
}

torch::Tensor TensorFusionImpl::forward(const ImageFeatures& image, const TextFeatures& text) {
  auto hi = torch::relu(image_proj_->forward(image.pooled));
  auto ht = torch::relu(text_proj_->forward(text.pooled));
  auto one = torch::ones({hi.size(0), 1}, hi.options());
  hi = torch::cat({hi, one}, /*dim=*/1);  // [B, d+1]
  ht = torch::cat({ht, one}, /*dim=*/1);
  return (hi.unsqueeze(2) * ht.unsqueeze(1)).flatten(/*start_dim=*/1);  // [B, (d+1)^2]
}

}  // namespace muroan
