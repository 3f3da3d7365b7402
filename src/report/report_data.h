// Private: what a report shows, read from a result folder's JSON files (see
// include/muroan/report.h for the two kinds of folder).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "muroan/measurement.h"
#include "muroan/optimality.h"

namespace muroan::report {

// One attack method measured on one model: a run folder.
struct RunView {
  std::string fusion;  // the row group: the fusion of an analysis, the model name of a single run
  std::string method;
  std::string model;
  std::string dir;                    // relative to the result folder ("." for a single run)
  MeasurementSummary summary;         // summarize() over results.jsonl
  std::vector<double> success_rates;  // decoupling rates of the successes, ascending
  double attack_seconds = 0;          // sum of the records' seconds
  nlohmann::ordered_json gallery = nlohmann::ordered_json::array();  // gallery.json items
  std::vector<std::string> classes;                                  // from gallery.json; may be empty
  std::optional<OptimalityGap> optimality;  // against the exact method's run on the same model, if any

  // Share of correctly classified samples flipped with a decoupling rate <= budget.
  double asr_at(double budget) const;
};

// A model trained (or reused) by an analysis.
struct ModelView {
  std::string fusion;
  std::string checkpoint;
  bool reused = false;
  std::optional<double> test_accuracy;
  int64_t test_samples = 0;
  int64_t parameters = 0;
  int64_t best_epoch = 0;
  double training_seconds = 0;
};

struct ReportData {
  bool analysis = false;  // false: one `muroan attack` run folder
  std::string title;
  std::string task;
  std::string command;
  std::string device;
  uint64_t seed = 0;
  int64_t samples = 0;               // samples asked for per run
  std::vector<std::string> fusions;  // in the order of the analysis
  std::vector<std::string> methods;
  std::vector<ModelView> models;
  std::vector<RunView> runs;
  nlohmann::ordered_json settings = nlohmann::ordered_json::object();
  nlohmann::ordered_json versions = nlohmann::ordered_json::object();
  nlohmann::ordered_json timings = nlohmann::ordered_json::object();

  const RunView* find_run(const std::string& fusion, const std::string& method) const;
  const ModelView* find_model(const std::string& fusion) const;
};

// Reads DIR; throws InputError naming the file when something is missing or malformed.
ReportData load_report_data(const std::string& dir);

}  // namespace muroan::report
