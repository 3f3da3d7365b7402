// Private to src/fusion: the Impl class of every fusion in the zoo and the small
// attention building blocks that xattn and transformer share. Users go through
// make_fusion() (include/muroan/fusion.h).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include <string>
#include <vector>

#include "muroan/fusion.h"

namespace muroan {

// ---------------------------------------------------------------- helpers

// `tokens` [B,L,D] with the pad positions (mask false) set to 0, so that
// whatever a pad holds cannot reach the output (not even as 0 * inf = NaN).
torch::Tensor zero_pads(const torch::Tensor& tokens, const torch::Tensor& mask);

// Mean over the real positions of x [B,L,D] -> [B,D]; zeros for a sample with
// no real position (never a division by zero).
torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& mask);

// Multi-head scaled dot-product attention of a query sequence over a memory
// sequence (keys = values = memory), with learned in/out projections.
class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  MultiHeadAttentionImpl(int64_t dim, int64_t heads);
  // query [B,Lq,dim], memory [B,Lk,dim], key_mask [B,Lk] bool (true = may be
  // attended) or an undefined tensor for "all keys". Masked keys get exactly
  // zero weight; a query with no key left gets a zero output. -> [B,Lq,dim]
  torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& memory, const torch::Tensor& key_mask);

 private:
  int64_t heads_;
  torch::nn::Linear q_proj_{nullptr}, k_proj_{nullptr}, v_proj_{nullptr}, out_proj_{nullptr};
};
TORCH_MODULE(MultiHeadAttention);

// Pre-norm transformer encoder layer (as torch.nn.TransformerEncoderLayer with
// ReLU, norm_first = true and no dropout, so train and eval agree). Post-norm
// layers kept the transformer fusion at chance on fashion-match for 12 epochs
// (loss 0.693 throughout, Adam 5e-4 without warm-up); pre-norm trains without
// warm-up.
class EncoderLayerImpl : public torch::nn::Module {
 public:
  EncoderLayerImpl(int64_t dim, int64_t heads, int64_t feedforward);
  // x [B,L,dim], key_mask [B,L] bool (true = real) -> [B,L,dim]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_mask);

 private:
  MultiHeadAttention attention_{nullptr};
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Linear ff1_{nullptr}, ff2_{nullptr};
};
TORCH_MODULE(EncoderLayer);

// One Linear per input, registered on `owner` as "<role><suffix>" (e.g.
// "image_proj", "text_proj"), in input order, from D_m to `out` features.
// `bias_first_only`: only the first has a bias (a sum needs one).
std::vector<torch::nn::Linear> per_stream_linears(torch::nn::Module& owner, const FusionConfig& config,
                                                  const std::string& suffix, int64_t out, bool bias_first_only = false);
// Sum of the inputs' widths D_m.
int64_t total_dim(const FusionConfig& config);
// Index of the first input whose role is `role`; throws UsageError naming the fusion when there is none.
size_t stream_with_role(const FusionConfig& config, const std::string& role, const std::string& fusion);

// ---------------------------------------------------------------- fusions
// p_m: the pooled features of input m; each fusion takes the inputs of its
// FusionConfig, in order.

// z = relu(W [p_1; ..; p_M])
class ConcatFusionImpl : public FusionImpl {
 public:
  explicit ConcatFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  torch::nn::Linear proj_{nullptr};
};

// z = sum_m W_m p_m
class SumFusionImpl : public FusionImpl {
 public:
  explicit SumFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  std::vector<torch::nn::Linear> proj_;
};

// z = prod_m W_m p_m
class ProductFusionImpl : public FusionImpl {
 public:
  explicit ProductFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  std::vector<torch::nn::Linear> proj_;
};

// Gated multimodal unit (Arevalo et al. 2017).
class GmuFusionImpl : public FusionImpl {
 public:
  explicit GmuFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  std::vector<torch::nn::Linear> proj_;
  torch::nn::Linear gate_{nullptr};
};

// Tensor fusion network (Zadeh et al. 2017): vec([h_1;1] (x) .. (x) [h_M;1]), M = 2 or 3.
class TensorFusionImpl : public FusionImpl {
 public:
  static constexpr int64_t kProjDim = 16;  // keeps (d+1)^M small
  static constexpr size_t kMaxInputs = 3;  // 17^4 = 83,521 features would be more than the model
  explicit TensorFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  std::vector<torch::nn::Linear> proj_;
};

// Low-rank multimodal fusion (Liu et al. 2018).
class LowRankFusionImpl : public FusionImpl {
 public:
  explicit LowRankFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  std::vector<torch::Tensor> factors_;  // per input [r, D_m+1, out]
  torch::Tensor rank_weight_;           // [r]
  torch::Tensor bias_;                  // [out]
};

// Multi-modal factorized bilinear pooling (Yu et al. 2017); with M inputs the
// product of all M projections.
class BilinearFusionImpl : public FusionImpl {
 public:
  explicit BilinearFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  int64_t factor_;
  std::vector<torch::nn::Linear> proj_;
};

// FiLM (Perez et al. 2018): the other inputs condition the first one's features.
class FilmFusionImpl : public FusionImpl {
 public:
  explicit FilmFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  bool grid_;                            // the conditioned input is an image grid
  torch::nn::Conv2d conv_{nullptr};      // grids: 1x1 convolution
  torch::nn::Linear position_{nullptr};  // sequences: the same per position
  torch::nn::Linear film_{nullptr};      // [p_2; ..; p_M] -> [delta_gamma; beta]
};

// Cross-modal attention: the positions of one input (the first token input, or
// else the first sequence) attend over every position of the others.
class CrossAttentionFusionImpl : public FusionImpl {
 public:
  explicit CrossAttentionFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  size_t query_;  // the attending input
  std::vector<torch::nn::Linear> proj_;
  MultiHeadAttention attention_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
};

// Single-stream transformer over [CLS], a whole-input token per image, the
// image grid cells and every other input's positions (VisualBERT / ViLT
// style); z joins the [CLS] output, the whole-image outputs and the mean
// output of each sequence input.
class TransformerFusionImpl : public FusionImpl {
 public:
  explicit TransformerFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  std::vector<StreamShape> shapes_;
  std::vector<torch::nn::Linear> proj_;
  std::vector<torch::nn::Linear> pooled_proj_;    // per image input (empty entry otherwise)
  torch::Tensor cls_;                             // [1, 1, hidden]
  std::vector<torch::Tensor> row_pos_, col_pos_;  // images: [grid_h, hidden], [grid_w, hidden]
  std::vector<torch::Tensor> seq_pos_;            // sequences: [N, hidden]
  torch::Tensor type_emb_;                        // [M, hidden]
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};  // after the pre-norm layers
};

// Late fusion: the average of M unimodal linear classifiers; z is logits.
class LateFusionImpl : public FusionImpl {
 public:
  explicit LateFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }
  bool outputs_logits() const override { return true; }

 private:
  int64_t out_dim_;
  std::vector<torch::nn::Linear> heads_;
};

// Unimodal baselines: z = p_m of the first input with role `role` (image-only,
// text-only, tabular-only, audio-only); the others are ignored entirely.
class UnimodalFusionImpl : public FusionImpl {
 public:
  UnimodalFusionImpl(const FusionConfig& config, const std::string& role);
  torch::Tensor forward(const std::vector<StreamFeatures>& streams) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  size_t stream_;
  int64_t out_dim_;
};

}  // namespace muroan
