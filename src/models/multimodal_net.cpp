#include "muroan/multimodal_net.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "muroan/error.h"
#include "muroan/json_value.h"
#include "muroan/modality.h"

namespace muroan {
namespace {

constexpr int64_t kConvBlocks = 3;  // each halves the spatial size

// He initialisation (fan-in, ReLU gain) with zero bias. LibTorch's default
// (uniform, variance 1/(3 fan_in)) shrinks the activation variance about 6x per
// ReLU layer, so after three conv blocks and the projection the image features
// were ~100x smaller than the text features, and fusions that multiply or
// compare the two sat at chance for up to 10 epochs on fashion-match (measured,
// docs/zoo_accuracy.md).
template <typename Layer>
Layer he_init(Layer layer) {
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(layer->weight, /*a=*/0.0, torch::kFanIn, torch::kReLU);
  torch::nn::init::zeros_(layer->bias);
  return layer;
}

void push_conv_block(torch::nn::Sequential& seq, int64_t in, int64_t out, bool pool = true) {
  seq->push_back(he_init(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, /*kernel_size=*/3).padding(1))));
  seq->push_back(torch::nn::ReLU());
  if (pool) seq->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(/*kernel_size=*/2)));
}

// Numbers per channel in the spp readout: grid max, grid mean, four quadrant maxima.
constexpr int64_t kSppFeatures = 6;

template <typename T>
T required(const nlohmann::json& j, const char* field) {
  return json_field<T>(j, field, "model config");
}

}  // namespace

void check_image_readout(const std::string& readout) {
  if (readout != "flat" && readout != "spp")
    throw Error("model config: image_readout '" + readout + "', expected \"flat\" or \"spp\"");
}

int64_t image_grid_size(int64_t size, const std::string& readout) {
  const int64_t pools = readout == "spp" ? kConvBlocks - 1 : kConvBlocks;
  for (int64_t i = 0; i < pools; ++i) size /= 2;
  return size;
}

FusionConfig ModelConfig::fusion_config() const {
  FusionConfig f;
  f.image_dim = dim;
  f.text_dim = dim;
  f.grid_h = image_grid_size(image_height, image_readout);
  f.grid_w = image_grid_size(image_width, image_readout);
  f.max_len = max_len;
  f.hidden = dim;
  f.num_classes = num_classes;
  return f;
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j = {{"fusion", fusion},           {"image_channels", image_channels}, {"image_height", image_height},
                      {"image_width", image_width}, {"vocab_size", vocab_size},         {"max_len", max_len},
                      {"pad_id", pad_id},           {"num_classes", num_classes},       {"dim", dim},
                      {"embed_dim", embed_dim},     {"head_hidden", head_hidden}};
  if (image_readout != "flat") j["image_readout"] = image_readout;  // absent: flat (earlier checkpoints)
  return j;
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("model config: expected a JSON object");
  ModelConfig c;
  c.fusion = required<std::string>(j, "fusion");
  c.image_channels = required<int64_t>(j, "image_channels");
  c.image_height = required<int64_t>(j, "image_height");
  c.image_width = required<int64_t>(j, "image_width");
  c.vocab_size = required<int64_t>(j, "vocab_size");
  c.max_len = required<int64_t>(j, "max_len");
  c.pad_id = required<int64_t>(j, "pad_id");
  c.num_classes = required<int64_t>(j, "num_classes");
  c.dim = required<int64_t>(j, "dim");
  c.embed_dim = required<int64_t>(j, "embed_dim");
  c.head_hidden = required<int64_t>(j, "head_hidden");
  if (j.contains("image_readout")) {
    c.image_readout = required<std::string>(j, "image_readout");
    check_image_readout(c.image_readout);
  }
  // Bounds before the network is built: a corrupt config must not ask the
  // allocator for terabytes (the built-in models use widths of 32 to 256).
  const auto bounded = [](const char* field, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi)
      throw Error(std::string("model config: field '") + field + "' is " + std::to_string(v) + ", expected " +
                  std::to_string(lo) + " to " + std::to_string(hi));
  };
  bounded("image_channels", c.image_channels, 1, 3);
  bounded("image_height", c.image_height, 8, kMaxImageSide);
  bounded("image_width", c.image_width, 8, kMaxImageSide);
  bounded("vocab_size", c.vocab_size, 1, int64_t{1} << 24);
  bounded("max_len", c.max_len, 1, kMaxTokenLength);
  bounded("pad_id", c.pad_id, 0, c.vocab_size - 1);
  bounded("num_classes", c.num_classes, 2, 1 << 16);
  bounded("dim", c.dim, 1, 4096);
  bounded("embed_dim", c.embed_dim, 1, 4096);
  bounded("head_hidden", c.head_hidden, 1, 4096);
  const double projection =
      static_cast<double>(c.dim) * static_cast<double>(c.dim) *
      (c.image_readout == "spp"
           ? static_cast<double>(kSppFeatures)
           : static_cast<double>(image_grid_size(c.image_height, "flat") * image_grid_size(c.image_width, "flat")));
  if (projection > static_cast<double>(int64_t{1} << 28))
    throw Error("model config: dim " + std::to_string(c.dim) + " with " + std::to_string(c.image_height) + " x " +
                std::to_string(c.image_width) + " images needs an image projection of " +
                std::to_string(static_cast<int64_t>(projection)) + " weights, more than 2^28");
  return c;
}

