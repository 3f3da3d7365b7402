#include "muroan/search_context.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "muroan/error.h"
#include "muroan/seed.h"

namespace muroan {

SearchContext::SearchContext(Classifier& model, const Inputs& sample, const AttackOptions& options, uint64_t stream,
                             const SampleTruth* truth)
    : model_(model),
      options_(options),
      truth_(truth),
      fooled_(truth != nullptr && options.success != SuccessCriterion::kFlip),
      space_(model.modalities(), sample),
      rng_(mix_seed(options.seed, stream)) {
  const auto& specs = space_.specs();
  allowed_.assign(specs.size(), options_.modalities.empty());
  for (const auto& name : options_.modalities)
    for (size_t m = 0; m < specs.size(); ++m)
      if (specs[m].name == name) allowed_[m] = true;
  // The budget in points; the epsilon keeps 0.05 * 1000 at 50.
  point_budget_ = static_cast<int64_t>(std::floor(options_.budget * static_cast<double>(space_.total_points()) + 1e-9));

  torch::NoGradGuard no_grad;
  count_forward(1);
  Classifier::QueryBatch clean;
  clean.inputs = space_.sample();
  // With the fusion embedding when there is one: the fusion objective needs
  // it, and the reported fusion shift too (one pass, not a second one later).
  clean.want_fusion = model_.has_fusion();
  auto answer = model_.alone().answer(clean);  // its confidence is reported
  clean_logits_ = std::move(answer.logits);
  require_finite(clean_logits_, model_, "logits");
  clean_prediction_ = clean_logits_.argmax(1).item<int64_t>();
  if (clean.want_fusion) {
    clean_fusion_ = std::move(answer.fusion);
    require_finite(clean_fusion_, model_, "fusion embeddings");
  }
}

bool SearchContext::within_budget(const DecouplingSet& set) const {
  return space_.count(set).decoupled_points() <= point_budget_;
}

bool SearchContext::keeps_truth(const TruthVerdict& v) const { return v.label && *v.label == truth_->label(); }

bool SearchContext::admissible(const DecouplingSet& set) const {
  return !fooled_ || keeps_truth(truth_->judge(set, options_.text_removal));
}

std::vector<bool> SearchContext::admissible_all(const std::vector<DecouplingSet>& sets) const {
  std::vector<bool> out(sets.size(), true);
  if (!fooled_) return out;
  const auto verdicts = truth_->judge_all(sets, options_.text_removal);
  for (size_t i = 0; i < sets.size(); ++i) out[i] = keeps_truth(verdicts[i]);
  return out;
}

bool SearchContext::is_protected(size_t m, int64_t position) const {
  if (options_.protected_tokens.empty() || !space_.specs().at(m).is_tokens()) return false;
  const int64_t id = space_.token_id(m, position);
  return std::find(options_.protected_tokens.begin(), options_.protected_tokens.end(), id) !=
         options_.protected_tokens.end();
}

bool SearchContext::is_success(int64_t prediction) const {
  if (options_.objective == Objective::kTargeted) return prediction == options_.target;
  return prediction != clean_prediction_;
}

void SearchContext::count_forward(int64_t rows) {
  if (options_.max_queries > 0 && forward_passes_ + rows > options_.max_queries) throw QueryLimitReached();
  forward_passes_ += rows;
}

torch::Tensor SearchContext::loss(const torch::Tensor& logits, const torch::Tensor& fusion) const {
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  switch (options_.objective) {
    case Objective::kMargin: {
      const int64_t y = clean_prediction_;
      auto idx = torch::full({1}, y, torch::dtype(torch::kLong).device(logits.device()));
      auto others = std::get<0>(logits.index_fill(1, idx, kNegInf).max(1));
      return logits.select(1, y) - others;
    }
    case Objective::kTargeted: {
      const int64_t t = options_.target;
      auto idx = torch::full({1}, t, torch::dtype(torch::kLong).device(logits.device()));
      auto others = std::get<0>(logits.index_fill(1, idx, kNegInf).max(1));
      return others - logits.select(1, t);
    }
    case Objective::kFusion:
      return torch::cosine_similarity(fusion, clean_fusion_.expand_as(fusion), 1, 1e-8);
  }
  return {};
}

std::vector<CandidateEval> SearchContext::score(const torch::Tensor& logits, const torch::Tensor& fusion) const {
  require_finite(logits, model_, "logits");
  if (fusion.defined()) require_finite(fusion, model_, "fusion embeddings");
  auto loss_host = loss(logits, fusion).to(torch::kCPU).to(torch::kDouble).contiguous();
  auto pred_host = logits.argmax(1).to(torch::kCPU).contiguous();
  const double* pl = loss_host.data_ptr<double>();
  const int64_t* pp = pred_host.data_ptr<int64_t>();
  std::vector<CandidateEval> out(static_cast<size_t>(logits.size(0)));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].loss = pl[i];
    out[i].prediction = pp[i];
    out[i].success = is_success(pp[i]);
  }
  return out;
}

