// `muroan train`: train one built-in model on one built-in task.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "cli_app.h"
#include "commands.h"
#include "muroan/checkpoint.h"
#include "muroan/defense.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/fusion.h"
#include "muroan/predict.h"
#include "muroan/progress.h"
#include "muroan/trainer.h"

namespace muroan::cli {
namespace {

void validate_fusion(const std::string& name) {
  for (const auto& f : fusion_catalog())
    if (f.name == name) return;
  std::string known;
  for (const auto& f : fusion_catalog()) known += (known.empty() ? "" : ", ") + f.name;
  throw UsageError("--fusion: unknown fusion '" + name + "' (known: " + known + ")");
}

void validate_task(const std::string& name) {
  for (const auto& t : task_catalog())
    if (t.name == name) return;
  std::string known;
  for (const auto& t : task_catalog()) known += (known.empty() ? "" : ", ") + t.name;
  throw UsageError("--task: unknown task '" + name + "' (known: " + known + ")");
}

DefenseOptions defense_options(const TrainCommand& o) {
  DefenseOptions d;
  d.kind = parse_defense(o.defense);
  d.fraction = o.defense_fraction;
  d.seed = o.seed;
  d.text_removal = parse_text_removal(o.text_removal);
  d.eps = o.defense_eps;
  d.text_eps = o.defense_text_eps;
  d.steps = o.defense_steps;
  d.step_size = o.defense_step_size;
  d.ablation_rate = o.ablation_rate;
  if (!o.ablation_keep.empty()) d.ablation_keep = parse_keep_list(o.ablation_keep, "--ablation-keep");
  d.patch = o.defense_patch;
  d.elements_per_step = o.defense_elements;
  validate_defense_options(d);
  return d;
}

}  // namespace

int run_train(const TrainCommand& o) {
  validate_task(o.task);
  validate_fusion(o.fusion);
  if (o.epochs <= 0) throw UsageError("--epochs must be positive");
  if (o.batch_size <= 0) throw UsageError("--batch-size must be positive");
  if (o.dim < 0 || o.head_hidden < 0) throw UsageError("--dim and --head-hidden must not be negative");
  if (!(o.learning_rate > 0)) throw UsageError("--lr must be positive");
  const DefenseOptions defense = defense_options(o);  // before any work: a typo fails fast
  const torch::Device device = resolve_device(o.device);
  const std::string out = o.out.empty() ? "runs/" + o.task + "-" + o.fusion + "-s" + std::to_string(o.seed) : o.out;

  TaskOptions task_options;
  task_options.seed = o.seed;
  task_options.train_size = o.train_size;
  task_options.val_size = o.val_size;
  task_options.test_size = o.test_size;
  task_options.cache_dir = o.cache_dir;
  ProgressBar data_bar("data " + o.task, 1, o.quiet);
  const TaskData data = load_task(o.task, task_options);
  data_bar.finish(std::to_string(data.train.size()) + " train, " + std::to_string(data.val.size()) +
                  " validation, " + std::to_string(data.test.size()) + " test samples");

  ModelConfig config;
  config.fusion = o.fusion;
  const auto& image = data.modalities.at(0);
  const auto& tokens = data.modalities.at(1);
  config.image_channels = image.channels();
  config.image_height = image.height();
  config.image_width = image.width();
  config.max_len = tokens.max_len();
  config.pad_id = tokens.pad_id;
  config.vocab_size = data.vocab.size();
  config.num_classes = static_cast<int64_t>(data.classes.size());
  if (o.dim > 0) config.dim = o.dim;
  if (o.head_hidden > 0) config.head_hidden = o.head_hidden;

  TrainOptions train_options;
  train_options.epochs = o.epochs;
  train_options.batch_size = o.batch_size;
  train_options.learning_rate = o.learning_rate;
  train_options.patience = o.patience;
  train_options.seed = o.seed;
  train_options.device = device;
  train_options.quiet = o.quiet;

  seed_everything(o.seed);
  MultimodalNet net(config);
  const auto installed = install_defense(defense, net, data.modalities, train_options);
  const TrainResult result = train_model(net, data, train_options);

  BuiltinClassifier view(net, data.modalities, data.classes, o.task + "/" + o.fusion, device);
  const double test_acc = accuracy(view, data.test.inputs, data.test.labels);

  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : result.epochs)
    epochs.push_back({{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"train_accuracy", e.train_accuracy},
                      {"val_accuracy", e.val_accuracy}, {"seconds", e.seconds}});
  int64_t params = 0;
  for (const auto& p : net->parameters()) params += p.numel();

