// `muroan bench` as a library call: a model's forward rows/s over batch sizes
// and thread counts on the chosen device (the physical limit for this model),
// then each attack's achieved queries/s on the first correctly classified
// samples, and the share of the peak each attack reaches.
//
//   muroan::BenchRunOptions o;
//   o.source.manifest = "byom/manifest.json";
//   muroan::BenchRun run = muroan::run_bench_measurement(o);
//   std::cout << muroan::format_bench_attacks(run);
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "muroan/model_source.h"
#include "muroan/throughput.h"

namespace muroan {

struct BenchRunOptions {
  ModelSourceOptions source;
  std::vector<int64_t> batch_sizes{1, 4, 16, 64, 256, 1024, 4096};
  std::vector<int> thread_counts;  // empty: 1 up to the available cores
  std::vector<std::string> methods{"greedy", "saliency", "reference", "random", "sparse-rs"};
  int64_t samples = 20;  // correctly classified samples per attack
  int64_t attack_batch_size = 256;
  int64_t parallel_samples = kDefaultParallelSamples;  // searches packed together
  double min_seconds = 0.5;                            // per forward measurement
  std::string out;                                     // a JSON file for the numbers; empty: none
};

struct BenchRun {
  std::string model_name, data_source, device;
  std::vector<int64_t> batch_sizes;
  std::vector<int> thread_counts;
  std::vector<ForwardThroughput> forward;
  int attack_threads = 1;             // LibTorch threads the attacks run with
  int64_t parallel_samples = 1;       // searches packed together
  double peak_rows_per_second = 0.0;  // best forward rows/s at attack_threads
  std::vector<AttackThroughput> attacks;
  std::vector<double> share_of_peak;  // per attack: queries/s over the peak
};

// Validates every option (UsageError "batch_sizes: ...", "methods: ..."),
// measures, and writes options.out when set. `on_forward` (when set) sees the
// run after the forward measurement, before the attacks run.
BenchRun run_bench_measurement(const BenchRunOptions& options,
                               const std::function<void(const BenchRun&)>& on_forward = {});

// Markdown tables: forward rows/s by threads and batch size; the attacks.
std::string format_bench_forward(const BenchRun& run);
std::string format_bench_attacks(const BenchRun& run);
// The "muroan-bench/1" JSON document.
nlohmann::ordered_json bench_to_json(const BenchRun& run);

}  // namespace muroan
