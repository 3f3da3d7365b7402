// Private to src/models: the initialisation of the built-in encoders' ReLU layers.
#pragma once

#include <torch/nn/init.h>
#include <torch/utils.h>

namespace muroan {

// He initialisation (fan-in, ReLU gain) with zero bias. LibTorch's default
// (uniform, variance 1/(3 fan_in)) shrinks the activation variance about 6x per
// ReLU layer, so after three conv blocks and the projection the image features
// were ~100x smaller than the text features, and fusions that multiply or
// compare the two sat at chance for up to 10 epochs on fashion-match (measured,
// docs/zoo_accuracy.md).
template <typename Layer>
Layer he_init(Layer layer) {
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(layer->weight, /*a=*/0.0, torch::kFanIn, torch::kReLU);
  torch::nn::init::zeros_(layer->bias);
  return layer;
}

}  // namespace muroan
