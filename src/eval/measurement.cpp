// run_measurement: one attack over many samples, appended line by line, resumable.
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>

#include "eval/jsonl.h"
#include "eval/result_files.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/gradients.h"
#include "muroan/json_file.h"
#include "muroan/measurement.h"
#include "muroan/progress.h"
#include "muroan/sample_scheduler.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;

std::string shard_name(const std::string& stem, const std::string& ext, const MeasurementOptions& o) {
  return shard_file_name(stem, ext, o.shard_index, o.shard_count);
}

// A fingerprint of the samples: every tensor's bytes, the labels and the ids.
std::string data_fingerprint(const Inputs& samples, const torch::Tensor& labels, const std::vector<std::string>& ids) {
  uint64_t h = fnv1a(nullptr, 0);
  auto add = [&h](const torch::Tensor& t) {
    const auto c = t.to(torch::kCPU).contiguous();
    h = fnv1a(c.data_ptr(), static_cast<size_t>(c.numel()) * c.element_size(), h);
  };
  for (const auto& t : samples) add(t);
  add(labels.to(torch::kLong));
  for (const auto& id : ids) h = fnv1a(id.data(), id.size() + 1, h);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

// What differs between two run.json objects, for people: "the model file
// changed", "options.budget: 1.0 -> 0.05".
std::string run_difference(const nlohmann::ordered_json& before, const nlohmann::ordered_json& now) {
  std::string out;
  auto add = [&out](const std::string& s) { out += (out.empty() ? "" : "; ") + s; };
  if (!before.is_object()) return "run.json is missing or not an object";
  for (auto it = now.begin(); it != now.end(); ++it) {
    const auto old = before.find(it.key());
    if (old != before.end() && *old == *it) continue;
    if (it.key() == "fingerprint" && old != before.end() && old->is_object()) {
      if (old->value("model", "") != it->value("model", "")) add("the model file changed");
      if (old->value("data", "") != it->value("data", "")) add("the samples or labels changed");
    } else if (it.key() == "options" && old != before.end() && old->is_object()) {
      for (auto o = it->begin(); o != it->end(); ++o)
        if (!old->contains(o.key()) || (*old)[o.key()] != *o)
          add("options." + o.key() + ": " + (old->contains(o.key()) ? (*old)[o.key()].dump() : "absent") + " -> " +
              o->dump());
    } else {
      add(it.key() + ": " + (old == before.end() ? "absent" : old->dump()) + " -> " + it->dump());
    }
  }
  return out.empty() ? "run.json differs" : out;
}

nlohmann::ordered_json run_json(const std::string& model, const std::vector<ModalitySpec>& specs,
                                const AttackOptions& attack, const MeasurementOptions& o, const std::string& data) {
  nlohmann::ordered_json names = nlohmann::ordered_json::array();
  for (const auto& s : specs) names.push_back(s.name);
  return {{"format", kRunFormat},
          {"model", model},
          {"modalities", names},
          {"method", attack.method},
          {"options", attack_options_to_json(attack)},
          {"oracle", o.oracle ? nlohmann::ordered_json(o.oracle->name()) : nlohmann::ordered_json(nullptr)},
          {"attack_labels", o.attack_labels},
          {"allow_nondeterministic", o.allow_nondeterministic},
          {"fingerprint", {{"model", o.model_fingerprint}, {"data", data}}},
          {"shard_index", o.shard_index},
          {"shard_count", o.shard_count}};
}

nlohmann::ordered_json read_run_json(const fs::path& run_path) {
  if (!fs::exists(run_path)) return nullptr;
  return read_ordered_json_file(run_path.string());
}

// The samples a measurement attacks: i = shard_index, shard_index + shard_count, ... below the limit.
std::vector<int64_t> samples_to_attack(int64_t n_all, const MeasurementOptions& o) {
  const int64_t n = o.limit > 0 ? std::min(o.limit, n_all) : n_all;
  std::vector<int64_t> todo;
  for (int64_t i = o.shard_index; i < n; i += std::max<int64_t>(o.shard_count, 1)) todo.push_back(i);
  return todo;
}

// The earlier results in an output folder and, when they cannot be resumed,
// why (`problem`, for people) and the error a caller who insisted on resuming
// gets (`refusal`). The one resume rule.
struct EarlierResults {
  JsonlContent content;
  std::string problem;
  std::exception_ptr refusal;
};

EarlierResults earlier_results(const fs::path& run_path, const fs::path& jsonl_path, const nlohmann::ordered_json& run,
                               size_t samples_now) {
  EarlierResults e;
  try {
    nlohmann::ordered_json previous = read_run_json(run_path);
    // Options added since that run read as their defaults, which keep the
    // earlier behaviour: a folder written before an option existed resumes.
    if (previous.is_object() && previous.contains("options") && previous["options"].is_object()) {
      try {
        previous["options"] = attack_options_to_json(attack_options_from_json(previous["options"]));
      } catch (const Error&) {  // unreadable options: compared as they are, and refused below
      }
    }
    if (previous.is_null()) {
      // Results without run.json: a folder killed between the two first writes
      // by a version that wrote results.jsonl first. With no records there is
      // nothing to check or lose, so it starts afresh.
      e.content = read_jsonl(jsonl_path.string(), /*drop_truncated_tail=*/true);
      if (e.content.records.empty()) return e;
    }
    if (previous != run) {
      e.problem = run_difference(previous, run);
      e.refusal =
          std::make_exception_ptr(UsageError(jsonl_path.string() + " holds results of another run (" + e.problem +
                                             "); use another output directory, or start over "
                                             "without resume"));
      return e;
    }
    e.content = read_jsonl(jsonl_path.string(), /*drop_truncated_tail=*/true);
  } catch (const Error& err) {
    e.problem = err.what();
    e.refusal = std::current_exception();
    return e;
  }
  if (e.content.records.size() > samples_now) {
    e.problem =
        std::to_string(e.content.records.size()) + " records for " + std::to_string(samples_now) + " samples to attack";
    e.refusal =
        std::make_exception_ptr(UsageError(jsonl_path.string() + " has more records than there are samples to attack"));
  }
  return e;
}

}  // namespace

