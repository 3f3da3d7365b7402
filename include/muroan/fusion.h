// The fusion zoo (DESIGN.md section 1): F maps the encoders' features to the
// fusion embedding z. Each fusion is its own small module in src/fusion/,
// selected by name through make_fusion().
//
//   FusionConfig cfg; cfg.num_classes = 2;
//   Fusion f = make_fusion("gmu", cfg);
//   torch::Tensor z = f->forward(image_features, text_features);  // [B, f->out_dim()]
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace muroan {

// What the image encoder produces.
struct ImageFeatures {
  torch::Tensor grid;    // [B, D, h, w] spatial feature map
  torch::Tensor pooled;  // [B, D] summary of the whole grid
};

// What the text encoder produces.
struct TextFeatures {
  torch::Tensor tokens;  // [B, L, D] per-position features
  torch::Tensor mask;    // [B, L] bool, true at real (non-pad) tokens
  torch::Tensor pooled;  // [B, D] mean over real tokens (zeros if none)
};

struct FusionConfig {
  int64_t image_dim = 64;          // D of ImageFeatures
  int64_t text_dim = 64;           // D of TextFeatures
  int64_t grid_h = 7, grid_w = 7;  // spatial size of ImageFeatures::grid
  int64_t max_len = 12;            // L of TextFeatures
  int64_t hidden = 64;             // width inside the fusion
  int64_t num_classes = 2;         // K, used by late fusion
  int64_t rank = 4;                // low-rank fusion (LMF) rank
  int64_t factor = 4;              // bilinear (MFB) factor k
  int64_t heads = 4;               // attention heads (xattn, transformer)
  int64_t layers = 1;              // transformer layers
};

class FusionImpl : public torch::nn::Module {
 public:
  // z [B, out_dim()]
  virtual torch::Tensor forward(const ImageFeatures& image, const TextFeatures& text) = 0;
  virtual int64_t out_dim() const = 0;
  // True when z already is the logits [B,K] (late fusion): the model then
  // applies no head.
  virtual bool outputs_logits() const { return false; }
};
using Fusion = std::shared_ptr<FusionImpl>;

struct FusionInfo {
  std::string name;
  std::string description;
  bool multimodal = true;  // false for the unimodal baselines image-only, text-only
};

// Every fusion, in listing order: concat, sum, product, gmu, tensor, lowrank,
// bilinear, film, xattn, transformer, late, and the unimodal image-only, text-only.
std::vector<FusionInfo> fusion_catalog();
// A new, randomly initialised fusion; throws UsageError for an unknown name.
Fusion make_fusion(const std::string& name, const FusionConfig& config);

}  // namespace muroan
