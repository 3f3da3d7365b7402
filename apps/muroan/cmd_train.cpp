// `muroan train`: train one built-in model on one built-in task (train_run.h).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "cli_app.h"
#include "cli_flags.h"
#include "muroan/progress.h"
#include "muroan/train_run.h"

namespace muroan::cli {
namespace {

struct TrainCommand {
  TrainRunOptions options;
  std::string ablation_keep;  // "45,all": points kept per modality, instead of the rate
};

int run_train(TrainCommand& c) {
  if (!c.ablation_keep.empty()) c.options.defense.ablation_keep = parse_keep_list(c.ablation_keep, "--ablation-keep");
  const TrainRun run = train_checkpoint(c.options);
  const auto& r = run.checkpoint.training;
  std::printf("%s/%s: test accuracy %.4f on %lld samples (best epoch %lld, val %.4f, %s, %lld parameters) -> %s\n",
              c.options.task.c_str(), c.options.fusion.c_str(), r.test_accuracy, static_cast<long long>(r.test_samples),
              static_cast<long long>(r.best_epoch), r.val_accuracy, format_duration(r.seconds).c_str(),
              static_cast<long long>(r.parameters), run.dir.c_str());
  if (c.options.defense.kind != DefenseKind::kNone)
    std::printf("defense %s: %s\n", defense_name(c.options.defense.kind), r.defense["stats"].dump().c_str());
  return kExitOk;
}

}  // namespace

void register_train(CLI::App& app, Action& action) {
  auto c = std::make_shared<TrainCommand>();
  auto* cmd = app.add_subcommand("train", "Train a built-in model on a built-in task");
  auto flags = std::make_shared<FlagBinder>(cmd);
  auto& o = c->options;
  auto& d = o.defense;
  flags->bind("--task", "task", o.task, "Built-in task (muroan tasks)");
  flags->bind("--fusion", "fusion", o.fusion, "Fusion of the model zoo (muroan models)");
  flags->bind("--epochs", "train.epochs", o.train.epochs, "Maximum number of epochs (0: the task's, muroan tasks)");
  flags->bind("--batch-size", "train.batch_size", o.train.batch_size, "Training batch size");
  flags->bind("--lr", "train.learning_rate", o.train.learning_rate, "Adam learning rate (0: the task's)");
  flags->bind("--patience", "train.patience", o.train.patience,
              "Early stopping: epochs without a better validation accuracy (0: the task's)");
  flags->bind("--seed", "seed", o.seed, "Seed of the data, initialisation and shuffling");
  flags->bind("--device", "device", o.device, "auto, cpu or cuda");
  cmd->add_option("--out", o.out, "Checkpoint directory (default runs/<task>-<fusion>-s<seed>)");
  flags->bind("--train-size", "data.train_size", o.data.train_size, "Training samples (0: the task's default)");
  flags->bind("--val-size", "data.val_size", o.data.val_size, "Validation samples (0: default)");
  flags->bind("--test-size", "data.test_size", o.data.test_size, "Test samples (0: default)");
  flags->bind("--dim", "dim", o.dim, "Width of the encoders' outputs (0: the default, 64)");
  flags->bind("--head-hidden", "head_hidden", o.head_hidden,
              "Hidden width of the classifier head (0: the task's, muroan tasks)");
  flags->bind("--image-readout", "image_readout", o.image_readout,
              "Image encoder readout: flat (projection of the grid) or spp (pyramid of maxima; empty: the task's)");
  flags->bind("--cache-dir", "data.cache_dir", o.data.cache_dir, "Where generated task data is cached");
  cmd->add_flag("--quiet", o.train.quiet, "No progress bars");
  flags->bind_enum("--defense", "defense.kind", d.kind,
                   {{"none", DefenseKind::kNone},
                    {"pgd-at", DefenseKind::kPgdAt},
                    {"ablation", DefenseKind::kAblation},
                    {"decoupling-at", DefenseKind::kDecouplingAt}},
                   "none, pgd-at, ablation or decoupling-at (docs/defenses.md)");
  flags->bind("--defense-fraction", "defense.fraction", d.fraction,
              "Share of each batch replaced by defended examples");
  flags->bind("--defense-eps", "defense.eps", d.eps, "pgd-at: image L-infinity radius");
  flags->bind("--defense-text-eps", "defense.text_eps", d.text_eps,
              "pgd-at: token-embedding L-infinity radius (0: image only)");
  flags->bind("--defense-steps", "defense.steps", d.steps, "pgd-at: PGD steps; decoupling-at: saliency steps");
  flags->bind("--defense-step-size", "defense.step_size", d.step_size, "pgd-at: image step (0: 2.5 * eps / steps)");
  flags->bind("--ablation-rate", "defense.ablation_rate", d.ablation_rate,
              "ablation: share of each modality's points decoupled");
  cmd->add_option("--ablation-keep", c->ablation_keep,
                  "ablation: points kept per modality instead of a rate, e.g. 45,all (match muroan certify --keep)");
  flags->bind("--defense-patch", "defense.patch", d.patch, "decoupling-at: side of the image elements (1: pixels)");
  flags->bind("--defense-elements", "defense.elements_per_step", d.elements_per_step,
              "decoupling-at: elements decoupled per step");
  flags->bind_enum("--text-removal", "defense.text_removal", d.text_removal,
                   {{"delete", TextRemoval::kDelete}, {"mask", TextRemoval::kMask}},
                   "ablation, decoupling-at: delete (shift left) or mask (pad id)");
  cmd->callback([&action, c, flags] { action = [c, flags] { return flags->run([&c] { return run_train(*c); }); }; });
}

}  // namespace muroan::cli
