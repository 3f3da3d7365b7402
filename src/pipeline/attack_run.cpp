#include "muroan/attack_run.h"

#include <algorithm>

#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/names.h"
#include "muroan/torchscript_model.h"
#include "muroan/torchscript_oracle.h"

namespace muroan {
namespace {

// A non-negative decimal integer of at most 18 digits (no sign, no spaces).
bool parse_index(const std::string& s, int64_t* out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 18) return false;
  *out = std::stoll(s);
  return true;
}

}  // namespace

std::vector<int64_t> resolve_protected_tokens(const std::vector<std::string>& words, const std::vector<int64_t>& ids,
                                              const ModelAndData& md) {
  std::vector<int64_t> out = md.protected_tokens;
  for (const auto& w : words) {
    const auto it = md.word_ids.find(w);
    if (it == md.word_ids.end())
      throw UsageError("protect_words: " +
                       (md.word_ids.empty()
                            ? "'" + w +
                                  "' cannot be mapped to a token id: the model has no vocabulary (give a "
                                  "\"vocab\" file in the manifest, or the ids as protected tokens)"
                            : "'" + w + "' is not in the model's vocabulary"));
    out.push_back(it->second);
  }
  for (const int64_t id : ids) {
    if (id < 0) throw UsageError("protect_tokens: expected token ids >= 0, got " + std::to_string(id));
    out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<int64_t> resolve_labels(const std::vector<std::string>& labels, const std::vector<std::string>& classes) {
  std::vector<int64_t> out;
  for (const auto& s : labels) {
    int64_t index = -1;
    const auto it = std::find(classes.begin(), classes.end(), s);
    if (it != classes.end()) {
      index = it - classes.begin();
    } else if (!parse_index(s, &index) || index >= static_cast<int64_t>(classes.size())) {
      throw UsageError("attack_labels: '" + s + "' is neither a class name (" + join_names(classes) +
                       ") nor an index below " + std::to_string(classes.size()));
    }
    if (std::find(out.begin(), out.end(), index) == out.end()) out.push_back(index);
  }
  return out;
}

AttackRun run_attack_measurement(const AttackRunOptions& o) {
  (void)o.source.model_path();  // exactly one source, before anything is loaded
  if (o.samples < 0) throw UsageError("samples: must be >= 0 (0: all)");
  AttackOptions a = o.attack;
  validate_attack_options(a);  // a typo fails before the model is loaded
  AttackRun run;
  run.shard = resolve_shard(o.shard);

  const torch::Device device = resolve_device(o.source.device);
  ModelAndData md = load_model_and_data(o.source, device);
  const std::string cut = truncation_warning(md.data, md.data_source);
  if (!cut.empty() && o.warn) o.warn(cut);
  a.modalities = resolve_modality_names(o.modalities, md.model->modalities());
  a.protected_tokens = resolve_protected_tokens(o.protect_words, o.protect_tokens, md);
  validate_attack_options(a, *md.model);
  std::unique_ptr<TruthOracle> oracle;  // a built-in task's, or a manifest's truth module
  if (!md.task.empty()) {
    oracle = make_task_oracle(md.task, md.vocab, o.oracle);
  } else if (const auto* ts = dynamic_cast<const TorchScriptClassifier*>(md.model.get())) {
    oracle = load_torchscript_oracle(ts->manifest(), ts->modalities());
  }
  if (a.success == SuccessCriterion::kFooled && !oracle)
    throw UsageError("success: 'fooled' needs the ground truth of decoupled inputs, and " + md.model->name() +
                     " has no oracle (the built-in tasks have one; a manifest names one with field 'truth'); "
                     "count 'flip' and protect the words that decide the label");

  MeasurementOptions m = o.measure;
  if (m.out_dir.empty()) m.out_dir = "runs/attack-" + a.method;
  m.limit = o.samples;
  m.batch = a.batch_size;
  m.quiet = o.measure.quiet || run.shard.index > 0;  // one progress bar per mpirun, not N
  m.shard_index = run.shard.index;
  m.shard_count = run.shard.count;
  m.oracle = oracle.get();
  m.model_fingerprint = file_fingerprint(md.model_files);
  m.attack_labels = resolve_labels(o.attack_labels, md.model->classes());

  run.model_name = md.model->name();
  run.data_source = md.data_source;
  run.result = run_measurement(*md.model, md.data.inputs, md.data.labels, md.data.ids, md.data.texts, a, m);
  run.summary = run.result.summary;
  run.summary_path = run.result.summary_path;
  if (run.shard.count > 1) {
    const auto merged = merge_shards(m.out_dir, run.shard.count, "shard-" + std::to_string(run.shard.index));
    run.complete = merged.has_value();
    if (merged) {
      run.summary = *merged;
      run.summary_path = m.out_dir + "/summary.json";
    }
  }
  return run;
}

}  // namespace muroan
