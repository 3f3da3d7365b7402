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

// ---------------------------------------------------------------- fusions

// z = relu(W [pi; pt])
class ConcatFusionImpl : public FusionImpl {
 public:
  explicit ConcatFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  torch::nn::Linear proj_{nullptr};
};

// z = Wi pi + Wt pt
class SumFusionImpl : public FusionImpl {
 public:
  explicit SumFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  torch::nn::Linear image_proj_{nullptr}, text_proj_{nullptr};
};

// z = (Wi pi) * (Wt pt)
class ProductFusionImpl : public FusionImpl {
 public:
  explicit ProductFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  torch::nn::Linear image_proj_{nullptr}, text_proj_{nullptr};
};

// Gated multimodal unit (Arevalo et al. 2017).
class GmuFusionImpl : public FusionImpl {
 public:
  explicit GmuFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  torch::nn::Linear image_proj_{nullptr}, text_proj_{nullptr}, gate_{nullptr};
};

// Tensor fusion network (Zadeh et al. 2017): vec([hi;1] (x) [ht;1]).
class TensorFusionImpl : public FusionImpl {
 public:
  static constexpr int64_t kProjDim = 16;  // keeps (d+1)^2 small
  explicit TensorFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return (kProjDim + 1) * (kProjDim + 1); }

 private:
  torch::nn::Linear image_proj_{nullptr}, text_proj_{nullptr};
};

// Low-rank multimodal fusion (Liu et al. 2018).
class LowRankFusionImpl : public FusionImpl {
 public:
  explicit LowRankFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  torch::Tensor image_factor_;  // [r, Di+1, out]
  torch::Tensor text_factor_;   // [r, Dt+1, out]
  torch::Tensor rank_weight_;   // [r]
  torch::Tensor bias_;          // [out]
};

// Multi-modal factorized bilinear pooling (Yu et al. 2017).
class BilinearFusionImpl : public FusionImpl {
 public:
  explicit BilinearFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  int64_t factor_;
  torch::nn::Linear image_proj_{nullptr}, text_proj_{nullptr};
};

// FiLM (Perez et al. 2018): the text conditions the image feature maps.
class FilmFusionImpl : public FusionImpl {
 public:
  explicit FilmFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::Linear film_{nullptr};  // pt -> [delta_gamma; beta]
};

// Cross-modal attention: text tokens attend over image grid cells.
class CrossAttentionFusionImpl : public FusionImpl {
 public:
  explicit CrossAttentionFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  torch::nn::Linear text_proj_{nullptr}, image_proj_{nullptr};
  MultiHeadAttention attention_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
};

// Single-stream transformer over [CLS], image cells and text tokens
// (VisualBERT / ViLT style); z is the [CLS] output.
class TransformerFusionImpl : public FusionImpl {
 public:
  explicit TransformerFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
  torch::nn::Linear image_proj_{nullptr}, text_proj_{nullptr}, pooled_proj_{nullptr};
  torch::Tensor cls_;       // [1, 1, hidden]
  torch::Tensor row_pos_;   // [grid_h, hidden]
  torch::Tensor col_pos_;   // [grid_w, hidden]
  torch::Tensor text_pos_;  // [max_len, hidden]
  torch::Tensor type_emb_;  // [2, hidden]: 0 image, 1 text
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};  // after the pre-norm layers
};

// Late fusion: the average of two unimodal linear classifiers; z is logits.
class LateFusionImpl : public FusionImpl {
 public:
  explicit LateFusionImpl(const FusionConfig& config);
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }
  bool outputs_logits() const override { return true; }

 private:
  int64_t out_dim_;
  torch::nn::Linear image_head_{nullptr}, text_head_{nullptr};
};

// Unimodal baselines: z = pi (image-only) or z = pt (text-only).
class ImageOnlyFusionImpl : public FusionImpl {
 public:
  explicit ImageOnlyFusionImpl(const FusionConfig& config) : out_dim_(config.image_dim) {}
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
};

class TextOnlyFusionImpl : public FusionImpl {
 public:
  explicit TextOnlyFusionImpl(const FusionConfig& config) : out_dim_(config.text_dim) {}
  torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) override;
  int64_t out_dim() const override { return out_dim_; }

 private:
  int64_t out_dim_;
};

}  // namespace muroan
