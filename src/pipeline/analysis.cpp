#include "muroan/analysis.h"

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "muroan/checkpoint.h"
#include "muroan/defense.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/fusion.h"
#include "muroan/measurement.h"
#include "muroan/names.h"
#include "muroan/optimality.h"
#include "muroan/progress.h"
#include "muroan/report.h"
#include "muroan/train_run.h"
#include "muroan/version.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;

AttackOptions attack_options(const AnalysisOptions& o, const std::string& method) {
  AttackOptions a;
  a.method = method;
  a.budget = o.budget;
  a.seed = o.seed;
  a.batch_size = o.attack_batch_size;
  a.success = o.success;
  return a;
}

// A model of the analysis: a fusion trained with a defense.
struct Variant {
  std::string name, fusion, defense;
};

std::vector<Variant> variants_of(const AnalysisOptions& o) {
  std::vector<Variant> variants;
  for (const auto& f : o.fusions)
    for (const auto& d : o.defenses) variants.push_back({d == "none" ? f : std::string(f).append("+").append(d), f, d});
  return variants;
}

TrainRunOptions train_run_options(const AnalysisOptions& o, const Variant& variant, const fs::path& dir) {
  TrainRunOptions t;
  t.task = o.task;
  t.fusion = variant.fusion;
  t.defense.kind = parse_defense(variant.defense);
  t.seed = o.seed;
  t.device = o.device;
  t.data = o.data;
  t.train = o.train;
  t.train.quiet = o.quiet;
  t.out = dir.string();
  return t;
}

