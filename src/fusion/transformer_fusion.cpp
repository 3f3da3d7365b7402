// Single-stream transformer (VisualBERT, Li et al. 2019 / ViLT, Kim et al. 2021):
// [CLS], a whole-image token, the image grid cells and the text tokens form one
// sequence; pads are masked out as keys; z joins the [CLS] output with the
// outputs of the whole-image token and of the words (mean). With other inputs
// (tabular features, audio frames) each adds its positions, with learned
// position and type embeddings, and the mean of its outputs to z. The
// whole-image token (the pooled image features, as VisualBERT adds a whole-image
// region) lets the model match the caption against what the image shows before
// it has learnt which cells matter: without it, training on fashion-match sat at
// chance for 10 epochs (measured, docs/zoo_accuracy.md).
#include "fusions.h"

namespace muroan {

namespace {
constexpr double kEmbeddingStd = 0.02;  // BERT-style init of learned embeddings
// Image positions are named as in the two-input form ("row_pos"), others after their role.
std::string image_name(const std::string& role, const std::string& what) {
  return role == "image" ? what : role + "_" + what;
}
}  // namespace

TransformerFusionImpl::TransformerFusionImpl(const FusionConfig& config) : shapes_(config.streams) {
  const int64_t d = config.hidden;
  proj_ = per_stream_linears(*this, config, "_proj", d);
  int64_t outputs = 1;  // [CLS]
  for (const auto& s : shapes_) {
    pooled_proj_.emplace_back(nullptr);
    if (s.grid) pooled_proj_.back() = register_module(image_name(s.role, "pooled_proj"), torch::nn::Linear(s.dim, d));
    outputs += 1;  // a whole-image token, or the mean over the positions
  }
  out_dim_ = outputs * d;
  cls_ = register_parameter("cls", torch::randn({1, 1, d}) * kEmbeddingStd);
  for (const auto& s : shapes_) {
    row_pos_.emplace_back();
    col_pos_.emplace_back();
    seq_pos_.emplace_back();
    if (s.grid) {
      row_pos_.back() = register_parameter(image_name(s.role, "row_pos"), torch::randn({s.grid_h, d}) * kEmbeddingStd);
      col_pos_.back() = register_parameter(image_name(s.role, "col_pos"), torch::randn({s.grid_w, d}) * kEmbeddingStd);
    } else {
      seq_pos_.back() = register_parameter(s.role + "_pos", torch::randn({s.length, d}) * kEmbeddingStd);
    }
  }
  type_emb_ = register_parameter("type_emb", torch::randn({static_cast<int64_t>(shapes_.size()), d}) * kEmbeddingStd);
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.layers; ++i) {
    layers_->push_back(EncoderLayer(d, config.heads, /*feedforward=*/2 * d));
  }
  final_norm_ = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
}

torch::Tensor TransformerFusionImpl::forward(const std::vector<StreamFeatures>& streams) {
  const int64_t batch = streams[0].pooled.size(0);
  std::vector<torch::Tensor> wholes, positions, masks;
  for (size_t m = 0; m < streams.size(); ++m) {
    const auto& s = streams[m];
    const auto type = type_emb_[static_cast<int64_t>(m)];
    if (shapes_[m].grid) {
      const int64_t h = s.grid.size(2), w = s.grid.size(3);
      TORCH_CHECK(h <= row_pos_[m].size(0) && w <= col_pos_[m].size(0), "transformer fusion: grid ", h, "x", w,
                  " is larger than the configured ", row_pos_[m].size(0), "x", col_pos_[m].size(0));
      // Image cells in row-major order, each + its row and column embedding.
      auto grid_pos =
          (row_pos_[m].slice(0, 0, h).unsqueeze(1) + col_pos_[m].slice(0, 0, w).unsqueeze(0)).reshape({h * w, -1});
      positions.push_back(proj_[m]->forward(s.positions()) + grid_pos + type);
      wholes.push_back((pooled_proj_[m]->forward(s.pooled) + type).unsqueeze(1));
    } else {
      const int64_t len = s.tokens.size(1);
      TORCH_CHECK(len <= seq_pos_[m].size(0), "transformer fusion: ", len, " positions of input '", shapes_[m].role,
                  "' is more than the configured ", seq_pos_[m].size(0));
      positions.push_back(proj_[m]->forward(zero_pads(s.tokens, s.mask)) + seq_pos_[m].slice(0, 0, len) + type);
    }
    masks.push_back(s.position_mask());
  }
  std::vector<torch::Tensor> sequence = {cls_.expand({batch, 1, -1})};
  sequence.insert(sequence.end(), wholes.begin(), wholes.end());
  sequence.insert(sequence.end(), positions.begin(), positions.end());
  auto x = torch::cat(sequence, /*dim=*/1);

  const int64_t leading = 1 + static_cast<int64_t>(wholes.size());
  std::vector<torch::Tensor> key_masks = {torch::ones({batch, leading}, masks[0].options())};
  key_masks.insert(key_masks.end(), masks.begin(), masks.end());
  auto key_mask = torch::cat(key_masks, /*dim=*/1);
  for (const auto& layer : *layers_) {
    x = layer->as<EncoderLayer>()->forward(x, key_mask);
  }
  x = final_norm_->forward(x);
  // z: the [CLS] output, each whole-image token's output and the mean of each
  // sequence's real outputs, so that each modality reaches the head even while
  // attention is still near uniform (51 of the 56 keys of fashion-match are image tokens).
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < leading; ++i) parts.push_back(x.select(1, i));
  int64_t offset = leading;
  for (size_t m = 0; m < streams.size(); ++m) {
    const int64_t n = positions[m].size(1);
    if (!shapes_[m].grid) parts.push_back(masked_mean(x.slice(/*dim=*/1, offset, offset + n), masks[m]));
    offset += n;
  }
  return torch::cat(parts, /*dim=*/1);
}

}  // namespace muroan
