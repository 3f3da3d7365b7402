// Option structs and entry points of the subcommands, callable from tests
// without going through argv.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "muroan/attack.h"
#include "muroan/attack_run.h"
#include "muroan/bench_run.h"
#include "muroan/certify.h"
#include "muroan/measurement.h"
#include "muroan/task_oracle.h"

namespace muroan::cli {

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

// The flags of `muroan attack` bind to AttackRunOptions' fields (attack_run.h).
// Under mpirun (or with --shard) each process attacks every N-th sample and
// the last one to finish merges the shards' files.
int run_attack(const AttackRunOptions& options);

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

// The flags of `muroan certify` bind to CertifyOptions' fields (certify.h).
struct CertifyCommand {
  ModelSourceOptions source;
  CertifyOptions certify;
  std::string keep;          // points kept per modality, e.g. "45,all"; empty: the checkpoint's ablation_keep
  std::string text_removal;  // empty: the checkpoint's, else delete
  int64_t samples = 100;     // the first N (0: all); certify.limit
};
// Certifies a model by randomized ablation (certify.h): per-sample JSONL, summary
// JSON, table; returns the exit code.
int run_certify(const CertifyCommand& options);

}  // namespace muroan::cli

namespace muroan::cli {

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

// Prints the model's forward rows/s and each attack's queries/s (bench_run.h).
int run_bench(const BenchRunOptions& options);

}  // namespace muroan::cli
