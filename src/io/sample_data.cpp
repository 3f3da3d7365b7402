// samples.jsonl of the bring-your-own-model contract: reading and writing.
#include "muroan/sample_data.h"
#include "muroan/files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <unordered_map>

#include "io/json_fields.h"
#include "muroan/audio_file.h"
#include "muroan/error.h"
#include "muroan/png_image.h"
#include "muroan/tokenizer.h"

namespace fs = std::filesystem;

namespace muroan {
namespace {

constexpr const char* kSamplesFile = "samples.jsonl";
constexpr const char* kImagesDir = "images";
constexpr const char* kAudioDir = "audio";
constexpr uint64_t kMaxSamplesFileBytes = 4ull << 30;  // samples.jsonl: 4 GiB (images are separate files)
constexpr size_t kMaxLineBytes = 16u << 20;            // one sample line: 16 MiB

// An image field: the PNG or JPEG, relative to the data file, as uint8 [C,H,W]
// of the input's size and channels.
torch::Tensor read_image_field(const nlohmann::json& sample, const ModalitySpec& spec, const std::string& field,
                               const fs::path& base, const std::string& where) {
  const std::string rel = io::string_field(sample, field, where);
  const std::string fw = io::field_where(where, field);
  if (rel.empty()) throw InputError(fw, "empty path");
  const fs::path path = fs::path(rel).is_absolute() ? fs::path(rel) : base / rel;
  const bool resize = spec.resize != ResizeMode::kNone;
  torch::Tensor image;
  try {
    // Without resize the header must already say H x W (checked before decoding).
    image = read_image(path.string(), resize ? 0 : spec.height(), resize ? 0 : spec.width());
  } catch (const InputError& e) {
    throw InputError(fw, e.what());
  }
  // Grey and RGB files serve either kind of input (DESIGN.md 5.3).
  auto pixels = convert_channels(image, spec.channels());
  // Resized images are rounded back to 8 bits, as if the file had had that size:
  // samples stay uint8 (a quarter of float's memory) until they are stacked.
  if (resize && (pixels.size(1) != spec.height() || pixels.size(2) != spec.width()))
    pixels = resize_image(pixels.to(torch::kFloat), spec.height(), spec.width(), spec.resize)
                 .round_()
                 .clamp_(0, 255)
                 .to(torch::kUInt8);
  return pixels;
}

// A token field: ids, or a string for the input's tokenizer; padded with
// pad_id to max_len. *truncated: the tokenizer cut the text.
std::vector<int64_t> read_tokens_field(const nlohmann::json& sample, const ModalitySpec& spec, const std::string& field,
                                       const std::string& where, bool* truncated) {
  const auto& ids_or_text = io::require_field(sample, field, where);
  const std::string fw = io::field_where(where, field);
  nlohmann::json encoded;
  if (ids_or_text.is_string()) {
    if (!spec.tokenizer)
      throw InputError(fw, "a string, and input '" + spec.name +
                               "' has no tokenizer in the manifest (give token ids, or a \"tokenizer\")");
    const TokenizedText t = spec.tokenizer->encode(ids_or_text.get<std::string>(), spec.max_len(), fw);
    *truncated = t.truncated;
    for (int64_t id : t.ids)
      if (id == spec.pad_id)
        throw InputError(fw, "the tokenizer gave the pad id " + std::to_string(id) +
                                 " for a real token; the input's pad_id must be an id the tokenizer never yields");
    encoded = t.ids;
  }
  const auto& ids = ids_or_text.is_string() ? encoded : ids_or_text;
  if (!ids.is_array()) throw InputError(fw, "expected an array of token ids or a text, got " + io::json_type_text(ids));
  if (static_cast<int64_t>(ids.size()) > spec.max_len())
    throw InputError(fw, std::to_string(ids.size()) + " ids, more than max_len " + std::to_string(spec.max_len()));
  std::vector<int64_t> row(static_cast<size_t>(spec.max_len()), spec.pad_id);
  for (size_t p = 0; p < ids.size(); ++p) {
    if (!ids[p].is_number_integer())
      throw InputError(
          fw, "element " + std::to_string(p) + " is " + io::json_type_text(ids[p]) + ", expected an integer id");
    const int64_t id = ids[p].get<int64_t>();
    if (id < 0 || (spec.vocab_size > 0 && id >= spec.vocab_size))
      throw InputError(fw, "id " + std::to_string(id) + " (element " + std::to_string(p) +
                               ") is outside the model's vocabulary" +
                               (spec.vocab_size > 0 ? " of " + std::to_string(spec.vocab_size) + " ids" : ""));
    row[p] = id;
  }
  return row;
}

// A tabular input's field: a list of D finite numbers, in the order of the
// input's features.
std::vector<float> read_tabular_field(const nlohmann::json& sample, const ModalitySpec& spec, const std::string& field,
                                      const std::string& where) {
  const auto& values = io::require_field(sample, field, where);
  const std::string fw = io::field_where(where, field);
  const int64_t D = spec.num_features();
  if (!values.is_array() || static_cast<int64_t>(values.size()) != D) {
    std::string names;
    for (size_t i = 0; i < spec.features.size() && i < 8; ++i) names += (i ? ", " : "") + spec.features[i];
    if (spec.features.size() > 8) names += ", ...";
    throw InputError(fw,
                     "expected a list of " + std::to_string(D) + " numbers (" + names + "), got " +
                         (values.is_array() ? std::to_string(values.size()) + " values" : io::json_type_text(values)));
  }
  std::vector<float> row(static_cast<size_t>(D));
  for (size_t d = 0; d < values.size(); ++d) {
    if (!values[d].is_number() || !std::isfinite(values[d].get<double>()))
      throw InputError(fw, "feature '" + spec.features[d] + "' (element " + std::to_string(d) + ") is " +
                               io::json_type_text(values[d]) + ", expected a finite number");
    row[d] = static_cast<float>(values[d].get<double>());
  }
  return row;
}

// The samples of one channel: a JSON list of at most T finite numbers
// (`what` prefixes element errors, e.g. "channel 2: ").
std::vector<float> read_sample_list(const nlohmann::json& value, int64_t T, const std::string& what,
                                    const std::string& fw) {
  if (static_cast<int64_t>(value.size()) > T)
    throw InputError(fw, what + std::to_string(value.size()) + " samples, more than the input's " + std::to_string(T));
  std::vector<float> row;
  row.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_number() || !std::isfinite(value[i].get<double>()))
      throw InputError(fw, what + "sample " + std::to_string(i) + " is " + io::json_type_text(value[i]) +
                               ", expected a finite number");
    row.push_back(static_cast<float>(value[i].get<double>()));
  }
  return row;
}

