// Multi-modal factorized bilinear pooling (Yu et al. 2017, MFB): the bilinear
// form pi^T W_o pt is factored as (U pi) * (V pt) over o*k units, sum-pooled
// over the factor k, then power- and L2-normalised.
#include <cmath>

#include "fusions.h"

namespace muroan {

namespace {
// Keeps the derivative of sqrt finite at 0 (it is 1/(2 sqrt(eps)) there).
constexpr double kPowerEps = 1e-6;
}  // namespace

BilinearFusionImpl::BilinearFusionImpl(const FusionConfig& config) : out_dim_(config.hidden), factor_(config.factor) {
  image_proj_ =
      register_module("image_proj", torch::nn::Linear(config.image_dim, /*out=*/config.hidden * config.factor));
  text_proj_ = register_module("text_proj", torch::nn::Linear(config.text_dim, /*out=*/config.hidden * config.factor));
}

torch::Tensor BilinearFusionImpl::forward(const ImageFeatures& image, const TextFeatures& text) {
  auto joint = image_proj_->forward(image.pooled) * text_proj_->forward(text.pooled);
  auto z = joint.view({joint.size(0), out_dim_, factor_}).sum(/*dim=*/2);  // [B, o]
  // Power normalisation sign(z) sqrt(|z|), shifted so that it is 0 at 0 and its
  // gradient is finite everywhere.
  z = torch::sign(z) * (torch::sqrt(z.abs() + kPowerEps) - std::sqrt(kPowerEps));
  // L2 normalisation, as F.normalize (the eps keeps z = 0 finite).
  return z / z.norm(/*p=*/2, /*dim=*/{1}, /*keepdim=*/true).clamp_min(1e-12);
}

}  // namespace muroan
