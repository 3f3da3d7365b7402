// A trained built-in model on disk: DIR/checkpoint.json (everything needed to
// rebuild the model and its data: task, task options, fusion and
// hyper-parameters, vocabulary, classes, modalities, training record, versions)
// and DIR/weights.pt (the parameters).
#pragma once

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "muroan/classifier.h"
#include "muroan/modality.h"
#include "muroan/multimodal_net.h"
#include "muroan/task.h"
#include "muroan/training_record.h"
#include "muroan/vocabulary.h"

namespace muroan {

constexpr const char* kCheckpointFormat = "muroan-checkpoint/1";

struct Checkpoint {
  ModelConfig config;
  std::string task;
  TaskOptions task_options;  // regenerates the same splits
  std::vector<std::string> classes;
  std::vector<ModalitySpec> modalities;
  Vocabulary vocab;
  TrainingRecord training;  // recipe, metrics, timings, defense
  MultimodalNet net{nullptr};
};

// Writes DIR/checkpoint.json and DIR/weights.pt (creating DIR); each file is
// written to a temporary name and renamed, so a crash never leaves half a file.
void save_checkpoint(const Checkpoint& checkpoint, const std::string& dir);
// Reads a checkpoint; throws InputError naming the file and field on any problem.
Checkpoint load_checkpoint(const std::string& dir, const torch::Device& device);
// Only its training record (no weights, no model); throws InputError as load_checkpoint.
TrainingRecord read_training_record(const std::string& dir);

// The built-in model seen through the unified Classifier view.
class BuiltinClassifier : public Classifier {
 public:
  BuiltinClassifier(MultimodalNet net, std::vector<ModalitySpec> modalities, std::vector<std::string> classes,
                    std::string name, torch::Device device);

  std::string name() const override { return name_; }
  const std::vector<ModalitySpec>& modalities() const override { return modalities_; }
  const std::vector<std::string>& classes() const override { return classes_; }
  torch::Tensor logits(const Inputs& inputs) override;
  bool has_fusion() const override { return true; }
  torch::Tensor fusion(const Inputs& inputs) override;
  torch::Tensor logits_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) override;
  torch::Tensor fusion_shared(const Inputs& inputs, const std::vector<bool>& shared, int64_t rows) override;
  QueryAnswer answer(const QueryBatch& batch) override;
  bool supports_token_embeddings() const override { return true; }
  torch::Tensor embed_tokens(size_t modality, const torch::Tensor& ids) override;
  torch::Tensor logits_from_embeddings(const Inputs& inputs_with_embeddings, const Inputs& original_inputs) override;
  torch::Device device() const override { return device_; }
  MultimodalNet& net() { return net_; }

 private:
  MultimodalNet net_;
  std::vector<ModalitySpec> modalities_;
  std::vector<std::string> classes_;
  std::string name_;
  torch::Device device_;
};

// A classifier over a loaded checkpoint, named "<task>/<fusion>".
std::unique_ptr<BuiltinClassifier> make_classifier(const Checkpoint& checkpoint, const torch::Device& device);

}  // namespace muroan
