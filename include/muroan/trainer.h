// Training the built-in models: Adam on cross-entropy, one pass over the
// shuffled training split per epoch, validation accuracy after each epoch, early
// stopping, and the best validation state kept.
#pragma once

#include <torch/types.h>

#include <functional>
#include <vector>

#include "muroan/multimodal_net.h"
#include "muroan/task.h"
#include "muroan/training_record.h"

namespace muroan {

struct TrainOptions {
  int64_t epochs = 12;
  int64_t batch_size = 64;
  double learning_rate = 5e-4;
  int64_t patience = 3;  // epochs without a better validation accuracy before stopping
  // Early stopping waits while the best validation accuracy is within this
  // margin of the majority-class share: a model still on the initial plateau
  // (where fusions of matching tasks sit for several epochs before their
  // features align) has not stopped improving, it has not started.
  double plateau_margin = 0.05;
  uint64_t seed = 1;  // parameter initialisation and shuffling
  torch::Device device = torch::kCPU;
  bool quiet = false;  // no progress bar
  // Optional change of each training batch before the step (defenses use it);
  // receives inputs on `device` and the labels, returns the inputs to train on.
  std::function<Inputs(const Inputs&, const torch::Tensor&)> transform_batch;
  // Optional replacement of the forward pass of a training batch (after
  // transform_batch): receives the batch and labels, returns the logits [B,K]
  // to train on (pgd-at uses it to perturb token embeddings).
  std::function<torch::Tensor(const Inputs&, const torch::Tensor&)> batch_logits;
};

struct TrainResult {
  std::vector<EpochRecord> epochs;
  int64_t best_epoch = 0;
  double best_val_accuracy = 0;
  double chance_accuracy = 0;  // majority-class share of the validation split
  bool left_plateau = false;   // best_val_accuracy > chance_accuracy + plateau_margin
  double seconds = 0;
};

// Trains `net` in place (moving it to options.device); on return it holds the
// parameters of the epoch with the best validation accuracy.
TrainResult train_model(MultimodalNet& net, const TaskData& data, const TrainOptions& options);

}  // namespace muroan
