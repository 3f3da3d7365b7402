#include "muroan/checkpoint.h"
#include "muroan/files.h"
#include "muroan/version.h"

#include <torch/serialize.h>

#include <filesystem>

#include "models/json_get.h"
#include "muroan/error.h"
#include "muroan/json_file.h"
#include "muroan/tokenizer.h"

namespace fs = std::filesystem;

namespace muroan {
namespace {

constexpr const char* kConfigFile = "checkpoint.json";
constexpr const char* kWeightsFile = "weights.pt";

void write_text_atomically(const fs::path& path, const std::string& text) {
  write_file_atomically(path.string(), text);
}

template <typename T>
T field(const nlohmann::json& j, const char* name, const std::string& where) {
  if (!j.is_object() || !j.contains(name)) throw InputError(where, std::string("missing field '") + name + "'");
  if (!models::holds<T>(j.at(name))) throw InputError(where, std::string("field '") + name + "' has the wrong type");
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(where, std::string("field '") + name + "' has the wrong type");
  }
}

}  // namespace

nlohmann::json modality_to_json(const ModalitySpec& spec) {
  nlohmann::json j = {{"name", spec.name}, {"kind", modality_kind_name(spec.kind)}};
  if (spec.is_image()) {
    j["shape"] = spec.shape;
    j["fill"] = spec.fill;
    if (spec.resize != ResizeMode::kNone) j["resize"] = resize_mode_name(spec.resize);
  } else {
    j["max_len"] = spec.max_len();
    j["pad_id"] = spec.pad_id;
    j["vocab_size"] = spec.vocab_size;
    if (spec.tokenizer) j["tokenizer"] = spec.tokenizer->describe();
  }
  return j;
}

ModalitySpec modality_from_json(const nlohmann::json& j, const std::string& where) {
  const auto kind_name = field<std::string>(j, "kind", where);
  const auto name = field<std::string>(j, "name", where);
  if (kind_name == "image") {
    const auto shape = field<std::vector<int64_t>>(j, "shape", where);
    if (shape.size() != 3 || shape[0] <= 0 || shape[1] <= 0 || shape[2] <= 0)
      throw InputError(where + ": shape", "expected [C, H, W] with positive sizes");
    // Before anything of this size is allocated (a probe batch, a mask).
    if (shape[0] != 1 && shape[0] != 3)
      throw InputError(where + ": shape", "C = " + std::to_string(shape[0]) + ", expected 1 (grey) or 3 (RGB)");
    if (shape[1] > kMaxImageSide || shape[2] > kMaxImageSide)
      throw InputError(where + ": shape", std::to_string(shape[1]) + " x " + std::to_string(shape[2]) +
                                              " pixels; MUROAN reads images of at most " +
                                              std::to_string(kMaxImageSide) + " x " + std::to_string(kMaxImageSide));
    const double fill = j.contains("fill") ? field<double>(j, "fill", where) : 0.0;
    ModalitySpec spec = ModalitySpec::image(name, shape[0], shape[1], shape[2], fill);
    if (j.contains("resize")) {
      try {
        spec.resize = parse_resize_mode(field<std::string>(j, "resize", where));
      } catch (const UsageError& e) {
        throw InputError(where + ": resize", e.what());
      }
    }
    return spec;
  }
  if (kind_name == "tokens") {
    const auto max_len = field<int64_t>(j, "max_len", where);
    if (max_len <= 0 || max_len > kMaxTokenLength)
      throw InputError(where + ": max_len", "expected a length in [1, " + std::to_string(kMaxTokenLength) + "], got " +
                                                std::to_string(max_len));
    const int64_t pad_id = j.contains("pad_id") ? field<int64_t>(j, "pad_id", where) : 0;
    const int64_t vocab = j.contains("vocab_size") ? field<int64_t>(j, "vocab_size", where) : 0;
    return ModalitySpec::tokens(name, max_len, pad_id, vocab);
  }
  throw InputError(where + ": kind", "expected \"image\" or \"tokens\", got \"" + kind_name + "\"");
}

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
  const nlohmann::json j = read_json_file(where);
  if (field<std::string>(j, "format", where) != kCheckpointFormat)
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
  ck.task = field<std::string>(j, "task", where);
  const auto topts = field<nlohmann::json>(j, "task_options", where);
  ck.task_options.seed = field<uint64_t>(topts, "seed", where + ": task_options");
  ck.task_options.train_size = field<int64_t>(topts, "train_size", where + ": task_options");
  ck.task_options.val_size = field<int64_t>(topts, "val_size", where + ": task_options");
  ck.task_options.test_size = field<int64_t>(topts, "test_size", where + ": task_options");
  try {
    ck.config = ModelConfig::from_json(field<nlohmann::json>(j, "model", where));
    ck.vocab = Vocabulary::from_json(field<nlohmann::json>(j, "vocabulary", where));
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(where, e.what());
  }
  ck.classes = field<std::vector<std::string>>(j, "classes", where);
  const auto mods = field<nlohmann::json>(j, "modalities", where);
  if (!mods.is_array()) throw InputError(where + ": modalities", "expected an array");
  for (size_t i = 0; i < mods.size(); ++i)
    ck.modalities.push_back(modality_from_json(mods[i], where + ": modalities[" + std::to_string(i) + "]"));
  if (j.contains("training")) ck.training = TrainingRecord::from_json(j.at("training"), where + ": training");

  ck.net = MultimodalNet(ck.config);
  if (!fs::exists(weights_path)) throw InputError(weights_path.string(), "missing");
  try {
    torch::load(ck.net, weights_path.string());
  } catch (const c10::Error& e) {
    const std::string msg = e.what_without_backtrace();
    throw InputError(weights_path.string(), "cannot load weights: " + msg.substr(0, msg.find('\n')));
  }
  ck.net->to(device);
  ck.net->eval();
  return ck;
}

}  // namespace muroan
