// A model to measure and the samples to measure it on, from either source:
//   * a checkpoint directory written by `muroan train` (a built-in model); its
//     data is a split of its task: "train", "val" or "test" (default "test");
//   * a TorchScript manifest.json (bring your own model, DESIGN.md section 5); its
//     data is a samples.jsonl file (default: samples.jsonl beside the manifest).
//
//   muroan::ModelAndData md = muroan::load_model_and_data("byom/manifest.json", "", device);
//   double acc = muroan::accuracy(*md.model, md.data.inputs, md.data.labels);
#pragma once

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>

#include "muroan/classifier.h"
#include "muroan/sample_data.h"
#include "muroan/vocabulary.h"

namespace muroan {

struct ModelAndData {
  std::unique_ptr<Classifier> model;
  SampleData data;          // inputs on the CPU
  std::string data_source;  // for people: "fashion-match test split", or the samples.jsonl path
  std::string task;         // a checkpoint's built-in task (its oracle: task_oracle.h); empty for a manifest
  Vocabulary vocab;         // a checkpoint's vocabulary (empty for a manifest)
  std::map<std::string, int64_t> word_ids;  // word -> token id, where known (checkpoint, manifest "vocab")
  std::vector<int64_t> protected_tokens;    // the manifest's protected_tokens
  std::vector<std::string> model_files;     // what the model was loaded from (for file_fingerprint)
};

// Where the model and its samples come from: a checkpoint directory (data: a
// split name of its task, default test) or a TorchScript manifest (data: a
// samples.jsonl, default the one beside the manifest).
struct ModelSourceOptions {
  std::string checkpoint;
  std::string manifest;
  std::string data;
  std::string device = "auto";  // auto, cpu or cuda (device.h)
  std::string cache_dir = ".muroan-cache";
  // The path given, whichever field it came through; throws UsageError
  // "checkpoint, manifest: ..." unless exactly one of them is set.
  const std::string& model_path() const;
};

// Whether `path` names a manifest (a .json file) rather than a checkpoint directory.
bool is_manifest_path(const std::string& path);

// Loads the model at `model_path` on `device` and its data (see above; `data`
// empty: the default). `cache_dir` is where built-in task data is cached.
// Throws InputError / UsageError naming the file and field on any problem.
ModelAndData load_model_and_data(const std::string& model_path, const std::string& data, const torch::Device& device,
                                 const std::string& cache_dir = ".muroan-cache");
// The same for a source's model and data, on `device` (resolved by the caller
// from options.device).
ModelAndData load_model_and_data(const ModelSourceOptions& options, const torch::Device& device);

}  // namespace muroan
