#include "muroan/classifier.h"

#include <algorithm>

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

int64_t Classifier::QueryBatch::rows() const {
  if (!group_rows.empty()) {
    int64_t n = 0;
    for (const int64_t r : group_rows) n += r;
    return n;
  }
  return inputs.empty() ? 0 : inputs.front().size(0);
}

bool Classifier::QueryBatch::has_shared() const {
  return std::find(shared.begin(), shared.end(), true) != shared.end();
}

Classifier::QueryAnswer Classifier::answer(const QueryBatch& batch) {
  QueryAnswer a;
  if (!batch.has_shared()) {
    a.logits = logits(batch.inputs);
    if (batch.want_fusion) a.fusion = fusion(batch.inputs);
    return a;
  }
  if (batch.shared.size() != batch.inputs.size())
    throw Error("shared-modality query: " + std::to_string(batch.shared.size()) + " flags for " +
                std::to_string(batch.inputs.size()) + " modalities");
  // Group g: row g of a shared modality, the group's rows of the others.
  std::vector<Inputs> parts;
  int64_t offset = 0;
  for (size_t g = 0; g < batch.group_rows.size(); ++g) {
    const int64_t rows = batch.group_rows[g];
    Inputs part(batch.inputs.size());
    for (size_t m = 0; m < part.size(); ++m) {
      const auto gi = static_cast<int64_t>(g);
      part[m] = batch.shared[m] ? batch.inputs[m].narrow(0, gi, 1) : batch.inputs[m].narrow(0, offset, rows);
    }
    parts.push_back(std::move(part));
    offset += rows;
  }
  if (parts.size() == 1) {  // one group: the *_shared calls
    const int64_t rows = batch.group_rows.front();
    a.logits = logits_shared(parts.front(), batch.shared, rows);
    if (batch.want_fusion) a.fusion = fusion_shared(parts.front(), batch.shared, rows);
    return a;
  }
  // Several samples' groups (packed by the sample-parallel scheduler): a model
  // without an answer of its own cannot reuse a shared row's encoding anyway,
  // so each group's shared rows are repeated and all rows go into one pass,
  // not one small pass per group.
  for (size_t g = 0; g < parts.size(); ++g) parts[g] = repeat_shared(parts[g], batch.shared, batch.group_rows[g]);
  Inputs full(batch.inputs.size());
  for (size_t m = 0; m < full.size(); ++m) {
    std::vector<torch::Tensor> rows;
    for (const Inputs& part : parts) rows.push_back(part[m]);
    full[m] = torch::cat(rows);
  }
  a.logits = logits(full);
  if (batch.want_fusion) a.fusion = fusion(full);
  return a;
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
