// Late fusion baseline: the average of M unimodal linear classifiers. Its
// logits are additive in the modalities, so it has no interaction at all.
#include "fusions.h"

namespace muroan {

LateFusionImpl::LateFusionImpl(const FusionConfig& config) : out_dim_(config.num_classes) {
  heads_ = per_stream_linears(*this, config, "_head", config.num_classes);
}

torch::Tensor LateFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  auto sum = heads_[0]->forward(streams[0].pooled);
  for (size_t m = 1; m < streams.size(); ++m) sum = sum + heads_[m]->forward(streams[m].pooled);
  return sum / static_cast<double>(streams.size());
}

}  // namespace muroan
