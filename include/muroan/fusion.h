// The fusion zoo (DESIGN.md section 1): F maps the encoders' features to the
// fusion embedding z. Each fusion is its own small module in src/fusion/,
// selected by name through make_fusion().
//
//   FusionConfig cfg; cfg.num_classes = 2;
//   Fusion f = make_fusion("gmu", cfg);
//   torch::Tensor z = f->forward({image_features, text_features});  // [B, f->out_dim()]
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace muroan {

// What an encoder produces for one input: per-position features and their
// summary. Images keep their spatial grid; every other kind is a sequence of
// positions (words, tabular features, audio frames).
struct StreamFeatures {
  torch::Tensor grid;    // images: [B, D, h, w] spatial feature map; undefined otherwise
  torch::Tensor tokens;  // other kinds: [B, N, D] per-position features
  torch::Tensor mask;    // other kinds: [B, N] bool, true at real positions (not pads)
  torch::Tensor pooled;  // [B, D] summary of the whole input

  bool is_grid() const { return grid.defined(); }
  // [B, N, D]: the grid's cells in row-major order, or `tokens`.
  torch::Tensor positions() const;
  // [B, N] bool: all true for a grid, else `mask`.
  torch::Tensor position_mask() const;
};

// The shape of one input as the fusion sees it.
struct StreamShape {
  std::string role;     // names its parameters: "image", "text", "tabular", "audio" (+ a number when repeated)
  bool grid = false;    // an image grid (else a sequence of positions)
  int64_t dim = 64;     // D of its features
  int64_t length = 12;  // sequences: N; grids: unused
  int64_t grid_h = 7, grid_w = 7;  // grids: the spatial size

  static StreamShape image(int64_t dim, int64_t grid_h, int64_t grid_w);
  static StreamShape sequence(std::string role, int64_t dim, int64_t length);
};

struct FusionConfig {
  // The inputs in model order; the default is the image + text pair of the
  // built-in tasks. Every fusion takes any number M >= 2 of them except where
  // its catalog entry says otherwise (tensor: 2 or 3).
  std::vector<StreamShape> streams = {StreamShape::image(64, 7, 7), StreamShape::sequence("text", 64, 12)};
  int64_t hidden = 64;      // width inside the fusion
  int64_t num_classes = 2;  // K, used by late fusion
  int64_t rank = 4;         // low-rank fusion (LMF) rank
  int64_t factor = 4;       // bilinear (MFB) factor k
  int64_t heads = 4;        // attention heads (xattn, transformer)
  int64_t layers = 1;       // transformer layers
};

// The role of an input of `kind` given the roles before it ("image", "text",
// "tabular", "audio"; "text2" for a second token input).
std::string stream_role(const std::string& kind_word, const std::vector<StreamShape>& before);

class FusionImpl : public torch::nn::Module {
 public:
  // z [B, out_dim()] from one StreamFeatures per input, in FusionConfig::streams order.
  virtual torch::Tensor forward(const std::vector<StreamFeatures>& streams) = 0;
  // The same for the two-input image + text form.
  torch::Tensor forward(const StreamFeatures& image, const StreamFeatures& text) { return forward({image, text}); }
  virtual int64_t out_dim() const = 0;
  // True when z already is the logits [B,K] (late fusion): the model then
  // applies no head.
  virtual bool outputs_logits() const { return false; }
};
using Fusion = std::shared_ptr<FusionImpl>;

struct FusionInfo {
  std::string name;
  std::string description;
  bool multimodal = true;  // false for the unimodal baselines (image-only, text-only, ...)
};

// Every fusion, in listing order: concat, sum, product, gmu, tensor, lowrank,
// bilinear, film, xattn, transformer, late, and the unimodal image-only,
// text-only, tabular-only, audio-only.
std::vector<FusionInfo> fusion_catalog();
// A new, randomly initialised fusion; throws UsageError for an unknown name, a
// bad config, or inputs it cannot take (a unimodal baseline without its kind,
// tensor fusion with more than three inputs).
Fusion make_fusion(const std::string& name, const FusionConfig& config);

}  // namespace muroan
