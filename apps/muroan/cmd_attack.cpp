// `muroan attack`: measure one attack on a model over a set of samples.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli_app.h"
#include "cli_flags.h"
#include "cli_options.h"
#include "cli_truth.h"
#include "commands.h"
#include "muroan/attack.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/measurement.h"
#include "muroan/model_source.h"
#include "muroan/names.h"

namespace muroan::cli {

int run_attack(const AttackCommand& o) {
  (void)o.source.model_path();  // exactly one of --checkpoint and --manifest, or UsageError
  if (o.samples < 0) throw UsageError("--samples must be >= 0");
  AttackOptions a = o.attack;
  validate_attack_options(a);  // before loading anything: a typo fails fast
  const ShardPosition shard = resolve_shard(o.shard);

  const torch::Device device = resolve_device(o.source.device);
  ModelAndData md = load_model_source(o.source, device);
  a.modalities = resolve_modality_names(split_list(o.modalities), md.model->modalities());
  a.protected_tokens = resolve_protected_tokens(o.protect_words, o.protect_tokens, md);
  validate_attack_options(a, *md.model);
  const auto oracle = oracle_for(md, o.oracle.garment_share);
  if (a.success == SuccessCriterion::kFooled && !oracle)
    throw UsageError("--success fooled: " + md.model->name() +
                     " has no oracle for the ground truth of decoupled inputs (only the built-in tasks "
                     "have one); use --success flip and protect the words that decide the label "
                     "(--protect-words)");

  MeasurementOptions m = o.measure;
  if (m.out_dir.empty()) m.out_dir = "runs/attack-" + a.method;
  m.limit = o.samples;
  m.batch = a.batch_size;
  m.quiet = o.measure.quiet || shard.index > 0;  // one progress bar per mpirun, not N
  m.shard_index = shard.index;
  m.shard_count = shard.count;
  m.oracle = oracle.get();
  m.model_fingerprint = file_fingerprint(md.model_files);
  m.attack_labels = resolve_labels(o.attack_labels, md.model->classes());
  const MeasurementResult r =
      run_measurement(*md.model, md.data.inputs, md.data.labels, md.data.ids, md.data.texts, a, m);
  if (r.resumed > 0)
    std::printf("resumed %lld finished records from %s\n", static_cast<long long>(r.resumed), r.jsonl_path.c_str());
  MeasurementSummary summary = r.summary;
  std::string summary_path = r.summary_path;
  if (shard.count > 1) {
    const auto merged = merge_shards(m.out_dir, shard.count, "shard-" + std::to_string(shard.index));
    if (!merged) {
      std::printf(
          "shard %lld of %lld done (%s); the last shard to finish merges the results "
          "(or run: muroan merge %s)\n",
          static_cast<long long>(shard.index), static_cast<long long>(shard.count), r.summary_path.c_str(),
          m.out_dir.c_str());
      return kExitOk;
    }
    summary = *merged;
    summary_path = m.out_dir + "/summary.json";
    std::printf("shard %lld of %lld finished last: merged %lld shards\n", static_cast<long long>(shard.index),
                static_cast<long long>(shard.count), static_cast<long long>(shard.count));
  }
  if (!o.measure.quiet) std::printf("%s", format_summary_table(summary).c_str());
  const Interval ci = summary.headline_ci();
  std::printf("%s on %s (%s): %s %.1f%% [95%% CI %.1f-%.1f%%] over %lld attacked samples -> %s\n", a.method.c_str(),
              md.model->name().c_str(), md.data_source.c_str(), summary.headline_name(), 100.0 * summary.headline_asr(),
              100.0 * ci.low, 100.0 * ci.high, static_cast<long long>(summary.attacked), summary_path.c_str());
  for (const auto& w : summary.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  return kExitOk;
}

void register_attack(CLI::App& app, Action& action) {
  auto o = std::make_shared<AttackCommand>();
  auto* cmd = app.add_subcommand("attack", "Measure a decoupling attack (or a baseline) on a model");
  auto flags = std::make_shared<FlagBinder>(cmd);
  auto& a = o->attack;
  auto& m = o->measure;
  add_model_source_options(*cmd, o->source);
  std::vector<std::string> methods;
  for (const auto& info : attack_catalog()) methods.push_back(info.name);
  flags->bind("--method", "method", a.method, join_names(methods));
  flags->bind_enum("--objective", "objective", a.objective,
                   {{"margin", Objective::kMargin}, {"fusion", Objective::kFusion}, {"targeted", Objective::kTargeted}},
                   "margin, fusion (1 - cos of the fusion embedding) or targeted");
  flags->bind("--target", "target", a.target, "Target class index of --objective targeted");
  flags->bind_enum(
      "--success", "success", a.success,
      {{"auto", SuccessCriterion::kAuto}, {"flip", SuccessCriterion::kFlip}, {"fooled", SuccessCriterion::kFooled}},
      "What counts as a success: fooled (the decision changed and the task's oracle says the "
      "truth of x_S did not), flip (any decision change, as the paper counts), or auto "
      "(fooled where the task has an oracle, else flip)");
  cmd->add_option("--protect-words", o->protect_words,
                  "Words no attack may decouple, e.g. not,no,never (needs the model's vocabulary)");
  cmd->add_option("--protect-tokens", o->protect_tokens, "Token ids no attack may decouple, e.g. 5,9");
  cmd->add_option("--attack-labels", o->attack_labels,
                  "Attack only samples of these labels (class names or indices; default: every correctly "
                  "classified sample)");
  flags->bind("--garment-share", "oracle.garment_share", o->oracle.garment_share,
              "fashion-match oracle: share of the garment's pixels whose decoupling makes x_S undefined");
  flags->bind("--budget", "budget", a.budget, "Largest decoupling rate |S|/N allowed, in (0,1]");
  flags->name("modalities", "--modalities");
  flags->name("shard", "--shard");
  cmd->add_option("--modalities", o->modalities, "Modalities the attack may touch, e.g. image,text (default all)");
  flags->bind("--max-queries", "max_queries", a.max_queries, "Forward rows per sample (0: unlimited)");
  flags->bind("--seed", "seed", a.seed, "Seed of random choices");
  flags->bind_enum(
      "--granularity", "granularity", a.granularity,
      {{"pixel", Granularity::kPixel}, {"patch", Granularity::kPatch}, {"quadtree", Granularity::kQuadtree}},
      "Image candidates: pixel, patch or quadtree");
  flags->bind("--patch", "patch", a.patch, "Patch side in pixels (smallest quadtree cell)");
  flags->bind("--top-k", "top_k", a.top_k, "saliency: candidates re-ranked exactly per step");
  flags->bind("--max-size", "max_size", a.max_size, "exact: elements per set at most (1-4)");
  flags->bind_enum("--text-removal", "text_removal", a.text_removal,
                   {{"delete", TextRemoval::kDelete}, {"mask", TextRemoval::kMask}},
                   "delete (shift left) or mask (pad id)");
  flags->bind("--batch-size", "batch_size", a.batch_size, "Rows per forward pass");
  cmd->add_flag("!--no-encoder-sharing", a.share_encodings,
                "Encode every row in full, also modalities a candidate leaves clean (for comparison)");
  cmd->add_option("--shard", o->shard,
                  "Attack only samples i, i+N, ... (i/N); under mpirun the rank and size are used");
  flags->bind("--eps", "eps", a.eps, "pgd: L-infinity radius");
  flags->bind("--step-size", "step_size", a.step_size, "pgd: step size");
  flags->bind("--steps", "steps", a.steps, "pgd: steps");
  cmd->add_option("--samples", o->samples, "Samples to attack, the first N (0: all)")->capture_default_str();
  cmd->add_option("--out", m.out_dir, "Result directory (default runs/attack-<method>)");
  cmd->add_flag("!--no-resume", m.resume, "Start over instead of resuming results.jsonl");
  cmd->add_flag("--quiet", m.quiet, "No progress bar and no table");
  cmd->add_flag("!--no-timing", m.record_seconds,
                "Write 0 seconds in every record: the same command and seed give byte-identical files");
  cmd->add_flag("--allow-nondeterministic", m.allow_nondeterministic,
                "Measure a model whose clean predictions differ between queries, leaving such samples "
                "unattacked (the summary warns)");
  cmd->callback([&action, o, flags] { action = [o, flags] { return flags->run([&o] { return run_attack(*o); }); }; });
}

}  // namespace muroan::cli
