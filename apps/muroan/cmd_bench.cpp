// `muroan bench`: the model's forward rows/s over batch sizes and thread
// counts, each attack's achieved queries/s, and their ratio.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli_app.h"
#include "cli_flags.h"
#include "cli_options.h"
#include "commands.h"
#include "muroan/bench_run.h"

namespace muroan::cli {

int run_bench(const BenchRunOptions& o) {
  const BenchRun run = run_bench_measurement(o, [](const BenchRun& r) {
    std::printf("model %s on %s, %s; forward rows/s (no gradients, a sample repeated):\n\n%s", r.model_name.c_str(),
                r.device.c_str(), r.data_source.c_str(), format_bench_forward(r).c_str());
    std::fflush(stdout);
  });
  std::printf(
      "\nattacks (%d threads, batch size %lld, %lld samples at a time, the first %lld correctly classified "
      "samples):\n\n%s",
      run.attack_threads, static_cast<long long>(o.attack_batch_size), static_cast<long long>(run.parallel_samples),
      static_cast<long long>(o.samples), format_bench_attacks(run).c_str());
  if (!o.out.empty()) std::printf("\n-> %s\n", o.out.c_str());
  return kExitOk;
}

void register_bench(CLI::App& app, Action& action) {
  auto o = std::make_shared<BenchRunOptions>();
  auto* cmd = app.add_subcommand("bench",
                                 "A model's forward rows/s over batch sizes and threads, and each "
                                 "attack's queries/s on real samples");
  auto flags = std::make_shared<FlagBinder>(cmd);
  add_model_source_options(*flags, o->source);
  flags->bind("--batch-sizes", "batch_sizes", o->batch_sizes, "Forward batch sizes")->delimiter(',');
  flags
      ->bind("--thread-counts", "thread_counts", o->thread_counts, "LibTorch thread counts (default 1 up to the cores)")
      ->delimiter(',');
  flags->bind_list("--methods", "methods", o->methods, "Attacks to time (empty: none)");
  flags->bind("--samples", "samples", o->samples, "Correctly classified samples per attack");
  flags->bind("--attack-batch-size", "attack_batch_size", o->attack_batch_size, "Rows per forward pass of the attacks");
  flags->bind("--parallel-samples", "parallel_samples", o->parallel_samples,
              "Samples whose searches advance together, their queries packed into shared forward passes (1: one at a "
              "time; 0: 64 on a GPU, 1 on a CPU)");
  flags->bind("--min-seconds", "min_seconds", o->min_seconds, "Time per forward measurement");
  flags->bind("--out", "out", o->out, "Also write the numbers to this JSON file");
  cmd->callback([&action, o, flags] { action = [o, flags] { return flags->run([&o] { return run_bench(*o); }); }; });
}

}  // namespace muroan::cli
