// Cross-modal attention: each real position of the query input -- the first
// token input (the words), or else the first sequence input -- attends over
// the positions of every other input (image grid cells, tabular features,
// audio or signal frames, other words), residual + layer norm; z is the mean over the
// real query positions, concatenated with the pooled features of the others.
#include "fusions.h"
#include "muroan/error.h"

namespace muroan {

namespace {
size_t query_stream(const FusionConfig& config) {
  for (size_t m = 0; m < config.streams.size(); ++m) {
    if (config.streams[m].role.rfind("text", 0) == 0) return m;
  }
  for (size_t m = 0; m < config.streams.size(); ++m) {
    if (!config.streams[m].grid) return m;
  }
  throw UsageError("fusion 'xattn' needs an input with positions that attend (tokens, tabular, audio or signal)");
}
}  // namespace

CrossAttentionFusionImpl::CrossAttentionFusionImpl(const FusionConfig& config) : query_(query_stream(config)) {
  // Projections in the order of the two-input form: the query's first.
  std::vector<torch::nn::Linear> proj(config.streams.size(), torch::nn::Linear(nullptr));
  const auto& q = config.streams[query_];
  proj[query_] = register_module(q.role + "_proj", torch::nn::Linear(q.dim, /*out=*/config.hidden));
  out_dim_ = config.hidden;
  for (size_t m = 0; m < config.streams.size(); ++m) {
    if (m == query_) continue;
    const auto& s = config.streams[m];
    proj[m] = register_module(s.role + "_proj", torch::nn::Linear(s.dim, /*out=*/config.hidden));
    out_dim_ += s.dim;
  }
  proj_ = std::move(proj);
  attention_ = register_module("attention", MultiHeadAttention(config.hidden, config.heads));
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.hidden})));
}

torch::Tensor CrossAttentionFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  const auto& q = streams[query_];
  auto queries = proj_[query_]->forward(zero_pads(q.tokens, q.mask));  // [B, L, hidden]
  std::vector<torch::Tensor> memory, memory_mask, pooled;
  bool all_real = true;
  for (size_t m = 0; m < streams.size(); ++m) {
    if (m == query_) continue;
    const auto& s = streams[m];
    memory.push_back(proj_[m]->forward(s.is_grid() ? s.positions() : zero_pads(s.tokens, s.mask)));
    memory_mask.push_back(s.position_mask());
    all_real = all_real && s.is_grid();
    pooled.push_back(s.pooled);
  }
  auto keys = memory.size() == 1 ? memory[0] : torch::cat(memory, /*dim=*/1);
  // An image's cells are all real: no mask, exactly as the two-input form.
  auto key_mask = all_real ? torch::Tensor() : torch::cat(memory_mask, /*dim=*/1);
  auto attended = norm_->forward(queries + attention_->forward(queries, keys, key_mask));
  // Pad queries are computed but dropped here; no real position ever sees them.
  std::vector<torch::Tensor> parts = {masked_mean(attended, q.mask)};
  parts.insert(parts.end(), pooled.begin(), pooled.end());
  return torch::cat(parts, /*dim=*/1);
}

}  // namespace muroan
