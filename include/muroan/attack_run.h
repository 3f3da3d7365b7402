// One attack measured on a model, start to finish, as `muroan attack` runs it:
// load the model and its samples (a checkpoint or a TorchScript manifest),
// resolve the names people give (modalities, protected words, labels) against
// the model, attach the task's oracle, run the measurement (resumable; one
// shard of it under mpirun) and, in the last shard to finish, merge the shards.
//
//   muroan::AttackRunOptions o;
//   o.source.checkpoint = "runs/fashion-match-concat-s1";
//   o.attack.method = "greedy";
//   o.samples = 50;
//   muroan::AttackRun run = muroan::run_attack_measurement(o);  // writes runs/attack-greedy
//   std::cout << run.summary.headline_asr() << "\n";
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "muroan/attack.h"
#include "muroan/measurement.h"
#include "muroan/model_source.h"
#include "muroan/task_oracle.h"

namespace muroan {

struct AttackRunOptions {
  ModelSourceOptions source;
  AttackOptions attack;        // its modalities and protected_tokens are resolved from the lists below
  MeasurementOptions measure;  // out_dir empty: runs/attack-<method>; limit, batch, shard and oracle are set here
  OracleOptions oracle;        // of a built-in task's oracle
  int64_t samples = 100;       // the first N (0: all)
  std::vector<std::string> modalities;     // names the attack may touch; "image", "text" name every one of a kind
  std::vector<std::string> protect_words;  // words no attack may decouple (the model's vocabulary maps them)
  std::vector<int64_t> protect_tokens;     // token ids no attack may decouple (with the manifest's own)
  std::vector<std::string> attack_labels;  // attack only samples of these labels: class names or indices
  std::string shard;                       // "i/N"; empty: mpirun's rank and size, else no sharding
  // Warnings before the attack starts (texts cut to max_len); null: none.
  std::function<void(const std::string&)> warn;
};

struct AttackRun {
  std::string model_name, data_source;
  ShardPosition shard;
  MeasurementResult result;  // this process's records and files
  // The whole measurement: this process's, or the merged shards' when this was
  // the last shard to finish. `complete` is false while other shards run.
  bool complete = true;
  MeasurementSummary summary;
  std::string summary_path;
};

// Throws UsageError "<field>: ..." (method, protect_words, attack_labels, ...)
// before anything runs, InputError for unreadable files.
AttackRun run_attack_measurement(const AttackRunOptions& options);

// Token ids of `words` (mapped with the model's vocabulary) and `ids`, with
// the manifest's protected tokens; sorted, without repeats. Throws UsageError
// "protect_words: ..." or "protect_tokens: ...".
std::vector<int64_t> resolve_protected_tokens(const std::vector<std::string>& words, const std::vector<int64_t>& ids,
                                              const ModelAndData& md);
// Class names or indices -> indices, without repeats. Throws UsageError "attack_labels: ...".
std::vector<int64_t> resolve_labels(const std::vector<std::string>& labels, const std::vector<std::string>& classes);

}  // namespace muroan
