#include "muroan/bench_run.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "muroan/cpu_threads.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/names.h"
#include "muroan/text_format.h"
#include "muroan/version.h"

namespace muroan {
namespace {

template <typename T>
void check_counts(const char* field, const std::vector<T>& counts) {
  if (counts.empty()) throw UsageError(std::string(field) + ": empty list");
  for (const T c : counts)
    if (c < 1) throw UsageError(std::string(field) + ": expected positive integers, got " + std::to_string(c));
}

}  // namespace

BenchRun run_bench_measurement(const BenchRunOptions& o, const std::function<void(const BenchRun&)>& on_forward) {
  (void)o.source.model_path();  // exactly one source
  if (o.samples < 1) throw UsageError("samples: must be >= 1");
  if (o.min_seconds <= 0) throw UsageError("min_seconds: must be > 0");
  if (o.attack_batch_size < 1) throw UsageError("attack_batch_size: must be >= 1");
  check_counts("batch_sizes", o.batch_sizes);
  BenchRun run;
  run.batch_sizes = o.batch_sizes;
  run.thread_counts = o.thread_counts;
  if (run.thread_counts.empty())
    for (int t = 1; t <= available_cpu_cores(); ++t) run.thread_counts.push_back(t);
  check_counts("thread_counts", run.thread_counts);
  std::vector<std::string> known;  // unknown names fail before any measurement
  for (const auto& info : attack_catalog()) known.push_back(info.name);
  for (const auto& m : o.methods) check_known_name("methods", "method", m, known);
  const torch::Device device = resolve_device(o.source.device);
  ModelAndData md = load_model_and_data(o.source, device);
  if (md.data.size() == 0) throw InputError(md.data_source, "no samples");
  run.model_name = md.model->name();
  run.data_source = md.data_source;
  run.device = device.str();
  run.attack_threads = current_cpu_threads().torch;
  run.parallel_samples = parallel_samples_for(o.parallel_samples, *md.model);

  run.forward = measure_forward_throughput(*md.model, slice_rows(md.data.inputs, 0, 1), run.batch_sizes,
                                           run.thread_counts, o.min_seconds);
  for (const auto& r : run.forward)
    if (r.threads == run.attack_threads)
      run.peak_rows_per_second = std::max(run.peak_rows_per_second, r.rows_per_second);
  if (on_forward) on_forward(run);

  for (const auto& m : o.methods) {
    AttackOptions a;
    a.method = m;
    a.batch_size = o.attack_batch_size;
    run.attacks.push_back(measure_attack_throughput(*md.model, md.data, a, o.samples, run.parallel_samples));
    const double qps = run.attacks.back().queries_per_second;
    run.share_of_peak.push_back(run.peak_rows_per_second > 0 ? qps / run.peak_rows_per_second : 0.0);
  }
  if (!o.out.empty()) write_file_atomically(o.out, bench_to_json(run).dump(2) + "\n");
  return run;
}

std::string format_bench_forward(const BenchRun& run) {
  std::string out = "| threads |";
  for (int64_t b : run.batch_sizes) out += format_text(" batch %lld |", static_cast<long long>(b));
  out += "\n| ---: |";
  for (size_t i = 0; i < run.batch_sizes.size(); ++i) out += " ---: |";
  for (int t : run.thread_counts) {
    out += format_text("\n| %d |", t);
    for (const auto& r : run.forward)
      if (r.threads == t) out += format_text(" %.0f |", r.rows_per_second);
  }
  return out + "\n";
}

std::string format_bench_attacks(const BenchRun& run) {
  std::string out =
      "| method | samples | queries | seconds | queries/s | of the peak forward rows/s | rows per packed pass |\n"
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (size_t i = 0; i < run.attacks.size(); ++i) {
    const auto& r = run.attacks[i];
    const std::string packed =
        r.packed_passes > 0 ? format_text("%.1f", static_cast<double>(r.packed_rows) / r.packed_passes) : "-";
    out += format_text("| %s | %lld | %lld | %.2f | %.0f | %.1f%% | %s |\n", r.method.c_str(),
                       static_cast<long long>(r.samples), static_cast<long long>(r.queries), r.seconds,
                       r.queries_per_second, 100.0 * run.share_of_peak[i], packed.c_str());
  }
  return out;
}

nlohmann::ordered_json bench_to_json(const BenchRun& run) {
  nlohmann::ordered_json j;
  j["format"] = "muroan-bench/1";
  j["model"] = run.model_name;
  j["data"] = run.data_source;
  j["device"] = run.device;
  j["forward"] = nlohmann::ordered_json::array();
  for (const auto& r : run.forward)
    j["forward"].push_back({{"batch", r.batch},
                            {"threads", r.threads},
                            {"rows", r.rows},
                            {"seconds", r.seconds},
                            {"rows_per_second", r.rows_per_second}});
  j["peak_rows_per_second"] = run.peak_rows_per_second;
  j["attack_threads"] = run.attack_threads;
  j["parallel_samples"] = run.parallel_samples;
  j["attacks"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < run.attacks.size(); ++i) {
    const auto& r = run.attacks[i];
    j["attacks"].push_back({{"method", r.method},
                            {"samples", r.samples},
                            {"queries", r.queries},
                            {"backward", r.backward},
                            {"seconds", r.seconds},
                            {"queries_per_second", r.queries_per_second},
                            {"share_of_peak", run.share_of_peak[i]},
                            {"packed_passes", r.packed_passes},
                            {"packed_rows", r.packed_rows}});
  }
  j["versions"] = software_versions();
  return j;
}

}  // namespace muroan
