// The unified model view seen by attacks, metrics and reports (DESIGN.md 1).
//
//   x = (x_1 .. x_M) --E_m--> h_m --F--> z --H--> logits
//
// Every model MUROAN measures, built-in or TorchScript, is a Classifier: it
// takes one batched tensor per modality (see modality.h) and returns logits
// [B,K]; if it exposes its fusion embedding z, `fusion` returns it [B,D].
// Models are always in eval mode; autograd follows the caller: wrap queries in
// torch::NoGradGuard unless gradients are wanted (white-box attacks).
#pragma once

#include <torch/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "muroan/inputs.h"
#include "muroan/modality.h"

namespace muroan {

class Classifier {
 public:
  virtual ~Classifier() = default;

  // Human-readable name of the model (e.g. "fashion-match/gmu").
  virtual std::string name() const = 0;
  virtual const std::vector<ModalitySpec>& modalities() const = 0;
  virtual const std::vector<std::string>& classes() const = 0;
  int64_t num_classes() const { return static_cast<int64_t>(classes().size()); }

  // logits [B,K] for inputs on `device()`.
  virtual torch::Tensor logits(const Inputs& inputs) = 0;

  // Whether `fusion` is available.
  virtual bool has_fusion() const = 0;
  // Fusion embedding z [B,D]; throws Error when has_fusion() is false.
  virtual torch::Tensor fusion(const Inputs& inputs) = 0;

  // White-box access for gradient-based attacks on token modalities: the
  // embedding of token ids [B,L,E] and logits computed from embeddings of
  // every token modality (inputs holds the embeddings in place of the ids).
  // Models that cannot do this return false from supports_token_embeddings().
  virtual bool supports_token_embeddings() const { return false; }
  virtual torch::Tensor embed_tokens(size_t modality, const torch::Tensor& ids);
  virtual torch::Tensor logits_from_embeddings(const Inputs& inputs_with_embeddings, const Inputs& original_inputs);

  // Batched queries in which some modalities are the same in every row: for m
  // with shared[m], inputs[m] holds that one row, and the batch has `rows`
  // rows. A model that can encode a shared modality once and reuse it for
  // every row overrides these (the built-in models do: a word-deletion
  // candidate then costs no image convolution); the default repeats the row
  // and calls logits / fusion. Results equal the unshared call up to
  // floating-point rounding.
  virtual torch::Tensor logits_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows);
  virtual torch::Tensor fusion_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows);
  virtual torch::Device device() const = 0;

  // Rows of one or more samples in one forward pass, with logits and (when
  // asked) the fusion embedding from the same pass: what SearchContext and the
  // sample-parallel scheduler (sample_scheduler.h) ask. Group g of the batch
  // is batch.group_rows[g] consecutive rows; for m with batch.shared[m],
  // inputs[m] holds one row per group, used by every row of that group. No
  // shared modality: shared and group_rows may be empty. The default calls
  // logits / fusion (for one group the *_shared forms; for several, packed
  // by the scheduler, once for all rows with the shared rows repeated); the
  // built-in models encode each shared row once and fuse once.
  struct QueryBatch {
    Inputs inputs;
    std::vector<bool> shared;
    std::vector<int64_t> group_rows;
    bool want_fusion = false;
    int64_t rows() const;
    bool has_shared() const;  // some modality is shared
  };
  struct QueryAnswer {
    torch::Tensor logits;  // [B,K]
    torch::Tensor fusion;  // [B,D] when want_fusion, else undefined
  };
  virtual QueryAnswer answer(const QueryBatch& batch);

  // The model answering in passes of its own. A search's view under the
  // sample-parallel scheduler packs its queries with other samples' rows,
  // which can move the last bits of a float; the numbers a result reports
  // (the clean and the judged confidence, the fusion shift) are asked of
  // alone(), so they do not depend on what else was searched at the time.
  virtual Classifier& alone() { return *this; }

  // Runs `pass` with alone() on the thread that makes this model's passes: a
  // gradient pass (forward and backward) or any other pass of one search's
  // own. Under the sample-parallel scheduler that is the packing thread,
  // between packed passes, so that only one thread of the process ever runs
  // the model (each thread that runs a convolution gets a LibTorch thread
  // pool of its own; K searches with their own pools oversubscribe the
  // cores). `pass` must use the Classifier it is given, not this one.
  // Default: pass(*this), here.
  virtual void run_alone(const std::function<void(Classifier&)>& pass) { pass(*this); }
};

// Throws Error naming the model when `output` (logits or a fusion embedding,
// `what`) holds NaN or Inf: a misbehaving model is an error, never a result
// (a NaN argmax would count as a decision change).
void require_finite(const torch::Tensor& output, const Classifier& model, const char* what);

}  // namespace muroan