std::vector<CandidateEval> SearchContext::evaluate(const std::vector<DecouplingSet>& sets) {
  if (!fooled_) return evaluate_queried(sets);
  std::vector<CandidateEval> out(sets.size());
  std::vector<size_t> asked;
  std::vector<DecouplingSet> ask;
  const auto keep = admissible_all(sets);
  for (size_t i = 0; i < sets.size(); ++i) {
    if (keep[i]) {
      asked.push_back(i);
      ask.push_back(sets[i]);
    } else {
      out[i].loss = std::numeric_limits<double>::infinity();
      out[i].admissible = false;
    }
  }
  const auto evals = evaluate_queried(ask);
  for (size_t k = 0; k < asked.size(); ++k) out[asked[k]] = evals[k];
  return out;
}

std::vector<CandidateEval> SearchContext::evaluate_queried(const std::vector<DecouplingSet>& sets) {
  std::vector<CandidateEval> out;
  out.reserve(sets.size());
  const size_t batch = static_cast<size_t>(std::max<int64_t>(1, options_.batch_size));
  torch::NoGradGuard no_grad;
  for (size_t begin = 0; begin < sets.size(); begin += batch) {
    size_t end = std::min(sets.size(), begin + batch);
    bool truncated = false;
    if (options_.max_queries > 0) {
      const int64_t left = options_.max_queries - forward_passes_;
      if (left <= 0) throw QueryLimitReached();
      if (static_cast<int64_t>(end - begin) > left) {  // spend what is left, then stop
        end = begin + static_cast<size_t>(left);
        truncated = true;
      }
    }
    std::vector<DecouplingSet> chunk(sets.begin() + static_cast<std::ptrdiff_t>(begin),
                                     sets.begin() + static_cast<std::ptrdiff_t>(end));
    count_forward(static_cast<int64_t>(chunk.size()));
    auto evals = evaluate_chunk(chunk);
    note_successes(chunk, evals);
    out.insert(out.end(), evals.begin(), evals.end());
    if (truncated) throw QueryLimitReached();
  }
  return out;
}

std::vector<CandidateEval> SearchContext::evaluate_chunk(const std::vector<DecouplingSet>& chunk) {
  const size_t modalities = space_.specs().size();
  if (!options_.share_encodings || modalities > 64) {  // 64: the bits of a group mask
    Classifier::QueryBatch batch;
    batch.inputs = space_.apply(chunk, options_.text_removal);
    batch.want_fusion = uses_fusion();
    const auto a = model_.answer(batch);
    return score(a.logits, a.fusion);
  }
  // Rows that leave a modality clean share its one encoding: group the rows by
  // the modalities they touch (a bit mask) and make one forward pass per group.
  std::vector<uint64_t> masks(chunk.size(), 0);
  std::vector<uint64_t> groups;  // in order of first appearance
  for (size_t i = 0; i < chunk.size(); ++i) {
    for (const auto& e : chunk[i].elements) masks[i] |= uint64_t{1} << e.modality;
    if (std::find(groups.begin(), groups.end(), masks[i]) == groups.end()) groups.push_back(masks[i]);
  }
  std::vector<CandidateEval> out(chunk.size());
  for (const uint64_t mask : groups) {
    std::vector<size_t> rows;
    std::vector<DecouplingSet> sets;
    for (size_t i = 0; i < chunk.size(); ++i)
      if (masks[i] == mask) {
        rows.push_back(i);
        sets.push_back(chunk[i]);
      }
    Classifier::QueryBatch batch;
    batch.inputs = space_.apply(sets, options_.text_removal);
    batch.shared.assign(modalities, false);
    for (size_t m = 0; m < modalities; ++m)
      if (!(mask >> m & 1U)) {
        batch.shared[m] = true;
        batch.inputs[m] = space_.sample()[m];
      }
    batch.group_rows = {static_cast<int64_t>(sets.size())};
    batch.want_fusion = uses_fusion();
    const auto a = model_.answer(batch);
    auto evals = score(a.logits, a.fusion);
    for (size_t k = 0; k < rows.size(); ++k) out[rows[k]] = evals[k];
  }
  return out;
}

