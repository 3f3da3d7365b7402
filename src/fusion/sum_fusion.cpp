// Projected sum: z = sum_m W_m p_m (additive: any interaction is left to the head).
#include "fusions.h"

namespace muroan {

SumFusionImpl::SumFusionImpl(const FusionConfig& config) : out_dim_(config.hidden) {
  // One bias is enough: more would only add to the first.
  proj_ = per_stream_linears(*this, config, "_proj", config.hidden, /*bias_first_only=*/true);
}

torch::Tensor SumFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  auto z = proj_[0]->forward(streams[0].pooled);
  for (size_t m = 1; m < streams.size(); ++m) z = z + proj_[m]->forward(streams[m].pooled);
  return z;
}

}  // namespace muroan
