// How fast a model answers, and how much of that an attack uses: the model's
// forward rows per second over batch sizes and CPU thread counts (the physical
// limit for this model on this machine), and each attack's achieved queries
// per second on real samples. `muroan bench` prints and writes both.
//
//   auto peak = muroan::measure_forward_throughput(model, sample, {1, 64, 1024}, {1, 2});
//   auto greedy = muroan::measure_attack_throughput(model, data, options, 20);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "muroan/attack.h"
#include "muroan/classifier.h"
#include "muroan/inputs.h"
#include "muroan/sample_data.h"
#include "muroan/sample_scheduler.h"

namespace muroan {

struct ForwardThroughput {
  int64_t batch = 0;
  int threads = 0;  // LibTorch intra-op threads during the measurement
  int64_t rows = 0;
  double seconds = 0.0;
  double rows_per_second = 0.0;
};

// For every batch size and thread count: `sample` (one row per modality)
// repeated to the batch, forward passes without gradients (after one warm-up
// pass) until at least `min_seconds` have passed. Thread counts are set with
// configure_cpu_threads and restored afterwards. Throws UsageError for an empty
// list, a batch size < 1 or a thread count < 1.
std::vector<ForwardThroughput> measure_forward_throughput(Classifier& model, const Inputs& sample,
                                                          const std::vector<int64_t>& batch_sizes,
                                                          const std::vector<int>& threads, double min_seconds = 0.5);

struct AttackThroughput {
  std::string method;
  int64_t samples = 0;   // samples attacked (correctly classified ones)
  int64_t queries = 0;   // forward rows of the searches
  int64_t backward = 0;  // rows back-propagated
  double seconds = 0.0;  // wall time of the attacks, the judges' passes included
  double queries_per_second = 0.0;
  // With parallel > 1: the scheduler's packed forward passes and the query rows
  // they held (a search's passes of its own -- its clean query, judge, fusion
  // shift, gradient passes -- not included). 0 with one search at a time.
  int64_t packed_passes = 0, packed_rows = 0;
};

// Attacks the first `samples` correctly classified samples of `data` with
// `options` (any flip counts: no oracle, so the work does not depend on one)
// with `parallel` searches at a time (sample_scheduler.h), and counts the
// queries and the wall time.
AttackThroughput measure_attack_throughput(Classifier& model, const SampleData& data, const AttackOptions& options,
                                           int64_t samples, int64_t parallel = 1);

}  // namespace muroan
