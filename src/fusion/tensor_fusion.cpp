// Tensor fusion network (Zadeh et al. 2017): the outer product of [h_1; 1],
// [h_2; 1] (and [h_3; 1]) holds the unimodal features (the rows and columns of
// the appended 1s), every bimodal product and, with three inputs, every
// trimodal one. Beyond three inputs the tensor would outgrow the model.
#include "fusions.h"
#include "muroan/error.h"

namespace muroan {

TensorFusionImpl::TensorFusionImpl(const FusionConfig& config) {
  if (config.streams.size() > kMaxInputs)
    throw UsageError("fusion 'tensor' takes 2 or 3 inputs, not " + std::to_string(config.streams.size()) +
                     ": the outer product would have 17^" + std::to_string(config.streams.size()) +
                     " features (use lowrank, its factored form)");
  proj_ = per_stream_linears(*this, config, "_proj", kProjDim);
  out_dim_ = 1;
  for (size_t m = 0; m < config.streams.size(); ++m) out_dim_ *= kProjDim + 1;
}

torch::Tensor TensorFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  torch::Tensor z;
  for (size_t m = 0; m < streams.size(); ++m) {
    auto h = torch::relu(proj_[m]->forward(streams[m].pooled));
    h = torch::cat({h, torch::ones({h.size(0), 1}, h.options())}, /*dim=*/1);  // [B, d+1]
    z = m == 0 ? h : (z.unsqueeze(2) * h.unsqueeze(1)).flatten(/*start_dim=*/1);
  }
  return z;  // [B, (d+1)^M]
}

}  // namespace muroan
