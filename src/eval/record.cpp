// One JSONL record per sample: to and from JSON, and reading a results file.
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "eval/jsonl.h"
#include "muroan/error.h"
#include "muroan/measurement.h"

namespace muroan {

SampleRecord make_record(int64_t index, const std::string& id, const std::string& text, int64_t label,
                         const AttackResult& result, const std::vector<ModalitySpec>& specs) {
  SampleRecord r;
  r.index = index;
  r.id = id;
  r.text = text;
  r.label = label;
  r.clean_prediction = result.clean_prediction;
  r.clean_confidence = result.clean_confidence;
  r.correct = result.clean_prediction == label;
  r.attacked = true;
  r.success = result.success;
  r.flipped = result.flipped;
  r.criterion = result.criterion;
  if (result.criterion == SuccessCriterion::kFooled || result.success_class != SuccessClass::kNone ||
      result.truth_label || !result.truth_reason.empty())
    r.success_class = result.success_class;
  r.truth_label = result.truth_label;
  r.truth_reason = result.truth_reason;
  r.decoupling = result.decoupling;
  r.adversarial_prediction = result.adversarial_prediction;
  r.adversarial_confidence = result.adversarial_confidence;
  for (const auto& s : specs) {
    r.modality_names.push_back(s.name);
    r.modality_kinds.push_back(s.kind);
  }
  r.points = result.points.decoupled;
  r.input_points = result.points.total;
  r.decoupled_points = result.points.decoupled_points();
  r.total_points = result.points.total_points();
  if (result.decoupling) r.decoupling_rate = result.decoupling_rate;
  r.set = result.set;
  r.text_removal = result.text_removal;
  r.fusion_shift = result.fusion_shift;
  r.linf = result.linf;
  r.forward_passes = result.forward_passes;
  r.backward_passes = result.backward_passes;
  r.seconds = result.seconds;
  r.note = result.note;
  return r;
}

namespace {

template <class T>
nlohmann::ordered_json optional_json(const std::optional<T>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

// The modality specs a set's JSON needs: names and kinds.
std::vector<ModalitySpec> specs_of(const SampleRecord& r) {
  std::vector<ModalitySpec> specs;
  for (size_t m = 0; m < r.modality_names.size(); ++m) {
    ModalitySpec s;
    s.name = r.modality_names[m];
    s.kind = m < r.modality_kinds.size() ? r.modality_kinds[m] : ModalityKind::kImage;
    specs.push_back(s);
  }
  return specs;
}

}  // namespace

nlohmann::ordered_json record_to_json(const SampleRecord& r) {
  nlohmann::ordered_json j;
  j["id"] = r.id;
  j["index"] = r.index;
  j["label"] = r.label;
  if (!r.text.empty()) j["text"] = r.text;
  j["clean_prediction"] = r.clean_prediction;
  j["clean_confidence"] = r.clean_confidence;
  j["correct"] = r.correct;
  j["attacked"] = r.attacked;
  j["success"] = r.success;
  if (r.attacked) {
    j["flipped"] = r.flipped;
    j["criterion"] = success_criterion_name(r.criterion);
    j["success_class"] = r.success_class ? nlohmann::ordered_json(success_class_name(*r.success_class))
                                         : nlohmann::ordered_json(nullptr);
    j["truth_label"] = optional_json(r.truth_label);
    if (!r.truth_reason.empty()) j["truth_reason"] = r.truth_reason;
  }
  if (r.attacked) {
    j["adversarial_prediction"] = r.adversarial_prediction;
    j["adversarial_confidence"] = r.adversarial_confidence;
  } else {
    j["adversarial_prediction"] = nullptr;
    j["adversarial_confidence"] = nullptr;
  }
  nlohmann::ordered_json points = nlohmann::ordered_json::object();
  nlohmann::ordered_json input_points = nlohmann::ordered_json::object();
  for (size_t m = 0; m < r.modality_names.size(); ++m) {
    points[r.modality_names[m]] = m < r.points.size() ? r.points[m] : 0;
    input_points[r.modality_names[m]] = m < r.input_points.size() ? r.input_points[m] : 0;
  }
  j["points"] = std::move(points);
  j["input_points"] = std::move(input_points);
  j["decoupled_points"] = r.decoupled_points;
  j["total_points"] = r.total_points;
  j["decoupling_rate"] = optional_json(r.decoupling_rate);
  j["set"] = (r.attacked && r.decoupling) ? decoupling_set_to_json(r.set, specs_of(r), r.text_removal)
                                          : nlohmann::ordered_json(nullptr);
  j["fusion_shift"] = optional_json(r.fusion_shift);
  j["linf"] = optional_json(r.linf);
  j["forward_passes"] = r.forward_passes;
  j["backward_passes"] = r.backward_passes;
  j["seconds"] = r.seconds;
  if (!r.note.empty()) j["note"] = r.note;
  return j;
}

SampleRecord record_from_json(const nlohmann::ordered_json& j) {
  auto fail = [](const std::string& field, const std::string& what) {
    throw Error("record field '" + field + "': " + what);
  };
  if (!j.is_object()) throw Error("record: expected a JSON object");
  auto need = [&](const char* key) -> const nlohmann::ordered_json& {
    auto it = j.find(key);
    if (it == j.end()) fail(key, "missing");
    return *it;
  };
  auto get_int = [&](const char* key) -> int64_t {
    const auto& v = need(key);
    if (!v.is_number_integer()) fail(key, "not an integer");
    return v.get<int64_t>();
  };
  auto get_bool = [&](const char* key) -> bool {
    const auto& v = need(key);
    if (!v.is_boolean()) fail(key, "not a boolean");
    return v.get<bool>();
  };
  auto get_opt_double = [&](const char* key) -> std::optional<double> {
    const auto& v = need(key);
    if (v.is_null()) return std::nullopt;
    if (!v.is_number()) fail(key, "not a number or null");
    return v.get<double>();
  };
  SampleRecord r;
  const auto& id = need("id");
  if (!id.is_string()) fail("id", "not a string");
  r.id = id.get<std::string>();
  r.index = get_int("index");
  r.label = get_int("label");
  if (j.contains("text")) {
    if (!j["text"].is_string()) fail("text", "not a string");
    r.text = j["text"].get<std::string>();
  }
  r.clean_prediction = get_int("clean_prediction");
  r.clean_confidence = get_opt_double("clean_confidence").value_or(0.0);
  r.correct = get_bool("correct");
  r.attacked = get_bool("attacked");
  r.success = get_bool("success");
  r.flipped = r.success;  // files without the field: the criterion was a flip
  if (r.attacked && j.contains("flipped")) {
    r.flipped = get_bool("flipped");
    // A name field read by `parse` (which throws Error for an unknown name).
    auto get_name = [&](const char* key, const char* expected, auto parse) {
      const auto& v = need(key);
      if (!v.is_string()) fail(key, expected);
      try {
        return parse(v.get<std::string>());
      } catch (const Error& e) {
        fail(key, e.what());
        throw;  // not reached: fail throws
      }
    };
    r.criterion = get_name("criterion", "not a string", parse_success_criterion);
    if (!need("success_class").is_null())
      r.success_class = get_name("success_class", "not a string or null", parse_success_class);
    const auto& t = need("truth_label");
    if (!t.is_null()) {
      if (!t.is_number_integer()) fail("truth_label", "not an integer or null");
      r.truth_label = t.get<int64_t>();
    }
    if (j.contains("truth_reason")) {
      if (!j["truth_reason"].is_string()) fail("truth_reason", "not a string");
      r.truth_reason = j["truth_reason"].get<std::string>();
    }
  }
  if (r.attacked) {
    r.adversarial_prediction = get_int("adversarial_prediction");
    r.adversarial_confidence = get_opt_double("adversarial_confidence").value_or(0.0);
  }
  const auto& points = need("points");
  const auto& input_points = need("input_points");
  if (!points.is_object()) fail("points", "not an object");
  if (!input_points.is_object()) fail("input_points", "not an object");
  for (auto it = points.begin(); it != points.end(); ++it) {
    if (!it->is_number_integer()) fail("points", "a count is not an integer");
    r.modality_names.push_back(it.key());
    r.points.push_back(it->get<int64_t>());
    auto n = input_points.find(it.key());
    if (n == input_points.end() || !n->is_number_integer())
      fail("input_points", "no integer count for modality '" + it.key() + "'");
    r.input_points.push_back(n->get<int64_t>());
  }
  r.decoupled_points = get_int("decoupled_points");
  r.total_points = get_int("total_points");
  r.decoupling_rate = get_opt_double("decoupling_rate");
  const auto& set = need("set");
  r.decoupling = !(r.attacked && set.is_null());
  if (!set.is_null()) {
    try {
      r.set = decoupling_set_from_json(set, nullptr, &r.text_removal);
    } catch (const Error& e) {
      fail("set", e.what());
    }
    // Kinds come from the set's modality list, in the order of the names.
    r.modality_kinds.assign(r.modality_names.size(), ModalityKind::kImage);
    for (const auto& mj : set["modalities"]) {
      const size_t m = mj["index"].get<size_t>();
      if (m >= r.modality_names.size() || mj.value("name", "") != r.modality_names[m])
        fail("set", "modality " + std::to_string(m) + " does not match the names of 'points'");
      r.modality_kinds[m] = parse_modality_kind(mj["kind"].get<std::string>());
    }
  }
  r.fusion_shift = get_opt_double("fusion_shift");
  r.linf = get_opt_double("linf");
  r.forward_passes = get_int("forward_passes");
  r.backward_passes = get_int("backward_passes");
  r.seconds = get_opt_double("seconds").value_or(0.0);
  if (j.contains("note") && j["note"].is_string()) r.note = j["note"].get<std::string>();
  return r;
}

JsonlContent read_jsonl(const std::string& path, bool drop_truncated_tail) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open for reading");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  JsonlContent out;
  size_t pos = 0;
  int64_t line = 0;
  while (pos < text.size()) {
    ++line;
    const size_t nl = text.find('\n', pos);
    const bool complete = nl != std::string::npos;
    const std::string body = text.substr(pos, complete ? nl - pos : std::string::npos);
    const size_t next = complete ? nl + 1 : text.size();
    const bool last = next >= text.size();
    nlohmann::ordered_json j;
    bool parsed = complete;
    if (parsed) {
      try {
        j = nlohmann::ordered_json::parse(body);
      } catch (const nlohmann::ordered_json::exception&) {
        parsed = false;
      }
    }
    if (!parsed) {
      if (last && drop_truncated_tail) break;  // a line cut short by an interruption
      throw InputError(path + ":" + std::to_string(line),
                       complete ? "not valid JSON" : "truncated line (no newline at the end)");
    }
    try {
      out.records.push_back(record_from_json(j));
    } catch (const Error& e) {
      throw InputError(path + ":" + std::to_string(line), e.what());
    }
    out.valid_bytes = next;
    pos = next;
  }
  return out;
}

std::vector<SampleRecord> read_records(const std::string& path, bool drop_truncated_tail) {
  return read_jsonl(path, drop_truncated_tail).records;
}

}  // namespace muroan