// An audio or signal input's field: an audio file (a path relative to the
// data file, at the input's sample rate, with its number of channels) or the
// samples as a list (audio) or a list of one list per channel (signal); at
// most T samples per channel, each channel padded with its fill to T. The row
// is channel after channel, C * T floats.
std::vector<float> read_series_field(const nlohmann::json& sample, const ModalitySpec& spec, const std::string& field,
                                     const fs::path& base, const std::string& where) {
  const auto& value = io::require_field(sample, field, where);
  const std::string fw = io::field_where(where, field);
  const int64_t T = spec.num_samples(), C = spec.is_signal() ? spec.channels() : 1;
  std::vector<std::vector<float>> channels;
  if (value.is_string()) {
    const std::string rel = value.get<std::string>();
    if (rel.empty()) throw InputError(fw, "empty path");
    const fs::path path = fs::path(rel).is_absolute() ? fs::path(rel) : base / rel;
    std::vector<float> all;
    try {
      all = read_audio_file(path.string(), spec.sample_rate, T, C);
    } catch (const InputError& e) {
      throw InputError(fw, e.what());
    }
    const auto n = static_cast<std::ptrdiff_t>(all.size() / static_cast<size_t>(C));
    for (int64_t c = 0; c < C; ++c) channels.emplace_back(all.begin() + c * n, all.begin() + (c + 1) * n);
  } else if (value.is_array() && spec.is_audio()) {
    channels.push_back(read_sample_list(value, T, "", fw));
  } else if (value.is_array() && static_cast<int64_t>(value.size()) == C &&
             std::all_of(value.begin(), value.end(), [](const nlohmann::json& v) { return v.is_array(); })) {
    for (int64_t c = 0; c < C; ++c)
      channels.push_back(read_sample_list(value[static_cast<size_t>(c)], T, "channel " + std::to_string(c) + ": ", fw));
  } else if (spec.is_audio()) {
    throw InputError(fw, "expected an audio file path or a list of samples, got " + io::json_type_text(value));
  } else {
    throw InputError(fw, "expected an audio file path of " + std::to_string(C) + " channels or a list of " +
                             std::to_string(C) + " lists of samples (one per channel), got " +
                             (value.is_array() ? std::to_string(value.size()) + " values" : io::json_type_text(value)));
  }
  std::vector<float> row;
  row.reserve(static_cast<size_t>(C * T));
  for (int64_t c = 0; c < C; ++c) {
    auto& samples = channels[static_cast<size_t>(c)];
    samples.resize(static_cast<size_t>(T),
                   static_cast<float>(spec.is_signal() ? spec.fills[static_cast<size_t>(c)] : spec.fill));
    row.insert(row.end(), samples.begin(), samples.end());
  }
  return row;
}

