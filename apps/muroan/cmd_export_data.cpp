// `muroan export-data`: a split of a built-in task in the bring-your-own-model
// data format (samples.jsonl + PNGs, DESIGN.md section 5) and task.json (inputs,
// classes, vocabulary), for training a model in Python.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli_app.h"
#include "commands.h"
#include "muroan/error.h"
#include "muroan/sample_data.h"
#include "muroan/task.h"

namespace muroan::cli {

int run_export_data(const ExportDataCommand& o) {
  if (o.out.empty()) throw UsageError("--out is required");
  if (o.split != "train" && o.split != "val" && o.split != "test")
    throw UsageError("--split: expected train, val or test, got '" + o.split + "'");
  if (o.samples < 0) throw UsageError("--samples must not be negative (0: the whole split)");

  TaskOptions options;
  options.seed = o.seed;
  options.cache_dir = o.cache_dir;
  if (o.samples > 0) {
    // Generate only what is exported: the other splits shrink to one sample.
    // A generator draws samples in order, so the first N are the same.
    options.train_size = o.split == "train" ? o.samples : 1;
    options.val_size = o.split == "val" ? o.samples : 1;
    options.test_size = o.split == "test" ? o.samples : 1;
  }
  const TaskData task = load_task(o.task, options);
  const int64_t n = export_task_split(task, o.split, o.samples, o.out);
  std::printf("%s: %lld %s samples -> %s/samples.jsonl (+ images/, task.json)\n", o.task.c_str(),
              static_cast<long long>(n), o.split.c_str(), o.out.c_str());
  return kExitOk;
}

void register_export_data(CLI::App& app, Action& action) {
  auto opts = std::make_shared<ExportDataCommand>();
  auto* cmd = app.add_subcommand("export-data",
                                 "Write a split of a built-in task as samples.jsonl + PNGs (to train your own model)");
  cmd->add_option("--task", opts->task, "Built-in task (muroan tasks)")->capture_default_str();
  cmd->add_option("--split", opts->split, "train, val or test")->capture_default_str();
  cmd->add_option("--samples", opts->samples, "Samples to write (0: the whole split)")->capture_default_str();
  cmd->add_option("--out", opts->out, "Output directory")->required();
  cmd->add_option("--seed", opts->seed, "Seed of the task's data")->capture_default_str();
  cmd->add_option("--cache-dir", opts->cache_dir, "Where generated task data is cached")->capture_default_str();
  cmd->callback([&action, opts] { action = [opts] { return run_export_data(*opts); }; });
}

}  // namespace muroan::cli