// The checkpoint in `dir` when it was trained with these settings; nullopt
// when it is missing, unreadable or made otherwise (then it is trained again).
std::optional<Checkpoint> matching_checkpoint(const fs::path& dir, const TrainRunOptions& t,
                                              const torch::Device& device) {
  if (!fs::exists(dir / "checkpoint.json") || !fs::exists(dir / "weights.pt")) return std::nullopt;
  try {
    Checkpoint ck = load_checkpoint(dir.string(), device);
    const auto& d = ck.task_options;
    const auto& r = ck.training;
    const TaskInfo info = task_info(t.task);
    const bool same = ck.task == t.task && ck.config.fusion == t.fusion && d.seed == t.seed &&
                      ck.config.image_readout == info.image_readout && ck.config.head_hidden == info.head_hidden &&
                      d.train_size == t.data.train_size && d.val_size == t.data.val_size &&
                      d.test_size == t.data.test_size && r.epochs_max == t.train.epochs &&
                      r.batch_size == t.train.batch_size && r.learning_rate == t.train.learning_rate &&
                      r.patience == t.train.patience && r.seed == t.seed &&
                      r.defense_name() == defense_name(t.defense.kind);
    if (same) return ck;
  } catch (const Error&) {
  }
  return std::nullopt;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::vector<std::string> default_analysis_fusions() { return {"concat", "gmu", "tensor", "xattn"}; }
std::vector<std::string> default_analysis_methods() { return {"greedy", "saliency", "reference", "random"}; }

void validate_analysis(const AnalysisOptions& o) {
  std::vector<std::string> tasks, fusions, methods, defenses;
  for (const auto& t : task_catalog()) tasks.push_back(t.name);
  for (const auto& f : fusion_catalog()) fusions.push_back(f.name);
  for (const auto& m : attack_catalog()) methods.push_back(m.name);
  for (const auto kind : {DefenseKind::kNone, DefenseKind::kPgdAt, DefenseKind::kAblation, DefenseKind::kDecouplingAt})
    defenses.push_back(defense_name(kind));
  check_known_name("task", "task", o.task, tasks);
  check_name_list("fusions", "fusion", o.fusions, fusions);
  check_name_list("methods", "method", o.methods, methods);
  check_name_list("defenses", "defense", o.defenses, defenses);
  if (o.samples < 0) throw UsageError("samples: must be >= 0 (0: the whole test split)");
  validate_training(o.train);
  if (o.data.train_size < 0 || o.data.val_size < 0 || o.data.test_size < 0)
    throw UsageError("data.train_size, data.val_size, data.test_size: must be >= 0 (0: the task's default)");
  if (o.gallery < 0) throw UsageError("gallery: must be >= 0");
  for (const auto& m : o.methods) validate_attack_options(attack_options(o, m));
}

std::string analysis_command_line(const AnalysisOptions& options) {
  // The training recipe as used: the task's where the options leave it open.
  AnalysisOptions o = options, d;
  o.train = with_task_recipe(o.train, o.task);
  d.train = with_task_recipe(d.train, o.task);
  std::ostringstream s;
  s << "muroan analyze --task " << o.task << " --fusions " << join_names(o.fusions, ",") << " --defenses "
    << join_names(o.defenses, ",") << " --methods " << join_names(o.methods, ",") << " --samples " << o.samples
    << " --epochs " << o.train.epochs << " --seed " << o.seed;
  if (o.train.batch_size != d.train.batch_size) s << " --batch-size " << o.train.batch_size;
  if (o.train.learning_rate != d.train.learning_rate) s << " --lr " << o.train.learning_rate;
  if (o.train.patience != d.train.patience) s << " --patience " << o.train.patience;
  if (o.data.train_size) s << " --train-size " << o.data.train_size;
  if (o.data.val_size) s << " --val-size " << o.data.val_size;
  if (o.data.test_size) s << " --test-size " << o.data.test_size;
  if (o.budget != d.budget) s << " --budget " << o.budget;
  if (o.success != d.success) s << " --success " << success_criterion_name(o.success);
  if (o.oracle.garment_share != d.oracle.garment_share) s << " --garment-share " << o.oracle.garment_share;
  if (o.attack_batch_size != d.attack_batch_size) s << " --attack-batch-size " << o.attack_batch_size;
  if (o.parallel_samples != d.parallel_samples) s << " --parallel-samples " << o.parallel_samples;
  if (o.gallery != d.gallery) s << " --gallery " << o.gallery;
  if (o.device != d.device) s << " --device " << o.device;
  s << " --out " << (o.out.empty() ? "runs/analyze-" + o.task : o.out);
  return s.str();
}

AnalysisResult run_analysis(const AnalysisOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  validate_analysis(options);  // every name and value before any work
  AnalysisOptions o = options;
  o.train = with_task_recipe(o.train, o.task);  // what was used, in the checkpoints' check and the records
  const auto log = o.log ? o.log : [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  const auto variants = variants_of(o);
  const torch::Device device = resolve_device(o.device);
  AnalysisResult result;
  result.out = o.out.empty() ? "runs/analyze-" + o.task : o.out;
  const fs::path root(result.out);
  fs::create_directories(root);

  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  double training_seconds = 0, attack_seconds = 0;
  const size_t total_runs = variants.size() * o.methods.size();
  size_t run_number = 0;

  for (const auto& variant : variants) {
    const std::string& name = variant.name;  // the model's name in every file and table
    const fs::path ck_dir = root / "checkpoints" / name;
    const TrainRunOptions t = train_run_options(o, variant, ck_dir);
    std::optional<Checkpoint> reused = o.retrain ? std::nullopt : matching_checkpoint(ck_dir, t, device);
    if (!reused) {
      fs::remove_all(root / "runs" / name);  // results of another model must not be resumed
      const TrainRun run = train_checkpoint(t);
      const auto& r = run.checkpoint.training;
      char line[512];
      std::snprintf(line, sizeof line,
                    "%s/%s: test accuracy %.4f on %lld samples (best epoch %lld, val %.4f, %s, %lld parameters) -> %s",
                    o.task.c_str(), variant.fusion.c_str(), r.test_accuracy, static_cast<long long>(r.test_samples),
                    static_cast<long long>(r.best_epoch), r.val_accuracy, format_duration(r.seconds).c_str(),
                    static_cast<long long>(r.parameters), run.dir.c_str());
      log(line);
      if (t.defense.kind != DefenseKind::kNone)
        log(std::string("defense ") + defense_name(t.defense.kind) + ": " + r.defense["stats"].dump());
    }
    // What is attacked is always the checkpoint as read back from disk.
    const Checkpoint ck = reused ? std::move(*reused) : load_checkpoint(ck_dir.string(), device);
    const auto& tr = ck.training;
    if (reused) {
      char line[512];
      std::snprintf(line, sizeof line, "%s/%s: reusing %s (test accuracy %.4f, trained in %s)", o.task.c_str(),
                    name.c_str(), ck_dir.string().c_str(), tr.test_accuracy, format_duration(tr.seconds).c_str());
      log(line);
    }
    training_seconds += tr.seconds;  // the time the results shown cost, reused or not
    models.push_back({{"fusion", name},
                      {"defense", variant.defense},
                      {"checkpoint", fs::path("checkpoints") / name},
                      {"reused", reused.has_value()},
                      {"test_accuracy", tr.test_accuracy},
                      {"test_samples", tr.test_samples},
                      {"parameters", tr.parameters},
                      {"best_epoch", tr.best_epoch},
                      {"training_seconds", tr.seconds}});

    auto model = make_classifier(ck, device);
    TaskOptions task_options = ck.task_options;
    task_options.cache_dir = o.data.cache_dir;
    const TaskData data = load_task(ck.task, task_options);
    const auto oracle = make_task_oracle(ck.task, ck.vocab, o.oracle);
    const std::string model_fingerprint =
        file_fingerprint({(ck_dir / "checkpoint.json").string(), (ck_dir / "weights.pt").string()});
    std::map<std::string, std::vector<SampleRecord>> records_of;  // this model's runs, for the optimality gap
    std::map<std::string, size_t> run_index;
    for (const auto& method : o.methods) {
      ++run_number;
      const fs::path rel = fs::path("runs") / name / method;
      const fs::path run_dir = root / rel;
      const AttackOptions a = attack_options(o, method);
      MeasurementOptions m;
      m.out_dir = run_dir.string();
      m.limit = o.samples;
      m.batch = o.attack_batch_size;
      m.parallel_samples = o.parallel_samples;
      m.quiet = o.quiet;
      m.oracle = oracle.get();
      m.model_fingerprint = model_fingerprint;
      m.resume = true;
      m.restart_on_mismatch = true;  // a folder of other settings is started over
      const auto run_started = std::chrono::steady_clock::now();
      const MeasurementResult r =
          run_measurement(*model, data.test.inputs, data.test.labels, data.test.ids, data.test.texts, a, m);
      const int64_t shown =
          o.gallery > 0 ? write_gallery(run_dir.string(), *model, data.test, ck.vocab.words(), o.gallery) : 0;
      if (o.gallery == 0) fs::remove(run_dir / "gallery.json");
      const double secs = seconds_since(run_started);
      for (const auto& rec : r.records) attack_seconds += rec.seconds;
      const auto& s = r.summary;
      char head[256];
      const Interval ci = s.headline_ci();
      std::snprintf(head, sizeof head, "[%zu/%zu] %s/%s: %s %.1f%% [%.1f-%.1f%%] (%lld of %lld)", run_number,
                    total_runs, name.c_str(), method.c_str(), s.headline_name(), 100.0 * s.headline_asr(),
                    100.0 * ci.low, 100.0 * ci.high, static_cast<long long>(s.headline_count()),
                    static_cast<long long>(s.attacked));
      std::string line = head;
      if (s.headline_rate()) {
        char rate[64];
        std::snprintf(rate, sizeof rate, ", median decoupling %.2f%%", 100.0 * s.headline_rate()->median);
        line += rate;
      }
      if (s.has_fooled()) {
        char flips[64];
        std::snprintf(flips, sizeof flips, "; any flip %.1f%%", 100.0 * s.asr);
        line += flips;
      }
      line += ", " + format_duration(secs);
      if (r.resumed) line += ", " + std::to_string(r.resumed) + " resumed";
      log(line + " -> " + run_dir.string());
      for (const auto& w : s.warnings) log("  warning: " + w);
      if (s.decoupling && s.headline_asr() > result.weakest_asr) {
        result.weakest_asr = s.headline_asr();
        result.weakest_metric = s.headline_name();
        result.weakest = name;
        result.weakest.append(" (").append(method).append(")");
      }
      if (s.decoupling) records_of[method] = r.records;
      run_index[method] = runs.size();
      runs.push_back({{"fusion", name},
                      {"method", method},
                      {"dir", rel.string()},
                      {"seconds", secs},
                      {"resumed", r.resumed},
                      {"gallery_items", shown},
                      {"summary", summary_to_json(s)}});
    }
    // With the exact method among the attacks: how far each search is from the minimum.
    if (records_of.count("exact")) {
      const int64_t max_size = attack_options(o, "exact").max_size;
      for (const auto& [method, records] : records_of) {
        if (method == "exact") continue;
        const OptimalityGap g = optimality_gap(records_of.at("exact"), records, max_size);
        runs[run_index.at(method)]["optimality"] = {{"known_minimum", g.known},
                                                    {"solved", g.solved},
                                                    {"hit_minimum", g.hit},
                                                    {"mean_excess_points", g.mean_excess}};
        char line[256];
        std::snprintf(line, sizeof line,
                      "  %s/%s: minimum known for %lld samples; solved %lld, with the minimum %lld, mean excess "
                      "%.2f points",
                      name.c_str(), method.c_str(), static_cast<long long>(g.known), static_cast<long long>(g.solved),
                      static_cast<long long>(g.hit), g.mean_excess);
        log(line);
      }
    }
  }

  nlohmann::ordered_json j;
  j["format"] = kAnalysisFormat;
  j["command"] = analysis_command_line(o);
  j["task"] = o.task;
  nlohmann::ordered_json variant_names = nlohmann::ordered_json::array();
  for (const auto& v : variants) variant_names.push_back(v.name);
  j["fusions"] = variant_names;
  j["defenses"] = o.defenses;
  j["methods"] = o.methods;
  j["samples"] = o.samples;
  j["seed"] = o.seed;
  j["device"] = device.str();
  const AttackOptions common = attack_options(o, o.methods.front());
  j["settings"] = {{"epochs", o.train.epochs},
                   {"batch_size", o.train.batch_size},
                   {"learning_rate", o.train.learning_rate},
                   {"patience", o.train.patience},
                   {"train_size", o.data.train_size},
                   {"val_size", o.data.val_size},
                   {"test_size", o.data.test_size},
                   {"split attacked", "test"},
                   {"objective", objective_name(common.objective)},
                   {"budget", o.budget},
                   {"success", success_criterion_name(o.success)},
                   {"garment_share", o.oracle.garment_share},
                   {"granularity", granularity_name(common.granularity)},
                   {"patch", common.patch},
                   {"top_k", common.top_k},
                   {"text_removal", text_removal_name(common.text_removal)},
                   {"attack_batch_size", o.attack_batch_size},
                   {"max_queries", common.max_queries},
                   {"gallery_items_per_run", o.gallery},
                   {"threads", torch::get_num_threads()}};
  j["versions"] = software_versions();
  j["models"] = std::move(models);
  j["runs"] = std::move(runs);
  j["timings"] = {{"training_seconds", training_seconds},
                  {"attack_seconds", attack_seconds},
                  {"total_seconds", seconds_since(started)}};
  write_file_atomically((root / "summary.json").string(), j.dump(2) + "\n");
  result.report = write_report(result.out);
  result.seconds = seconds_since(started);
  return result;
}

}  // namespace muroan