std::string safe_file_stem(const std::string& id) {
  std::string s = id;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return s.empty() || s[0] == '.' ? "_" + s : s;
}

}  // namespace

std::string truncation_warning(const SampleData& data, const std::string& source) {
  if (data.truncated_texts == 0) return "";
  return source + ": " + std::to_string(data.truncated_texts) + " of " + std::to_string(data.size()) +
         " texts were longer than the input's max_len; their last words were dropped (whole words) before the "
         "model saw them";
}

SampleData load_samples(const std::string& jsonl_path, const std::vector<ModalitySpec>& modalities,
                        const std::vector<std::string>& classes, const std::map<std::string, std::string>& fields) {
  // The sample-line field that holds `name` (an input, id, label or text).
  auto field_of = [&fields](const std::string& name) {
    const auto it = fields.find(name);
    return it == fields.end() ? name : it->second;
  };
  const std::string id_field = field_of("id"), label_field = field_of("label"), text_field = field_of("text");
  check_regular_file(jsonl_path, kMaxSamplesFileBytes);
  std::ifstream in(jsonl_path, std::ios::binary);
  if (!in) throw InputError(jsonl_path, "cannot open for reading");
  const fs::path base = fs::path(jsonl_path).parent_path();
  const auto num_classes = static_cast<int64_t>(classes.size());

  std::vector<std::vector<torch::Tensor>> images(modalities.size());
  std::vector<std::vector<int64_t>> tokens(modalities.size());
  std::vector<std::vector<float>> features(modalities.size());
  std::vector<int64_t> labels;
  std::unordered_map<std::string, int64_t> line_of_id;
  SampleData data;
  int64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.size() > kMaxLineBytes)
      throw InputError(jsonl_path + ":" + std::to_string(line_no), std::to_string(line.size()) +
                                                                       " bytes, more than a sample line may have (" +
                                                                       std::to_string(kMaxLineBytes) + ")");
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = jsonl_path + ":" + std::to_string(line_no);
    nlohmann::json sample;
    try {
      sample = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a huge number
      throw InputError(where, "not valid JSON: " + json_error_text(e));
    }
    if (!sample.is_object()) throw InputError(where, "expected a JSON object, got " + io::json_type_text(sample));

    // Ids are strings or integers (many data sets number their samples).
    std::string id;
    if (sample.contains(id_field) && sample[id_field].is_number_integer())
      id = std::to_string(sample[id_field].get<int64_t>());
    else if (sample.contains(id_field) && !sample[id_field].is_string())
      throw InputError(io::field_where(where, id_field),
                       "expected a string or an integer, got " + io::json_type_text(sample[id_field]));
    else
      id = io::string_field(sample, id_field, where);
    if (id.empty()) throw InputError(io::field_where(where, id_field), "empty");
    if (const auto [it, fresh] = line_of_id.emplace(id, line_no); !fresh)
      throw InputError(io::field_where(where, id_field),
                       "'" + id + "' is already the id of line " + std::to_string(it->second));
    const int64_t label = io::integer_field(sample, label_field, where);
    if (label < 0 || label >= num_classes)
      throw InputError(io::field_where(where, label_field),
                       std::to_string(label) + " is outside the " + std::to_string(num_classes) + " classes");
    std::string text;
    if (sample.contains(text_field) && !sample[text_field].is_null())
      text = io::string_field(sample, text_field, where);

    for (size_t m = 0; m < modalities.size(); ++m) {
      const ModalitySpec& spec = modalities[m];
      if (spec.is_image()) {
        images[m].push_back(read_image_field(sample, spec, field_of(spec.name), base, where));
      } else if (spec.is_tabular()) {
        const auto row = read_tabular_field(sample, spec, field_of(spec.name), where);
        features[m].insert(features[m].end(), row.begin(), row.end());
      } else if (spec.has_frames()) {
        const auto row = read_series_field(sample, spec, field_of(spec.name), base, where);
        features[m].insert(features[m].end(), row.begin(), row.end());
      } else {
        bool truncated = false;
        const auto row = read_tokens_field(sample, spec, field_of(spec.name), where, &truncated);
        tokens[m].insert(tokens[m].end(), row.begin(), row.end());
        data.truncated_texts += truncated ? 1 : 0;
      }
    }
    labels.push_back(label);
    data.ids.push_back(id);
    data.texts.push_back(std::move(text));
  }
  if (in.bad()) throw InputError(jsonl_path, "read failed");
  if (labels.empty()) throw InputError(jsonl_path, "no samples (the file is empty)");

  const auto n = static_cast<int64_t>(labels.size());
  for (size_t m = 0; m < modalities.size(); ++m) {
    if (modalities[m].is_image())
      data.inputs.push_back(torch::stack(images[m]).to(torch::kFloat).div_(255.0));
    else if (modalities[m].has_fixed_points()) {
      std::vector<int64_t> shape = {n};
      shape.insert(shape.end(), modalities[m].shape.begin(), modalities[m].shape.end());
      data.inputs.push_back(torch::tensor(features[m], torch::kFloat).view(shape));
    } else
      data.inputs.push_back(torch::tensor(tokens[m], torch::kLong).view({n, modalities[m].max_len()}));
  }
  data.labels = torch::tensor(labels, torch::kLong);
  return data;
}

