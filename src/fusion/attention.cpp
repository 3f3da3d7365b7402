// Attention building blocks shared by the xattn and transformer fusions, written
// with plain tensor ops so that masking is exact: a masked key gets weight 0
// (not a tiny one) and nothing at a pad position can reach the output.
#include <cmath>
#include <limits>

#include "fusions.h"

namespace muroan {

torch::Tensor zero_pads(const torch::Tensor& tokens, const torch::Tensor& mask) {
  return tokens.masked_fill(mask.to(torch::kBool).logical_not().unsqueeze(-1), 0.0);
}

torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& mask) {
  auto summed = zero_pads(x, mask).sum(/*dim=*/1);
  auto count = mask.to(torch::kBool).sum(/*dim=*/1, /*keepdim=*/true).to(x.scalar_type()).clamp_min(1.0);
  return summed / count;
}

MultiHeadAttentionImpl::MultiHeadAttentionImpl(int64_t dim, int64_t heads) : heads_(heads) {
  TORCH_CHECK(heads > 0 && dim % heads == 0, "attention: dim ", dim, " is not divisible by heads ", heads);
  q_proj_ = register_module("q_proj", torch::nn::Linear(dim, dim));
  k_proj_ = register_module("k_proj", torch::nn::Linear(dim, dim));
  v_proj_ = register_module("v_proj", torch::nn::Linear(dim, dim));
  out_proj_ = register_module("out_proj", torch::nn::Linear(dim, dim));
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& query, const torch::Tensor& memory,
                                              const torch::Tensor& key_mask) {
  const int64_t batch = query.size(0), lq = query.size(1), lk = memory.size(1);
  const int64_t dim = query.size(2), head_dim = dim / heads_;
  // [B,L,dim] -> [B,H,L,head_dim]
  auto split = [&](const torch::Tensor& t, int64_t len) {
    return t.view({batch, len, heads_, head_dim}).transpose(1, 2);
  };
  auto q = split(q_proj_->forward(query), lq);
  auto k = split(k_proj_->forward(memory), lk);
  auto v = split(v_proj_->forward(memory), lk);

  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(head_dim));
  torch::Tensor weights;
  if (key_mask.defined()) {
    auto keep = key_mask.to(torch::kBool).view({batch, 1, 1, lk});
    // The lowest finite score (exp underflows to exactly 0 next to any real key)
    // and an exact 0 after the softmax: with -inf a query whose keys are all
    // masked would give NaN outputs and NaN gradients (empty softmax).
    scores = scores.masked_fill(keep.logical_not(), std::numeric_limits<float>::lowest());
    weights = torch::softmax(scores, /*dim=*/-1);
    weights = weights.masked_fill(keep.logical_not(), 0.0);
  } else {
    weights = torch::softmax(scores, /*dim=*/-1);
  }
  auto context = torch::matmul(weights, v).transpose(1, 2).reshape({batch, lq, dim});
  return out_proj_->forward(context);
}

EncoderLayerImpl::EncoderLayerImpl(int64_t dim, int64_t heads, int64_t feedforward) {
  attention_ = register_module("attention", MultiHeadAttention(dim, heads));
  norm1_ = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  ff1_ = register_module("ff1", torch::nn::Linear(dim, feedforward));
  ff2_ = register_module("ff2", torch::nn::Linear(feedforward, dim));
  norm2_ = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& key_mask) {
  const auto n = norm1_->forward(x);
  const auto h = x + attention_->forward(n, n, key_mask);
  return h + ff2_->forward(torch::relu(ff1_->forward(norm2_->forward(h))));
}

}  // namespace muroan
