// Built-in tasks: data sets generated on this machine from a seed, needing no
// download, with train / validation / test splits (issue: foundation).
//
//   muroan::TaskOptions opts; opts.seed = 1;
//   muroan::TaskData data = muroan::load_task("fashion-match", opts);
//   // data.train.inputs = {image [N,1,56,56] float, tokens [N,L] int64}
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "muroan/inputs.h"
#include "muroan/modality.h"
#include "muroan/vocabulary.h"

namespace muroan {

struct Split {
  Inputs inputs;                   // one tensor per modality, N rows each
  torch::Tensor labels;            // int64 [N]
  std::vector<std::string> ids;    // N sample ids, e.g. "test-000017"
  std::vector<std::string> texts;  // N captions / questions, for people
  int64_t truncated_texts = 0;     // texts a tokenizer cut to max_len (whole words dropped)
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct TaskData {
  std::string task;
  std::vector<ModalitySpec> modalities;  // image first, then tokens
  std::vector<std::string> classes;
  Vocabulary vocab;
  Split train, val, test;
};

struct TaskOptions {
  uint64_t seed = 1;
  // Samples per split; 0 keeps the task's default size.
  int64_t train_size = 0, val_size = 0, test_size = 0;
  // Generated data is cached here (created if missing); empty: no cache.
  std::string cache_dir = ".muroan-cache";
};

struct TaskInfo {
  std::string name;
  std::string description;
  // The built-in model's shape for this task, where `muroan train` is not told
  // otherwise (ModelConfig): the image encoder's readout and the head's width.
  std::string image_readout = "flat";
  int64_t head_hidden = 64;
  // The training recipe where `muroan train` and `muroan analyze` are not told
  // otherwise (Adam; docs/zoo_accuracy.md and the zoo pages say why).
  int64_t epochs = 12;
  double learning_rate = 5e-4;
  int64_t patience = 3;
};
// The entry of task_catalog() named `name`; throws UsageError for an unknown name.
TaskInfo task_info(const std::string& name);

// The tasks MUROAN knows, in listing order.
std::vector<TaskInfo> task_catalog();
// Generates (or reads from the cache) the task's splits; deterministic in
// options.seed and the sizes. Throws UsageError for an unknown task name.
TaskData load_task(const std::string& name, const TaskOptions& options);

}  // namespace muroan
