// FiLM (Perez et al. 2018, "FiLM: Visual Reasoning with a General Conditioning
// Layer"): the pooled text predicts a per-channel scale gamma and shift beta
// that modulate the image feature maps after a 1x1 convolution, before the ReLU
// (as in the paper's residual blocks); z = mean over the grid. The text reaches
// z only through the modulation.
#include "fusions.h"

namespace muroan {

FilmFusionImpl::FilmFusionImpl(const FusionConfig& config) : out_dim_(config.hidden) {
  conv_ = register_module("conv",
                          torch::nn::Conv2d(torch::nn::Conv2dOptions(config.image_dim, /*out_channels=*/config.hidden,
                                                                     /*kernel_size=*/1)));
  film_ = register_module("film", torch::nn::Linear(config.text_dim, /*out=*/2 * config.hidden));
}

torch::Tensor FilmFusionImpl::forward(const ImageFeatures& image, const TextFeatures& text) {
  auto params = film_->forward(text.pooled);  // [B, 2*hidden]
  // gamma = 1 + delta, so that a fresh layer starts close to the identity.
  auto gamma = (1 + params.slice(/*dim=*/1, 0, out_dim_)).view({-1, out_dim_, 1, 1});
  auto beta = params.slice(/*dim=*/1, out_dim_, 2 * out_dim_).view({-1, out_dim_, 1, 1});
  auto maps = torch::relu(gamma * conv_->forward(image.grid) + beta);  // [B, hidden, h, w]
  return maps.mean({2, 3});
}

}  // namespace muroan
