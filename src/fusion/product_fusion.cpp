// Element-wise product of the projected pooled features: z = (Wi pi) * (Wt pt).
#include "fusions.h"

namespace muroan {

ProductFusionImpl::ProductFusionImpl(const FusionConfig& config) : out_dim_(config.hidden) {
  image_proj_ = register_module("image_proj", torch::nn::Linear(config.image_dim, /*out=*/config.hidden));
  text_proj_ = register_module("text_proj", torch::nn::Linear(config.text_dim, /*out=*/config.hidden));
}

torch::Tensor ProductFusionImpl::forward(const ImageFeatures& image, const TextFeatures& text) {
  return image_proj_->forward(image.pooled) * text_proj_->forward(text.pooled);
}

}  // namespace muroan
