// Measurement (DESIGN.md sections 4 and 7): one attack over a set of samples,
// per-sample JSONL appended as results are produced (resumable), a versioned
// summary computed from those records, and replay of a record.
//
//   muroan::AttackOptions attack;  attack.method = "greedy";
//   muroan::MeasurementOptions opts; opts.out_dir = "runs/gmu-greedy";
//   muroan::MeasurementResult r = muroan::run_measurement(
//       model, split.inputs, split.labels, split.ids, split.texts, attack, opts);
//   std::cout << muroan::format_summary_table(r.summary);
//
// Files in out_dir:
//   run.json       what produced the results (model, options, shard); checked on resume
//   results.jsonl  one record per sample, in sample order (see record_to_json)
//   summary.json   "format": "muroan-summary/1" (see summary_to_json)
// With shard_count > 1 the names carry ".shard-<i>-of-<n>" before the extension.
#pragma once

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "muroan/attack.h"
#include "muroan/classifier.h"
#include "muroan/decoupling.h"
#include "muroan/inputs.h"
#include "muroan/oracle.h"
#include "muroan/sample_scheduler.h"

namespace muroan {

constexpr const char* kSummaryFormat = "muroan-summary/2";
constexpr const char* kRunFormat = "muroan-run/1";
constexpr const char* kNondeterministicNote =
    "not attacked: the model's clean prediction differed between two queries (nondeterministic or "
    "batch-dependent model)";

struct MeasurementOptions {
  std::string out_dir;  // where the files go; empty: nothing is written
  int64_t limit = 0;    // the first `limit` samples; 0: all
  int64_t batch = 256;  // rows per forward pass of the clean pass
  // Samples whose searches advance together, their queries packed into shared
  // forward passes of up to AttackOptions::batch_size rows (sample_scheduler.h).
  // 1: one sample after the other; 0: the device's choice (parallel_samples_for).
  // Results do not depend on it beyond the last bits of floating-point sums.
  // Above 1 the model is called from several threads at once: the built-in and
  // TorchScript models allow it (the CLI's default is 0); a Classifier of your
  // own must too.
  int64_t parallel_samples = 1;
  bool quiet = false;  // no progress bar
  bool resume = true;  // continue results.jsonl made with the same run.json; else start over
  // With resume: results that cannot be resumed (another run.json, more records
  // than samples to attack now, an unreadable file) are started over instead
  // of refused with UsageError. What analyze does with its own folders.
  bool restart_on_mismatch = false;
  bool record_seconds = true;  // false writes 0 seconds, for byte-identical files
  // A model whose clean prediction of a sample differs between the batched
  // clean pass and the attack's own query is nondeterministic or depends on the
  // rest of the batch: an error, unless this is set; then such samples are
  // recorded unattacked with kNondeterministicNote and the summary warns.
  bool allow_nondeterministic = false;
  // A fingerprint of the model's files (file_fingerprint in files.h), stored in
  // run.json: resuming with another model at the same path is refused. Empty:
  // not checked. The data's fingerprint is computed from the samples themselves.
  std::string model_fingerprint;
  std::string model_name;   // default: model.name()
  int64_t shard_index = 0;  // this process takes samples i with i % shard_count == shard_index
  int64_t shard_count = 1;
  // The task's ground truth of decoupled inputs (task_oracle.h); not owned, may
  // be null (then only decision changes are measured). With it, every decision
  // change is classified, and the auto / fooled criterion searches for fooled sets.
  const TruthOracle* oracle = nullptr;
  // Attack only samples whose label is in this list (empty: every correctly
  // classified sample); the others are recorded with attacked = false.
  std::vector<int64_t> attack_labels;
};

// One line of results.jsonl.
struct SampleRecord {
  int64_t index = 0;  // position in the sample list
  std::string id;
  std::string text;  // for people; omitted when empty
  int64_t label = -1;
  int64_t clean_prediction = -1;
  double clean_confidence = 0.0;
  bool correct = false;                                  // clean_prediction == label
  bool attacked = false;                                 // only correctly classified samples are attacked
  bool success = false;                                  // by the run's criterion (flip or fooled)
  bool flipped = false;                                  // the decision changed (the paper's success)
  SuccessCriterion criterion = SuccessCriterion::kFlip;  // flip or fooled
  std::optional<SuccessClass> success_class;             // nullopt: no oracle judged this sample
  std::optional<int64_t> truth_label;                    // the oracle's label of x_S; nullopt: undefined / none
  std::string truth_reason;
  bool decoupling = true;  // false for pgd
  int64_t adversarial_prediction = -1;
  double adversarial_confidence = 0.0;
  std::vector<std::string> modality_names;  // in model order
  std::vector<ModalityKind> modality_kinds;
  std::vector<int64_t> points;        // decoupled (union) per modality
  std::vector<int64_t> input_points;  // N_m per modality
  int64_t decoupled_points = 0;
  int64_t total_points = 0;
  std::optional<double> decoupling_rate;  // |S|/N; absent for pgd and unattacked samples
  DecouplingSet set;
  TextRemoval text_removal = TextRemoval::kDelete;
  std::optional<double> fusion_shift;
  std::optional<double> linf;
  int64_t forward_passes = 0;
  int64_t backward_passes = 0;
  double seconds = 0.0;
  std::string note;
};

// A record from an attack result (attacked = true).
SampleRecord make_record(int64_t index, const std::string& id, const std::string& text, int64_t label,
                         const AttackResult& result, const std::vector<ModalitySpec>& specs);

// The JSONL object of a record, keys in this order:
//   id, index, label, text?, clean_prediction, clean_confidence, correct, attacked,
//   success, flipped, criterion, success_class (null without an oracle; "none"
//   when the decision did not change), truth_label (null: undefined or no
//   oracle), truth_reason?, adversarial_prediction, adversarial_confidence,
//   points {name: n}, input_points {name: N_m}, decoupled_points, total_points,
//   decoupling_rate (null if n/a), set (decoupling_set_to_json; null if n/a),
//   fusion_shift (null if n/a), linf (null if n/a), forward_passes,
//   backward_passes, seconds, note?
nlohmann::ordered_json record_to_json(const SampleRecord& record);
// Throws Error naming the field when a line is malformed.
SampleRecord record_from_json(const nlohmann::ordered_json& j);

// Reads a results.jsonl. A last line that is cut short (no newline or not
// JSON) is dropped when `drop_truncated_tail`, else an error; any other bad line
// throws InputError("file:line", ...).
std::vector<SampleRecord> read_records(const std::string& path, bool drop_truncated_tail = true);

struct RateStats {
  int64_t count = 0;
  double mean = 0, median = 0, p90 = 0, min = 0, max = 0;
};

// The distribution of the sizes found: NOT the ASR at a budget (an attack
// searching under that budget can do better or, for greedy paths, differently);
// ASR at a budget comes from a run with AttackOptions::budget.
struct FoundSizePoint {
  double budget = 0;
  double share = 0;  // share of attacked samples with a headline success of rate <= budget
};

// The budgets of the found-size curve.
const std::vector<double>& default_budgets();

// A 95% confidence interval of a proportion.
struct Interval {
  double low = 0, high = 0;
};
// Wilson score interval of k successes in n trials (z = 1.96); [0,1] for n = 0.
Interval wilson_interval(int64_t k, int64_t n, double z = 1.959963984540054);

// A model whose clean accuracy is within this many points of the majority
// class share has barely learnt the task: its ASR says little. Reported.
constexpr double kNearChanceMargin = 0.05;

struct MeasurementSummary {
  std::string model;
  std::string method;
  AttackOptions options;
  int64_t samples = 0;  // records summarised
  int64_t correct = 0;  // correctly classified
  int64_t attacked = 0;
  int64_t successes = 0;           // by the criterion
  int64_t flips = 0;               // decision changes
  std::string criterion = "flip";  // the criterion applied: "flip" or "fooled"
  std::string oracle;              // the oracle's name; empty: none (then fooled counts are absent)
  double clean_accuracy = 0;
  double majority_share = 0;  // share of the most frequent label among the samples
  double asr = 0;             // flips / attacked: any decision change, the paper's ASR
                              // (attacked = correctly classified, unless attack_labels restricts it)
  Interval asr_ci;
  std::optional<int64_t> fooled;     // flips classified fooled (with an oracle)
  std::optional<double> fooled_asr;  // fooled / attacked
  std::optional<Interval> fooled_asr_ci;
  std::map<std::string, int64_t> success_classes;  // fooled, truth-changed, undefined (with an oracle)
  bool decoupling = true;                          // false for pgd: no rates, no curve
  std::optional<RateStats> rate;                   // decoupling rate of flips
  std::optional<RateStats> fooled_rate;            // decoupling rate of fooled successes
  std::vector<FoundSizePoint> found_size_curve;    // found-size curve of the headline successes (see FoundSizePoint)
  // Mean over the headline successes of each sample's share of decoupled points per modality.
  std::map<std::string, double> points_share;
  std::optional<double> fusion_shift_mean;  // over successes
  std::optional<double> linf_mean;          // pgd, over successes
  double queries_per_sample = 0;            // forward rows per attacked sample
  double backward_per_sample = 0;
  double seconds_per_sample = 0;
  std::vector<std::string> notes;     // distinct notes of the records, with counts
  std::vector<std::string> warnings;  // e.g. a clean accuracy near the majority class share