ImageEncoderImpl::ImageEncoderImpl(int64_t channels, int64_t dim, int64_t grid_cells, const std::string& readout)
    : spp_(readout == "spp") {
  check_image_readout(readout);
  torch::nn::Sequential body;
  push_conv_block(body, channels, 16);
  push_conv_block(body, 16, 32);
  push_conv_block(body, 32, dim, /*pool=*/!spp_);
  static_assert(kConvBlocks == 3, "the grid size assumes three conv blocks");
  body_ = register_module("body", body);
  project_ = register_module("project", he_init(torch::nn::Linear(spp_ ? kSppFeatures * dim : dim * grid_cells, dim)));
}

ImageFeatures ImageEncoderImpl::forward(const torch::Tensor& image) {
  ImageFeatures f;
  f.grid = body_->forward(image);
  if (spp_) {
    // Where things are survives in the quadrant maxima; what is there in the
    // grid max and mean. 6 D numbers instead of a projection of every cell.
    const auto quadrants = torch::adaptive_max_pool2d(f.grid, {2, 2});
    f.pooled = torch::relu(project_->forward(
        torch::cat({f.grid.amax({2, 3}), f.grid.mean({2, 3}), std::get<0>(quadrants).flatten(1)}, 1)));
  } else {
    // A learned projection of the whole grid rather than a mean: the mean would
    // throw away where things are, and captions and questions ask about places.
    f.pooled = torch::relu(project_->forward(f.grid.flatten(1)));
  }
  return f;
}

TextEncoderImpl::TextEncoderImpl(int64_t vocab_size, int64_t embed_dim, int64_t dim, int64_t pad_id) : pad_id_(pad_id) {
  embedding_ = register_module(
      "embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(vocab_size, embed_dim).padding_idx(pad_id)));
  gru_ =
      register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(embed_dim, /*hidden_size=*/dim).batch_first(true)));
}

torch::Tensor TextEncoderImpl::embed(const torch::Tensor& ids) { return embedding_->forward(ids); }

TextFeatures TextEncoderImpl::forward_embedded(const torch::Tensor& embeddings, const torch::Tensor& mask) {
  TextFeatures f;
  f.mask = mask;
  // Masked positions get a zero input so that a masked (not deleted) token
  // carries no information; the GRU is unidirectional, so trailing pads never
  // reach the real positions.
  const auto maskf = mask.unsqueeze(-1).to(embeddings.dtype());
  f.tokens = std::get<0>(gru_->forward(embeddings * maskf)) * maskf;
  const auto count = maskf.sum(1).clamp_min(1.0);
  f.pooled = f.tokens.sum(1) / count;
  return f;
}

TextFeatures TextEncoderImpl::forward(const torch::Tensor& ids) { return forward_embedded(embed(ids), ids != pad_id_); }

