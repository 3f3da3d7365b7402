// `muroan info`: what MUROAN understood of a TorchScript model's manifest (and,
// with --data, of its samples and the model's accuracy on them).
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>

#include "cli_app.h"
#include "cli_options.h"
#include "commands.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/predict.h"
#include "muroan/sample_data.h"
#include "muroan/tokenizer.h"
#include "muroan/torchscript_model.h"

namespace muroan::cli {
namespace {

// Class names listed in full up to this many; longer lists are cut.
constexpr size_t kMaxClassesShown = 20;

std::string classes_text(const std::vector<std::string>& classes) {
  std::string s;
  for (size_t i = 0; i < classes.size() && i < kMaxClassesShown; ++i) s += (i ? ", " : "") + classes[i];
  if (classes.size() > kMaxClassesShown) s += ", ... (" + std::to_string(classes.size() - kMaxClassesShown) + " more)";
  return s;
}

std::string vocab_text(const ModalitySpec& spec, VocabOrigin origin) {
  switch (origin) {
    case VocabOrigin::kManifest:
      return "vocab_size " + std::to_string(spec.vocab_size) + " (manifest)";
    case VocabOrigin::kProbe:
      return "vocab_size " + std::to_string(spec.vocab_size) + " (found by probing the model)";
    default:
      return "vocab_size unknown (the model accepts every id probed)";
  }
}

}  // namespace

int run_info(const InfoCommand& o) {
  if (o.manifest.empty()) throw UsageError("--manifest is required");
  if (o.batch_size <= 0) throw UsageError("--batch-size must be positive");
  const torch::Device device = resolve_device(o.device);
  auto model = load_torchscript_model(o.manifest, device);
  const auto& specs = model->modalities();

  std::printf("model: %s (TorchScript, %s)\n", model->manifest().model_path.c_str(), device.str().c_str());
  std::printf("inputs, in the order forward takes them:\n");
  int64_t max_points = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const ModalitySpec& s = specs[i];
    max_points += s.max_points();
    if (s.is_image())
      std::printf("  %zu. %s: image [%lld, %lld, %lld], fill %g; %lld points (pixels)\n", i + 1, s.name.c_str(),
                  static_cast<long long>(s.channels()), static_cast<long long>(s.height()),
                  static_cast<long long>(s.width()), s.fill, static_cast<long long>(s.max_points()));
    else
      std::printf("  %zu. %s: tokens, max_len %lld, pad_id %lld, %s; up to %lld points (non-pad tokens)\n", i + 1,
                  s.name.c_str(), static_cast<long long>(s.max_len()), static_cast<long long>(s.pad_id),
                  vocab_text(s, model->vocab_origin(i)).c_str(), static_cast<long long>(s.max_points()));
  }
  std::printf("input space: up to %lld points per sample\n", static_cast<long long>(max_points));
  std::printf("classes: %lld: %s\n", static_cast<long long>(model->num_classes()),
              classes_text(model->classes()).c_str());
  if (model->has_fusion())
    std::printf("fusion: method '%s', embedding of %lld dimensions (fusion objective and fusion shift available)\n",
                model->manifest().fusion_method.c_str(), static_cast<long long>(model->fusion_dim()));
  else
    std::printf(
        "fusion: none (the manifest names no fusion_method): the fusion objective and the fusion shift "
        "are not available for this model (the margin and targeted objectives are)\n");

  if (o.data.empty()) return kExitOk;
  const SampleData data = load_samples(o.data, specs, model->classes(), model->manifest().fields);
  warn_truncated(data, o.data);
  std::printf("data: %s: %lld samples; mean points per sample:", o.data.c_str(), static_cast<long long>(data.size()));
  double total = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    double points = static_cast<double>(specs[i].max_points());
    if (specs[i].is_tokens()) {  // words: a word's pieces are one point, special tokens none
      const auto rows = data.inputs[i].contiguous();
      int64_t words = 0;
      for (int64_t r = 0; r < rows.size(0); ++r)
        for (uint8_t role :
             token_roles(rows[r].data_ptr<int64_t>(), rows.size(1), specs[i].pad_id, specs[i].tokenizer.get()))
          words += role == static_cast<uint8_t>(TokenRole::kWordStart) ? 1 : 0;
      points = static_cast<double>(words) / static_cast<double>(data.size());
    }
    total += points;
    std::printf(" %s %.1f,", specs[i].name.c_str(), points);
  }
  std::printf(" %.1f in all\n", total);
  const double acc = accuracy(*model, data.inputs, data.labels, o.batch_size);
  std::printf("accuracy: %.4f (%lld of %lld)\n", acc, static_cast<long long>(std::llround(acc * data.size())),
              static_cast<long long>(data.size()));
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