std::string resume_mismatch(const Classifier& model, const Inputs& samples, const torch::Tensor& labels,
                            const std::vector<std::string>& ids, const AttackOptions& attack,
                            const MeasurementOptions& o) {
  if (o.out_dir.empty()) return "no output directory";
  const fs::path dir(o.out_dir);
  if (!fs::exists(dir / shard_name("results", ".jsonl", o))) return "no results yet";
  const auto run = run_json(o.model_name.empty() ? model.name() : o.model_name, model.modalities(), attack, o,
                            data_fingerprint(samples, labels, ids));
  return earlier_results(dir / shard_name("run", ".json", o), dir / shard_name("results", ".jsonl", o), run,
                         samples_to_attack(batch_size(samples), o).size())
      .problem;
}

MeasurementResult run_measurement(Classifier& model, const Inputs& samples, const torch::Tensor& labels,
                                  const std::vector<std::string>& ids, const std::vector<std::string>& texts,
                                  const AttackOptions& attack, const MeasurementOptions& o) {
  // Checks before any work.
  const int64_t n_all = batch_size(samples);
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != n_all)
    throw UsageError("measurement: labels must be a 1-D tensor with one label per sample (" + std::to_string(n_all) +
                     ")");
  if (!ids.empty() && static_cast<int64_t>(ids.size()) != n_all)
    throw UsageError("measurement: " + std::to_string(ids.size()) + " ids for " + std::to_string(n_all) + " samples");
  if (!texts.empty() && static_cast<int64_t>(texts.size()) != n_all)
    throw UsageError("measurement: " + std::to_string(texts.size()) + " texts for " + std::to_string(n_all) +
                     " samples");
  if (o.limit < 0) throw UsageError("measurement: limit must be >= 0 (0: all samples)");
  if (o.batch < 1) throw UsageError("measurement: batch must be >= 1");
  const int64_t parallel = parallel_samples_for(o.parallel_samples, model);
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count)
    throw UsageError("measurement: shard index " + std::to_string(o.shard_index) + " of " +
                     std::to_string(o.shard_count) + " shards");
  validate_attack_options(attack, model);
  if (attack.success == SuccessCriterion::kFooled && o.oracle == nullptr)
    throw UsageError(
        "success criterion 'fooled' needs an oracle (the ground truth of decoupled inputs), and "
        "model '" +
        model.name() +
        "' has none; use 'flip', and protect the tokens that decide the "
        "label");
  auto method = make_attack(attack);
  // The same cuDNN setting for every pass of the run, the clean pass included.
  CudnnOffForRnnBackward cudnn_off(cudnn_off_for_run(model, *method));
  const auto& specs = model.modalities();
  const std::string model_name = o.model_name.empty() ? model.name() : o.model_name;

  const std::vector<int64_t> todo = samples_to_attack(n_all, o);  // this shard's sample indices, in order
  auto id_of = [&ids](int64_t i) { return ids.empty() ? std::to_string(i) : ids[static_cast<size_t>(i)]; };
  const auto label_host = labels.to(torch::kCPU).to(torch::kLong).contiguous();
  const int64_t* label_of = label_host.data_ptr<int64_t>();

  // Files, and what an earlier run already did.
  MeasurementResult result;
  AppendFile jsonl;
  fs::path summary_path;
  if (!o.out_dir.empty()) {
    const fs::path dir(o.out_dir);
    fs::create_directories(dir);
    const fs::path jsonl_path = dir / shard_name("results", ".jsonl", o);
    const fs::path run_path = dir / shard_name("run", ".json", o);
    summary_path = dir / shard_name("summary", ".json", o);
    result.jsonl_path = jsonl_path.string();
    result.summary_path = summary_path.string();
    const auto run = run_json(model_name, specs, attack, o, data_fingerprint(samples, labels, ids));
    EarlierResults earlier;
    if (o.resume && fs::exists(jsonl_path)) {
      earlier = earlier_results(run_path, jsonl_path, run, todo.size());
      if (earlier.refusal && !o.restart_on_mismatch) std::rethrow_exception(earlier.refusal);
    }
    if (o.resume && fs::exists(jsonl_path) && !earlier.refusal) {
      auto& content = earlier.content;
      for (size_t k = 0; k < content.records.size(); ++k) {
        const auto& r = content.records[k];
        if (r.index != todo[k] || r.id != id_of(todo[k]))
          throw UsageError(jsonl_path.string() + ":" + std::to_string(k + 1) + ": record of sample '" + r.id +
                           "' where sample '" + id_of(todo[k]) +
                           "' belongs; the samples differ from the "
                           "earlier run");
      }
      fs::resize_file(jsonl_path, content.valid_bytes);  // drops a line cut short
      result.records = std::move(content.records);
      result.resumed = static_cast<int64_t>(result.records.size());
      write_file_atomically(run_path.string(), run.dump(2) + "\n");
    } else {
      // run.json before results.jsonl: a kill between the two leaves a folder
      // without results (a fresh start), never results without their run.
      write_file_atomically(run_path.string(), run.dump(2) + "\n");
      write_file_atomically(jsonl_path.string(), "");
    }
    jsonl = AppendFile(jsonl_path.string());
  }

  ProgressBar bar("attack " + attack.method, static_cast<int64_t>(todo.size()), o.quiet);
  int64_t correct = 0, successes = 0;
  for (const auto& r : result.records) {
    correct += r.correct ? 1 : 0;
    successes += r.success ? 1 : 0;
  }
  // The record of a sample that is not attacked (misclassified, another label,
  // or a model that answered it two ways).
  auto unattacked = [&](int64_t i, const std::string& text, int64_t pred, double confidence, const std::string& note) {
    SampleRecord r;
    r.index = i;
    r.id = id_of(i);
    r.text = text;
    r.label = label_of[i];
    r.clean_prediction = pred;
    r.clean_confidence = confidence;
    r.correct = pred == label_of[i];
    r.decoupling = method->is_decoupling();
    r.note = note;
    return r;
  };
  const torch::Device device = model.device();
  // The clean pass, batched over samples. Its batches start at multiples of
  // o.batch, also when resuming: the same rows share a forward pass as in an
  // uninterrupted run, so the clean confidences (floating-point sums) come out
  // the same to the last bit.
  const size_t batch = static_cast<size_t>(o.batch);
  const size_t first_pass = static_cast<size_t>(result.resumed) / batch * batch;
  std::vector<int64_t> clean_pred(todo.size(), -1);
  std::vector<double> clean_conf(todo.size(), 0.0);
  for (size_t begin = first_pass; begin < todo.size(); begin += batch) {
    const size_t end = std::min(todo.size(), begin + batch);
    std::vector<int64_t> chunk(todo.begin() + static_cast<std::ptrdiff_t>(begin),
                               todo.begin() + static_cast<std::ptrdiff_t>(end));
    torch::NoGradGuard no_grad;
    const Inputs rows = to_device(select_rows(samples, torch::tensor(chunk, torch::kLong)), device);
    const auto logits = model.logits(rows);
    require_finite(logits, model, "logits");
    const auto probs = torch::softmax(logits.to(torch::kDouble), 1);
    auto [c, p] = probs.max(1);
    const auto preds = p.to(torch::kCPU).contiguous();
    const auto conf = c.to(torch::kCPU).contiguous();
    for (size_t k = 0; k < chunk.size(); ++k) {
      clean_pred[begin + k] = preds.data_ptr<int64_t>()[k];
      clean_conf[begin + k] = conf.data_ptr<double>()[k];
    }
  }

  // Then the attacks: up to o.parallel_samples samples at a time, their
  // queries packed into shared forward passes (sample_scheduler.h); records
  // are written in sample order as soon as every earlier one is done.
  const size_t first_new = static_cast<size_t>(result.resumed);
  std::vector<SampleRecord> pending(todo.size() - first_new);
  auto work = [&](int64_t job, Classifier& view) {
    const size_t k = first_new + static_cast<size_t>(job);
    const int64_t i = todo[k];
    const std::string text = texts.empty() ? "" : texts[static_cast<size_t>(i)];
    const int64_t pred = clean_pred[k];
    SampleRecord& r = pending[static_cast<size_t>(job)];
    const bool selected = o.attack_labels.empty() || std::find(o.attack_labels.begin(), o.attack_labels.end(),
                                                               label_of[i]) != o.attack_labels.end();
    if (pred != label_of[i] || !selected) {
      r = unattacked(i, text, pred, clean_conf[k],
                     pred == label_of[i] ? "not attacked: label not in attack_labels" : "");
      return;
    }
    const Inputs row = slice_rows(samples, i, i + 1);
    AttackResult a;
    try {
      std::unique_ptr<SampleTruth> truth;
      if (o.oracle != nullptr) truth = o.oracle->prepare(row, label_of[i]);
      a = make_attack(attack)->attack(view, row, static_cast<uint64_t>(i), truth.get());
    } catch (const UsageError&) {
      throw;
    } catch (const Error& e) {
      throw Error("sample '" + id_of(i) + "' (index " + std::to_string(i) + "): " + e.what());
    }
    // The attacked set and `correct` come from the clean pass above; the
    // attack's own clean query must agree with it.
    if (a.clean_prediction != pred && !o.allow_nondeterministic)
      throw Error("model '" + model_name + "' answered sample '" + id_of(i) + "' with class " + std::to_string(pred) +
                  " in the batched clean pass and " + std::to_string(a.clean_prediction) +
                  " alone: it is nondeterministic or depends on the rest of the batch, and its "
                  "attack results would not mean what they say (allow_nondeterministic measures it "
                  "anyway, leaving such samples unattacked)");
    r = a.clean_prediction == pred ? make_record(i, id_of(i), text, label_of[i], a, specs)
                                   : unattacked(i, text, pred, clean_conf[k], kNondeterministicNote);
  };
  auto write = [&](int64_t job) {
    SampleRecord& r = pending[static_cast<size_t>(job)];
    if (!o.record_seconds) r.seconds = 0.0;
    correct += r.correct ? 1 : 0;
    successes += r.success ? 1 : 0;
    if (jsonl.is_open()) jsonl.write_line(record_to_json(r).dump());
    result.records.push_back(std::move(r));
    bar.update(static_cast<int64_t>(result.records.size()),
               "ASR " + std::to_string(successes) + "/" + std::to_string(correct));
  };
  SampleScheduler scheduler(model, std::max<int64_t>(1, attack.batch_size));
  scheduler.run(static_cast<int64_t>(pending.size()), parallel, work, write);

  if (jsonl.is_open()) jsonl.close();  // every record on the disk before the summary
  result.summary = summarize(result.records, model_name, attack, o.oracle ? o.oracle->name() : "");
  if (!summary_path.empty())
    write_file_atomically(summary_path.string(), summary_to_json(result.summary).dump(2) + "\n");
  char line[128];
  std::snprintf(line, sizeof line, "%s %lld/%lld", result.summary.has_fooled() ? "fooled" : "ASR",
                static_cast<long long>(result.summary.headline_count()),
                static_cast<long long>(result.summary.attacked));
  bar.finish(line);
  return result;
}

}  // namespace muroan