  // The number that means "the model was fooled": fooled ASR where an oracle
  // judged, else the ASR of any flip; and what it is called.
  bool has_fooled() const { return fooled_asr.has_value(); }
  double headline_asr() const { return fooled_asr ? *fooled_asr : asr; }
  Interval headline_ci() const { return fooled_asr_ci ? *fooled_asr_ci : asr_ci; }
  int64_t headline_count() const { return fooled ? *fooled : flips; }
  const std::optional<RateStats>& headline_rate() const { return fooled_asr ? fooled_rate : rate; }
  const char* headline_name() const { return fooled_asr ? "fooled ASR" : "ASR (any flip)"; }
};

// Summary statistics of records (which may be merged from several runs or
// shards). Median: mean of the middle two for an even count; p90: linear
// interpolation between order statistics (position 0.9 (n-1)).
// `oracle`: the name of the oracle that judged the records (empty: none).
MeasurementSummary summarize(const std::vector<SampleRecord>& records, const std::string& model,
                             const AttackOptions& options, const std::string& oracle = "");
// The summary JSON: format, model, method, options, seed, samples, correct,
// attacked, successes, clean_accuracy, asr, decoupling_rate {count, mean, median,
// p90, min, max} (null if none), found_size_curve [{budget, asr}], points_share,
// fusion_shift_mean, linf_mean, queries_per_sample, backward_per_sample,
// seconds_per_sample, notes, versions {muroan, torch}.
nlohmann::ordered_json summary_to_json(const MeasurementSummary& summary);
// A short table for people.
std::string format_summary_table(const MeasurementSummary& summary);

struct MeasurementResult {
  MeasurementSummary summary;
  std::vector<SampleRecord> records;     // all records of this run (resumed ones included)
  int64_t resumed = 0;                   // records found in results.jsonl at the start
  std::string jsonl_path, summary_path;  // empty without out_dir
};

// Attacks every sample in order (samples: N rows per modality, any device;
// labels int64 [N]; ids and texts: N or empty). Misclassified samples are
// recorded with attacked = false. With out_dir, records are appended to
// results.jsonl as they are produced and the summary written at the end; an
// existing results.jsonl for the same run.json is resumed after its last valid
// line. Throws UsageError for bad options or a results.jsonl from another run,
// Error for inputs that do not fit the model.
MeasurementResult run_measurement(Classifier& model, const Inputs& samples, const torch::Tensor& labels,
                                  const std::vector<std::string>& ids, const std::vector<std::string>& texts,
                                  const AttackOptions& attack, const MeasurementOptions& options);

// Why run_measurement with these arguments would not resume the results in
// options.out_dir ("no results yet", or what differs: "the model file
// changed; options.budget: 1.0 -> 0.05", "12 records for 8 samples", an
// unreadable file); empty when it would. The one resume rule: run_measurement
// applies it, callers may ask it beforehand.
std::string resume_mismatch(const Classifier& model, const Inputs& samples, const torch::Tensor& labels,
                            const std::vector<std::string>& ids, const AttackOptions& attack,
                            const MeasurementOptions& options);

// Sharded measurements (`mpirun -n N muroan attack`, or `--shard i/N`): every
// shard process writes run/results/summary .shard-i-of-N files into the same
// directory. merge_shards checks that the shards come from one run and cover
// every sample once, and writes run.json, results.jsonl (sample order) and
// summary.json as one process would have written them; it returns nullopt
// while a shard has not finished (no summary file yet). Several processes may
// merge at once: each writes through temporaries named by `writer_tag`.
// Throws InputError for shard files that do not fit together.
std::optional<MeasurementSummary> merge_shards(const std::string& dir, int64_t shard_count,
                                               const std::string& writer_tag = "");
// The shard counts N of the results.shard-*-of-N.jsonl files in dir.
std::vector<int64_t> shard_counts_in(const std::string& dir);

// Which shard this process measures: `given` ("i/N", e.g. "0/4"), else the
// rank and size that mpirun gives its processes (Open MPI, MPICH and other PMI
// launchers), else the only one. Throws UsageError "shard: ..." for a malformed `given`.
struct ShardPosition {
  int64_t index = 0, count = 1;
};
ShardPosition resolve_shard(const std::string& given);

struct ReplayResult {
  int64_t prediction = -1;
  double confidence = 0.0;
  bool matches = false;  // prediction == the recorded adversarial prediction
  Inputs adversarial;    // x_S, one row
};

// Rebuilds x_S of one sample (one row per modality) with InputSpace::apply and
// asks the model.
ReplayResult replay(Classifier& model, const Inputs& sample, const DecouplingSet& set, TextRemoval mode);
// The same for a record (its set and removal mode); `matches` compares with the
// record. Throws UsageError for records without a set (pgd, unattacked).
ReplayResult replay(Classifier& model, const Inputs& sample, const SampleRecord& record);

}  // namespace muroan
