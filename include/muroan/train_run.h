// Training one built-in model on one built-in task, start to finish: generate
// (or read from the cache) the task's data, build the model of the zoo, train
// it (with a defense if asked), measure it on the test split, and write the
// checkpoint with its typed training record. `muroan train` is this call.
//
//   muroan::TrainRunOptions o;
//   o.task = "fashion-match";
//   o.fusion = "gmu";
//   o.train.epochs = 12;  // 0, the default: the task's recipe
//   muroan::TrainRun run = muroan::train_checkpoint(o);  // writes runs/fashion-match-gmu-s1
//   std::cout << run.checkpoint.training.test_accuracy << "\n";
#pragma once

#include <cstdint>
#include <string>

#include "muroan/checkpoint.h"
#include "muroan/defense.h"
#include "muroan/task.h"
#include "muroan/trainer.h"

namespace muroan {

// Training options whose epochs, learning rate and patience are 0: "the task's
// recipe" (TaskInfo), filled in by with_task_recipe.
TrainOptions task_recipe();
// `train` with each of epochs, learning rate and patience that is 0 replaced
// by the recipe of `task` (UsageError for an unknown task).
TrainOptions with_task_recipe(TrainOptions train, const std::string& task);
// Throws UsageError "train.<field>: ..." for a negative or non-finite value.
void validate_training(const TrainOptions& train);

struct TrainRunOptions {
  std::string task = "fashion-match";  // task_catalog()
  std::string fusion = "concat";       // fusion_catalog()
  uint64_t seed = 1;                   // of the data, initialisation, shuffling and defense
  std::string device = "auto";         // auto, cpu or cuda
  TaskOptions data;                    // split sizes and cache; its seed is `seed`
  int64_t dim = 0;                     // encoder width; 0: ModelConfig's default
  int64_t head_hidden = 0;             // head width; 0: the task's (TaskInfo)
  std::string image_readout;           // "flat" or "spp"; empty: the task's (TaskInfo)
  // Epochs, batch size, learning rate, patience, quiet; its seed and device are
  // the ones above. Epochs, learning rate and patience 0: the task's recipe (TaskInfo).
  TrainOptions train = task_recipe();
  DefenseOptions defense;  // none by default; its seed is `seed`
  std::string out;         // checkpoint directory; empty: default_checkpoint_dir()
};

// "runs/<task>-<fusion>-s<seed>".
std::string default_checkpoint_dir(const TrainRunOptions& options);
// Checks every option before any work; throws UsageError "<field>: ..." (task,
// fusion, train.epochs, ...) or the defense's own message.
void validate_train_run(const TrainRunOptions& options);

struct TrainRun {
  Checkpoint checkpoint;  // as written, with the net on the options' device
  std::string dir;        // where it was written
};
// Validates, trains, evaluates on the test split and writes the checkpoint.
TrainRun train_checkpoint(const TrainRunOptions& options);

}  // namespace muroan
