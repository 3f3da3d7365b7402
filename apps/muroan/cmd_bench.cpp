// `muroan bench`: the model's forward rows/s over batch sizes and thread
// counts, each attack's achieved queries/s, and their ratio.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>

#include "cli_app.h"
#include "cli_options.h"
#include "commands.h"
#include "muroan/cpu_threads.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/throughput.h"
#include "muroan/version.h"

namespace muroan::cli {
namespace {

template <typename T>
std::vector<T> parse_counts(const std::string& flag, const std::string& list) {
  std::vector<T> out;
  for (const auto& item : split_list(list)) {
    int64_t v = 0;
    if (!parse_index(item, &v) || v < 1 || v > std::numeric_limits<int>::max())
      throw UsageError(flag + ": expected positive integers separated by commas, got '" + item + "'");
    out.push_back(static_cast<T>(v));
  }
  if (out.empty()) throw UsageError(flag + ": empty list");
  return out;
}

}  // namespace

int run_bench(const BenchCommand& o) {
  (void)o.source.model_path();  // exactly one of --checkpoint and --manifest, or UsageError
  if (o.samples < 1) throw UsageError("--samples must be >= 1");
  if (o.min_seconds <= 0) throw UsageError("--min-seconds must be > 0");
  const auto batches = parse_counts<int64_t>("--batch-sizes", o.batch_sizes);
  std::vector<int> threads;
  if (o.thread_counts.empty()) {
    for (int t = 1; t <= available_cpu_cores(); ++t) threads.push_back(t);
  } else {
    threads = parse_counts<int>("--thread-counts", o.thread_counts);
  }
  const std::vector<std::string> methods = split_list(o.methods);
  for (const auto& m : methods) {  // unknown names fail before any measurement
    AttackOptions a;
    a.method = m;
    validate_attack_options(a);
  }
  const torch::Device device = resolve_device(o.source.device);
  ModelAndData md = load_model_source(o.source, device);
  if (md.data.size() == 0) throw InputError(md.data_source, "no samples");
  const int configured = current_cpu_threads().torch;

  std::printf("model %s on %s, %s; forward rows/s (no gradients, a sample repeated):\n\n", md.model->name().c_str(),
              device.str().c_str(), md.data_source.c_str());
  const auto forward =
      measure_forward_throughput(*md.model, slice_rows(md.data.inputs, 0, 1), batches, threads, o.min_seconds);
  std::printf("| threads |");
  for (int64_t b : batches) std::printf(" batch %lld |", static_cast<long long>(b));
  std::printf("\n| ---: |");
  for (size_t i = 0; i < batches.size(); ++i) std::printf(" ---: |");
  double peak = 0.0;  // at the thread count the attacks run with
  for (int t : threads) {
    std::printf("\n| %d |", t);
    for (const auto& r : forward) {
      if (r.threads != t) continue;
      std::printf(" %.0f |", r.rows_per_second);
      if (t == configured) peak = std::max(peak, r.rows_per_second);
    }
  }
  std::printf("\n\nattacks (%d threads, batch size %lld, the first %lld correctly classified samples):\n\n", configured,
              static_cast<long long>(o.attack_batch_size), static_cast<long long>(o.samples));
  std::printf("| method | samples | queries | seconds | queries/s | of the peak forward rows/s |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
  nlohmann::ordered_json attacks = nlohmann::ordered_json::array();
  for (const auto& m : methods) {
    AttackOptions a;
    a.method = m;
    a.batch_size = o.attack_batch_size;
    const auto r = measure_attack_throughput(*md.model, md.data, a, o.samples);
    const double share = peak > 0 ? r.queries_per_second / peak : 0.0;
    std::printf("| %s | %lld | %lld | %.2f | %.0f | %.1f%% |\n", m.c_str(), static_cast<long long>(r.samples),
                static_cast<long long>(r.queries), r.seconds, r.queries_per_second, 100.0 * share);
    attacks.push_back({{"method", r.method},
                       {"samples", r.samples},
                       {"queries", r.queries},
                       {"backward", r.backward},
                       {"seconds", r.seconds},
                       {"queries_per_second", r.queries_per_second},
                       {"share_of_peak", share}});
  }
  if (!o.out.empty()) {
    nlohmann::ordered_json j;
    j["format"] = "muroan-bench/1";
    j["model"] = md.model->name();
    j["data"] = md.data_source;
    j["device"] = device.str();
    j["forward"] = nlohmann::ordered_json::array();
    for (const auto& r : forward)
      j["forward"].push_back({{"batch", r.batch},
                              {"threads", r.threads},
                              {"rows", r.rows},
                              {"seconds", r.seconds},
                              {"rows_per_second", r.rows_per_second}});
    j["peak_rows_per_second"] = peak;
    j["attack_threads"] = configured;
    j["attacks"] = attacks;
    j["versions"] = software_versions();
    write_file_atomically(o.out, j.dump(2) + "\n");
    std::printf("\n-> %s\n", o.out.c_str());
  }
  return kExitOk;
}

void register_bench(CLI::App& app, Action& action) {
  auto o = std::make_shared<BenchCommand>();
  auto* cmd = app.add_subcommand("bench",
                                 "A model's forward rows/s over batch sizes and threads, and each "
                                 "attack's queries/s on real samples");
  add_model_source_options(*cmd, o->source);
  cmd->add_option("--batch-sizes", o->batch_sizes, "Forward batch sizes")->capture_default_str();
  cmd->add_option("--thread-counts", o->thread_counts, "LibTorch thread counts (default 1 up to the cores)");
  cmd->add_option("--methods", o->methods, "Attacks to time (empty: none)")->capture_default_str();
  cmd->add_option("--samples", o->samples, "Correctly classified samples per attack")->capture_default_str();
  cmd->add_option("--attack-batch-size", o->attack_batch_size, "Rows per forward pass of the attacks")
      ->capture_default_str();
  cmd->add_option("--min-seconds", o->min_seconds, "Time per forward measurement")->capture_default_str();
  cmd->add_option("--out", o->out, "Also write the numbers to this JSON file");
  cmd->callback([&action, o] { action = [o] { return run_bench(*o); }; });
}

}  // namespace muroan::cli
