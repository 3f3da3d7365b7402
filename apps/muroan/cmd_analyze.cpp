// `muroan analyze`: train the fusion zoo on a task, attack every model, write a
// result folder and report.html (analysis.h).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "cli_app.h"
#include "cli_flags.h"
#include "muroan/analysis.h"
#include "muroan/progress.h"

namespace muroan::cli {

void register_analyze(CLI::App& app, Action& action) {
  auto o = std::make_shared<AnalysisOptions>();
  auto* cmd = app.add_subcommand(
      "analyze", "Train the fusion zoo on a task, attack every model, write a result folder and report.html");
  auto flags = std::make_shared<FlagBinder>(cmd);
  flags->bind("--task", "task", o->task, "Built-in task (muroan tasks)");
  flags->bind_list("--fusions", "fusions", o->fusions, "Comma-separated fusions (muroan models)");
  flags->bind_list("--defenses", "defenses", o->defenses,
                   "Comma-separated defenses to train each fusion with (none, pgd-at, ablation, decoupling-at; "
                   "their default settings, see muroan train --help)");
  flags->bind_list("--methods", "methods", o->methods, "Comma-separated attacks (see muroan attack --help)");
  flags->bind("--samples", "samples", o->samples, "Test samples attacked per model, the first N (0: all)");
  cmd->add_option("--out", o->out, "Result folder (default runs/analyze-<task>)");
  flags->bind("--epochs", "train.epochs", o->train.epochs, "Maximum training epochs (0: the task's, muroan tasks)");
  flags->bind("--batch-size", "train.batch_size", o->train.batch_size, "Training batch size");
  flags->bind("--lr", "train.learning_rate", o->train.learning_rate, "Adam learning rate (0: the task's)");
  flags->bind("--patience", "train.patience", o->train.patience, "Early stopping patience in epochs (0: the task's)");
  flags->bind("--train-size", "data.train_size", o->data.train_size, "Training samples (0: the task's default)");
  flags->bind("--val-size", "data.val_size", o->data.val_size, "Validation samples (0: default)");
  flags->bind("--test-size", "data.test_size", o->data.test_size, "Test samples (0: default)");
  flags->bind("--budget", "budget", o->budget, "Largest decoupling rate |S|/N an attack may use, in (0,1]");
  flags->bind_enum(
      "--success", "success", o->success,
      {{"auto", SuccessCriterion::kAuto}, {"flip", SuccessCriterion::kFlip}, {"fooled", SuccessCriterion::kFooled}},
      "fooled (the decision changed, the task's oracle says the truth did not), flip (any change, "
      "as the paper counts) or auto (fooled where the task has an oracle)");
  flags->bind("--garment-share", "oracle.garment_share", o->oracle.garment_share,
              "fashion-match oracle: share of the garment's pixels whose decoupling makes x_S undefined");
  flags->bind("--attack-batch-size", "attack_batch_size", o->attack_batch_size, "Rows per forward pass of the attacks");
  flags->bind("--parallel-samples", "parallel_samples", o->parallel_samples,
              "Samples whose searches advance together, their queries packed into shared forward passes (1: one at a "
              "time; 0: 64 on a GPU, 1 on a CPU)");
  flags->bind("--gallery", "gallery", o->gallery, "Successful samples per run kept for the report's gallery");
  flags->bind("--seed", "seed", o->seed, "Seed of the data, training and attacks");
  flags->bind("--device", "device", o->device, "auto, cpu or cuda");
  flags->bind("--cache-dir", "data.cache_dir", o->data.cache_dir, "Where generated task data is cached");
  cmd->add_flag("--retrain", o->retrain, "Train again even when OUT/checkpoints holds a matching checkpoint");
  cmd->add_flag("--quiet", o->quiet, "No progress bars (one line per finished step)");
  cmd->callback([&action, o, flags] {
    action = [o, flags] {
      return flags->run([&o] {
        const AnalysisResult r = run_analysis(*o);
        if (r.weakest_asr >= 0)
          std::printf("weakest: %s, %s %.1f%%; report: %s (%s)\n", r.weakest.c_str(), r.weakest_metric.c_str(),
                      100.0 * r.weakest_asr, r.report.c_str(), format_duration(r.seconds).c_str());
        else
          std::printf("report: %s (%s)\n", r.report.c_str(), format_duration(r.seconds).c_str());
        return kExitOk;
      });
    };
  });
}

}  // namespace muroan::cli
