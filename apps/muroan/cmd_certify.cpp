// `muroan certify`: certification by randomized ablation (certify.h,
// docs/certification.md) of a built-in or TorchScript model over its samples.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

#include "cli_app.h"
#include "cli_flags.h"
#include "cli_options.h"
#include "commands.h"
#include "muroan/certify.h"
#include "muroan/checkpoint.h"
#include "muroan/defense.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/model_source.h"

namespace muroan::cli {

int run_certify(const CertifyCommand& o) {
  (void)o.source.model_path();  // exactly one of --checkpoint and --manifest, or UsageError
  CertifyOptions c = o.certify;
  c.limit = o.samples;
  if (c.out_dir.empty()) c.out_dir = "runs/certify";
  std::string keep = o.keep, removal = o.text_removal;
  if (!o.source.checkpoint.empty()) {  // defaults from an ablation-trained checkpoint
    const TrainingRecord trained = read_training_record(o.source.checkpoint);
    if (trained.defense_name() == "ablation") {
      const auto& d = trained.defense;
      if (keep.empty() && d.contains("ablation_keep") && d["ablation_keep"].is_string())
        keep = d["ablation_keep"].get<std::string>();
      if (removal.empty() && d.contains("text_removal") && d["text_removal"].is_string())
        removal = d["text_removal"].get<std::string>();
    }
  }
  if (keep.empty())
    throw UsageError(
        "--keep is required (points kept per modality, e.g. 45,all) unless the checkpoint was "
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
              md.model->name().c_str(), md.data_source.c_str(), r.summary.certified_accuracy, r.summary.median_radius,
              r.summary_path.c_str());
  return kExitOk;
}

void register_certify(CLI::App& app, Action& action) {
  auto o = std::make_shared<CertifyCommand>();
  auto* cmd = app.add_subcommand("certify", "Certify a model against decoupling by randomized ablation");
  auto flags = std::make_shared<FlagBinder>(cmd);
  auto& c = o->certify;
  add_model_source_options(*flags, o->source);
  cmd->add_option("--keep", o->keep,
                  "Points kept per modality, in model order (a single value: every modality; 'all': the whole "
                  "modality), e.g. 45,all; default: the checkpoint's --ablation-keep");
  flags->bind("--samples-n0", "n0", c.n0, "Ablated copies that select the candidate class");
  flags->bind("--samples-n", "n", c.n, "Ablated copies that bound its probability");
  flags->bind("--alpha", "alpha", c.alpha, "Each certificate fails with probability at most alpha");
  flags->name("keep", "--keep");
  flags->name("limit", "--samples");
  flags->bind("--seed", "seed", c.seed, "Seed of the ablations (mixed with each sample's index)");
  cmd->add_option("--text-removal", o->text_removal,
                  "delete or mask (default: the checkpoint's ablation setting, else delete)");
  flags->bind("--batch-size", "batch_size", c.batch_size, "Rows per forward pass");
  cmd->add_option("--samples", o->samples, "Samples to certify, the first N (0: all)")->capture_default_str();
  cmd->add_option("--out", c.out_dir, "Result directory (default runs/certify)");
  cmd->add_flag("--quiet", c.quiet, "No progress bar");
  cmd->callback([&action, o, flags] { action = [o, flags] { return flags->run([&o] { return run_certify(*o); }); }; });
}

}  // namespace muroan::cli
