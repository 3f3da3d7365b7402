// manifest.json of the TorchScript contract (DESIGN.md section 5).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "io/json_fields.h"
#include "muroan/checkpoint.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/names.h"
#include "muroan/tokenizer.h"
#include "muroan/torchscript_model.h"

namespace fs = std::filesystem;

namespace muroan {
namespace {

// Sample fields that cannot name an input.
const std::set<std::string> kReservedNames = {"id", "label", "text"};

// modality_from_json converts numbers between types silently; a manifest is
// checked strictly first, so that 12.5 is not read as a max_len of 12.
void check_input_types(const nlohmann::json& entry, const std::string& where) {
  if (!entry.is_object()) throw InputError(where, "expected an object, got " + io::json_type_text(entry));
  const std::string kind = io::string_field(entry, "kind", where);
  io::string_field(entry, "name", where);
  const auto integer = [&](const char* name, bool required) {
    if (required || entry.contains(name)) io::integer_field(entry, name, where);
  };
  if (kind == "image") {
    const auto& shape = io::require_field(entry, "shape", where);
    bool ok = shape.is_array() && shape.size() == 3;
    for (const auto& v : shape) ok = ok && v.is_number_integer();
    if (!ok) throw InputError(io::field_where(where, "shape"), "expected [C, H, W] (3 integers), got " + shape.dump());
    if (entry.contains("fill") && !(entry["fill"].is_number() && std::isfinite(entry["fill"].get<double>())))
      throw InputError(io::field_where(where, "fill"), "expected a number, got " + io::json_type_text(entry["fill"]));
    if (entry.contains("resize")) {
      const std::string r = io::string_field(entry, "resize", where);
      if (r != "area" && r != "bilinear" && r != "nearest" && r != "none")
        throw InputError(io::field_where(where, "resize"),
                         "expected \"area\", \"bilinear\", \"nearest\" or \"none\", got \"" + r + "\"");
    }
    if (entry.contains("tokenizer"))
      throw InputError(io::field_where(where, "tokenizer"), "only a tokens input has a tokenizer");
  } else if (kind == "tokens") {
    if (entry.contains("resize")) throw InputError(io::field_where(where, "resize"), "only an image input is resized");
    integer("max_len", true);
    integer("pad_id", false);
    integer("vocab_size", false);
  } else if (kind == "tabular") {
    for (const char* other : {"resize", "tokenizer", "shape"})
      if (entry.contains(other))
        throw InputError(io::field_where(where, other),
                         "a tabular input has no " + std::string(other) + " (its size is the number of features)");
    const auto& features = io::require_field(entry, "features", where);
    bool ok = features.is_array();
    for (const auto& f : features) ok = ok && f.is_string();
    if (!ok)
      throw InputError(io::field_where(where, "features"),
                       "expected a list of feature names (strings), got " + io::json_type_text(features));
    if (entry.contains("fill")) {
      const auto& fill = entry["fill"];
      const auto finite = [](const nlohmann::json& v) { return v.is_number() && std::isfinite(v.get<double>()); };
      bool fill_ok = finite(fill);
      if (fill.is_array()) {
        fill_ok = true;
        for (const auto& v : fill) fill_ok = fill_ok && finite(v);
      }
      if (!fill_ok)
        throw InputError(io::field_where(where, "fill"),
                         "expected a number or a list of numbers (one per feature), got " + fill.dump());
    }
  } else if (kind == "audio") {
    for (const char* other : {"resize", "tokenizer", "shape", "features"})
      if (entry.contains(other))
        throw InputError(io::field_where(where, other),
                         "an audio input has no " + std::string(other) + " (it has samples, sample_rate and frame_ms)");
    integer("samples", true);
    integer("sample_rate", true);
    integer("frame_samples", false);
    for (const char* number : {"frame_ms", "fill"})
      if (entry.contains(number) && !(entry[number].is_number() && std::isfinite(entry[number].get<double>())))
        throw InputError(io::field_where(where, number), "expected a number, got " + io::json_type_text(entry[number]));
  }
  // any other kind: modality_from_json names it
}

void check_input_values(const ModalitySpec& spec, const std::string& where) {
  if (kReservedNames.count(spec.name))
    throw InputError(io::field_where(where, "name"),
                     "'" + spec.name + "' is a sample field (id, label, text); name the input otherwise");
  if (spec.name.empty()) throw InputError(io::field_where(where, "name"), "empty");
  if (spec.is_tokens()) {
    if (spec.pad_id < 0) throw InputError(io::field_where(where, "pad_id"), "must not be negative");
    if (spec.vocab_size < 0) throw InputError(io::field_where(where, "vocab_size"), "must not be negative");
    if (spec.vocab_size > 0 && spec.pad_id >= spec.vocab_size)
      throw InputError(
          io::field_where(where, "pad_id"),
          std::to_string(spec.pad_id) + " is outside the vocabulary of " + std::to_string(spec.vocab_size) + " ids");
  }
}

}  // namespace

Manifest load_manifest(const std::string& path) {
  const nlohmann::json j = read_json_file(path, io::kMaxConfigJsonBytes);
  if (!j.is_object()) throw InputError(path, "expected a JSON object, got " + io::json_type_text(j));
  Manifest m;
  m.path = path;

  const std::string model = io::string_field(j, "model", path);
  if (model.empty()) throw InputError(io::field_where(path, "model"), "empty");
  const fs::path model_path(model);
  m.model_path = model_path.is_absolute() ? model : (fs::path(path).parent_path() / model_path).string();

  if (j.contains("contract")) {
    const int64_t contract = io::integer_field(j, "contract", path);
    if (contract != 1 && contract != 2)
      throw InputError(io::field_where(path, "contract"),
                       "MUROAN reads contract versions 1 and 2 (DESIGN.md section 5), got " + std::to_string(contract));
    m.contract = static_cast<int>(contract);
  }

  const auto& inputs = io::require_field(j, "inputs", path);
  if (!inputs.is_array() || inputs.empty())
    throw InputError(io::field_where(path, "inputs"),
                     "expected a non-empty array of inputs, got " +
                         (inputs.is_array() ? std::string("an empty array") : io::json_type_text(inputs)));
  std::set<std::string> names;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string where = path + ": inputs[" + std::to_string(i) + "]";
    check_input_types(inputs[i], where);
    ModalitySpec spec = modality_from_json(inputs[i], where);
    if (spec.has_fixed_points() && m.contract < 2)
      throw InputError(io::field_where(where, "kind"), std::string("a") + (spec.is_audio() ? "n " : " ") +
                                                           modality_kind_name(spec.kind) +
                                                           " input needs contract version 2: add \"contract\": 2 to "
                                                           "the manifest");
    if (spec.is_tokens() && inputs[i].contains("tokenizer") && !inputs[i]["tokenizer"].is_null()) {
      const std::string tw = io::field_where(where, "tokenizer");
      spec.tokenizer = load_tokenizer(inputs[i]["tokenizer"], fs::path(path).parent_path().string(), tw);
      if (spec.vocab_size > 0 && spec.tokenizer->size() > spec.vocab_size)
        throw InputError(tw, "the tokenizer knows " + std::to_string(spec.tokenizer->size()) +
                                 " ids, more than the input's vocab_size " + std::to_string(spec.vocab_size));
    }
    check_input_values(spec, where);
    if (!names.insert(spec.name).second)
      throw InputError(io::field_where(where, "name"), "'" + spec.name + "' names two inputs");
    m.inputs.push_back(std::move(spec));
  }

