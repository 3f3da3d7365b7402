// The one-call answer to "how robust is multimodal fusion, and which fusion
// breaks first?": train (or reuse) each fusion of the zoo on a built-in task,
// attack each with each method, and write a result folder that report.h reads.
// `muroan analyze` is this call.
//
//   OUT/summary.json            format muroan-analysis/1: settings, seed, versions, timings, per run summaries
//   OUT/checkpoints/<model>/    checkpoint.json + weights.pt (reused when the settings match)
//   OUT/runs/<model>/<method>/  run.json, results.jsonl (per sample), summary.json, gallery.json
//   OUT/tables/*.csv, OUT/report.html
//
//   muroan::AnalysisOptions o;
//   o.fusions = {"concat", "xattn"};
//   o.samples = 100;
//   muroan::AnalysisResult r = muroan::run_analysis(o);  // r.report: the page's path
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "muroan/attack.h"
#include "muroan/sample_scheduler.h"
#include "muroan/task.h"
#include "muroan/task_oracle.h"
#include "muroan/train_run.h"
#include "muroan/trainer.h"

namespace muroan {

// The fusions analysed by default: one of each family of the zoo -- feature
// concatenation, a gated unit, a multiplicative (tensor) fusion and cross-modal
// attention -- all of which the default recipe trains well above chance on
// fashion-match (docs/zoo_accuracy.md). Late fusion has no interaction and
// stays at chance there.
std::vector<std::string> default_analysis_fusions();
// The attacks run by default: the black-box and white-box decoupling attacks,
// the published reference attack, and random decoupling for contrast.
std::vector<std::string> default_analysis_methods();

struct AnalysisOptions {
  std::string task = "fashion-match";
  std::vector<std::string> fusions = default_analysis_fusions();
  std::vector<std::string> methods = default_analysis_methods();
  // Each fusion is trained with each defense ("none", "pgd-at", "ablation",
  // "decoupling-at", with their default settings); a model is named "<fusion>"
  // without one and "<fusion>+<defense>" with one.
  std::vector<std::string> defenses = {"none"};
  int64_t samples = 240;  // the first N test samples per run (0: all)
  std::string out;        // default runs/analyze-<task>
  uint64_t seed = 1;      // of the data, training and attacks
  std::string device = "auto";
  // Training, as train_run.h: epochs, batch size, learning rate, patience (0:
  // the task's recipe; its seed, device and quiet are the ones here); a
  // checkpoint under OUT/checkpoints/<model> made with the same settings is reused.
  TrainOptions train = task_recipe();
  TaskOptions data;      // split sizes and cache (its seed is `seed`)
  bool retrain = false;  // train again even when a matching checkpoint exists
  // Attacks, as AttackOptions.
  double budget = 1.0;
  SuccessCriterion success = SuccessCriterion::kAuto;
  OracleOptions oracle;
  int64_t attack_batch_size = 256;
  int64_t parallel_samples = kDefaultParallelSamples;  // MeasurementOptions::parallel_samples
  int64_t gallery = 3;                                 // successful samples per run kept for the report's gallery
  bool quiet = false;                                  // no progress bars
  // One line per finished step ("[3/16] concat/greedy: fooled ASR ..."); null: stdout.
  std::function<void(const std::string&)> log;
};

// Checks every option before any work; throws UsageError "<field>: ..."
// (fusions, methods, samples, train.epochs, ...).
void validate_analysis(const AnalysisOptions& options);
// The `muroan analyze` command line that repeats this analysis (recorded in
// summary.json and shown by the report).
std::string analysis_command_line(const AnalysisOptions& options);

struct AnalysisResult {
  std::string out;      // the result folder
  std::string report;   // OUT/report.html
  std::string weakest;  // "<model> (<method>)" with the highest headline ASR; empty: no decoupling run
  double weakest_asr = -1;
  std::string weakest_metric;  // "fooled ASR" or "ASR (any flip)"
  double seconds = 0;
};
AnalysisResult run_analysis(const AnalysisOptions& options);

}  // namespace muroan
