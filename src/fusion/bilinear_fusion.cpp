// Multi-modal factorized bilinear pooling (Yu et al. 2017, MFB): the bilinear
// form pi^T W_o pt is factored as (U pi) * (V pt) over o*k units, sum-pooled
// over the factor k, then power- and L2-normalised. With more than two inputs
// the product runs over all their projections (a higher-order pooling).
#include <cmath>

#include "fusions.h"

namespace muroan {

namespace {
// Keeps the derivative of sqrt finite at 0 (it is 1/(2 sqrt(eps)) there).
constexpr double kPowerEps = 1e-6;
}  // namespace

BilinearFusionImpl::BilinearFusionImpl(const FusionConfig& config) : out_dim_(config.hidden), factor_(config.factor) {
  proj_ = per_stream_linears(*this, config, "_proj", config.hidden * config.factor);
}

torch::Tensor BilinearFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  auto joint = proj_[0]->forward(streams[0].pooled);
  for (size_t m = 1; m < streams.size(); ++m) joint = joint * proj_[m]->forward(streams[m].pooled);
  auto z = joint.view({joint.size(0), out_dim_, factor_}).sum(/*dim=*/2);  // [B, o]
  // Power normalisation sign(z) sqrt(|z|), shifted so that it is 0 at 0 and its
  // gradient is finite everywhere.
  z = torch::sign(z) * (torch::sqrt(z.abs() + kPowerEps) - std::sqrt(kPowerEps));
  // L2 normalisation, as F.normalize (the eps keeps z = 0 finite).
  return z / z.norm(/*p=*/2, /*dim=*/{1}, /*keepdim=*/true).clamp_min(1e-12);
}

}  // namespace muroan