void SearchContext::note_successes(const std::vector<DecouplingSet>& sets, const std::vector<CandidateEval>& evals) {
  for (size_t i = 0; i < evals.size(); ++i) {
    if (!evals[i].success) continue;
    const bool allowed_only = std::all_of(sets[i].elements.begin(), sets[i].elements.end(),
                                          [this](const DecouplingElement& e) { return allowed(e.modality); });
    if (!allowed_only) continue;
    const int64_t size = space_.count(sets[i]).decoupled_points();
    if (size > point_budget_) continue;
    if (!best_success_ || size < best_success_size_) {
      best_success_ = sets[i];
      best_success_size_ = size;
    }
  }
}

std::vector<PixelRegion> SearchContext::quadrants(const PixelRegion& r) {
  const int64_t cw = (r.w + 1) / 2, ch = (r.h + 1) / 2;
  std::vector<PixelRegion> out;
  for (const PixelRegion& q :
       {PixelRegion{r.x, r.y, cw, ch}, PixelRegion{r.x + cw, r.y, r.w - cw, ch},
        PixelRegion{r.x, r.y + ch, cw, r.h - ch}, PixelRegion{r.x + cw, r.y + ch, r.w - cw, r.h - ch}})
    if (q.w > 0 && q.h > 0) out.push_back(q);
  return out;
}

std::vector<DecouplingElement> SearchContext::image_candidates() const {
  std::vector<DecouplingElement> out;
  const auto& specs = space_.specs();
  const int64_t p = std::max<int64_t>(1, options_.patch);
  for (size_t m = 0; m < specs.size(); ++m) {
    if (!allowed(m) || !specs[m].is_image()) continue;
    const int64_t H = specs[m].height(), W = specs[m].width();
    switch (options_.granularity) {
      case Granularity::kPixel:
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x) out.push_back(DecouplingElement::pixels(m, {x, y, 1, 1}));
        break;
      case Granularity::kPatch:
        for (int64_t y = 0; y < H; y += p)
          for (int64_t x = 0; x < W; x += p)
            out.push_back(DecouplingElement::pixels(m, {x, y, std::min(p, W - x), std::min(p, H - y)}));
        break;
      case Granularity::kQuadtree: {
        // Level by level: the quadrants of every cell whose side exceeds `patch`.
        std::vector<PixelRegion> level{{0, 0, W, H}};
        while (!level.empty()) {
          std::vector<PixelRegion> next;
          for (const auto& cell : level)
            for (const auto& q : quadrants(cell)) {
              out.push_back(DecouplingElement::pixels(m, q));
              if (std::max(q.w, q.h) > p) next.push_back(q);
            }
          level = std::move(next);
        }
        break;
      }
    }
  }
  return out;
}

std::vector<DecouplingElement> SearchContext::candidates() const {
  auto pool = image_candidates();
  const auto tokens = token_candidates();
  pool.insert(pool.end(), tokens.begin(), tokens.end());
  const auto features = feature_candidates();
  pool.insert(pool.end(), features.begin(), features.end());
  return pool;
}

std::vector<DecouplingElement> SearchContext::feature_candidates() const {
  std::vector<DecouplingElement> out;
  const auto& specs = space_.specs();
  for (size_t m = 0; m < specs.size(); ++m) {
    if (!allowed(m) || !specs[m].has_fixed_points()) continue;
    for (int64_t d = 0; d < specs[m].max_points(); ++d) out.push_back(DecouplingElement::feature(m, d));
  }
  return out;
}

