#include "muroan/multimodal_net.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "muroan/error.h"
#include "muroan/json_value.h"
#include "muroan/modality.h"

namespace muroan {
namespace {

template <typename T>
T required(const nlohmann::json& j, const char* field) {
  return json_field<T>(j, field, "model config");
}

}  // namespace

std::vector<ModalitySpec> ModelConfig::input_specs() const {
  if (!inputs.empty()) return inputs;
  return {ModalitySpec::image("image", image_channels, image_height, image_width),
          ModalitySpec::tokens("tokens", max_len, pad_id, vocab_size)};
}

FusionConfig ModelConfig::fusion_config() const {
  FusionConfig f;
  f.streams.clear();
  for (const auto& spec : input_specs()) {
    switch (spec.kind) {
      case ModalityKind::kImage: {
        auto shape = StreamShape::image(dim, image_grid_size(spec.height(), image_readout),
                                        image_grid_size(spec.width(), image_readout));
        shape.role = stream_role("image", f.streams);
        f.streams.push_back(shape);
        break;
      }
      case ModalityKind::kTokens:
        f.streams.push_back(StreamShape::sequence(stream_role("text", f.streams), dim, spec.max_len()));
        break;
      case ModalityKind::kTabular:
        f.streams.push_back(StreamShape::sequence(stream_role("tabular", f.streams), dim, spec.num_features()));
        break;
      case ModalityKind::kAudio:
        f.streams.push_back(StreamShape::sequence(stream_role("audio", f.streams), dim, spec.num_frames()));
        break;
      case ModalityKind::kSignal:
        f.streams.push_back(StreamShape::sequence(stream_role("signal", f.streams), dim, spec.num_frames()));
        break;
    }
  }
  f.hidden = dim;
  f.num_classes = num_classes;
  return f;
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j = {{"fusion", fusion},
                      {"num_classes", num_classes},
                      {"dim", dim},
                      {"embed_dim", embed_dim},
                      {"head_hidden", head_hidden}};
  if (inputs.empty()) {
    j.update({{"image_channels", image_channels},
              {"image_height", image_height},
              {"image_width", image_width},
              {"vocab_size", vocab_size},
              {"max_len", max_len},
              {"pad_id", pad_id}});
  } else {
    j["inputs"] = nlohmann::json::array();
    for (const auto& spec : inputs) j["inputs"].push_back(modality_to_json(spec));
  }
  if (image_readout != "flat") j["image_readout"] = image_readout;  // absent: flat (earlier checkpoints)
  return j;
}

namespace {

// Bounds before the network is built: a corrupt config must not ask the
// allocator for terabytes (the built-in models use widths of 32 to 256).
void bounded(const std::string& field, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi)
    throw Error("model config: field '" + field + "' is " + std::to_string(v) + ", expected " + std::to_string(lo) +
                " to " + std::to_string(hi));
}

constexpr double kMaxLayerWeights = static_cast<double>(int64_t{1} << 28);

void check_image(const std::string& where, int64_t channels, int64_t height, int64_t width, int64_t dim,
                 const std::string& readout) {
  bounded(where + "channels", channels, 1, 3);
  bounded(where + "height", height, 8, kMaxImageSide);
  bounded(where + "width", width, 8, kMaxImageSide);
  const double projection =
      static_cast<double>(dim) * static_cast<double>(dim) *
      (readout == "spp" ? static_cast<double>(kSppFeatures)
                        : static_cast<double>(image_grid_size(height, "flat") * image_grid_size(width, "flat")));
  if (projection > kMaxLayerWeights)
    throw Error("model config: dim " + std::to_string(dim) + " with " + std::to_string(height) + " x " +
                std::to_string(width) + " images needs an image projection of " +
                std::to_string(static_cast<int64_t>(projection)) + " weights, more than 2^28");
}

void check_tokens(const std::string& where, int64_t vocab_size, int64_t max_len, int64_t pad_id) {
  bounded(where + "vocab_size", vocab_size, 1, int64_t{1} << 24);
  bounded(where + "max_len", max_len, 1, kMaxTokenLength);
  bounded(where + "pad_id", pad_id, 0, vocab_size - 1);
}

}  // namespace

