// `muroan attack`: measure one attack on a model over a set of samples.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "cli_app.h"
#include "cli_flags.h"
#include "cli_options.h"
#include "commands.h"
#include "muroan/attack.h"
#include "muroan/attack_run.h"

namespace muroan::cli {

namespace fs = std::filesystem;

int run_attack(const AttackRunOptions& o) {
  AttackRunOptions run_options = o;
  run_options.warn = [](const std::string& w) { std::fprintf(stderr, "warning: %s\n", w.c_str()); };
  const AttackRun run = run_attack_measurement(run_options);
  const long long shard = run.shard.index, shards = run.shard.count;
  if (run.result.resumed > 0)
    std::printf("resumed %lld finished records from %s\n", static_cast<long long>(run.result.resumed),
                run.result.jsonl_path.c_str());
  if (!run.complete) {
    const std::string dir = fs::path(run.result.summary_path).parent_path().string();
    std::printf("shard %lld of %lld done (%s); the last shard to finish merges the results (or run: muroan merge %s)\n",
                shard, shards, run.result.summary_path.c_str(), dir.c_str());
    return kExitOk;
  }
  if (shards > 1) std::printf("shard %lld of %lld finished last: merged %lld shards\n", shard, shards, shards);
  const MeasurementSummary& summary = run.summary;
  if (!o.measure.quiet) std::printf("%s", format_summary_table(summary).c_str());
  const Interval ci = summary.headline_ci();
  std::printf("%s on %s (%s): %s %.1f%% [95%% CI %.1f-%.1f%%] over %lld attacked samples -> %s\n",
              o.attack.method.c_str(), run.model_name.c_str(), run.data_source.c_str(), summary.headline_name(),
              100.0 * summary.headline_asr(), 100.0 * ci.low, 100.0 * ci.high, static_cast<long long>(summary.attacked),
              run.summary_path.c_str());
  for (const auto& w : summary.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  return kExitOk;
}

void register_attack(CLI::App& app, Action& action) {
  auto o = std::make_shared<AttackRunOptions>();
  auto* cmd = app.add_subcommand("attack", "Measure a decoupling attack (or a baseline) on a model");
  auto flags = std::make_shared<FlagBinder>(cmd);
  auto& a = o->attack;
  auto& m = o->measure;
  m.parallel_samples = kDefaultParallelSamples;
  add_model_source_options(*flags, o->source);
  bind_attack_options(*flags, a);
  flags->bind_list("--protect-words", "protect_words", o->protect_words,
                   "Words no attack may decouple, e.g. not,no,never (needs the model's vocabulary)");
  flags->bind("--protect-tokens", "protect_tokens", o->protect_tokens, "Token ids no attack may decouple, e.g. 5,9")
      ->delimiter(',');
  flags->bind_list("--attack-labels", "attack_labels", o->attack_labels,
                   "Attack only samples of these labels (class names or indices; default: every correctly "
                   "classified sample)");
  flags->bind("--garment-share", "oracle.garment_share", o->oracle.garment_share,
              "fashion-match oracle: share of the garment's pixels whose decoupling makes x_S undefined");
  flags->bind_list("--modalities", "modalities", o->modalities,
                   "Modalities the attack may touch, e.g. image,text (default all)");
  flags->bind("--shard", "shard", o->shard,
              "Attack only samples i, i+N, ... (i/N); under mpirun the rank and size are used");
  flags->bind("--samples", "samples", o->samples, "Samples to attack, the first N (0: all)");
  flags->bind("--parallel-samples", "parallel_samples", m.parallel_samples,
              "Samples whose searches advance together, their queries packed into shared forward passes (1: one at a "
              "time; 0: 64 on a GPU, 1 on a CPU)");
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
