// `muroan info`: what MUROAN understood of a TorchScript model's manifest (and,
// with --data, of its samples and the model's accuracy on them).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli_app.h"
#include "cli_options.h"
#include "commands.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/model_info.h"
#include "muroan/torchscript_oracle.h"

namespace muroan::cli {

int run_info(const InfoCommand& o) {
  if (o.manifest.empty()) throw UsageError("--manifest is required");
  if (o.batch_size <= 0) throw UsageError("--batch-size must be positive");
  const torch::Device device = resolve_device(o.device);
  auto model = load_torchscript_model(o.manifest, device);
  std::printf("%s", format_model_info(*model).c_str());  // before the data, which may fail to load
  const auto truth = load_torchscript_oracle(model->manifest(), model->modalities());
  if (o.data.empty()) {
    if (truth) std::printf("%s", format_truth_info(*truth).c_str());
    return kExitOk;
  }
  const SampleData data = load_samples(o.data, model->modalities(), model->classes(), model->manifest().fields);
  warn_truncated(data, o.data);
  std::printf("%s", format_data_info(describe_data(*model, data, o.data, o.batch_size), model->modalities()).c_str());
  if (truth) std::printf("%s", format_truth_info(*truth, &data).c_str());
  return kExitOk;
}

void register_info(CLI::App& app, Action& action) {
  auto opts = std::make_shared<InfoCommand>();
  auto* cmd = app.add_subcommand("info", "What MUROAN understood of a TorchScript model (bring your own model)");
  cmd->add_option("--manifest", opts->manifest, "manifest.json beside the exported model")->required();
  cmd->add_option("--data", opts->data, "samples.jsonl: also report the data and the model's accuracy on it");
  cmd->add_option("--device", opts->device, "auto, cpu or cuda")->capture_default_str();
  cmd->add_option("--batch-size", opts->batch_size, "Rows per forward pass")->capture_default_str();
  cmd->callback([&action, opts] { action = [opts] { return run_info(*opts); }; });
}

}  // namespace muroan::cli
