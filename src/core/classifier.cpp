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

}  // namespace muroan
