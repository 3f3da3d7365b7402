#include "muroan/train_run.h"

#include <cmath>

#include <string>

#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/fusion.h"
#include "muroan/names.h"
#include "muroan/predict.h"
#include "muroan/progress.h"

namespace muroan {

std::string default_checkpoint_dir(const TrainRunOptions& o) {
  return "runs/" + o.task + "-" + o.fusion + "-s" + std::to_string(o.seed);
}

void validate_train_run(const TrainRunOptions& o) {
  std::vector<std::string> tasks, fusions;
  for (const auto& t : task_catalog()) tasks.push_back(t.name);
  for (const auto& f : fusion_catalog()) fusions.push_back(f.name);
  check_known_name("task", "task", o.task, tasks);
  check_known_name("fusion", "fusion", o.fusion, fusions);
  validate_training(o.train);
  if (o.dim < 0 || o.head_hidden < 0) throw UsageError("dim, head_hidden: must not be negative");
  if (o.data.train_size < 0 || o.data.val_size < 0 || o.data.test_size < 0)
    throw UsageError("data.train_size, data.val_size, data.test_size: must be >= 0 (0: the task's default)");
  if (!o.image_readout.empty() && o.image_readout != "flat" && o.image_readout != "spp")
    throw UsageError("image_readout: expected flat or spp, got '" + o.image_readout + "'");
  DefenseOptions defense = o.defense;
  defense.seed = o.seed;
  validate_defense_options(defense);
}

TrainOptions task_recipe() {
  TrainOptions t;
  t.epochs = 0;
  t.learning_rate = 0.0;
  t.patience = 0;
  return t;
}

TrainOptions with_task_recipe(TrainOptions train, const std::string& task) {
  const TaskInfo info = task_info(task);
  if (train.epochs == 0) train.epochs = info.epochs;
  if (train.learning_rate == 0.0) train.learning_rate = info.learning_rate;
  if (train.patience == 0) train.patience = info.patience;
  return train;
}

void validate_training(const TrainOptions& t) {
  if (t.epochs < 0) throw UsageError("train.epochs: must be positive (0: the task's recipe)");
  if (t.batch_size <= 0) throw UsageError("train.batch_size: must be positive");
  if (!(t.learning_rate >= 0) || !std::isfinite(t.learning_rate))
    throw UsageError("train.learning_rate: must be positive (0: the task's recipe)");
  if (t.patience < 0) throw UsageError("train.patience: must be positive (0: the task's recipe)");
}

TrainRun train_checkpoint(const TrainRunOptions& o) {
  validate_train_run(o);  // before any work: a typo fails fast
  TrainOptions train = with_task_recipe(o.train, o.task);
  train.seed = o.seed;
  train.device = resolve_device(o.device);
  TaskOptions task_options = o.data;
  task_options.seed = o.seed;
  DefenseOptions defense = o.defense;
  defense.seed = o.seed;
  const std::string out = o.out.empty() ? default_checkpoint_dir(o) : o.out;

  ProgressBar data_bar("data " + o.task, 1, train.quiet);
  const TaskData data = load_task(o.task, task_options);
  data_bar.finish(std::to_string(data.train.size()) + " train, " + std::to_string(data.val.size()) + " validation, " +
                  std::to_string(data.test.size()) + " test samples");

  ModelConfig config;
  config.fusion = o.fusion;
  const auto& specs = data.modalities;
  if (specs.size() == 2 && specs[0].is_image() && specs[1].is_tokens()) {
    // The two-input form, as every checkpoint before M inputs.
    config.image_channels = specs[0].channels();
    config.image_height = specs[0].height();
    config.image_width = specs[0].width();
    config.max_len = specs[1].max_len();
    config.pad_id = specs[1].pad_id;
    config.vocab_size = data.vocab.size();
  } else {
    config.inputs = specs;
    for (auto& spec : config.inputs) {
      if (spec.is_tokens() && spec.vocab_size <= 0) spec.vocab_size = data.vocab.size();
    }
  }
  config.num_classes = static_cast<int64_t>(data.classes.size());
  const TaskInfo info = task_info(o.task);
  if (o.dim > 0) config.dim = o.dim;
  config.head_hidden = o.head_hidden > 0 ? o.head_hidden : info.head_hidden;
  config.image_readout = o.image_readout.empty() ? info.image_readout : o.image_readout;

  seed_everything(o.seed);
  MultimodalNet net(config);
  for (size_t m = 0; m < specs.size(); ++m) {
    if (!specs[m].is_tabular()) continue;
    // Centred on the fill values (a decoupled feature reads as exactly 0),
    // scaled by the training split's spread.
    const auto& values = data.train.inputs.at(m);
    const auto fill = torch::tensor(specs[m].fills, torch::kDouble).to(values.dtype());
    net->set_tabular_standardisation(m, fill, (values - fill).pow(2).mean(0).sqrt());
  }
  const auto installed = install_defense(defense, net, data.modalities, train);
  const TrainResult result = train_model(net, data, train);

  BuiltinClassifier view(net, data.modalities, data.classes, o.task + "/" + o.fusion, train.device);
  const double test_accuracy = accuracy(view, data.test.inputs, data.test.labels);
  int64_t parameters = 0;
  for (const auto& p : net->parameters()) parameters += p.numel();

  TrainRun run;
  run.dir = out;
  Checkpoint& ck = run.checkpoint;
  ck.config = config;
  ck.task = o.task;
  ck.task_options = task_options;
  ck.classes = data.classes;
  ck.modalities = data.modalities;
  ck.vocab = data.vocab;
  ck.net = net;
  TrainingRecord& r = ck.training;
  r.epochs_max = train.epochs;
  r.batch_size = train.batch_size;
  r.learning_rate = train.learning_rate;
  r.patience = train.patience;
  r.seed = o.seed;
  r.device = train.device.str();
  r.best_epoch = result.best_epoch;
  r.val_accuracy = result.best_val_accuracy;
  r.test_accuracy = test_accuracy;
  r.test_samples = data.test.size();
  r.parameters = parameters;
  r.seconds = result.seconds;
  r.chance_accuracy = result.chance_accuracy;
  r.left_plateau = result.left_plateau;
  r.history = result.epochs;
  r.defense = installed->to_json();
  save_checkpoint(ck, out);
  return run;
}

}  // namespace muroan
