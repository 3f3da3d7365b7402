#include "muroan/attack.h"

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "attacks/methods.h"
#include "muroan/error.h"
#include "muroan/names.h"
#include "muroan/search_context.h"

namespace muroan {

const char* objective_name(Objective o) {
  switch (o) {
    case Objective::kMargin:
      return "margin";
    case Objective::kFusion:
      return "fusion";
    case Objective::kTargeted:
      return "targeted";
  }
  return "?";
}

Objective parse_objective(const std::string& name) {
  if (name == "margin") return Objective::kMargin;
  if (name == "fusion") return Objective::kFusion;
  if (name == "targeted") return Objective::kTargeted;
  throw UsageError("objective: expected margin, fusion or targeted, got '" + name + "'");
}

const char* success_criterion_name(SuccessCriterion c) {
  switch (c) {
    case SuccessCriterion::kAuto:
      return "auto";
    case SuccessCriterion::kFlip:
      return "flip";
    case SuccessCriterion::kFooled:
      return "fooled";
  }
  return "?";
}

SuccessCriterion parse_success_criterion(const std::string& name) {
  if (name == "auto") return SuccessCriterion::kAuto;
  if (name == "flip") return SuccessCriterion::kFlip;
  if (name == "fooled") return SuccessCriterion::kFooled;
  throw UsageError("success: expected auto, flip or fooled, got '" + name + "'");
}

const char* granularity_name(Granularity g) {
  switch (g) {
    case Granularity::kPixel:
      return "pixel";
    case Granularity::kPatch:
      return "patch";
    case Granularity::kQuadtree:
      return "quadtree";
  }
  return "?";
}

Granularity parse_granularity(const std::string& name) {
  if (name == "pixel") return Granularity::kPixel;
  if (name == "patch") return Granularity::kPatch;
  if (name == "quadtree") return Granularity::kQuadtree;
  throw UsageError("granularity: expected pixel, patch or quadtree, got '" + name + "'");
}

nlohmann::ordered_json attack_options_to_json(const AttackOptions& o) {
  return {{"method", o.method},
          {"objective", objective_name(o.objective)},
          {"target", o.target},
          {"success", success_criterion_name(o.success)},
          {"protected_tokens", o.protected_tokens},
          {"budget", o.budget},
          {"modalities", o.modalities},
          {"max_queries", o.max_queries},
          {"seed", o.seed},
          {"granularity", granularity_name(o.granularity)},
          {"patch", o.patch},
          {"top_k", o.top_k},
          {"text_removal", text_removal_name(o.text_removal)},
          {"batch_size", o.batch_size},
          {"share_encodings", o.share_encodings},
          {"reference_min_side", o.reference_min_side},
          {"max_combinations", o.max_combinations},
          {"refine", o.refine},
          {"random_trials", o.random_trials},
          {"max_size", o.max_size},
          {"eps", o.eps},
          {"step_size", o.step_size},
          {"steps", o.steps},
          {"random_start", o.random_start},
          {"clamp_min", o.clamp_min},
          {"clamp_max", o.clamp_max}};
}

AttackOptions attack_options_from_json(const nlohmann::ordered_json& j) {
  if (!j.is_object()) throw UsageError("attack options: expected a JSON object");
  AttackOptions o;
  auto get = [&j](const char* key, auto& field) {
    auto it = j.find(key);
    if (it == j.end()) return;
    try {
      field = it->get<std::decay_t<decltype(field)>>();
    } catch (const nlohmann::ordered_json::exception&) {
      throw UsageError(std::string("attack options: field '") + key + "' has the wrong type");
    }
  };
  std::string objective = objective_name(o.objective), granularity = granularity_name(o.granularity),
              removal = text_removal_name(o.text_removal), success = success_criterion_name(o.success);
  get("method", o.method);
  get("objective", objective);
  get("target", o.target);
  get("success", success);
  get("protected_tokens", o.protected_tokens);
  get("budget", o.budget);
  get("modalities", o.modalities);
  get("max_queries", o.max_queries);
  get("seed", o.seed);
  get("granularity", granularity);
  get("patch", o.patch);
  get("top_k", o.top_k);
  get("text_removal", removal);
  get("batch_size", o.batch_size);
  get("share_encodings", o.share_encodings);
  get("reference_min_side", o.reference_min_side);
  get("max_combinations", o.max_combinations);
  get("refine", o.refine);
  get("random_trials", o.random_trials);
  get("max_size", o.max_size);
  get("eps", o.eps);
  get("step_size", o.step_size);
  get("steps", o.steps);
  get("random_start", o.random_start);
  get("clamp_min", o.clamp_min);
  get("clamp_max", o.clamp_max);
  o.objective = parse_objective(objective);
  o.granularity = parse_granularity(granularity);
  o.text_removal = parse_text_removal(removal);
  o.success = parse_success_criterion(success);
  return o;
}

namespace {

std::vector<std::string> names_of(const std::vector<ModalitySpec>& specs) {
  std::vector<std::string> names;
  names.reserve(specs.size());
  for (const auto& s : specs) names.push_back(s.name);
  return names;
}

}  // namespace

std::vector<std::string> resolve_modality_names(const std::vector<std::string>& items,
                                                const std::vector<ModalitySpec>& specs) {
  std::vector<std::string> names;
  auto add = [&names](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  for (const auto& item : items) {
    bool found = false;
    for (const auto& s : specs) {
      const bool kind_alias = (item == "image" && s.is_image()) ||
                              ((item == "text" || item == "tokens") && s.is_tokens()) ||
                              (item == "tabular" && s.is_tabular()) || (item == "audio" && s.is_audio()) ||
                              (item == "signal" && s.is_signal());
      if (s.name == item || kind_alias) {
        add(s.name);
        found = true;
      }
    }
    if (!found)
      throw UsageError("modalities: the model has no modality '" + item + "' (it has " + join_names(names_of(specs)) +
                       ")");
  }
  return names;
}

void validate_attack_options(const AttackOptions& o) {
  std::vector<std::string> methods;
  for (const auto& info : attack_catalog()) methods.push_back(info.name);
  check_known_name("method", "method", o.method, methods);
  // Messages start with the field's name (the CLI shows its flag instead).
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw UsageError(what);
  };
  require(o.budget > 0.0 && o.budget <= 1.0, "budget: must be in (0, 1], got " + std::to_string(o.budget));
  require(o.max_queries >= 0, "max_queries: must be >= 0 (0: unlimited)");
  for (int64_t id : o.protected_tokens)
    require(id >= 0, "protected_tokens: token ids are >= 0, got " + std::to_string(id));
  require(o.patch >= 1, "patch: must be >= 1");
  require(o.top_k >= 1, "top_k: must be >= 1");
  require(o.batch_size >= 1, "batch_size: must be >= 1");
  require(o.reference_min_side >= 1, "reference_min_side: must be >= 1");
  require(o.max_combinations >= 1, "max_combinations: must be >= 1");
  require(o.random_trials >= 1, "random_trials: must be >= 1");
  require(o.max_size >= 1 && o.max_size <= kMaxExactSize,
          "max_size: must be in 1.." + std::to_string(kMaxExactSize) + ", got " + std::to_string(o.max_size));
  require(o.eps >= 0.0, "eps: must be >= 0");
  require(o.step_size > 0.0, "step_size: must be > 0");
  require(o.steps >= 0, "steps: must be >= 0");
  require(o.clamp_min < o.clamp_max, "clamp_min: must be below clamp_max");
  require(o.objective != Objective::kTargeted || o.target >= 0,
          "target: the targeted objective needs a target class (>= 0)");
}

void validate_attack_options(const AttackOptions& o, const Classifier& model) {
  validate_attack_options(o);
  const std::vector<std::string> names = names_of(model.modalities());
  for (const auto& name : o.modalities) {
    if (std::find(names.begin(), names.end(), name) == names.end())
      throw UsageError("attack modalities: model '" + model.name() + "' has no modality '" + name + "' (it has " +
                       join_names(names) + ")");
  }
  if (model.num_classes() < 2)
    throw UsageError("model '" + model.name() + "' has fewer than 2 classes: nothing to attack");
  if (o.objective == Objective::kTargeted && o.target >= model.num_classes())
    throw UsageError("target class " + std::to_string(o.target) + " is outside the model's " +
                     std::to_string(model.num_classes()) + " classes");
  if (o.objective == Objective::kFusion && !model.has_fusion())
    throw UsageError("objective fusion needs the fusion embedding, and model '" + model.name() +
                     "' exposes none (use objective margin or targeted)");
}

Attack::Attack(AttackOptions options) : options_(std::move(options)) { validate_attack_options(options_); }

namespace {

double confidence(const torch::Tensor& logits, int64_t cls) {
  return torch::softmax(logits.to(torch::kDouble), 1)[0][cls].item<double>();
}

double fusion_shift(const torch::Tensor& clean, const torch::Tensor& adversarial) {
  const auto z0 = clean.to(torch::kDouble);
  const auto z1 = adversarial.to(torch::kDouble);
  return 1.0 - torch::cosine_similarity(z1, z0, 1, 1e-8)[0].item<double>();
}

}  // namespace

AttackResult Attack::attack(Classifier& model, const Inputs& sample, uint64_t stream, const SampleTruth* truth) {
  validate_attack_options(options_, model);
  if (options_.success == SuccessCriterion::kFooled && truth == nullptr)
    throw UsageError("success criterion 'fooled' needs the ground truth of decoupled inputs, and model '" +
                     model.name() + "' has no oracle (use success 'flip', with protected tokens)");
  const auto start = std::chrono::steady_clock::now();
  const Inputs x = to_device(sample, model.device());
  SearchContext ctx(model, x, options_, stream, is_decoupling() ? truth : nullptr);

  AttackResult r;
  r.criterion = ctx.judges_truth() ? SuccessCriterion::kFooled : SuccessCriterion::kFlip;
  r.decoupling = is_decoupling();
  r.text_removal = options_.text_removal;
  r.clean_prediction = ctx.clean_prediction();
  r.clean_confidence = confidence(ctx.clean_logits(), r.clean_prediction);

  Proposal p;
  if (options_.objective == Objective::kTargeted && options_.target == ctx.clean_prediction()) {
    p.note = "not attacked: the clean prediction already is the target class";
  } else {
    try {
      p = run(ctx);
    } catch (const QueryLimitReached&) {
      p = Proposal{};
      if (ctx.best_success()) p.set = *ctx.best_success();
      p.note = "max_queries (" + std::to_string(options_.max_queries) + ") reached";
    }
  }

  // The judge: rebuild the adversarial input and ask the model, whatever the
  // method believed. Its own queries are not charged to the method.
  torch::NoGradGuard no_grad;
  Classifier& judge = model.alone();  // reported numbers: from passes of their own
  const InputSpace& space = ctx.space();
  const auto& specs = space.specs();
  bool violation = false;
  std::string why;
  Inputs adv;
  if (r.decoupling) {
    adv = space.apply({p.set}, options_.text_removal);
    r.set = p.set;
    r.points = space.count(p.set);
    r.decoupling_rate = r.points.rate();
    for (const auto& e : p.set.elements) {
      if (!ctx.allowed(e.modality)) {
        violation = true;
        why = "the set touches modality '" + specs[e.modality].name + "', which the options exclude";
      } else if (e.is_token() && ctx.is_protected(e.modality, e.position)) {
        violation = true;
        why = "the set removes protected token " + std::to_string(space.token_id(e.modality, e.position)) +
              " at position " + std::to_string(e.position);
      }
    }
    if (r.points.decoupled_points() > ctx.point_budget()) {
      violation = true;
      why = "the set has " + std::to_string(r.points.decoupled_points()) + " points, over the budget of " +
            std::to_string(ctx.point_budget());
    }
  } else {
    adv = p.perturbed.empty() ? x : p.perturbed;
    r.points.total = space.points();
    r.points.decoupled.assign(specs.size(), 0);
    if (adv.size() != x.size()) throw Error(name() + ": proposed input has the wrong number of modalities");
    double linf = 0.0;
    for (size_t m = 0; m < specs.size(); ++m) {
      if (!adv[m].sizes().equals(x[m].sizes()))
        throw Error(name() + ": proposed input of modality '" + specs[m].name + "' has the wrong shape");
      const bool changed = !torch::equal(adv[m], x[m]);
      if (!changed) continue;
      if (!ctx.allowed(m) || !specs[m].is_image()) {
        violation = true;
        why = "the perturbation changes modality '" + specs[m].name + "', which it may not";
        continue;
      }
      linf = std::max(linf, (adv[m] - x[m]).abs().max().item<double>());
    }
    r.linf = linf;
    if (linf > options_.eps + 1e-6) {
      violation = true;
      why = "the perturbation's L-infinity distance exceeds eps";
    }
  }
  // Logits and fusion embedding from one pass; the clean embedding came with
  // the clean logits.
  Classifier::QueryBatch judged;
  judged.inputs = adv;
  judged.want_fusion = model.has_fusion();
  const auto answer = judge.answer(judged);
  const auto& logits = answer.logits;
  require_finite(logits, model, "logits");
  r.adversarial_prediction = logits.argmax(1).item<int64_t>();
  r.adversarial_confidence = confidence(logits, r.adversarial_prediction);
  if (judged.want_fusion) {
    require_finite(answer.fusion, model, "fusion embeddings");
    r.fusion_shift = fusion_shift(ctx.clean_fusion(), answer.fusion);
  }
  r.flipped = !violation && !(options_.objective == Objective::kTargeted && options_.target == r.clean_prediction) &&
              ctx.is_success(r.adversarial_prediction);
  r.success = r.flipped;
  if (truth != nullptr && r.decoupling) {
    const TruthVerdict verdict = truth->judge(p.set, options_.text_removal);
    r.truth_label = verdict.label;
    r.truth_reason = verdict.reason;
    if (r.flipped) r.success_class = classify_success(verdict, truth->label());
    if (ctx.judges_truth()) r.success = r.success_class == SuccessClass::kFooled;
  }
  r.note = violation ? "not a success: " + why : p.note;
  r.adversarial = std::move(adv);
  r.forward_passes = ctx.forward_passes();
  r.backward_passes = ctx.backward_passes();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace muroan
