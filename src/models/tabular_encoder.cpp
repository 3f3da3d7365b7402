// The built-in tabular encoder: standardised values, one position per feature.
#include <torch/torch.h>

#include "he_init.h"
#include "muroan/encoders.h"

namespace muroan {

TabularEncoderImpl::TabularEncoderImpl(int64_t features, int64_t dim) {
  centre_ = register_buffer("centre", torch::zeros({features}));
  scale_ = register_buffer("scale", torch::ones({features}));
  // Each value's embedding: unit-variance weights, so that a standardised value
  // of +-1 moves its position's features by about one.
  value_weight_ = register_parameter("value_weight", torch::randn({features, dim}));
  value_bias_ = register_parameter("value_bias", torch::zeros({features, dim}));
  summary_ =
      register_module("summary", torch::nn::Sequential(he_init(torch::nn::Linear(features, 2 * dim)), torch::nn::ReLU(),
                                                       he_init(torch::nn::Linear(2 * dim, dim)), torch::nn::ReLU()));
}

void TabularEncoderImpl::set_standardisation(const torch::Tensor& centre, const torch::Tensor& scale) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(centre.sizes() == centre_.sizes() && scale.sizes() == scale_.sizes(), "tabular encoder: expected ",
              centre_.size(0), " centres and scales");
  centre_.copy_(centre);
  scale_.copy_(torch::where(scale > 0, scale, torch::ones_like(scale)));
}

StreamFeatures TabularEncoderImpl::forward(const torch::Tensor& values) {
  const auto standard = (values - centre_) / scale_;  // [B, F]
  StreamFeatures f;
  f.tokens = torch::relu(standard.unsqueeze(-1) * value_weight_ + value_bias_);  // [B, F, D]
  f.mask = torch::ones({values.size(0), values.size(1)}, values.options().dtype(torch::kBool));
  f.pooled = summary_->forward(standard);
  return f;
}

}  // namespace muroan
