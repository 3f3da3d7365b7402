// The report of a result folder: report.html (one self-contained offline page:
// inline CSS and SVG, images as data URIs, no script, no network) and
// tables/*.csv, both rendered from the folder's JSON files only, so that
// `muroan analyze` and `muroan report DIR` give the same page.
//
//   muroan::write_gallery("out/runs/gmu/greedy", model, data, vocab.words());  // at measurement time
//   std::string page = muroan::write_report("out");                           // -> out/report.html
//
// A result folder is either
//   * an analysis (`muroan analyze`): DIR/summary.json ("format": "muroan-analysis/1",
//     see below) naming its runs, each a run folder under DIR/runs/<fusion>/<method>/;
//   * one run folder (`muroan attack --out DIR`): DIR/run.json, DIR/results.jsonl
//     (DIR/summary.json is not needed: the report summarises the records itself).
// A run folder may hold gallery.json ("format": "muroan-gallery/1"): a few
// successful attacks with what a person needs to see them (the original and
// decoupled images as PNG data URIs, the words with the deleted ones marked, the
// decisions with confidences). It is written when the model and samples are at
// hand (write_gallery), because the report never loads a model.
//
// The analysis summary.json: format, command, task, fusions [names], methods
// [names], samples, seed, device, settings {...}, versions {...},
// models [{fusion, checkpoint, reused, test_accuracy, test_samples, parameters,
// best_epoch, training_seconds}], runs [{fusion, method, dir, seconds, resumed,
// gallery_items, summary (summary_to_json)}], timings {training_seconds (all
// models, reused ones included), attack_seconds (sum of the records' seconds),
// total_seconds (wall clock of the command's last invocation)}. The report
// reads the runs' own files for its numbers; "summary" is there for scripts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "muroan/classifier.h"
#include "muroan/sample_data.h"

namespace muroan {

constexpr const char* kAnalysisFormat = "muroan-analysis/1";
constexpr const char* kGalleryFormat = "muroan-gallery/1";
// Successful samples kept per run in gallery.json by default.
constexpr int64_t kGalleryItemsPerRun = 3;

// Writes RUN_DIR/gallery.json for the run in RUN_DIR (run.json, results.jsonl)
// measured on `model` over `data` (the samples the run attacked, indexed by
// the records' index; ids must match). Picks up to `max_items` successful
// records, smallest decoupling rate first and different modality mixes first,
// rebuilds each x_S with InputSpace::apply and keeps it only when the model
// still makes the recorded decision. `vocabulary` (words by id) names tokens;
// empty: the record's text when it has one word per token, else "#id".
// Returns the number of items written. Throws InputError for unreadable files or
// samples that do not match the records.
int64_t write_gallery(const std::string& run_dir, Classifier& model, const SampleData& data,
                      const std::vector<std::string>& vocabulary, int64_t max_items = kGalleryItemsPerRun);

// Whether DIR holds the summary.json of an analysis (analysis.h), i.e. one
// readable JSON object of format kAnalysisFormat.
bool is_analysis_folder(const std::string& dir);

// Renders DIR/report.html and DIR/tables/*.csv (overview.csv, runs.csv,
// found_sizes.csv, timings.csv) from the result folder DIR; returns the path
// of report.html. Deterministic: the same files give the same bytes. Throws
// InputError naming the file when DIR is not a result folder or a file is
// malformed.
std::string write_report(const std::string& result_dir);

}  // namespace muroan