void save_samples(const SampleData& data, const std::vector<ModalitySpec>& modalities, const std::string& dir) {
  if (data.inputs.size() != modalities.size())
    throw Error("save_samples: " + std::to_string(data.inputs.size()) + " input tensors for " +
                std::to_string(modalities.size()) + " modalities");
  int64_t image_modalities = 0, audio_modalities = 0;
  for (const auto& m : modalities) {
    image_modalities += m.is_image() ? 1 : 0;
    audio_modalities += m.has_frames() ? 1 : 0;
  }
  const fs::path root(dir);
  std::error_code ec;
  fs::create_directories(root, ec);
  if (!ec && image_modalities > 0) fs::create_directories(root / kImagesDir, ec);
  if (!ec && audio_modalities > 0) fs::create_directories(root / kAudioDir, ec);
  if (ec) throw InputError(dir, "cannot create directory: " + ec.message());
  std::set<std::string> stems;
  std::string jsonl;
  const int64_t n = data.size();
  for (int64_t i = 0; i < n; ++i) {
    const auto row = static_cast<size_t>(i);
    const std::string id = row < data.ids.size() ? data.ids[row] : std::to_string(i);
    std::string stem = safe_file_stem(id);
    while (!stems.insert(stem).second) stem += "-" + std::to_string(i);  // two ids, one file name
    // Fields in the order of the contract's example: id, images, text, tokens, label.
    nlohmann::ordered_json sample = {{"id", id}};
    for (size_t m = 0; m < modalities.size(); ++m) {
      const ModalitySpec& spec = modalities[m];
      if (!spec.is_image()) continue;
      const std::string file =
          std::string(kImagesDir) + "/" + stem + (image_modalities > 1 ? "-" + spec.name : std::string()) + ".png";
      write_png((root / file).string(), data.inputs[m][i]);
      sample[spec.name] = file;
    }
    for (size_t m = 0; m < modalities.size(); ++m) {  // audio, signal: a float WAV each, read back exactly
      const ModalitySpec& spec = modalities[m];
      if (!spec.has_frames()) continue;
      const std::string file =
          std::string(kAudioDir) + "/" + stem + (audio_modalities > 1 ? "-" + spec.name : std::string()) + ".wav";
      const auto wave = data.inputs[m][i].to(torch::kCPU).to(torch::kFloat).contiguous();
      write_audio_file((root / file).string(),
                       std::vector<float>(wave.data_ptr<float>(), wave.data_ptr<float>() + wave.numel()),
                       spec.sample_rate, spec.is_signal() ? spec.channels() : 1);
      sample[spec.name] = file;
    }
    if (row < data.texts.size() && !data.texts[row].empty()) sample["text"] = data.texts[row];
    for (size_t m = 0; m < modalities.size(); ++m) {
      const ModalitySpec& spec = modalities[m];
      if (!spec.is_tokens()) continue;
      const auto ids = data.inputs[m][i].to(torch::kCPU).contiguous();
      const int64_t* p = ids.data_ptr<int64_t>();
      int64_t len = ids.numel();
      while (len > 0 && p[len - 1] == spec.pad_id) --len;  // the loader pads again
      sample[spec.name] = std::vector<int64_t>(p, p + len);
    }
    for (size_t m = 0; m < modalities.size(); ++m) {
      if (!modalities[m].is_tabular()) continue;
      const auto row = data.inputs[m][i].to(torch::kCPU).to(torch::kDouble).contiguous();
      sample[modalities[m].name] = std::vector<double>(row.data_ptr<double>(), row.data_ptr<double>() + row.numel());
    }
    sample["label"] = data.labels[i].item<int64_t>();
    jsonl += sample.dump() + "\n";
  }
  write_file_atomically((root / kSamplesFile).string(), jsonl);
}

}  // namespace muroan
