// Cross-modal attention: each real text token (query) attends over the image
// grid cells (keys/values), residual + layer norm, then the mean over the real
// tokens, concatenated with the pooled image features.
#include "fusions.h"

namespace muroan {

CrossAttentionFusionImpl::CrossAttentionFusionImpl(const FusionConfig& config)
    : out_dim_(config.hidden + config.image_dim) {
  text_proj_ = register_module("text_proj", torch::nn::Linear(config.text_dim, /*out=*/config.hidden));
  image_proj_ = register_module("image_proj", torch::nn::Linear(config.image_dim, /*out=*/config.hidden));
  attention_ = register_module("attention", MultiHeadAttention(config.hidden, config.heads));
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.hidden})));
}

torch::Tensor CrossAttentionFusionImpl::forward(const ImageFeatures& image, const TextFeatures& text) {
  auto queries = text_proj_->forward(zero_pads(text.tokens, text.mask));  // [B, L, hidden]
  auto cells = image_proj_->forward(image.grid.flatten(/*start_dim=*/2).transpose(1, 2));
  auto attended = norm_->forward(queries + attention_->forward(queries, cells, /*key_mask=*/{}));
  // Pad queries are computed but dropped here; no real token ever sees them.
  return torch::cat({masked_mean(attended, text.mask), image.pooled}, /*dim=*/1);
}

}  // namespace muroan
