// `muroan analyze`: the one-command answer to "how robust is multimodal fusion,
// and which fusion breaks first?". Trains (or reuses) each fusion of the zoo on
// a task, attacks each with each method, and writes a result folder:
//
//   OUT/summary.json                      everything: settings, seed, versions, timings, per run summaries
//   OUT/checkpoints/<fusion>/             checkpoint.json + weights.pt (reused when the settings match)
//   OUT/runs/<fusion>/<method>/           run.json, results.jsonl (per sample), summary.json, gallery.json
//   OUT/tables/*.csv                      overview, runs, found_sizes, timings
//   OUT/report.html                       one self-contained page (muroan report OUT renders it again)
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <map>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli_app.h"
#include "cli_options.h"
#include "commands.h"
#include "muroan/files.h"
#include "muroan/version.h"
#include "muroan/attack.h"
#include "muroan/checkpoint.h"
#include "muroan/device.h"
#include "muroan/defense.h"
#include "muroan/optimality.h"
#include "muroan/error.h"
#include "muroan/fusion.h"
#include "muroan/measurement.h"
#include "muroan/progress.h"
#include "muroan/report.h"
#include "muroan/task.h"
#include "muroan/task_oracle.h"

namespace muroan::cli {
namespace {

namespace fs = std::filesystem;

// A comma-separated list of known names, without repeats; throws UsageError.
std::vector<std::string> parse_names(const std::string& option, const std::string& list,
                                     const std::vector<std::string>& known) {
  std::string known_text;
  for (const auto& k : known) known_text += (known_text.empty() ? "" : ", ") + k;
  const auto items = split_list(list);
  if (items.empty()) throw UsageError(option + ": give at least one name (known: " + known_text + ")");
  for (size_t i = 0; i < items.size(); ++i) {
    if (std::find(known.begin(), known.end(), items[i]) == known.end())
      throw UsageError(option + ": unknown name '" + items[i] + "' (known: " + known_text + ")");
    if (std::find(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(i), items[i]) !=
        items.begin() + static_cast<std::ptrdiff_t>(i))
      throw UsageError(option + ": '" + items[i] + "' is listed twice");
  }
  return items;
}

AttackOptions attack_options(const AnalyzeCommand& o, const std::string& method) {
  AttackOptions a;
  a.method = method;
  a.budget = o.budget;
  a.seed = o.seed;
  a.batch_size = o.attack_batch_size;
  a.success = parse_success_criterion(o.success);
  return a;
}

// Whether OUT/checkpoints/<fusion> was trained with these settings.
bool checkpoint_matches(const fs::path& dir, const AnalyzeCommand& o, const std::string& fusion,
                        const std::string& defense) {
  std::ifstream in(dir / "checkpoint.json");
  if (!in || !fs::exists(dir / "weights.pt")) return false;
  try {
    const auto j = nlohmann::json::parse(in);
    const auto& t = j.at("task_options");
    const auto& tr = j.at("training");
    return j.at("task") == o.task && j.at("model").at("fusion") == fusion && t.at("seed") == o.seed &&
           t.at("train_size") == o.train_size && t.at("val_size") == o.val_size && t.at("test_size") == o.test_size &&
           tr.at("epochs_max") == o.epochs && tr.at("batch_size") == o.batch_size &&
           tr.at("learning_rate") == o.learning_rate && tr.at("patience") == o.patience && tr.at("seed") == o.seed &&
           tr.at("defense").at("name") == defense;
  } catch (const nlohmann::json::exception&) {
    return false;  // unreadable: train again
  }
}

std::string command_line(const AnalyzeCommand& o, const std::string& out) {
  std::ostringstream s;
  s << "muroan analyze --task " << o.task << " --fusions " << o.fusions << " --defenses " << o.defenses
    << " --methods " << o.methods << " --samples "
    << o.samples << " --epochs " << o.epochs << " --seed " << o.seed;
  const AnalyzeCommand d;
  if (o.batch_size != d.batch_size) s << " --batch-size " << o.batch_size;
  if (o.learning_rate != d.learning_rate) s << " --lr " << o.learning_rate;
  if (o.patience != d.patience) s << " --patience " << o.patience;
  if (o.train_size) s << " --train-size " << o.train_size;
  if (o.val_size) s << " --val-size " << o.val_size;
  if (o.test_size) s << " --test-size " << o.test_size;
  if (o.budget != d.budget) s << " --budget " << o.budget;
  if (o.success != d.success) s << " --success " << o.success;
  if (o.garment_share != d.garment_share) s << " --garment-share " << o.garment_share;
  if (o.attack_batch_size != d.attack_batch_size) s << " --attack-batch-size " << o.attack_batch_size;
  if (o.gallery != d.gallery) s << " --gallery " << o.gallery;
  if (o.device != d.device) s << " --device " << o.device;
  s << " --out " << out;
  return s.str();
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int run_analyze(const AnalyzeCommand& o) {
  const auto started = std::chrono::steady_clock::now();
  // Every name and value is checked before any work.
  std::vector<std::string> task_names, fusion_names, method_names;
  for (const auto& t : task_catalog()) task_names.push_back(t.name);
  for (const auto& f : fusion_catalog()) fusion_names.push_back(f.name);
  for (const auto& m : attack_catalog()) method_names.push_back(m.name);
  parse_names("--task", o.task, task_names);
  if (split_list(o.task).size() != 1) throw UsageError("--task: give one task");
  const auto fusions = parse_names("--fusions", o.fusions, fusion_names);
  const auto methods = parse_names("--methods", o.methods, method_names);
  std::vector<std::string> defense_names;
  for (const auto kind : {DefenseKind::kNone, DefenseKind::kPgdAt, DefenseKind::kAblation, DefenseKind::kDecouplingAt})
    defense_names.push_back(defense_name(kind));
  const auto defenses = parse_names("--defenses", o.defenses, defense_names);
  // A model of the analysis: a fusion trained with a defense, named
  // "<fusion>" without one and "<fusion>+<defense>" with one.
  struct Variant {
    std::string name, fusion, defense;
  };
  std::vector<Variant> variants;
  for (const auto& f : fusions)
    for (const auto& d : defenses) variants.push_back({d == "none" ? f : f + "+" + d, f, d});
  if (o.samples < 0) throw UsageError("--samples must be >= 0 (0: the whole test split)");
  if (o.epochs <= 0) throw UsageError("--epochs must be positive");
  if (o.batch_size <= 0) throw UsageError("--batch-size must be positive");
  if (!(o.learning_rate > 0)) throw UsageError("--lr must be positive");
  if (o.train_size < 0 || o.val_size < 0 || o.test_size < 0)
    throw UsageError("--train-size, --val-size and --test-size must be >= 0 (0: the task's default)");
  if (o.gallery < 0) throw UsageError("--gallery must be >= 0");
  for (const auto& m : methods) validate_attack_options(attack_options(o, m));
  const torch::Device device = resolve_device(o.device);
  const std::string out = o.out.empty() ? "runs/analyze-" + o.task : o.out;
  const fs::path root(out);
  fs::create_directories(root);

  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  double training_seconds = 0, attack_seconds = 0;
  const size_t total_runs = variants.size() * methods.size();
  size_t run_number = 0;
  std::string worst_line, worst_name;
  double worst_asr = -1;

  for (const auto& variant : variants) {
    const std::string& fusion = variant.name;  // the model's name in every file and table
    const fs::path ck_dir = root / "checkpoints" / fusion;
    const bool reuse = !o.retrain && checkpoint_matches(ck_dir, o, variant.fusion, variant.defense);
    if (!reuse) {
      fs::remove_all(root / "runs" / fusion);  // results of another model must not be resumed
      TrainCommand t;
      t.task = o.task;
      t.fusion = variant.fusion;
      t.defense = variant.defense;
      t.epochs = o.epochs;
      t.batch_size = o.batch_size;
      t.learning_rate = o.learning_rate;
      t.patience = o.patience;
      t.seed = o.seed;
      t.device = o.device;
      t.out = ck_dir.string();
      t.train_size = o.train_size;
      t.val_size = o.val_size;
      t.test_size = o.test_size;
      t.cache_dir = o.cache_dir;
      t.quiet = o.quiet;
      if (const int rc = run_train(t); rc != kExitOk) return rc;
    }
    Checkpoint ck = load_checkpoint(ck_dir.string(), device);
    const auto& tr = ck.training;
    const double train_secs = tr.value("seconds", 0.0);
    if (reuse)
      std::printf("%s/%s: reusing %s (test accuracy %.4f, trained in %s)\n", o.task.c_str(), fusion.c_str(),
                  ck_dir.string().c_str(), tr.value("test_accuracy", 0.0), format_duration(train_secs).c_str());
    training_seconds += train_secs;  // the time the results shown cost, reused or not
    models.push_back({{"fusion", fusion},
                      {"defense", variant.defense},
                      {"checkpoint", fs::path("checkpoints") / fusion},
                      {"reused", reuse},
                      {"test_accuracy", tr.value("test_accuracy", 0.0)},
                      {"test_samples", tr.value("test_samples", 0)},
                      {"parameters", tr.value("parameters", 0)},
                      {"best_epoch", tr.value("best_epoch", 0)},
                      {"training_seconds", train_secs}});

    auto model = make_classifier(ck, device);
    TaskOptions task_options = ck.task_options;
    task_options.cache_dir = o.cache_dir;
    const TaskData data = load_task(ck.task, task_options);
    OracleOptions oracle_options;
    oracle_options.garment_share = o.garment_share;
    const auto oracle = make_task_oracle(ck.task, ck.vocab, oracle_options);
    const std::string model_fingerprint =
        file_fingerprint({(ck_dir / "checkpoint.json").string(), (ck_dir / "weights.pt").string()});
    std::map<std::string, std::vector<SampleRecord>> records_of;  // this model's runs, for the optimality gap
    std::map<std::string, size_t> run_index;
    for (const auto& method : methods) {
      ++run_number;
      const fs::path rel = fs::path("runs") / fusion / method;
      const fs::path run_dir = root / rel;
      const AttackOptions a = attack_options(o, method);
      MeasurementOptions m;
      m.out_dir = run_dir.string();
      m.limit = o.samples;
      m.batch = o.attack_batch_size;
      m.quiet = o.quiet;
      m.oracle = oracle.get();
      m.model_fingerprint = model_fingerprint;
      // The measurement's own resume rule, and no more records than samples asked for now.
      // An unreadable earlier folder is started over, as a mismatching one is.
      try {
        m.resume = resume_mismatch(*model, data.test.inputs, data.test.labels, data.test.ids, a, m).empty() &&
                   (o.samples == 0 ||
                    static_cast<int64_t>(read_records((run_dir / "results.jsonl").string()).size()) <= o.samples);
      } catch (const Error&) {
        m.resume = false;
      }
      const auto run_started = std::chrono::steady_clock::now();
      MeasurementResult r;
      {
        r = run_measurement(*model, data.test.inputs, data.test.labels, data.test.ids, data.test.texts, a, m);
      }
      const int64_t shown = o.gallery > 0 ? write_gallery(run_dir.string(), *model, data.test, ck.vocab.words(), o.gallery) : 0;
      if (o.gallery == 0) fs::remove(run_dir / "gallery.json");
      const double secs = seconds_since(run_started);
      double record_secs = 0;
      for (const auto& rec : r.records) record_secs += rec.seconds;
      attack_seconds += record_secs;
      const auto& s = r.summary;
      char head[256];
      const Interval ci = s.headline_ci();
      std::snprintf(head, sizeof head, "[%zu/%zu] %s/%s: %s %.1f%% [%.1f-%.1f%%] (%lld of %lld)", run_number,
                    total_runs, fusion.c_str(), method.c_str(), s.headline_name(), 100.0 * s.headline_asr(),
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
      std::printf("%s -> %s\n", line.c_str(), run_dir.string().c_str());
      std::fflush(stdout);
      for (const auto& w : s.warnings) std::printf("  warning: %s\n", w.c_str());
      if (s.decoupling && s.headline_asr() > worst_asr) {
        worst_asr = s.headline_asr();
        worst_name = s.headline_name();
        worst_line = fusion + " (" + method + ")";
      }
      if (s.decoupling) records_of[method] = r.records;
      run_index[method] = runs.size();
      runs.push_back({{"fusion", fusion},
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
        runs[run_index.at(method)]["optimality"] = {
            {"known_minimum", g.known}, {"solved", g.solved}, {"hit_minimum", g.hit}, {"mean_excess_points", g.mean_excess}};
        std::printf("  %s/%s: minimum known for %lld samples; solved %lld, with the minimum %lld, mean excess %.2f points\n",
                    fusion.c_str(), method.c_str(), static_cast<long long>(g.known), static_cast<long long>(g.solved),
                    static_cast<long long>(g.hit), g.mean_excess);
      }
    }
  }

  nlohmann::ordered_json j;
  j["format"] = kAnalysisFormat;
  j["command"] = command_line(o, out);
  j["task"] = o.task;
  nlohmann::ordered_json variant_names = nlohmann::ordered_json::array();
  for (const auto& v : variants) variant_names.push_back(v.name);
  j["fusions"] = variant_names;
  j["defenses"] = defenses;
  j["methods"] = methods;
  j["samples"] = o.samples;
  j["seed"] = o.seed;
  j["device"] = device.str();
  const AttackOptions common = attack_options(o, methods.front());
  j["settings"] = {{"epochs", o.epochs},
                   {"batch_size", o.batch_size},
                   {"learning_rate", o.learning_rate},
                   {"patience", o.patience},
                   {"train_size", o.train_size},
                   {"val_size", o.val_size},
                   {"test_size", o.test_size},
                   {"split attacked", "test"},
                   {"objective", objective_name(common.objective)},
                   {"budget", o.budget},
                   {"success", o.success},
                   {"garment_share", o.garment_share},
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
  {
    write_file_atomically((root / "summary.json").string(), j.dump(2) + "\n");
  }
  const std::string page = write_report(out);
  if (worst_asr >= 0)
    std::printf("weakest: %s, %s %.1f%%; report: %s (%s)\n", worst_line.c_str(), worst_name.c_str(),
                100.0 * worst_asr, page.c_str(),
                format_duration(seconds_since(started)).c_str());
  else
    std::printf("report: %s (%s)\n", page.c_str(), format_duration(seconds_since(started)).c_str());
  return kExitOk;
}

void register_analyze(CLI::App& app, Action& action) {
  auto o = std::make_shared<AnalyzeCommand>();
  auto* cmd = app.add_subcommand(
      "analyze", "Train the fusion zoo on a task, attack every model, write a result folder and report.html");
  cmd->add_option("--task", o->task, "Built-in task (muroan tasks)")->capture_default_str();
  cmd->add_option("--fusions", o->fusions, "Comma-separated fusions (muroan models)")->capture_default_str();
  cmd->add_option("--defenses", o->defenses,
                  "Comma-separated defenses to train each fusion with (none, pgd-at, ablation, decoupling-at; "
                  "their default settings, see muroan train --help)")
      ->capture_default_str();
  cmd->add_option("--methods", o->methods, "Comma-separated attacks (see muroan attack --help)")->capture_default_str();
  cmd->add_option("--samples", o->samples, "Test samples attacked per model, the first N (0: all)")->capture_default_str();
  cmd->add_option("--out", o->out, "Result folder (default runs/analyze-<task>)");
  cmd->add_option("--epochs", o->epochs, "Maximum training epochs")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Training batch size")->capture_default_str();
  cmd->add_option("--lr", o->learning_rate, "Adam learning rate")->capture_default_str();
  cmd->add_option("--patience", o->patience, "Early stopping patience (epochs)")->capture_default_str();
  cmd->add_option("--train-size", o->train_size, "Training samples (0: the task's default)")->capture_default_str();
  cmd->add_option("--val-size", o->val_size, "Validation samples (0: default)")->capture_default_str();
  cmd->add_option("--test-size", o->test_size, "Test samples (0: default)")->capture_default_str();
  cmd->add_option("--budget", o->budget, "Largest decoupling rate |S|/N an attack may use, in (0,1]")
      ->capture_default_str();
  cmd->add_option("--success", o->success,
                  "fooled (the decision changed, the task's oracle says the truth did not), flip (any change, "
                  "as the paper counts) or auto (fooled where the task has an oracle)")
      ->capture_default_str();
  cmd->add_option("--garment-share", o->garment_share,
                  "fashion-match oracle: share of the garment's pixels whose decoupling makes x_S undefined")
      ->capture_default_str();
  cmd->add_option("--attack-batch-size", o->attack_batch_size, "Rows per forward pass of the attacks")
      ->capture_default_str();
  cmd->add_option("--gallery", o->gallery, "Successful samples per run kept for the report's gallery")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the data, training and attacks")->capture_default_str();
  cmd->add_option("--device", o->device, "auto, cpu or cuda")->capture_default_str();
  cmd->add_option("--cache-dir", o->cache_dir, "Where generated task data is cached")->capture_default_str();
  cmd->add_flag("--retrain", o->retrain, "Train again even when OUT/checkpoints holds a matching checkpoint");
  cmd->add_flag("--quiet", o->quiet, "No progress bars (one line per finished step)");
  cmd->callback([&action, o] { action = [o] { return run_analyze(*o); }; });
}

}  // namespace muroan::cli
