// FiLM (Perez et al. 2018, "FiLM: Visual Reasoning with a General Conditioning
// Layer"): the pooled features of the other inputs predict a per-channel scale
// gamma and shift beta that modulate the first input's features after a 1x1
// convolution (a per-position linear map for a sequence), before the ReLU (as
// in the paper's residual blocks); z = mean over the grid (over the real
// positions). The other inputs reach z only through the modulation.
#include "fusions.h"

namespace muroan {

FilmFusionImpl::FilmFusionImpl(const FusionConfig& config) : out_dim_(config.hidden), grid_(config.streams.at(0).grid) {
  const auto& first = config.streams[0];
  if (grid_) {
    conv_ =
        register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(first.dim, /*out_channels=*/config.hidden,
                                                                           /*kernel_size=*/1)));
  } else {
    position_ = register_module("position", torch::nn::Linear(first.dim, /*out=*/config.hidden));
  }
  film_ = register_module("film", torch::nn::Linear(total_dim(config) - first.dim, /*out=*/2 * config.hidden));
}

torch::Tensor FilmFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  std::vector<torch::Tensor> conditions;
  for (size_t m = 1; m < streams.size(); ++m) conditions.push_back(streams[m].pooled);
  auto params = film_->forward(conditions.size() == 1 ? conditions[0] : torch::cat(conditions, /*dim=*/1));
  // gamma = 1 + delta, so that a fresh layer starts close to the identity.
  auto gamma = 1 + params.slice(/*dim=*/1, 0, out_dim_);
  auto beta = params.slice(/*dim=*/1, out_dim_, 2 * out_dim_);
  const auto& first = streams[0];
  if (grid_) {
    auto maps = torch::relu(gamma.view({-1, out_dim_, 1, 1}) * conv_->forward(first.grid) +
                            beta.view({-1, out_dim_, 1, 1}));  // [B, hidden, h, w]
    return maps.mean({2, 3});
  }
  auto features = torch::relu(gamma.unsqueeze(1) * position_->forward(zero_pads(first.tokens, first.mask)) +
                              beta.unsqueeze(1));  // [B, N, hidden]
  return masked_mean(features, first.mask);
}

}  // namespace muroan
