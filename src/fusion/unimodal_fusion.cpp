// Unimodal baselines: the head sees one modality only; the other is ignored
// entirely (no gradient reaches it).
#include "fusions.h"

namespace muroan {

torch::Tensor ImageOnlyFusionImpl::forward(const ImageFeatures& image, const TextFeatures& /*text*/) {
  return image.pooled;
}

torch::Tensor TextOnlyFusionImpl::forward(const ImageFeatures& /*image*/, const TextFeatures& text) {
  return text.pooled;
}

}  // namespace muroan