ModelConfig ModelConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("model config: expected a JSON object");
  ModelConfig c;
  c.fusion = required<std::string>(j, "fusion");
  c.num_classes = required<int64_t>(j, "num_classes");
  c.dim = required<int64_t>(j, "dim");
  c.embed_dim = required<int64_t>(j, "embed_dim");
  c.head_hidden = required<int64_t>(j, "head_hidden");
  if (j.contains("image_readout")) {
    c.image_readout = required<std::string>(j, "image_readout");
    check_image_readout(c.image_readout);
  }
  bounded("num_classes", c.num_classes, 2, 1 << 16);
  bounded("dim", c.dim, 1, 4096);
  bounded("embed_dim", c.embed_dim, 1, 4096);
  bounded("head_hidden", c.head_hidden, 1, 4096);
  if (!j.contains("inputs")) {
    c.image_channels = required<int64_t>(j, "image_channels");
    c.image_height = required<int64_t>(j, "image_height");
    c.image_width = required<int64_t>(j, "image_width");
    c.vocab_size = required<int64_t>(j, "vocab_size");
    c.max_len = required<int64_t>(j, "max_len");
    c.pad_id = required<int64_t>(j, "pad_id");
    check_image("image_", c.image_channels, c.image_height, c.image_width, c.dim, c.image_readout);
    check_tokens("", c.vocab_size, c.max_len, c.pad_id);
    return c;
  }
  const auto& inputs = j.at("inputs");
  if (!inputs.is_array() || inputs.empty() || inputs.size() > 64)
    throw Error("model config: field 'inputs' must be a list of 1 to 64 inputs");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string where = "inputs[" + std::to_string(i) + "].";
    c.inputs.push_back(modality_from_json(inputs[i], "model config: inputs[" + std::to_string(i) + "]"));
    const auto& spec = c.inputs.back();
    if (spec.is_image()) check_image(where, spec.channels(), spec.height(), spec.width(), c.dim, c.image_readout);
    if (spec.is_tokens()) check_tokens(where, spec.vocab_size, spec.max_len(), spec.pad_id);
    if (spec.is_audio() && static_cast<double>(spec.frame / 2 + 1) * static_cast<double>(c.dim) > kMaxLayerWeights)
      throw Error("model config: " + where + "frame of " + std::to_string(spec.frame) +
                  " samples needs a spectrum projection of more than 2^28 weights");
    if (spec.is_signal() &&
        static_cast<double>(spec.channels()) * static_cast<double>(spec.frame) * static_cast<double>(c.dim) >
            kMaxLayerWeights)
      throw Error("model config: " + where + std::to_string(spec.channels()) + " channels in frames of " +
                  std::to_string(spec.frame) + " samples need a frame projection of more than 2^28 weights");
  }
  return c;
}

MultimodalNetImpl::MultimodalNetImpl(const ModelConfig& config) : config_(config), specs_(config.input_specs()) {
  check_image_readout(config.image_readout);
  const auto shapes = config.fusion_config().streams;
  for (size_t m = 0; m < specs_.size(); ++m) {
    const auto& spec = specs_[m];
    const std::string name = shapes[m].role + "_encoder";
    Encoder e;
    switch (spec.kind) {
      case ModalityKind::kImage:
        if (image_grid_size(spec.height(), "flat") < 1 || image_grid_size(spec.width(), "flat") < 1)
          throw Error("model config: images must be at least 8x8 pixels");
        e.image = register_module(
            name, ImageEncoder(spec.channels(), config.dim, shapes[m].grid_h * shapes[m].grid_w, config.image_readout));
        break;
      case ModalityKind::kTokens:
        if (spec.vocab_size <= 0) throw Error("model config: vocab_size must be positive");
        e.text = register_module(name, TextEncoder(spec.vocab_size, config.embed_dim, config.dim, spec.pad_id));
        break;
      case ModalityKind::kTabular:
        e.tabular = register_module(name, TabularEncoder(spec.num_features(), config.dim));
        break;
      case ModalityKind::kAudio:
      case ModalityKind::kSignal:
        e.frames = register_module(name, FrameEncoder(spec, config.dim));
        break;
    }
    encoders_.push_back(e);
  }
  fusion_ = register_module("fusion", make_fusion(config.fusion, config.fusion_config()));
  if (!fusion_->outputs_logits()) {
    head_ = register_module(
        "head", torch::nn::Sequential(torch::nn::Linear(fusion_->out_dim(), config.head_hidden), torch::nn::ReLU(),
                                      torch::nn::Linear(config.head_hidden, config.num_classes)));
  }
}