  const auto& classes = io::require_field(j, "classes", path);
  if (!classes.is_array())
    throw InputError(io::field_where(path, "classes"),
                     "expected an array of class names, got " + io::json_type_text(classes));
  std::set<std::string> seen;
  for (size_t i = 0; i < classes.size(); ++i) {
    const std::string where = path + ": field 'classes[" + std::to_string(i) + "]'";
    if (!classes[i].is_string())
      throw InputError(where, "expected a class name (string), got " + io::json_type_text(classes[i]));
    if (!seen.insert(classes[i].get<std::string>()).second)
      throw InputError(where, "'" + classes[i].get<std::string>() + "' is listed twice");
    m.classes.push_back(classes[i].get<std::string>());
  }
  if (m.classes.size() < 2)
    throw InputError(io::field_where(path, "classes"),
                     "expected at least 2 classes, got " + std::to_string(m.classes.size()));

  if (j.contains("fusion_method") && !j["fusion_method"].is_null()) {
    m.fusion_method = io::string_field(j, "fusion_method", path);
    if (m.fusion_method.empty())
      throw InputError(io::field_where(path, "fusion_method"),
                       "empty (name the exported method, or leave the field out)");
  }

  if (j.contains("truth") && !j["truth"].is_null()) {
    const std::string file = io::string_field(j, "truth", path);
    if (file.empty())
      throw InputError(io::field_where(path, "truth"), "empty (name the truth module, or leave the field out)");
    const fs::path tp(file);
    m.truth_path = tp.is_absolute() ? file : (fs::path(path).parent_path() / tp).string();
    std::error_code ec;
    if (!fs::is_regular_file(m.truth_path, ec))
      throw InputError(io::field_where(path, "truth"), m.truth_path + " does not exist or is not a file");
  }
  if (j.contains("truth_rules") && !j["truth_rules"].is_null()) {
    if (m.truth_path.empty())
      throw InputError(io::field_where(path, "truth_rules"),
                       "describes a truth module, but the manifest names none (field 'truth')");
    m.truth_rules = io::string_field(j, "truth_rules", path);
    if (m.truth_rules.find('\n') != std::string::npos)
      throw InputError(io::field_where(path, "truth_rules"), "one line, please (it is printed in summaries)");
  }

