// `muroan attack`: measure one attack on a model over a set of samples.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <sstream>

#include "cli_app.h"
#include "cli_options.h"
#include "cli_truth.h"
#include "commands.h"
#include "muroan/attack.h"
#include "muroan/device.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/measurement.h"
#include "muroan/model_source.h"

namespace muroan::cli {
namespace {

// "image,text" -> modality names of the model. A name of a modality is kept;
// "image" and "text" (or "tokens") also stand for every modality of that kind.
std::vector<std::string> resolve_modalities(const std::string& list, const std::vector<ModalitySpec>& specs) {
  std::vector<std::string> names;
  auto add = [&names](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  for (const auto& item : split_list(list)) {
    bool found = false;
    for (const auto& s : specs) {
      const bool kind_alias = (item == "image" && s.is_image()) || ((item == "text" || item == "tokens") && s.is_tokens());
      if (s.name == item || kind_alias) {
        add(s.name);
        found = true;
      }
    }
    if (!found) {
      std::string known;
      for (const auto& s : specs) known += (known.empty() ? "" : ", ") + s.name;
      throw UsageError("--modalities: the model has no modality '" + item + "' (it has " + known + ")");
    }
  }
  return names;
}

struct Shard {
  int64_t index = 0, count = 1;
};

int64_t env_int(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return -1;
  char* end = nullptr;
  const long long x = std::strtoll(v, &end, 10);
  return (*end == '\0' && x >= 0) ? x : -1;
}

// --shard i/N, else the rank and size that mpirun gives its processes (Open MPI,
// MPICH and other PMI launchers), else one shard.
Shard resolve_shard(const std::string& flag) {
  Shard s;
  if (!flag.empty()) {
    long long i = -1, n = -1;
    char rest = 0;
    if (std::sscanf(flag.c_str(), "%lld/%lld%c", &i, &n, &rest) != 2 || n < 1 || i < 0 || i >= n)
      throw UsageError("--shard: expected i/N with 0 <= i < N, e.g. 0/4; got '" + flag + "'");
    s.index = i;
    s.count = n;
    return s;
  }
  for (const auto& [rank, size] : {std::pair{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                                   std::pair{"PMI_RANK", "PMI_SIZE"}, std::pair{"PMIX_RANK", "PMIX_SIZE"}}) {
    const int64_t r = env_int(rank), n = env_int(size);
    if (r >= 0 && n >= 1 && r < n) {
      s.index = r;
      s.count = n;
      return s;
    }
  }
  return s;
}

}  // namespace

int run_attack(const AttackCommand& o) {
  (void)o.source.model_path();  // exactly one of --checkpoint and --manifest, or UsageError
  if (o.samples < 0) throw UsageError("--samples must be >= 0");
  AttackOptions a;
  a.method = o.method;
  a.objective = parse_objective(o.objective);
  a.target = o.target;
  a.success = parse_success_criterion(o.success);
  a.budget = o.budget;
  a.max_queries = o.max_queries;
  a.seed = o.seed;
  a.granularity = parse_granularity(o.granularity);
  a.patch = o.patch;
  a.top_k = o.top_k;
  a.max_size = o.max_size;
  a.text_removal = parse_text_removal(o.text_removal);
  a.batch_size = o.batch_size;
  a.share_encodings = o.share_encodings;
  a.eps = o.eps;
  a.step_size = o.step_size;
  a.steps = o.steps;
  validate_attack_options(a);  // before loading anything: a typo fails fast
  const Shard shard = resolve_shard(o.shard);

  const torch::Device device = resolve_device(o.source.device);
  ModelAndData md = load_model_source(o.source, device);
  a.modalities = resolve_modalities(o.modalities, md.model->modalities());
  a.protected_tokens = resolve_protected_tokens(o.protect_words, o.protect_tokens, md);
  validate_attack_options(a, *md.model);
  const auto oracle = oracle_for(md, o.garment_share);
  if (a.success == SuccessCriterion::kFooled && !oracle)
    throw UsageError("--success fooled: " + md.model->name() +
                     " has no oracle for the ground truth of decoupled inputs (only the built-in tasks "
                     "have one); use --success flip and protect the words that decide the label "
                     "(--protect-words)");

  MeasurementOptions m;
  m.out_dir = o.out.empty() ? "runs/attack-" + o.method : o.out;
  m.limit = o.samples;
  m.batch = o.batch_size;
  m.quiet = o.quiet || shard.index > 0;  // one progress bar per mpirun, not N
  m.resume = o.resume;
  m.shard_index = shard.index;
  m.shard_count = shard.count;
  m.oracle = oracle.get();
  m.record_seconds = o.timing;
  m.model_fingerprint = file_fingerprint(md.model_files);
  m.allow_nondeterministic = o.allow_nondeterministic;
  m.attack_labels = resolve_labels(o.attack_labels, md.model->classes());
  const MeasurementResult r =
      run_measurement(*md.model, md.data.inputs, md.data.labels, md.data.ids, md.data.texts, a, m);
  if (r.resumed > 0)
    std::printf("resumed %lld finished records from %s\n", static_cast<long long>(r.resumed), r.jsonl_path.c_str());
  MeasurementSummary summary = r.summary;
  std::string summary_path = r.summary_path;
  if (shard.count > 1) {
    const auto merged = merge_shards(m.out_dir, shard.count, "shard-" + std::to_string(shard.index));
    if (!merged) {
      std::printf("shard %lld of %lld done (%s); the last shard to finish merges the results "
                  "(or run: muroan merge %s)\n",
                  static_cast<long long>(shard.index), static_cast<long long>(shard.count),
                  r.summary_path.c_str(), m.out_dir.c_str());
      return kExitOk;
    }
    summary = *merged;
    summary_path = m.out_dir + "/summary.json";
    std::printf("shard %lld of %lld finished last: merged %lld shards\n", static_cast<long long>(shard.index),
                static_cast<long long>(shard.count), static_cast<long long>(shard.count));
  }
  if (!o.quiet) std::printf("%s", format_summary_table(summary).c_str());
  const Interval ci = summary.headline_ci();
  std::printf("%s on %s (%s): %s %.1f%% [95%% CI %.1f-%.1f%%] over %lld attacked samples -> %s\n",
              o.method.c_str(), md.model->name().c_str(), md.data_source.c_str(), summary.headline_name(),
              100.0 * summary.headline_asr(), 100.0 * ci.low, 100.0 * ci.high,
              static_cast<long long>(summary.attacked), summary_path.c_str());
  for (const auto& w : summary.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  return kExitOk;
}

void register_attack(CLI::App& app, Action& action) {
  auto o = std::make_shared<AttackCommand>();
  auto* cmd = app.add_subcommand("attack", "Measure a decoupling attack (or a baseline) on a model");
  add_model_source_options(*cmd, o->source);
  std::string methods;
  for (const auto& m : attack_catalog()) methods += (methods.empty() ? "" : ", ") + m.name;
  cmd->add_option("--method", o->method, methods)->capture_default_str();
  cmd->add_option("--objective", o->objective, "margin, fusion (1 - cos of the fusion embedding) or targeted")
      ->capture_default_str();
  cmd->add_option("--target", o->target, "Target class index of --objective targeted");
  cmd->add_option("--success", o->success,
                  "What counts as a success: fooled (the decision changed and the task's oracle says the "
                  "truth of x_S did not), flip (any decision change, as the paper counts), or auto "
                  "(fooled where the task has an oracle, else flip)")
      ->capture_default_str();
  cmd->add_option("--protect-words", o->protect_words,
                  "Words no attack may decouple, e.g. not,no,never (needs the model's vocabulary)");
  cmd->add_option("--protect-tokens", o->protect_tokens, "Token ids no attack may decouple, e.g. 5,9");
  cmd->add_option("--attack-labels", o->attack_labels,
                  "Attack only samples of these labels (class names or indices; default: every correctly "
                  "classified sample)");
  cmd->add_option("--garment-share", o->garment_share,
                  "fashion-match oracle: share of the garment's pixels whose decoupling makes x_S undefined")
      ->capture_default_str();
  cmd->add_option("--budget", o->budget, "Largest decoupling rate |S|/N allowed, in (0,1]")->capture_default_str();
  cmd->add_option("--modalities", o->modalities, "Modalities the attack may touch, e.g. image,text (default all)");
  cmd->add_option("--max-queries", o->max_queries, "Forward rows per sample (0: unlimited)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of random choices")->capture_default_str();
  cmd->add_option("--granularity", o->granularity, "Image candidates: pixel, patch or quadtree")->capture_default_str();
  cmd->add_option("--patch", o->patch, "Patch side in pixels (smallest quadtree cell)")->capture_default_str();
  cmd->add_option("--top-k", o->top_k, "saliency: candidates re-ranked exactly per step")->capture_default_str();
  cmd->add_option("--max-size", o->max_size, "exact: elements per set at most (1-4)")->capture_default_str();
  cmd->add_option("--text-removal", o->text_removal, "delete (shift left) or mask (pad id)")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Rows per forward pass")->capture_default_str();
  cmd->add_flag("!--no-encoder-sharing", o->share_encodings,
                "Encode every row in full, also modalities a candidate leaves clean (for comparison)");
  cmd->add_option("--shard", o->shard,
                  "Attack only samples i, i+N, ... (i/N); under mpirun the rank and size are used");
  cmd->add_option("--eps", o->eps, "pgd: L-infinity radius")->capture_default_str();
  cmd->add_option("--step-size", o->step_size, "pgd: step size")->capture_default_str();
  cmd->add_option("--steps", o->steps, "pgd: steps")->capture_default_str();
  cmd->add_option("--samples", o->samples, "Samples to attack, the first N (0: all)")->capture_default_str();
  cmd->add_option("--out", o->out, "Result directory (default runs/attack-<method>)");
  cmd->add_flag("!--no-resume", o->resume, "Start over instead of resuming results.jsonl");
  cmd->add_flag("--quiet", o->quiet, "No progress bar and no table");
  cmd->add_flag("!--no-timing", o->timing,
                "Write 0 seconds in every record: the same command and seed give byte-identical files");
  cmd->add_flag("--allow-nondeterministic", o->allow_nondeterministic,
                "Measure a model whose clean predictions differ between queries, leaving such samples "
                "unattacked (the summary warns)");
  cmd->callback([&action, o] { action = [o] { return run_attack(*o); }; });
}

}  // namespace muroan::cli
