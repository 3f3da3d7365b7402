#include "muroan/classifier.h"

#include "muroan/error.h"

namespace muroan {

torch::Tensor Classifier::embed_tokens(size_t /*modality*/, const torch::Tensor& /*ids*/) {
  throw Error("model '" + name() + "' does not expose token embeddings");
}

torch::Tensor Classifier::logits_from_embeddings(const Inputs& /*inputs_with_embeddings*/,
                                                 const Inputs& /*original_inputs*/) {
  throw Error("model '" + name() + "' does not expose token embeddings");
}

namespace {

Inputs repeat_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) {
  if (shared.size() != inputs.size())
    throw Error("shared-modality query: " + std::to_string(shared.size()) + " flags for " +
                std::to_string(inputs.size()) + " modalities");
  Inputs full = inputs;
  for (size_t m = 0; m < inputs.size(); ++m) {
    if (!shared[m]) continue;
    std::vector<int64_t> shape(static_cast<size_t>(inputs[m].dim()), -1);
    shape.at(0) = rows;
    full[m] = inputs[m].expand(shape).contiguous();
  }
  return full;
}

}  // namespace

torch::Tensor Classifier::logits_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) {
  return logits(repeat_shared(inputs, shared, rows));
}

torch::Tensor Classifier::fusion_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) {
  return fusion(repeat_shared(inputs, shared, rows));
}

void require_finite(const torch::Tensor& output, const Classifier& model, const char* what) {
  if (!output.defined() || output.numel() == 0) return;
  const auto bad_rows = (~torch::isfinite(output.detach())).reshape({output.size(0), -1}).any(1);
  const int64_t bad = bad_rows.sum().item<int64_t>();
  if (bad == 0) return;
  throw Error("model '" + model.name() + "' returned non-finite " + what + " (NaN or Inf) in " + std::to_string(bad) +
              " of " + std::to_string(output.size(0)) +
              " rows: a misbehaving model cannot be measured (no decision change is counted from it)");
}

}  // namespace muroan
