// How a built-in model was trained and what it reached: the "training" object
// of checkpoint.json, typed. Written by the training pipeline (train_run.h),
// read by every command that reuses a checkpoint (analyze's reuse rule,
// certify's trained ablation, reports).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace muroan {

struct EpochRecord {
  int64_t epoch = 0;
  double train_loss = 0, train_accuracy = 0, val_accuracy = 0, seconds = 0;
};

struct TrainingRecord {
  // The recipe.
  int64_t epochs_max = 0;
  int64_t batch_size = 0;
  double learning_rate = 0;
  int64_t patience = 0;
  uint64_t seed = 0;
  std::string device;
  // What it reached.
  int64_t best_epoch = 0;
  double val_accuracy = 0;   // of the best epoch
  double test_accuracy = 0;  // of the kept parameters, on the task's test split
  int64_t test_samples = 0;
  int64_t parameters = 0;
  double seconds = 0;          // training wall time
  double chance_accuracy = 0;  // majority-class share of the validation split
  bool left_plateau = false;   // val_accuracy above chance by the trainer's margin
  std::vector<EpochRecord> history;
  // The defense trained with (Defense::to_json: {"name", its options, "stats"});
  // {"name": "none"} without one. Kept as JSON: its fields depend on the kind.
  nlohmann::json defense = {{"name", "none"}};

  std::string defense_name() const;
  nlohmann::json to_json() const;
  // Checks every field's type; a missing field keeps its default (checkpoints
  // of earlier versions lack some). Throws InputError naming `where` and the field.
  static TrainingRecord from_json(const nlohmann::json& j, const std::string& where);
};

}  // namespace muroan
