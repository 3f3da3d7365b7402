// Low-rank multimodal fusion (Liu et al. 2018, "Efficient Low-rank Multimodal
// Fusion with Modality-Specific Factors"): the TFN weight tensor over
// [p_1;1] (x) .. (x) [p_M;1] is factored into `rank` modality-specific factors,
// so z = sum_r w_r * prod_m (W_m^r [p_m;1]) + b without building the outer
// product (any number of inputs).
#include <cmath>

#include "fusions.h"

namespace muroan {

namespace {

// Xavier-normal with the fans of one [in, out] slice of the factor.
torch::Tensor xavier_factor(int64_t rank, int64_t in, int64_t out) {
  return torch::randn({rank, in, out}) * std::sqrt(2.0 / static_cast<double>(in + out));
}

// [p; 1] [B, D+1] times each factor [r, D+1, out] -> [r, B, out]
torch::Tensor apply_factor(const torch::Tensor& pooled, const torch::Tensor& factor) {
  auto one = torch::ones({pooled.size(0), 1}, pooled.options());
  return torch::matmul(torch::cat({pooled, one}, /*dim=*/1), factor);
}

}  // namespace

LowRankFusionImpl::LowRankFusionImpl(const FusionConfig& config) : out_dim_(config.hidden) {
  for (const auto& s : config.streams)
    factors_.push_back(register_parameter(s.role + "_factor", xavier_factor(config.rank, s.dim + 1, config.hidden)));
  rank_weight_ = register_parameter("rank_weight", torch::randn({config.rank}) * std::sqrt(2.0 / (1.0 + config.rank)));
  bias_ = register_parameter("bias", torch::zeros({config.hidden}));
}

torch::Tensor LowRankFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  auto fused = apply_factor(streams[0].pooled, factors_[0]);  // [r, B, out]
  for (size_t m = 1; m < streams.size(); ++m) fused = fused * apply_factor(streams[m].pooled, factors_[m]);
  return (fused * rank_weight_.view({-1, 1, 1})).sum(/*dim=*/0) + bias_;
}

}  // namespace muroan
