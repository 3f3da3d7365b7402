// Projected sum: z = Wi pi + Wt pt (additive: any interaction is left to the head).
#include "fusions.h"

namespace muroan {

SumFusionImpl::SumFusionImpl(const FusionConfig& config) : out_dim_(config.hidden) {
  image_proj_ = register_module("image_proj", torch::nn::Linear(config.image_dim, /*out=*/config.hidden));
  // One bias is enough: a second one would only add to the first.
  text_proj_ = register_module(
      "text_proj", torch::nn::Linear(torch::nn::LinearOptions(config.text_dim, /*out=*/config.hidden).bias(false)));
}

torch::Tensor SumFusionImpl::forward(const ImageFeatures& image, const TextFeatures& text) {
  return image_proj_->forward(image.pooled) + text_proj_->forward(text.pooled);
}

}  // namespace muroan
