// The built-in multimodal model: an encoder E_m per input (encoders.h), a
// fusion F from the zoo, and a head H (DESIGN.md section 1).
//
//   ModelConfig cfg = ...;            // fusion name, inputs, vocabulary size
//   MultimodalNet net(cfg);
//   torch::Tensor logits = net->forward({image, tokens});   // [B,K]
//   torch::Tensor z      = net->fuse({image, tokens});      // [B,D]
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "muroan/encoders.h"
#include "muroan/fusion.h"
#include "muroan/inputs.h"
#include "muroan/modality.h"

namespace muroan {

struct ModelConfig {
  std::string fusion = "concat";
  // The model's inputs, any number of any kind (tokens need their vocab_size).
  // Empty: one image and one token sequence described by the fields below,
  // the form of every checkpoint written before models took M inputs.
  std::vector<ModalitySpec> inputs;
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

  // `inputs`, or the image + tokens pair of the fields above.
  std::vector<ModalitySpec> input_specs() const;
  FusionConfig fusion_config() const;
  nlohmann::json to_json() const;
  // Throws Error naming the missing or mistyped field.
  static ModelConfig from_json(const nlohmann::json& j);
};

class MultimodalNetImpl : public torch::nn::Module {
 public:
  explicit MultimodalNetImpl(const ModelConfig& config);

  // One tensor per input, in config order.
  torch::Tensor forward(const Inputs& inputs);
  torch::Tensor fuse(const Inputs& inputs);
  // fuse() for a batch of `rows` rows in which a shared input holds one row
  // that every row uses: it is encoded once and its features repeated.
  torch::Tensor fuse_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows);
  // The same for consecutive groups of group_rows[g] rows: a shared input
  // holds one row per group (Classifier::QueryBatch).
  torch::Tensor fuse_shared(const Inputs& inputs, const std::vector<bool>& shared,
                            const std::vector<int64_t>& group_rows);
  // forward() from token embeddings (white-box attacks on text): token inputs
  // of `with_embeddings` hold [B,L,E] embeddings, `original` their ids (the
  // mask of real positions); other inputs are the same in both.
  torch::Tensor forward_embedded(const Inputs& with_embeddings, const Inputs& original);
  // The embedding [B,L,E] of the ids of token input m.
  torch::Tensor embed_tokens(size_t m, const torch::Tensor& ids);
  // Logits from a fusion embedding.
  torch::Tensor head(const torch::Tensor& z);
  // The standardisation of tabular input m: (v - centre) / scale.
  void set_tabular_standardisation(size_t m, const torch::Tensor& centre, const torch::Tensor& scale);

  // The two-input image + tokens form the defenses use.
  torch::Tensor forward(const torch::Tensor& image, const torch::Tensor& tokens) { return forward({image, tokens}); }
  torch::Tensor forward_embedded(const torch::Tensor& image, const torch::Tensor& embeddings,
                                 const torch::Tensor& tokens) {
    return forward_embedded({image, embeddings}, {image, tokens});
  }
  torch::Tensor embed_tokens(const torch::Tensor& tokens) { return embed_tokens(1, tokens); }

  const ModelConfig& config() const { return config_; }
  const std::vector<ModalitySpec>& input_specs() const { return specs_; }

 private:
  // The encoder of one input: exactly one member is set, after its kind.
  struct Encoder {
    ImageEncoder image{nullptr};
    TextEncoder text{nullptr};
    TabularEncoder tabular{nullptr};
    FrameEncoder frames{nullptr};  // audio, signal
  };
  StreamFeatures encode(size_t m, const torch::Tensor& x);

  ModelConfig config_;
  std::vector<ModalitySpec> specs_;
  std::vector<Encoder> encoders_;
  Fusion fusion_;
  torch::nn::Sequential head_{nullptr};
};
TORCH_MODULE(MultimodalNet);

// Checks that image [B,C,H,W] float and tokens [B,L] int64 fit the config;
// throws Error describing the first mismatch.
void check_model_inputs(const ModelConfig& config, const torch::Tensor& image, const torch::Tensor& tokens);

}  // namespace muroan
