// `muroan export-data`: a split of a built-in task in the bring-your-own-model
// data format, with a description for training scripts.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "muroan/checkpoint.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/sample_data.h"

namespace fs = std::filesystem;

namespace muroan {
namespace {

constexpr const char* kDescriptionFile = "task.json";

}  // namespace

int64_t export_task_split(const TaskData& task, const std::string& split_name, int64_t max_samples,
                          const std::string& dir) {
  const Split* split = split_name == "train"  ? &task.train
                       : split_name == "val"  ? &task.val
                       : split_name == "test" ? &task.test
                                              : nullptr;
  if (!split) throw UsageError("unknown split '" + split_name + "' (expected train, val or test)");
  if (max_samples < 0) throw UsageError("the number of samples must not be negative");
  const int64_t n = max_samples > 0 ? std::min(max_samples, split->size()) : split->size();
  if (n == 0) throw UsageError("the " + split_name + " split of " + task.task + " is empty");

  SampleData subset;
  subset.inputs = slice_rows(split->inputs, 0, n);
  subset.labels = split->labels.slice(0, 0, n);
  subset.ids.assign(split->ids.begin(), split->ids.begin() + std::min<int64_t>(n, split->ids.size()));
  subset.texts.assign(split->texts.begin(), split->texts.begin() + std::min<int64_t>(n, split->texts.size()));
  save_samples(subset, task.modalities, dir);

  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& m : task.modalities) {
    inputs.push_back(modality_to_json(m));
    if (m.is_tokens() && m.vocab_size <= 0) inputs.back()["vocab_size"] = task.vocab.size();
  }
  const nlohmann::ordered_json description = {
      {"format", "muroan-export/1"},
      {"task", task.task},
      {"split", split_name},
      {"samples", n},
      {"inputs", inputs},
      {"classes", task.classes},
      {"vocabulary", task.vocab.words()},
  };
  const std::string path = (fs::path(dir) / kDescriptionFile).string();
  write_file_atomically(path, description.dump(2) + "\n");
  return n;
}

}  // namespace muroan
