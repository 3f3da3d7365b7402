#include "muroan/model_source.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "muroan/checkpoint.h"
#include "muroan/error.h"
#include "muroan/tokenizer.h"
#include "muroan/torchscript_model.h"

namespace fs = std::filesystem;

namespace muroan {
namespace {

constexpr const char* kDefaultSamples = "samples.jsonl";
constexpr const char* kDefaultSplit = "test";

}  // namespace

const std::string& ModelSourceOptions::model_path() const {
  if (checkpoint.empty() == manifest.empty())
    throw UsageError(
        "checkpoint, manifest: give exactly one: a checkpoint directory (a built-in model) or a manifest.json "
        "(TorchScript)");
  return checkpoint.empty() ? manifest : checkpoint;
}

ModelAndData load_model_and_data(const ModelSourceOptions& o, const torch::Device& device) {
  return load_model_and_data(o.model_path(), o.data, device, o.cache_dir);
}

bool is_manifest_path(const std::string& path) {
  std::error_code ec;
  return fs::path(path).extension() == ".json" && !fs::is_directory(path, ec);
}

ModelAndData load_model_and_data(const std::string& model_path, const std::string& data, const torch::Device& device,
                                 const std::string& cache_dir) {
  ModelAndData out;
  if (is_manifest_path(model_path)) {
    auto model = load_torchscript_model(model_path, device);
    const std::string samples = data.empty() ? (fs::path(model_path).parent_path() / kDefaultSamples).string() : data;
    const Manifest manifest = load_manifest(model_path);
    out.data = load_samples(samples, model->modalities(), model->classes(), manifest.fields);
    out.data_source = samples;
    out.word_ids = manifest.word_ids;
    out.model_files = {model_path, manifest.model_path};
    if (!manifest.truth_path.empty()) out.model_files.push_back(manifest.truth_path);  // it judges the records
    for (const auto& spec : model->modalities())  // a new vocabulary changes the inputs
      if (spec.tokenizer) out.model_files.push_back(spec.tokenizer->describe().at("file").get<std::string>());
    out.protected_tokens = manifest.protected_tokens;
    out.model = std::move(model);
    return out;
  }
  const std::string split = data.empty() ? kDefaultSplit : data;
  if (split != "train" && split != "val" && split != "test")
    throw UsageError("the data of a checkpoint is a split of its task (train, val or test), got '" + split + "'");
  Checkpoint ck = load_checkpoint(model_path, device);
  TaskOptions options = ck.task_options;
  options.cache_dir = cache_dir;
  TaskData task = load_task(ck.task, options);
  out.data = split == "train" ? std::move(task.train) : split == "val" ? std::move(task.val) : std::move(task.test);
  out.data_source = ck.task + " " + split + " split";
  out.task = ck.task;
  out.model_files = {(fs::path(model_path) / "checkpoint.json").string(),
                     (fs::path(model_path) / "weights.pt").string()};
  out.vocab = ck.vocab;
  for (int64_t id = 0; id < ck.vocab.size(); ++id) out.word_ids.emplace(ck.vocab.word(id), id);
  out.model = make_classifier(ck, device);
  return out;
}

}  // namespace muroan
