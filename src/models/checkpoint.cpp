#include "muroan/checkpoint.h"
#include "muroan/files.h"
#include "muroan/version.h"

#include <torch/serialize.h>

#include <filesystem>

#include "muroan/error.h"
#include "muroan/json_file.h"
#include "muroan/json_value.h"
#include "muroan/tokenizer.h"

namespace fs = std::filesystem;

namespace muroan {
namespace {

constexpr const char* kConfigFile = "checkpoint.json";
constexpr const char* kWeightsFile = "weights.pt";

void write_text_atomically(const fs::path& path, const std::string& text) {
  write_file_atomically(path.string(), text);
}

}  // namespace

void save_checkpoint(const Checkpoint& ck, const std::string& dir) {
  const fs::path root(dir);
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) throw InputError(dir, "cannot create directory: " + ec.message());

  nlohmann::json modalities = nlohmann::json::array();
  for (const auto& m : ck.modalities) modalities.push_back(modality_to_json(m));
  const nlohmann::json j = {
      {"format", kCheckpointFormat},
      {"task", ck.task},
      {"task_options",
       {{"seed", ck.task_options.seed},
        {"train_size", ck.task_options.train_size},
        {"val_size", ck.task_options.val_size},
        {"test_size", ck.task_options.test_size}}},
      {"model", ck.config.to_json()},
      {"classes", ck.classes},
      {"modalities", modalities},
      {"vocabulary", ck.vocab.to_json()},
      {"training", ck.training.to_json()},
      {"versions", software_versions()},
  };
  const fs::path weights_tmp = root / (std::string(kWeightsFile) + ".tmp");
  torch::save(ck.net, weights_tmp.string());
  fs::rename(weights_tmp, root / kWeightsFile);
  write_text_atomically(root / kConfigFile, j.dump(2) + "\n");
}

namespace {

// DIR/checkpoint.json, its format checked.
nlohmann::json read_checkpoint_json(const std::string& dir) {
  const fs::path config_path = fs::path(dir) / kConfigFile;
  const std::string where = config_path.string();
  if (!fs::exists(config_path))
    throw InputError(where, "cannot open (is '" + dir + "' a directory written by `muroan train`?)");
  nlohmann::json j = read_json_file(where);
  if (json_field<std::string>(j, "format", where) != kCheckpointFormat)
    throw InputError(where + ": format", std::string("expected \"") + kCheckpointFormat + "\"");
  return j;
}

}  // namespace

TrainingRecord read_training_record(const std::string& dir) {
  const nlohmann::json j = read_checkpoint_json(dir);
  const std::string where = (fs::path(dir) / kConfigFile).string() + ": training";
  return j.contains("training") ? TrainingRecord::from_json(j.at("training"), where) : TrainingRecord{};
}

Checkpoint load_checkpoint(const std::string& dir, const torch::Device& device) {
  const fs::path config_path = fs::path(dir) / kConfigFile;
  const fs::path weights_path = fs::path(dir) / kWeightsFile;
  const std::string where = config_path.string();
  const nlohmann::json j = read_checkpoint_json(dir);

  Checkpoint ck;
  ck.task = json_field<std::string>(j, "task", where);
  const auto topts = json_field<nlohmann::json>(j, "task_options", where);
  ck.task_options.seed = json_field<uint64_t>(topts, "seed", where + ": task_options");
  ck.task_options.train_size = json_field<int64_t>(topts, "train_size", where + ": task_options");
  ck.task_options.val_size = json_field<int64_t>(topts, "val_size", where + ": task_options");
  ck.task_options.test_size = json_field<int64_t>(topts, "test_size", where + ": task_options");
  try {
    ck.config = ModelConfig::from_json(json_field<nlohmann::json>(j, "model", where));
    ck.vocab = Vocabulary::from_json(json_field<nlohmann::json>(j, "vocabulary", where));
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(where, e.what());
  }
  ck.classes = json_field<std::vector<std::string>>(j, "classes", where);
  const auto mods = json_field<nlohmann::json>(j, "modalities", where);
  if (!mods.is_array()) throw InputError(where + ": modalities", "expected an array");
  for (size_t i = 0; i < mods.size(); ++i)
    ck.modalities.push_back(modality_from_json(mods[i], where + ": modalities[" + std::to_string(i) + "]"));
  if (j.contains("training")) ck.training = TrainingRecord::from_json(j.at("training"), where + ": training");

  ck.net = MultimodalNet(ck.config);
  if (!fs::exists(weights_path)) throw InputError(weights_path.string(), "missing");
  try {
    // Read onto the CPU, so that weights saved by a GPU run load without one; moved to `device` below.
    torch::load(ck.net, weights_path.string(), torch::Device(torch::kCPU));
  } catch (const c10::Error& e) {
    const std::string msg = e.what_without_backtrace();
    throw InputError(weights_path.string(), "cannot load weights: " + msg.substr(0, msg.find('\n')));
  }
  ck.net->to(device);
  ck.net->eval();
  return ck;
}

}  // namespace muroan
