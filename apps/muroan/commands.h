// Option structs and entry points of the subcommands, callable from tests
// without going through argv.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace muroan::cli {

struct TrainCommand {
  std::string task = "fashion-match";
  std::string fusion = "concat";
  int64_t epochs = 12;
  int64_t batch_size = 64;
  double learning_rate = 5e-4;
  int64_t patience = 3;
  uint64_t seed = 1;
  std::string device = "auto";
  std::string out;  // default: runs/<task>-<fusion>-s<seed>
  int64_t train_size = 0, val_size = 0, test_size = 0;  // 0: the task's default
  int64_t dim = 0, head_hidden = 0;  // model widths; 0: ModelConfig's default
  std::string cache_dir = ".muroan-cache";
  bool quiet = false;
  // Defense during training (defense.h): none, pgd-at, ablation, decoupling-at.
  std::string defense = "none";
  double defense_fraction = 1.0;        // share of each batch defended
  double defense_eps = 8.0 / 255.0;     // pgd-at: image L-infinity radius
  double defense_text_eps = 0.1;        // pgd-at: token-embedding radius (0: image only)
  int64_t defense_steps = 5;            // pgd-at: PGD steps; decoupling-at: saliency steps
  double defense_step_size = 0.0;       // pgd-at: 0 = 2.5 * eps / steps
  double ablation_rate = 0.5;           // ablation: share of points decoupled per modality
  std::string ablation_keep;            // ablation: points kept per modality, e.g. "45,all" (instead of the rate)
  int64_t defense_patch = 7;            // decoupling-at: image element side
  int64_t defense_elements = 1;         // decoupling-at: elements per step
  std::string text_removal = "delete";  // ablation, decoupling-at
};
// Trains, evaluates on the test split, writes the checkpoint; returns the exit code.
int run_train(const TrainCommand& options);

struct EvalCommand {
  std::string checkpoint;
  std::string split = "test";
  std::string device = "auto";
  std::string cache_dir = ".muroan-cache";
};
int run_eval(const EvalCommand& options);

struct InfoCommand {
  std::string manifest;  // manifest.json of a TorchScript model
  std::string data;      // samples.jsonl; empty: no data, no accuracy
  std::string device = "auto";
  int64_t batch_size = 256;
};
// Prints the model's inputs, points per modality, classes, fusion method and,
// with data, the data's size and the model's accuracy; returns the exit code.
int run_info(const InfoCommand& options);

struct ExportDataCommand {
  std::string task = "fashion-match";
  std::string split = "test";
  int64_t samples = 0;  // 0: the whole split
  std::string out;
  uint64_t seed = 1;
  std::string cache_dir = ".muroan-cache";
};
// Writes OUT/samples.jsonl, OUT/images/*.png and OUT/task.json.
int run_export_data(const ExportDataCommand& options);

}  // namespace muroan::cli

namespace muroan::cli {

// Where the model and its samples come from: a checkpoint directory (data: a
// split name of its task, default test) or a TorchScript manifest (data: a
// samples.jsonl, default the one beside the manifest).
struct ModelSourceOptions {
  std::string checkpoint;
  std::string manifest;
  std::string data;
  std::string device = "auto";
  std::string cache_dir = ".muroan-cache";
  // The path given, whichever option it came through; throws UsageError unless
  // exactly one of --checkpoint and --manifest is set.
  const std::string& model_path() const;
};

struct AttackCommand {
  ModelSourceOptions source;
  std::string method = "greedy";
  std::string objective = "margin";
  int64_t target = -1;
  std::string success = "auto";  // auto (fooled where the task has an oracle), flip or fooled
  std::string protect_words;     // comma-separated words no attack may decouple
  std::string protect_tokens;    // comma-separated token ids no attack may decouple
  std::string attack_labels;     // comma-separated labels (class indices or names); empty: all
  double garment_share = 0.2;    // fashion-match oracle: share of the garment that makes x_S undefined
  double budget = 1.0;
  std::string modalities;  // comma-separated names; "image" and "text" also name every modality of that kind
  int64_t max_queries = 0;
  uint64_t seed = 1;
  std::string granularity = "patch";
  int64_t patch = 7;
  int64_t top_k = 16;
  int64_t max_size = 3;
  std::string text_removal = "delete";
  int64_t batch_size = 256;
  double eps = 8.0 / 255.0;
  double step_size = 2.0 / 255.0;
  int64_t steps = 10;
  bool share_encodings = true;
  int64_t samples = 100;  // 0: all
  std::string out;        // default runs/attack-<method>
  bool resume = true;
  bool quiet = false;
  bool timing = true;     // false: 0 seconds in every record (byte-identical files for one seed)
  bool allow_nondeterministic = false;
  std::string shard;      // "i/N"; empty: from mpirun's environment, else no sharding
};
// Under mpirun (or with --shard) each process attacks every N-th sample and
// the last one to finish merges the shards' files.
int run_attack(const AttackCommand& options);

struct MergeCommand {
  std::string dir;  // result directory of a sharded `muroan attack`
};
// Merges the shard files of a sharded attack into results.jsonl and summary.json.
int run_merge(const MergeCommand& options);

struct ReplayCommand {
  ModelSourceOptions source;
  std::string results;  // results.jsonl of `muroan attack`
  std::string id;       // one sample; empty: every successful record
};
// Rebuilds each adversarial input from its record and confirms the model's
// decision; exit code 0 only when every replayed decision matches.
int run_replay(const ReplayCommand& options);

struct CertifyCommand {
  ModelSourceOptions source;
  std::string keep;        // points kept per modality, e.g. "45,all"; empty: the checkpoint's ablation_keep
  int64_t n0 = 64;         // selection copies
  int64_t n = 1000;        // estimation copies
  double alpha = 0.05;
  uint64_t seed = 1;
  std::string text_removal;  // empty: the checkpoint's, else delete
  int64_t batch_size = 256;
  int64_t samples = 100;   // 0: all
  std::string out;         // default runs/certify
  bool quiet = false;
};
// Certifies a model by randomized ablation (certify.h): per-sample JSONL, summary
// JSON, table; returns the exit code.
int run_certify(const CertifyCommand& options);

}  // namespace muroan::cli

