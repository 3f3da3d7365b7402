// Unimodal baselines: the head sees one input only; the others are ignored
// entirely (no gradient reaches them).
#include "fusions.h"

namespace muroan {

UnimodalFusionImpl::UnimodalFusionImpl(const FusionConfig& config, const std::string& role)
    : stream_(stream_with_role(config, role, role + "-only")), out_dim_(config.streams[stream_].dim) {}

torch::Tensor UnimodalFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  return streams.at(stream_).pooled;
}

}  // namespace muroan
