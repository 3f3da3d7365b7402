// Element-wise product of the projected pooled features: z = prod_m W_m p_m.
#include "fusions.h"

namespace muroan {

ProductFusionImpl::ProductFusionImpl(const FusionConfig& config) : out_dim_(config.hidden) {
  proj_ = per_stream_linears(*this, config, "_proj", config.hidden);
}

torch::Tensor ProductFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  auto z = proj_[0]->forward(streams[0].pooled);
  for (size_t m = 1; m < streams.size(); ++m) z = z * proj_[m]->forward(streams[m].pooled);
  return z;
}

}  // namespace muroan
