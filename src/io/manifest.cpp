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
    if (!ok)
      throw InputError(io::field_where(where, "shape"),
                       "expected [C, H, W] (3 integers), got " + shape.dump());
    if (entry.contains("fill") && !(entry["fill"].is_number() && std::isfinite(entry["fill"].get<double>())))
      throw InputError(io::field_where(where, "fill"), "expected a number, got " + io::json_type_text(entry["fill"]));
  } else if (kind == "tokens") {
    integer("max_len", true);
    integer("pad_id", false);
    integer("vocab_size", false);
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
      throw InputError(io::field_where(where, "pad_id"),
                       std::to_string(spec.pad_id) + " is outside the vocabulary of " +
                           std::to_string(spec.vocab_size) + " ids");
  }
}

nlohmann::json read_json_file(const std::string& path) {
  constexpr uint64_t kMaxJsonBytes = 16ull << 20;  // a manifest or vocab: 16 MiB at most
  const std::string text = read_file_limited(path, kMaxJsonBytes);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    const size_t byte = std::min<size_t>(e.byte, text.size());
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n');
    throw InputError(path + ":" + std::to_string(line), "not valid JSON: " + io::json_error_text(e));
  }
}

}  // namespace

Manifest load_manifest(const std::string& path) {
  const nlohmann::json j = read_json_file(path);
  if (!j.is_object()) throw InputError(path, "expected a JSON object, got " + io::json_type_text(j));
  Manifest m;
  m.path = path;

  const std::string model = io::string_field(j, "model", path);
  if (model.empty()) throw InputError(io::field_where(path, "model"), "empty");
  const fs::path model_path(model);
  m.model_path = model_path.is_absolute() ? model : (fs::path(path).parent_path() / model_path).string();

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

  if (j.contains("vocab") && !j["vocab"].is_null()) {
    const std::string file = io::string_field(j, "vocab", path);
    const fs::path vp(file);
    const std::string vocab_path = vp.is_absolute() ? file : (fs::path(path).parent_path() / vp).string();
    const nlohmann::json v = read_json_file(vocab_path);
    if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string())
          throw InputError(vocab_path + ": [" + std::to_string(i) + "]",
                           "expected a word (string), got " + io::json_type_text(v[i]));
        m.word_ids.emplace(v[i].get<std::string>(), static_cast<int64_t>(i));
      }
    } else if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!it->is_number_integer() || it->get<int64_t>() < 0)
          throw InputError(vocab_path + ": field '" + it.key() + "'",
                           "expected a token id (integer >= 0), got " + io::json_type_text(*it));
        m.word_ids.emplace(it.key(), it->get<int64_t>());
      }
    } else {
      throw InputError(vocab_path, "expected a list of words by id or an object word -> id, got " +
                                       io::json_type_text(v));
    }
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
        std::string names;
        for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
        throw InputError(where, "'" + it.key() + "' is not an input name nor id, label or text (known: " + names + ")");
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
                                      ? "'" + p[i].get<std::string>() + "' is a word, and the manifest has no "
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
