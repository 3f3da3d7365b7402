// `muroan certify`: certification by randomized ablation (certify.h,
// docs/certification.md) of a built-in or TorchScript model over its samples.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli_app.h"
#include "cli_options.h"
#include "commands.h"
#include "muroan/certify.h"
#include "muroan/defense.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/model_source.h"

namespace muroan::cli {
namespace {

// The ablation a checkpoint was trained with (training.defense), or null.
nlohmann::json trained_ablation(const std::string& checkpoint) {
  std::ifstream in(std::filesystem::path(checkpoint) / "checkpoint.json");
  if (!in) return nullptr;
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("training") || !j["training"].is_object()) return nullptr;
  const auto& t = j["training"];
  if (!t.contains("defense") || !t["defense"].is_object() || t["defense"].value("name", "") != "ablation")
    return nullptr;
  return t["defense"];
}

}  // namespace

int run_certify(const CertifyCommand& o) {
  (void)o.source.model_path();  // exactly one of --checkpoint and --manifest, or UsageError
  CertifyOptions c;
  c.n0 = o.n0;
  c.n = o.n;
  c.alpha = o.alpha;
  c.seed = o.seed;
  c.batch_size = o.batch_size;
  c.limit = o.samples;
  c.quiet = o.quiet;
  c.out_dir = o.out.empty() ? "runs/certify" : o.out;
  std::string keep = o.keep, removal = o.text_removal;
  if (!o.source.checkpoint.empty()) {  // defaults from an ablation-trained checkpoint
    const auto ablation = trained_ablation(o.source.checkpoint);
    if (ablation.is_object()) {
      if (keep.empty() && ablation.contains("ablation_keep") && ablation["ablation_keep"].is_string())
        keep = ablation["ablation_keep"].get<std::string>();
      if (removal.empty() && ablation.contains("text_removal") && ablation["text_removal"].is_string())
        removal = ablation["text_removal"].get<std::string>();
    }
  }
  if (keep.empty())
    throw UsageError("--keep is required (points kept per modality, e.g. 45,all) unless the checkpoint was "
                     "trained with --defense ablation --ablation-keep");
  c.keep = parse_keep_list(keep, "--keep");
  c.text_removal = parse_text_removal(removal.empty() ? "delete" : removal);
  validate_certify_options(c);  // before loading anything

  const torch::Device device = resolve_device(o.source.device);
  ModelAndData md = load_model_source(o.source, device);
  expand_keep_list(c.keep, md.model->modalities().size());
  const CertifyResult r = run_certification(*md.model, md.data.inputs, md.data.labels, md.data.ids, c);
  std::printf("%s", format_certify_table(r.summary).c_str());
  std::printf("certify %s (%s): certified accuracy %.3f at radius 0, median radius %g -> %s\n",
              md.model->name().c_str(), md.data_source.c_str(), r.summary.certified_accuracy,
              r.summary.median_radius, r.summary_path.c_str());
  return kExitOk;
}

void register_certify(CLI::App& app, Action& action) {
  auto o = std::make_shared<CertifyCommand>();
  auto* cmd = app.add_subcommand("certify", "Certify a model against decoupling by randomized ablation");
  add_model_source_options(*cmd, o->source);
  cmd->add_option("--keep", o->keep,
                  "Points kept per modality, in model order (a single value: every modality; 'all': the whole "
                  "modality), e.g. 45,all; default: the checkpoint's --ablation-keep");
  cmd->add_option("--samples-n0", o->n0, "Ablated copies that select the candidate class")->capture_default_str();
  cmd->add_option("--samples-n", o->n, "Ablated copies that bound its probability")->capture_default_str();
  cmd->add_option("--alpha", o->alpha, "Each certificate fails with probability at most alpha")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the ablations (mixed with each sample's index)")->capture_default_str();
  cmd->add_option("--text-removal", o->text_removal,
                  "delete or mask (default: the checkpoint's ablation setting, else delete)");
  cmd->add_option("--batch-size", o->batch_size, "Rows per forward pass")->capture_default_str();
  cmd->add_option("--samples", o->samples, "Samples to certify, the first N (0: all)")->capture_default_str();
  cmd->add_option("--out", o->out, "Result directory (default runs/certify)");
  cmd->add_flag("--quiet", o->quiet, "No progress bar");
  cmd->callback([&action, o] { action = [o] { return run_certify(*o); }; });
}

}  // namespace muroan::cli