  if (j.contains("vocab") && !j["vocab"].is_null()) {
    const std::string file = io::string_field(j, "vocab", path);
    const fs::path vp(file);
    const std::string vocab_path = vp.is_absolute() ? file : (fs::path(path).parent_path() / vp).string();
    m.word_ids = io::read_word_ids(vocab_path);
  }
  if (j.contains("fields") && !j["fields"].is_null()) {
    const auto& f = j["fields"];
    if (!f.is_object())
      throw InputError(io::field_where(path, "fields"),
                       "expected an object (input name -> sample field), got " + io::json_type_text(f));
    std::set<std::string> known{"id", "label", "text"};
    for (const auto& spec : m.inputs) known.insert(spec.name);
    std::set<std::string> targets;
    for (auto it = f.begin(); it != f.end(); ++it) {
      const std::string where = path + ": field 'fields." + it.key() + "'";
      if (!known.count(it.key())) {
        throw InputError(where, "'" + it.key() + "' is not an input name nor id, label or text (known: " +
                                    join_names({known.begin(), known.end()}) + ")");
      }
      if (!it->is_string() || it->get<std::string>().empty())
        throw InputError(where, "expected the name of a sample field, got " + io::json_type_text(*it));
      if (!targets.insert(it->get<std::string>()).second)
        throw InputError(where, "'" + it->get<std::string>() + "' is the field of two names");
      m.fields.emplace(it.key(), it->get<std::string>());
    }
  }
  if (j.contains("protected_tokens") && !j["protected_tokens"].is_null()) {
    const auto& p = j["protected_tokens"];
    if (!p.is_array())
      throw InputError(io::field_where(path, "protected_tokens"),
                       "expected an array of token ids or words, got " + io::json_type_text(p));
    for (size_t i = 0; i < p.size(); ++i) {
      const std::string where = path + ": field 'protected_tokens[" + std::to_string(i) + "]'";
      if (p[i].is_number_integer() && p[i].get<int64_t>() >= 0) {
        m.protected_tokens.push_back(p[i].get<int64_t>());
      } else if (p[i].is_string()) {
        const auto it = m.word_ids.find(p[i].get<std::string>());
        if (it == m.word_ids.end())
          throw InputError(where, m.word_ids.empty()
                                      ? "'" + p[i].get<std::string>() +
                                            "' is a word, and the manifest has no "
                                            "\"vocab\" to map it to a token id; give the id"
                                      : "'" + p[i].get<std::string>() + "' is not in the manifest's vocab");
        m.protected_tokens.push_back(it->second);
      } else {
        throw InputError(where, "expected a token id (integer >= 0) or a word, got " + io::json_type_text(p[i]));
      }
    }
  }
  return m;
}

}  // namespace muroan
