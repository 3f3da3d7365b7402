// The built-in multimodal model: encoders E_m, a fusion F from the zoo, and a
// head H (DESIGN.md section 1).
//
//   ModelConfig cfg = ...;            // fusion name, input shapes, vocabulary size
//   MultimodalNet net(cfg);
//   torch::Tensor logits = net->forward(image, tokens);   // [B,K]
//   torch::Tensor z      = net->fuse(image, tokens);      // [B,D]
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>
#include <nlohmann/json_fwd.hpp>

#include <string>

#include "muroan/fusion.h"

namespace muroan {

struct ModelConfig {
  std::string fusion = "concat";
  int64_t image_channels = 1, image_height = 56, image_width = 56;
  int64_t vocab_size = 0;  // token ids must be < vocab_size
  int64_t max_len = 12;
  int64_t pad_id = 0;
  int64_t num_classes = 2;
  int64_t dim = 64;          // encoder output width D
  int64_t embed_dim = 32;    // token embedding width
  int64_t head_hidden = 64;  // hidden width of the head MLP
  // How the image encoder summarises its grid into the pooled vector:
  //   "flat": three conv blocks, the H/8 x W/8 grid flattened and projected (the default);
  //   "spp":  two pooling blocks (an H/4 x W/4 grid), then per channel the max and
  //           mean over the grid and the max over each quadrant, projected: a
  //           spatial-pyramid readout with few weights, that does not memorise
  //           scenes (shapes-vqa, docs/zoo_accuracy.md).
  std::string image_readout = "flat";

  FusionConfig fusion_config() const;
  nlohmann::json to_json() const;
  // Throws Error naming the missing or mistyped field.
  static ModelConfig from_json(const nlohmann::json& j);
};

// "flat" or "spp" (ModelConfig::image_readout); throws Error otherwise.
void check_image_readout(const std::string& readout);
// The side of the image encoder's grid for an image side: size / 8 (flat) or size / 4 (spp).
int64_t image_grid_size(int64_t size, const std::string& readout);

// Small CNN: three conv-relu blocks, each but (with the spp readout) the last
// followed by 2x2 max-pooling; exposes the spatial grid (a map of D features)
// for attention fusions, and a pooled vector read out from the whole grid.
class ImageEncoderImpl : public torch::nn::Module {
 public:
  ImageEncoderImpl(int64_t channels, int64_t dim, int64_t grid_cells, const std::string& readout = "flat");
  ImageFeatures forward(const torch::Tensor& image);

 private:
  bool spp_ = false;
  torch::nn::Sequential body_{nullptr};
  torch::nn::Linear project_{nullptr};
};
TORCH_MODULE(ImageEncoder);

// Token embedding + GRU; per-token features and their masked mean.
class TextEncoderImpl : public torch::nn::Module {
 public:
  TextEncoderImpl(int64_t vocab_size, int64_t embed_dim, int64_t dim, int64_t pad_id);
  torch::Tensor embed(const torch::Tensor& ids);  // [B,L] -> [B,L,E]
  // From embeddings [B,L,E] and the mask [B,L] (true at real tokens).
  TextFeatures forward_embedded(const torch::Tensor& embeddings, const torch::Tensor& mask);
  TextFeatures forward(const torch::Tensor& ids);

 private:
  int64_t pad_id_;
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::GRU gru_{nullptr};
};
TORCH_MODULE(TextEncoder);

class MultimodalNetImpl : public torch::nn::Module {
 public:
  explicit MultimodalNetImpl(const ModelConfig& config);

  torch::Tensor forward(const torch::Tensor& image, const torch::Tensor& tokens);
  torch::Tensor fuse(const torch::Tensor& image, const torch::Tensor& tokens);
  // fuse() for a batch of `rows` rows in which a shared modality holds one row
  // that every row uses: it is encoded once and its features repeated.
  torch::Tensor fuse_shared(const torch::Tensor& image, bool image_shared, const torch::Tensor& tokens,
                            bool tokens_shared, int64_t rows);
  // The same from token embeddings (white-box attacks on text); `tokens` gives the
  // mask of real positions.
  torch::Tensor forward_embedded(const torch::Tensor& image, const torch::Tensor& embeddings,
                                 const torch::Tensor& tokens);
  torch::Tensor embed_tokens(const torch::Tensor& tokens) { return text_encoder_->embed(tokens); }
  // Logits from a fusion embedding.
  torch::Tensor head(const torch::Tensor& z);

  const ModelConfig& config() const { return config_; }

 private:
  ModelConfig config_;
  ImageEncoder image_encoder_{nullptr};
  TextEncoder text_encoder_{nullptr};
  Fusion fusion_;
  torch::nn::Sequential head_{nullptr};
};
TORCH_MODULE(MultimodalNet);

// Checks that image [B,C,H,W] float and tokens [B,L] int64 fit the config;
// throws Error describing the first mismatch.
void check_model_inputs(const ModelConfig& config, const torch::Tensor& image, const torch::Tensor& tokens);

}  // namespace muroan
