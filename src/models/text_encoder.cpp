// The built-in token encoder: an embedding and a GRU.
#include <torch/torch.h>

#include "muroan/encoders.h"

namespace muroan {

TextEncoderImpl::TextEncoderImpl(int64_t vocab_size, int64_t embed_dim, int64_t dim, int64_t pad_id) : pad_id_(pad_id) {
  embedding_ = register_module(
      "embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(vocab_size, embed_dim).padding_idx(pad_id)));
  gru_ =
      register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(embed_dim, /*hidden_size=*/dim).batch_first(true)));
}

torch::Tensor TextEncoderImpl::embed(const torch::Tensor& ids) { return embedding_->forward(ids); }

StreamFeatures TextEncoderImpl::forward_embedded(const torch::Tensor& embeddings, const torch::Tensor& mask) {
  StreamFeatures f;
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

StreamFeatures TextEncoderImpl::forward(const torch::Tensor& ids) {
  return forward_embedded(embed(ids), ids != pad_id_);
}

}  // namespace muroan