MultimodalNetImpl::MultimodalNetImpl(const ModelConfig& config) : config_(config) {
  if (config.vocab_size <= 0) throw Error("model config: vocab_size must be positive");
  check_image_readout(config.image_readout);
  const int64_t grid_h = image_grid_size(config.image_height, config.image_readout);
  const int64_t grid_w = image_grid_size(config.image_width, config.image_readout);
  if (image_grid_size(config.image_height, "flat") < 1 || image_grid_size(config.image_width, "flat") < 1)
    throw Error("model config: images must be at least 8x8 pixels");
  image_encoder_ = register_module(
      "image_encoder", ImageEncoder(config.image_channels, config.dim, grid_h * grid_w, config.image_readout));
  text_encoder_ =
      register_module("text_encoder", TextEncoder(config.vocab_size, config.embed_dim, config.dim, config.pad_id));
  fusion_ = register_module("fusion", make_fusion(config.fusion, config.fusion_config()));
  if (!fusion_->outputs_logits()) {
    head_ = register_module(
        "head", torch::nn::Sequential(torch::nn::Linear(fusion_->out_dim(), config.head_hidden), torch::nn::ReLU(),
                                      torch::nn::Linear(config.head_hidden, config.num_classes)));
  }
}

torch::Tensor MultimodalNetImpl::fuse(const torch::Tensor& image, const torch::Tensor& tokens) {
  return fusion_->forward(image_encoder_->forward(image), text_encoder_->forward(tokens));
}

torch::Tensor MultimodalNetImpl::fuse_shared(const torch::Tensor& image, bool image_shared, const torch::Tensor& tokens,
                                             bool tokens_shared, int64_t rows) {
  ImageFeatures img = image_encoder_->forward(image);
  TextFeatures text = text_encoder_->forward(tokens);
  // expand() views the one row `rows` times without copying.
  if (image_shared) {
    img.grid = img.grid.expand({rows, -1, -1, -1});
    img.pooled = img.pooled.expand({rows, -1});
  }
  if (tokens_shared) {
    text.tokens = text.tokens.expand({rows, -1, -1});
    text.mask = text.mask.expand({rows, -1});
    text.pooled = text.pooled.expand({rows, -1});
  }
  return fusion_->forward(img, text);
}

torch::Tensor MultimodalNetImpl::head(const torch::Tensor& z) {
  return fusion_->outputs_logits() ? z : head_->forward(z);
}

torch::Tensor MultimodalNetImpl::forward(const torch::Tensor& image, const torch::Tensor& tokens) {
  return head(fuse(image, tokens));
}

torch::Tensor MultimodalNetImpl::forward_embedded(const torch::Tensor& image, const torch::Tensor& embeddings,
                                                  const torch::Tensor& tokens) {
  auto text = text_encoder_->forward_embedded(embeddings, tokens != config_.pad_id);
  return head(fusion_->forward(image_encoder_->forward(image), text));
}

void check_model_inputs(const ModelConfig& c, const torch::Tensor& image, const torch::Tensor& tokens) {
  auto shape_str = [](const torch::Tensor& t) {
    std::string s = "[";
    for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
    return s + "]";
  };
  if (image.dim() != 4 || image.size(1) != c.image_channels || image.size(2) != c.image_height ||
      image.size(3) != c.image_width)
    throw Error("image: expected [B," + std::to_string(c.image_channels) + "," + std::to_string(c.image_height) + "," +
                std::to_string(c.image_width) + "], got " + shape_str(image));
  if (!image.is_floating_point()) throw Error("image: expected float32 values");
  if (tokens.dim() != 2 || tokens.size(1) != c.max_len)
    throw Error("tokens: expected [B," + std::to_string(c.max_len) + "], got " + shape_str(tokens));
  if (tokens.scalar_type() != torch::kLong) throw Error("tokens: expected int64 ids");
  if (tokens.size(0) != image.size(0)) throw Error("image and tokens have different batch sizes");
  if (tokens.numel() > 0) {
    const int64_t lo = tokens.min().item<int64_t>(), hi = tokens.max().item<int64_t>();
    if (lo < 0 || hi >= c.vocab_size)
      throw Error("tokens: id " + std::to_string(lo < 0 ? lo : hi) + " is outside the vocabulary of " +
                  std::to_string(c.vocab_size));
  }
}

}  // namespace muroan