namespace muroan::cli {

// The fusions `muroan analyze` measures by default: one of each family of the
// zoo -- feature concatenation, a gated unit, a multiplicative (tensor) fusion
// and cross-modal attention -- all of which the default recipe trains well
// above chance on fashion-match (docs/zoo_accuracy.md), in about 4-8 minutes
// each on 2 CPU cores. Late fusion has no interaction and stays at chance there.
constexpr const char* kAnalyzeFusions = "concat,gmu,tensor,xattn";
// The attacks it runs by default: the black-box and white-box decoupling
// attacks, the published reference attack, and random decoupling for contrast.
constexpr const char* kAnalyzeMethods = "greedy,saliency,reference,random";

struct AnalyzeCommand {
  std::string task = "fashion-match";
  std::string fusions = kAnalyzeFusions;  // comma-separated
  std::string methods = kAnalyzeMethods;  // comma-separated
  std::string defenses = "none";          // comma-separated; each fusion is trained with each
  int64_t samples = 240;                  // the first N test samples per run (~220 attacked at 0.92 accuracy)
  std::string out;                        // default runs/analyze-<task>
  // Training (as `muroan train`); a checkpoint under OUT/checkpoints/<fusion>
  // made with the same settings is reused.
  int64_t epochs = TrainCommand{}.epochs;
  int64_t batch_size = TrainCommand{}.batch_size;
  double learning_rate = TrainCommand{}.learning_rate;
  int64_t patience = TrainCommand{}.patience;
  int64_t train_size = 0, val_size = 0, test_size = 0;  // 0: the task's default
  // Attacks (as `muroan attack`).
  double budget = 1.0;
  std::string success = "auto";  // as `muroan attack --success`
  double garment_share = 0.2;    // as `muroan attack --garment-share`
  int64_t attack_batch_size = 256;
  int64_t gallery = 3;  // successful samples per run kept for the report's gallery
  uint64_t seed = 1;
  std::string device = "auto";
  std::string cache_dir = ".muroan-cache";
  bool retrain = false;  // train again even when a matching checkpoint exists
  bool quiet = false;    // no progress bars; still one line per finished step
};
// Trains (or reuses) each fusion, attacks it with each method, writes
// OUT/summary.json, OUT/runs/<fusion>/<method>/, OUT/tables/*.csv and
// OUT/report.html; returns the exit code.
int run_analyze(const AnalyzeCommand& options);

struct ReportCommand {
  std::string dir;  // a result folder of `muroan analyze` or `muroan attack --out`
  // Optional, for an attack folder: the model and samples it was measured on,
  // to (re)build its gallery.json.
  ModelSourceOptions source;
  int64_t gallery = 3;
};
// Writes DIR/report.html and DIR/tables/*.csv from DIR's JSON files.
int run_report(const ReportCommand& options);

}  // namespace muroan::cli

namespace muroan::cli {

struct BenchCommand {
  ModelSourceOptions source;
  std::string batch_sizes = "1,4,16,64,256,1024,4096";
  std::string thread_counts;  // empty: 1 up to the available cores
  std::string methods = "greedy,saliency,reference,random,sparse-rs";
  int64_t samples = 20;       // correctly classified samples per attack
  int64_t attack_batch_size = 256;
  double min_seconds = 0.5;   // per forward measurement
  std::string out;            // JSON file; empty: none
};
// Prints the model's forward rows/s and each attack's queries/s; returns the exit code.
int run_bench(const BenchCommand& options);

}  // namespace muroan::cli