std::vector<DecouplingElement> SearchContext::token_candidates() const {
  std::vector<DecouplingElement> out;
  const auto& specs = space_.specs();
  for (size_t m = 0; m < specs.size(); ++m) {
    if (!allowed(m) || !specs[m].is_tokens()) continue;
    for (int64_t pos : space_.token_positions(m))
      if (!is_protected(m, pos)) out.push_back(DecouplingElement::token(m, pos));
  }
  return out;
}

bool SearchContext::lower_loss(double a, double b) {
  if (std::isinf(a) || std::isinf(b)) return a < b;
  return a < b - 1e-5 * std::max(1.0, std::abs(b));
}

size_t SearchContext::pick_best(const std::vector<CandidateEval>& evals, const std::vector<int64_t>& added) {
  size_t best = 0;
  bool best_success = false;
  for (size_t i = 0; i < evals.size(); ++i) {
    const auto& e = evals[i];
    if (i == 0) {
      best_success = e.success;
      continue;
    }
    const auto& b = evals[best];
    bool better;
    if (e.admissible != b.admissible)
      better = e.admissible;
    else if (e.success != best_success)
      better = e.success;
    else if (e.success && added[i] != added[best])  // two successes: the smaller set
      better = added[i] < added[best];  // NOLINT(bugprone-branch-clone): the last branch's test, for another reason
    else if (lower_loss(e.loss, b.loss) || lower_loss(b.loss, e.loss))
      better = e.loss < b.loss;
    else
      better = added[i] < added[best];  // equal objective: the cheaper element
    if (better) {
      best = i;
      best_success = e.success;
    }
  }
  return best;
}

SearchContext::Outcome SearchContext::grow_greedy(DecouplingSet set, const std::vector<DecouplingElement>& pool,
                                                  int64_t max_points) {
  const int64_t cap = max_points < 0 ? point_budget_ : std::min(point_budget_, max_points);
  PointCover cover(space_);
  for (const auto& e : set.elements) cover.add(e);
  std::vector<bool> used(pool.size(), false);
  Outcome outcome;
  while (true) {
    std::vector<size_t> index;
    std::vector<DecouplingSet> rows;
    std::vector<int64_t> added;
    for (size_t i = 0; i < pool.size(); ++i) {
      if (used[i]) continue;
      const int64_t a = cover.added_by(pool[i]);
      if (a == 0) {  // already covered: it can never change x_S
        used[i] = true;
        continue;
      }
      if (cover.size() + a > cap) continue;
      index.push_back(i);
      rows.push_back(set.with(pool[i]));
      added.push_back(a);
    }
    if (rows.empty()) break;
    const auto evals = evaluate(rows);
    const size_t b = pick_best(evals, added);
    if (!evals[b].admissible) break;  // every way to grow loses the truth
    set.add(pool[index[b]]);
    cover.add(pool[index[b]]);
    used[index[b]] = true;
    if (evals[b].success) {
      outcome.success = true;
      break;
    }
  }
  outcome.set = std::move(set);
  return outcome;
}

DecouplingSet SearchContext::prune(DecouplingSet set) {
  // Elements covered by the others change nothing in x_S: drop them without a query.
  for (size_t i = set.size(); i-- > 0;) {
    DecouplingSet rest = set.without(i);
    PointCover cover(space_);
    for (const auto& e : rest.elements) cover.add(e);
    if (cover.added_by(set.elements[i]) == 0) set = std::move(rest);
  }
  while (set.size() > 1) {  // the empty set is the clean input: never a success
    const int64_t size = space_.count(set).decoupled_points();
    std::vector<DecouplingSet> variants;
    for (size_t i = 0; i < set.size(); ++i) variants.push_back(set.without(i));
    const auto evals = evaluate(variants);
    int64_t best = -1, best_freed = -1;
    for (size_t i = 0; i < evals.size(); ++i) {
      if (!evals[i].success) continue;
      const int64_t freed = size - space_.count(variants[i]).decoupled_points();
      if (freed > best_freed ||
          (freed == best_freed && lower_loss(evals[i].loss, evals[static_cast<size_t>(best)].loss))) {
        best = static_cast<int64_t>(i);
        best_freed = freed;
      }
    }
    if (best < 0) break;
    set = std::move(variants[static_cast<size_t>(best)]);
  }
  return set;
}

}  // namespace muroan
