// Gated multimodal unit (Arevalo et al. 2017, "Gated Multimodal Units for
// Information Fusion"): a gate computed from both modalities mixes their
// tanh-projected features.
#include "fusions.h"

namespace muroan {

GmuFusionImpl::GmuFusionImpl(const FusionConfig& config) : out_dim_(config.hidden) {
  image_proj_ = register_module("image_proj", torch::nn::Linear(config.image_dim, /*out=*/config.hidden));
  text_proj_ = register_module("text_proj", torch::nn::Linear(config.text_dim, /*out=*/config.hidden));
  gate_ = register_module("gate", torch::nn::Linear(config.image_dim + config.text_dim, /*out=*/config.hidden));
}

torch::Tensor GmuFusionImpl::forward(const ImageFeatures& image, const TextFeatures& text) {
  auto hi = torch::tanh(image_proj_->forward(image.pooled));
  auto ht = torch::tanh(text_proj_->forward(text.pooled));
  auto g = torch::sigmoid(gate_->forward(torch::cat({image.pooled, text.pooled}, /*dim=*/1)));
  return g * hi + (1 - g) * ht;
}

}  // namespace muroan
