// Single-stream transformer (VisualBERT, Li et al. 2019 / ViLT, Kim et al. 2021):
// [CLS], a whole-image token, the image grid cells and the text tokens form one
// sequence; pads are masked out as keys; z joins the [CLS] output with the
// outputs of the whole-image token and of the words (mean). The
// whole-image token (the pooled image features, as VisualBERT adds a whole-image
// region) lets the model match the caption against what the image shows before
// it has learnt which cells matter: without it, training on fashion-match sat at
// chance for 10 epochs (measured, docs/zoo_accuracy.md).
#include "fusions.h"

namespace muroan {

namespace {
constexpr double kEmbeddingStd = 0.02;  // BERT-style init of learned embeddings
enum TokenType : int64_t { kImageType = 0, kTextType = 1 };
}  // namespace

TransformerFusionImpl::TransformerFusionImpl(const FusionConfig& config) : out_dim_(3 * config.hidden) {
  const int64_t d = config.hidden;
  image_proj_ = register_module("image_proj", torch::nn::Linear(config.image_dim, /*out=*/d));
  text_proj_ = register_module("text_proj", torch::nn::Linear(config.text_dim, /*out=*/d));
  pooled_proj_ = register_module("pooled_proj", torch::nn::Linear(config.image_dim, /*out=*/d));
  cls_ = register_parameter("cls", torch::randn({1, 1, d}) * kEmbeddingStd);
  row_pos_ = register_parameter("row_pos", torch::randn({config.grid_h, d}) * kEmbeddingStd);
  col_pos_ = register_parameter("col_pos", torch::randn({config.grid_w, d}) * kEmbeddingStd);
  text_pos_ = register_parameter("text_pos", torch::randn({config.max_len, d}) * kEmbeddingStd);
  type_emb_ = register_parameter("type_emb", torch::randn({2, d}) * kEmbeddingStd);
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.layers; ++i) {
    layers_->push_back(EncoderLayer(d, config.heads, /*feedforward=*/2 * d));
  }
  final_norm_ = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
}

torch::Tensor TransformerFusionImpl::forward(const ImageFeatures& image, const TextFeatures& text) {
  const int64_t batch = image.grid.size(0);
  const int64_t h = image.grid.size(2), w = image.grid.size(3), len = text.tokens.size(1);
  TORCH_CHECK(h <= row_pos_.size(0) && w <= col_pos_.size(0), "transformer fusion: grid ", h, "x", w,
              " is larger than the configured ", row_pos_.size(0), "x", col_pos_.size(0));
  TORCH_CHECK(len <= text_pos_.size(0), "transformer fusion: ", len, " tokens is more than the configured max_len ",
              text_pos_.size(0));

  // Image cells in row-major order, each + its row and column embedding.
  auto grid_pos = (row_pos_.slice(0, 0, h).unsqueeze(1) + col_pos_.slice(0, 0, w).unsqueeze(0)).reshape({h * w, -1});
  auto cells =
      image_proj_->forward(image.grid.flatten(/*start_dim=*/2).transpose(1, 2)) + grid_pos + type_emb_[kImageType];
  auto words =
      text_proj_->forward(zero_pads(text.tokens, text.mask)) + text_pos_.slice(0, 0, len) + type_emb_[kTextType];
  auto whole = (pooled_proj_->forward(image.pooled) + type_emb_[kImageType]).unsqueeze(1);
  auto x = torch::cat({cls_.expand({batch, 1, -1}), whole, cells, words}, /*dim=*/1);

  auto always = torch::ones({batch, 2 + h * w}, text.mask.options().dtype(torch::kBool));
  auto key_mask = torch::cat({always, text.mask.to(torch::kBool)}, /*dim=*/1);
  for (const auto& layer : *layers_) {
    x = layer->as<EncoderLayer>()->forward(x, key_mask);
  }
  x = final_norm_->forward(x);
  // z: the [CLS] output, the whole-image token's output and the mean of the real
  // words' outputs, so that each modality reaches the head even while attention
  // is still near uniform (51 of the 56 keys are image tokens).
  auto word_outputs = x.slice(/*dim=*/1, /*start=*/2 + h * w);
  return torch::cat({x.select(1, 0), x.select(1, 1), masked_mean(word_outputs, text.mask)}, /*dim=*/1);
}

}  // namespace muroan
