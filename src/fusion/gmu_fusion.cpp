// Gated multimodal unit (Arevalo et al. 2017, "Gated Multimodal Units for
// Information Fusion"): a gate computed from all inputs mixes their
// tanh-projected features. Two inputs: the paper's bimodal unit, z = g h_1 +
// (1 - g) h_2 with a sigmoid gate; more: one gate per input, a softmax over
// the inputs at each unit, so that the mix stays convex as in the bimodal case.
#include "fusions.h"

namespace muroan {

GmuFusionImpl::GmuFusionImpl(const FusionConfig& config) : out_dim_(config.hidden) {
  proj_ = per_stream_linears(*this, config, "_proj", config.hidden);
  const auto m = static_cast<int64_t>(config.streams.size());
  gate_ = register_module("gate", torch::nn::Linear(total_dim(config), /*out=*/(m == 2 ? 1 : m) * config.hidden));
}

torch::Tensor GmuFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  std::vector<torch::Tensor> pooled, h;
  for (size_t m = 0; m < streams.size(); ++m) {
    pooled.push_back(streams[m].pooled);
    h.push_back(torch::tanh(proj_[m]->forward(streams[m].pooled)));
  }
  auto gate_logits = gate_->forward(torch::cat(pooled, /*dim=*/1));
  if (streams.size() == 2) {
    auto g = torch::sigmoid(gate_logits);
    return g * h[0] + (1 - g) * h[1];
  }
  auto g = torch::softmax(gate_logits.view({gate_logits.size(0), -1, out_dim_}), /*dim=*/1);  // [B, M, hidden]
  return (g * torch::stack(h, /*dim=*/1)).sum(/*dim=*/1);
}

}  // namespace muroan
