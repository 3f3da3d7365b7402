#include "muroan/checkpoint.h"
#include "muroan/error.h"

namespace muroan {

BuiltinClassifier::BuiltinClassifier(MultimodalNet net, std::vector<ModalitySpec> modalities,
                                     std::vector<std::string> classes, std::string name, torch::Device device)
    : net_(std::move(net)),
      modalities_(std::move(modalities)),
      classes_(std::move(classes)),
      name_(std::move(name)),
      device_(device) {
  if (modalities_.size() != 2 || !modalities_[0].is_image() || !modalities_[1].is_tokens())
    throw Error("built-in models take two modalities: image, then tokens");
  net_->to(device_);
  net_->eval();
}

torch::Tensor BuiltinClassifier::logits(const Inputs& inputs) {
  TORCH_CHECK(inputs.size() == 2, "built-in model: expected 2 inputs, got ", inputs.size());
  return net_->forward(inputs[0], inputs[1]);
}

torch::Tensor BuiltinClassifier::fusion(const Inputs& inputs) {
  TORCH_CHECK(inputs.size() == 2, "built-in model: expected 2 inputs, got ", inputs.size());
  return net_->fuse(inputs[0], inputs[1]);
}

torch::Tensor BuiltinClassifier::logits_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) {
  TORCH_CHECK(inputs.size() == 2 && shared.size() == 2, "built-in model: expected 2 inputs");
  return net_->head(net_->fuse_shared(inputs[0], shared[0], inputs[1], shared[1], rows));
}

torch::Tensor BuiltinClassifier::fusion_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) {
  TORCH_CHECK(inputs.size() == 2 && shared.size() == 2, "built-in model: expected 2 inputs");
  return net_->fuse_shared(inputs[0], shared[0], inputs[1], shared[1], rows);
}

torch::Tensor BuiltinClassifier::embed_tokens(size_t modality, const torch::Tensor& ids) {
  TORCH_CHECK(modality == 1, "built-in model: modality ", modality, " holds no tokens");
  return net_->embed_tokens(ids);
}

torch::Tensor BuiltinClassifier::logits_from_embeddings(const Inputs& with_embeddings, const Inputs& original) {
  TORCH_CHECK(with_embeddings.size() == 2 && original.size() == 2, "built-in model: expected 2 inputs");
  return net_->forward_embedded(with_embeddings[0], with_embeddings[1], original[1]);
}

std::unique_ptr<BuiltinClassifier> make_classifier(const Checkpoint& ck, const torch::Device& device) {
  return std::make_unique<BuiltinClassifier>(ck.net, ck.modalities, ck.classes, ck.task + "/" + ck.config.fusion,
                                             device);
}

}  // namespace muroan
