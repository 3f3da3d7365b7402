// Late fusion baseline: the average of two unimodal linear classifiers. Its
// logits are additive in the modalities, so it has no interaction at all.
#include "fusions.h"

namespace muroan {

LateFusionImpl::LateFusionImpl(const FusionConfig& config) : out_dim_(config.num_classes) {
  image_head_ = register_module("image_head", torch::nn::Linear(config.image_dim, /*out=*/config.num_classes));
  text_head_ = register_module("text_head", torch::nn::Linear(config.text_dim, /*out=*/config.num_classes));
}

torch::Tensor LateFusionImpl::forward(const ImageFeatures& image, const TextFeatures& text) {
  return (image_head_->forward(image.pooled) + text_head_->forward(text.pooled)) / 2;
}

}  // namespace muroan
