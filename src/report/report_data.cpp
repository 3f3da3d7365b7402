// Reading a result folder into a ReportData: everything the page shows comes
// from these files, never from the memory of the run that wrote them.
#include "report_data.h"

#include <algorithm>
#include <filesystem>

#include "muroan/error.h"
#include "muroan/json_file.h"
#include "muroan/json_value.h"
#include "muroan/report.h"

namespace muroan::report {
namespace {

namespace fs = std::filesystem;

nlohmann::ordered_json read_json(const fs::path& path) { return read_ordered_json_file(path.string()); }

RunView load_run(const fs::path& root, const std::string& rel_dir, const std::string& fusion) {
  const fs::path dir = root / rel_dir;
  const fs::path run_path = dir / "run.json";
  const fs::path results_path = dir / "results.jsonl";
  const auto run = read_json(run_path);
  if (json_field_or<std::string>(run, "format", run_path.string(), "") != kRunFormat)
    throw InputError(run_path.string() + ": format", std::string("expected \"") + kRunFormat + "\"");
  RunView v;
  v.dir = rel_dir;
  v.model = json_field<std::string>(run, "model", run_path.string());
  v.method = json_field<std::string>(run, "method", run_path.string());
  v.fusion = fusion.empty() ? v.model : fusion;
  AttackOptions options;
  try {
    options = attack_options_from_json(run.value("options", nlohmann::ordered_json::object()));
  } catch (const Error& e) {
    throw InputError(run_path.string() + ": options", e.what());
  }
  if (!fs::exists(results_path)) throw InputError(results_path.string(), "missing");
  const auto records = read_records(results_path.string());
  v.summary = summarize(records, v.model, options,
                        run.contains("oracle") && run["oracle"].is_string() ? run["oracle"].get<std::string>() : "");
  for (const auto& r : records) {
    v.attack_seconds += r.seconds;
    // The headline successes: fooled where an oracle judged, else any flip.
    const bool counted = v.summary.has_fooled() ? r.success_class == SuccessClass::kFooled : r.flipped;
    if (r.attacked && counted && r.decoupling_rate) v.success_rates.push_back(*r.decoupling_rate);
  }
  std::sort(v.success_rates.begin(), v.success_rates.end());

  const fs::path gallery_path = dir / "gallery.json";
  if (fs::exists(gallery_path)) {
    const auto g = read_json(gallery_path);
    if (json_field_or<std::string>(g, "format", gallery_path.string(), "") != kGalleryFormat)
      throw InputError(gallery_path.string() + ": format", std::string("expected \"") + kGalleryFormat + "\"");
    v.classes = json_field_or<std::vector<std::string>>(g, "classes", gallery_path.string(), {});
    const auto items = g.value("items", nlohmann::ordered_json::array());
    if (!items.is_array()) throw InputError(gallery_path.string() + ": items", "expected an array");
    v.gallery = items;
  }
  return v;
}

void add_unique(std::vector<std::string>& list, const std::string& name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
}

ReportData load_analysis(const fs::path& root, const nlohmann::ordered_json& j) {
  const std::string where = (root / "summary.json").string();
  ReportData d;
  d.analysis = true;
  d.task = json_field<std::string>(j, "task", where);
  d.command = json_field_or<std::string>(j, "command", where, "");
  d.device = json_field_or<std::string>(j, "device", where, "");
  d.seed = json_field_or<uint64_t>(j, "seed", where, 0);
  d.samples = json_field_or<int64_t>(j, "samples", where, 0);
  d.fusions = json_field_or<std::vector<std::string>>(j, "fusions", where, {});
  d.methods = json_field_or<std::vector<std::string>>(j, "methods", where, {});
  d.settings = j.value("settings", nlohmann::ordered_json::object());
  d.versions = j.value("versions", nlohmann::ordered_json::object());
  d.timings = j.value("timings", nlohmann::ordered_json::object());
  d.title = "Fusion robustness on " + d.task;
  for (const auto& m : j.value("models", nlohmann::ordered_json::array())) {
    ModelView mv;
    mv.fusion = json_field<std::string>(m, "fusion", where + ": models");
    mv.checkpoint = json_field_or<std::string>(m, "checkpoint", where, "");
    mv.reused = json_field_or<bool>(m, "reused", where, false);
    if (m.contains("test_accuracy") && m["test_accuracy"].is_number())
      mv.test_accuracy = m["test_accuracy"].get<double>();
    mv.test_samples = json_field_or<int64_t>(m, "test_samples", where, 0);
    mv.parameters = json_field_or<int64_t>(m, "parameters", where, 0);
    mv.best_epoch = json_field_or<int64_t>(m, "best_epoch", where, 0);
    mv.training_seconds = json_field_or<double>(m, "training_seconds", where, 0.0);
    add_unique(d.fusions, mv.fusion);
    d.models.push_back(mv);
  }
  const auto runs = j.value("runs", nlohmann::ordered_json::array());
  if (!runs.is_array()) throw InputError(where + ": runs", "expected an array");
  for (const auto& r : runs) {
    const auto fusion = json_field<std::string>(r, "fusion", where + ": runs");
    const auto dir = json_field<std::string>(r, "dir", where + ": runs");
    RunView v = load_run(root, dir, fusion);
    if (r.contains("optimality")) {
      const auto& g = r["optimality"];
      const std::string at = where + ": runs: optimality";
      OptimalityGap gap;
      gap.known = json_field<int64_t>(g, "known_minimum", at);
      gap.solved = json_field<int64_t>(g, "solved", at);
      gap.hit = json_field<int64_t>(g, "hit_minimum", at);
      gap.mean_excess = json_field<double>(g, "mean_excess_points", at);
      v.optimality = gap;
    }
    add_unique(d.fusions, v.fusion);
    add_unique(d.methods, v.method);
    d.runs.push_back(std::move(v));
  }
  return d;
}

ReportData load_single_run(const fs::path& root) {
  ReportData d;
  RunView v = load_run(root, ".", "");
  d.title = v.model + " under " + v.method;
  d.seed = v.summary.options.seed;
  d.samples = v.summary.samples;
  d.fusions = {v.fusion};
  d.methods = {v.method};
  d.settings = attack_options_to_json(v.summary.options);
  const fs::path summary_path = root / "summary.json";
  if (fs::exists(summary_path))
    d.versions = read_json(summary_path).value("versions", nlohmann::ordered_json::object());
  d.timings = {{"attack_seconds", v.attack_seconds}};
  d.runs.push_back(std::move(v));
  return d;
}

}  // namespace

double RunView::asr_at(double budget) const {
  if (summary.attacked <= 0) return 0.0;
  const auto within =
      std::upper_bound(success_rates.begin(), success_rates.end(), budget + 1e-12) - success_rates.begin();
  return static_cast<double>(within) / static_cast<double>(summary.attacked);
}

const RunView* ReportData::find_run(const std::string& fusion, const std::string& method) const {
  for (const auto& r : runs)
    if (r.fusion == fusion && r.method == method) return &r;
  return nullptr;
}

const ModelView* ReportData::find_model(const std::string& fusion) const {
  for (const auto& m : models)
    if (m.fusion == fusion) return &m;
  return nullptr;
}

}  // namespace muroan::report

namespace muroan {

bool is_analysis_folder(const std::string& dir) {
  const std::filesystem::path summary_path = std::filesystem::path(dir) / "summary.json";
  if (!std::filesystem::exists(summary_path)) return false;
  try {
    const auto j = read_ordered_json_file(summary_path.string());
    return j.is_object() && j.value("format", "") == kAnalysisFormat;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace muroan

namespace muroan::report {

ReportData load_report_data(const std::string& dir) {
  const fs::path root(dir);
  if (!fs::is_directory(root)) throw InputError(dir, "not a directory");
  const fs::path summary_path = root / "summary.json";
  if (fs::exists(summary_path)) {
    const auto j = read_json(summary_path);
    if (j.is_object() && j.value("format", "") == kAnalysisFormat) return load_analysis(root, j);
  }
  if (fs::exists(root / "run.json")) return load_single_run(root);
  throw InputError(dir, std::string("not a result folder: expected summary.json of `muroan analyze` (\"format\": \"") +
                            kAnalysisFormat + "\") or run.json and results.jsonl of `muroan attack --out`");
}

}  // namespace muroan::report
