#include "muroan/checkpoint.h"

#include <algorithm>
#include "muroan/error.h"

namespace muroan {

BuiltinClassifier::BuiltinClassifier(MultimodalNet net, std::vector<ModalitySpec> modalities,
                                     std::vector<std::string> classes, std::string name, torch::Device device)
    : net_(std::move(net)),
      modalities_(std::move(modalities)),
      classes_(std::move(classes)),
      name_(std::move(name)),
      device_(device) {
  const auto& inputs = net_->input_specs();
  bool fits = inputs.size() == modalities_.size();
  for (size_t m = 0; fits && m < inputs.size(); ++m) fits = inputs[m].kind == modalities_[m].kind;
  if (!fits) throw Error("built-in model '" + name_ + "': its inputs do not match the modalities it is given");
  net_->to(device_);
  net_->eval();
}

torch::Tensor BuiltinClassifier::logits(const Inputs& inputs) { return net_->forward(inputs); }

torch::Tensor BuiltinClassifier::fusion(const Inputs& inputs) { return net_->fuse(inputs); }

torch::Tensor BuiltinClassifier::logits_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) {
  return net_->head(net_->fuse_shared(inputs, shared, rows));
}

torch::Tensor BuiltinClassifier::fusion_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) {
  return net_->fuse_shared(inputs, shared, rows);
}

Classifier::QueryAnswer BuiltinClassifier::answer(const QueryBatch& batch) {
  QueryAnswer a;
  // One fusion pass; the logits are its head (the fusion objective used to pay for two).
  const auto z =
      batch.has_shared() ? net_->fuse_shared(batch.inputs, batch.shared, batch.group_rows) : net_->fuse(batch.inputs);
  a.logits = net_->head(z);
  if (batch.want_fusion) a.fusion = z;
  return a;
}

torch::Tensor BuiltinClassifier::embed_tokens(size_t modality, const torch::Tensor& ids) {
  return net_->embed_tokens(modality, ids);
}

torch::Tensor BuiltinClassifier::logits_from_embeddings(const Inputs& with_embeddings, const Inputs& original) {
  return net_->forward_embedded(with_embeddings, original);
}

std::unique_ptr<BuiltinClassifier> make_classifier(const Checkpoint& ck, const torch::Device& device) {
  return std::make_unique<BuiltinClassifier>(ck.net, ck.modalities, ck.classes, ck.task + "/" + ck.config.fusion,
                                             device);
}

}  // namespace muroan