StreamFeatures MultimodalNetImpl::encode(size_t m, const torch::Tensor& x) {
  auto& e = encoders_.at(m);
  if (e.image) return e.image->forward(x);
  if (e.text) return e.text->forward(x);
  if (e.tabular) return e.tabular->forward(x);
  return e.frames->forward(x);
}

torch::Tensor MultimodalNetImpl::fuse(const Inputs& inputs) {
  TORCH_CHECK(inputs.size() == encoders_.size(), "built-in model: expected ", encoders_.size(), " inputs, got ",
              inputs.size());
  std::vector<StreamFeatures> streams;
  for (size_t m = 0; m < inputs.size(); ++m) streams.push_back(encode(m, inputs[m]));
  return fusion_->forward(streams);
}

torch::Tensor MultimodalNetImpl::fuse_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) {
  return fuse_shared(inputs, shared, std::vector<int64_t>{rows});
}

torch::Tensor MultimodalNetImpl::fuse_shared(const Inputs& inputs, const std::vector<bool>& shared,
                                             const std::vector<int64_t>& group_rows) {
  TORCH_CHECK(inputs.size() == encoders_.size() && shared.size() == inputs.size(), "built-in model: expected ",
              encoders_.size(), " inputs");
  TORCH_CHECK(!group_rows.empty(), "built-in model: a shared-input batch without groups");
  torch::Tensor row_group;  // for several groups: the group of every row
  if (group_rows.size() > 1) {
    const auto counts = torch::tensor(group_rows, torch::kLong);
    row_group = torch::repeat_interleave(counts).to(inputs.front().device());
  }
  std::vector<StreamFeatures> streams;
  for (size_t m = 0; m < inputs.size(); ++m) {
    auto f = encode(m, inputs[m]);
    if (shared[m]) {
      // One group: expand() views the one row for every row without copying.
      // Several: each row takes its group's encoding.
      const auto repeat = [&](torch::Tensor& t) {
        if (!t.defined()) return;
        if (row_group.defined()) {
          t = t.index_select(0, row_group);
          return;
        }
        std::vector<int64_t> sizes(static_cast<size_t>(t.dim()), -1);
        sizes[0] = group_rows.front();
        t = t.expand(sizes);
      };
      repeat(f.grid);
      repeat(f.tokens);
      repeat(f.mask);
      repeat(f.pooled);
    }
    streams.push_back(std::move(f));
  }
  return fusion_->forward(streams);
}

torch::Tensor MultimodalNetImpl::head(const torch::Tensor& z) {
  return fusion_->outputs_logits() ? z : head_->forward(z);
}

torch::Tensor MultimodalNetImpl::forward(const Inputs& inputs) { return head(fuse(inputs)); }

torch::Tensor MultimodalNetImpl::forward_embedded(const Inputs& with_embeddings, const Inputs& original) {
  TORCH_CHECK(with_embeddings.size() == encoders_.size() && original.size() == encoders_.size(),
              "built-in model: expected ", encoders_.size(), " inputs");
  std::vector<StreamFeatures> streams;
  for (size_t m = 0; m < encoders_.size(); ++m) {
    auto& text = encoders_[m].text;
    streams.push_back(text ? text->forward_embedded(with_embeddings[m], original[m] != text->pad_id())
                           : encode(m, with_embeddings[m]));
  }
  return head(fusion_->forward(streams));
}

torch::Tensor MultimodalNetImpl::embed_tokens(size_t m, const torch::Tensor& ids) {
  TORCH_CHECK(m < encoders_.size() && encoders_[m].text, "built-in model: input ", m, " holds no tokens");
  return encoders_[m].text->embed(ids);
}

void MultimodalNetImpl::set_tabular_standardisation(size_t m, const torch::Tensor& centre, const torch::Tensor& scale) {
  TORCH_CHECK(m < encoders_.size() && encoders_[m].tabular, "built-in model: input ", m, " is not tabular");
  encoders_[m].tabular->set_standardisation(centre, scale);
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
