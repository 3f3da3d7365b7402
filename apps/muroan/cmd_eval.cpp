// `muroan eval`: accuracy of a checkpoint on a split of its task.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli_app.h"
#include "commands.h"
#include "muroan/checkpoint.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/predict.h"

namespace muroan::cli {

int run_eval(const EvalCommand& o) {
  if (o.checkpoint.empty()) throw UsageError("--checkpoint is required");
  if (o.split != "train" && o.split != "val" && o.split != "test")
    throw UsageError("--split: expected train, val or test, got '" + o.split + "'");
  const torch::Device device = resolve_device(o.device);
  Checkpoint ck = load_checkpoint(o.checkpoint, device);
  TaskOptions task_options = ck.task_options;
  task_options.cache_dir = o.cache_dir;
  const TaskData data = load_task(ck.task, task_options);
  const Split& split = o.split == "train" ? data.train : o.split == "val" ? data.val : data.test;
  auto model = make_classifier(ck, device);
  const double acc = accuracy(*model, split.inputs, split.labels);
  std::printf("%s: %s accuracy %.4f on %lld samples\n", model->name().c_str(), o.split.c_str(), acc,
              static_cast<long long>(split.size()));
  return kExitOk;
}

void register_eval(CLI::App& app, Action& action) {
  auto opts = std::make_shared<EvalCommand>();
  auto* cmd = app.add_subcommand("eval", "Accuracy of a trained checkpoint on its task");
  cmd->add_option("--checkpoint", opts->checkpoint, "Checkpoint directory written by muroan train")->required();
  cmd->add_option("--split", opts->split, "train, val or test")->capture_default_str();
  cmd->add_option("--device", opts->device, "auto, cpu or cuda")->capture_default_str();
  cmd->add_option("--cache-dir", opts->cache_dir, "Where generated task data is cached")->capture_default_str();
  cmd->callback([&action, opts] { action = [opts] { return run_eval(*opts); }; });
}

}  // namespace muroan::cli