  Checkpoint ck;
  ck.config = config;
  ck.task = o.task;
  ck.task_options = task_options;
  ck.classes = data.classes;
  ck.modalities = data.modalities;
  ck.vocab = data.vocab;
  ck.net = net;
  ck.training = {{"epochs_max", o.epochs},    {"batch_size", o.batch_size},
                 {"learning_rate", o.learning_rate}, {"patience", o.patience},
                 {"seed", o.seed},            {"device", device.str()},
                 {"best_epoch", result.best_epoch},   {"val_accuracy", result.best_val_accuracy},
                 {"test_accuracy", test_acc}, {"test_samples", data.test.size()},
                 {"parameters", params},      {"seconds", result.seconds},
                 {"chance_accuracy", result.chance_accuracy}, {"left_plateau", result.left_plateau},
                 {"history", epochs},         {"defense", installed->to_json()}};
  save_checkpoint(ck, out);
  std::printf("%s/%s: test accuracy %.4f on %lld samples (best epoch %lld, val %.4f, %s, %lld parameters) -> %s\n",
              o.task.c_str(), o.fusion.c_str(), test_acc, static_cast<long long>(data.test.size()),
              static_cast<long long>(result.best_epoch), result.best_val_accuracy,
              format_duration(result.seconds).c_str(), static_cast<long long>(params), out.c_str());
  if (defense.kind != DefenseKind::kNone)
    std::printf("defense %s: %s\n", defense_name(defense.kind), ck.training["defense"]["stats"].dump().c_str());
  return kExitOk;
}

void register_train(CLI::App& app, Action& action) {
  auto opts = std::make_shared<TrainCommand>();
  auto* cmd = app.add_subcommand("train", "Train a built-in model on a built-in task");
  cmd->add_option("--task", opts->task, "Built-in task (muroan tasks)")->capture_default_str();
  cmd->add_option("--fusion", opts->fusion, "Fusion of the model zoo (muroan models)")->capture_default_str();
  cmd->add_option("--epochs", opts->epochs, "Maximum number of epochs")->capture_default_str();
  cmd->add_option("--batch-size", opts->batch_size, "Training batch size")->capture_default_str();
  cmd->add_option("--lr", opts->learning_rate, "Adam learning rate")->capture_default_str();
  cmd->add_option("--patience", opts->patience, "Early stopping: epochs without a better validation accuracy")
      ->capture_default_str();
  cmd->add_option("--seed", opts->seed, "Seed of the data, initialisation and shuffling")->capture_default_str();
  cmd->add_option("--device", opts->device, "auto, cpu or cuda")->capture_default_str();
  cmd->add_option("--out", opts->out, "Checkpoint directory (default runs/<task>-<fusion>-s<seed>)");
  cmd->add_option("--train-size", opts->train_size, "Training samples (0: the task's default)")->capture_default_str();
  cmd->add_option("--val-size", opts->val_size, "Validation samples (0: default)")->capture_default_str();
  cmd->add_option("--test-size", opts->test_size, "Test samples (0: default)")->capture_default_str();
  cmd->add_option("--dim", opts->dim, "Width of the encoders' outputs (0: the default, 64)")->capture_default_str();
  cmd->add_option("--head-hidden", opts->head_hidden, "Hidden width of the classifier head (0: the default, 64)")
      ->capture_default_str();
  cmd->add_option("--cache-dir", opts->cache_dir, "Where generated task data is cached")->capture_default_str();
  cmd->add_flag("--quiet", opts->quiet, "No progress bars");
  cmd->add_option("--defense", opts->defense, "none, pgd-at, ablation or decoupling-at (docs/defenses.md)")
      ->capture_default_str();
  cmd->add_option("--defense-fraction", opts->defense_fraction, "Share of each batch replaced by defended examples")
      ->capture_default_str();
  cmd->add_option("--defense-eps", opts->defense_eps, "pgd-at: image L-infinity radius")->capture_default_str();
  cmd->add_option("--defense-text-eps", opts->defense_text_eps, "pgd-at: token-embedding L-infinity radius (0: image only)")
      ->capture_default_str();
  cmd->add_option("--defense-steps", opts->defense_steps, "pgd-at: PGD steps; decoupling-at: saliency steps")
      ->capture_default_str();
  cmd->add_option("--defense-step-size", opts->defense_step_size, "pgd-at: image step (0: 2.5 * eps / steps)")
      ->capture_default_str();
  cmd->add_option("--ablation-rate", opts->ablation_rate, "ablation: share of each modality's points decoupled")
      ->capture_default_str();
  cmd->add_option("--ablation-keep", opts->ablation_keep,
                  "ablation: points kept per modality instead of a rate, e.g. 45,all (match muroan certify --keep)");
  cmd->add_option("--defense-patch", opts->defense_patch, "decoupling-at: side of the image elements (1: pixels)")
      ->capture_default_str();
  cmd->add_option("--defense-elements", opts->defense_elements, "decoupling-at: elements decoupled per step")
      ->capture_default_str();
  cmd->add_option("--text-removal", opts->text_removal, "ablation, decoupling-at: delete (shift left) or mask (pad id)")
      ->capture_default_str();
  cmd->callback([&action, opts] { action = [opts] { return run_train(*opts); }; });
}

}  // namespace muroan::cli
