// Certification of a model by randomized ablation: votes over ablated copies,
// the Clopper-Pearson bound, the certified radius; run over a set of samples.
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "defenses/defenses.h"
#include "muroan/certify.h"
#include "muroan/defense.h"
#include "muroan/error.h"
#include "muroan/files.h"
#include "muroan/progress.h"
#include "muroan/seed.h"

namespace muroan {
namespace {

// Copies whose masks are drawn in one call: fixed, so that the random numbers
// (and so the result) do not depend on batch_size.
constexpr int64_t kMaskChunk = 32;

int64_t arg_max(const std::vector<int64_t>& v) {
  return static_cast<int64_t>(std::max_element(v.begin(), v.end()) - v.begin());  // first on ties
}

// Votes per class of `copies` ablated copies of `sample`.
std::vector<int64_t> count_votes(Classifier& model, const Inputs& sample, const std::vector<int64_t>& keep,
                                 int64_t copies, const CertifyOptions& o, torch::Generator& gen) {
  const auto& specs = model.modalities();
  std::vector<int64_t> counts(static_cast<size_t>(model.num_classes()), 0);
  const int64_t per_pass = std::max(kMaskChunk, o.batch_size / kMaskChunk * kMaskChunk);
  torch::NoGradGuard no_grad;
  for (int64_t done = 0; done < copies;) {
    const int64_t rows = std::min(per_pass, copies - done);
    Inputs batch;
    for (const auto& x : sample) {
      auto sizes = x.sizes().vec();
      sizes[0] = rows;
      batch.push_back(x.expand(sizes).contiguous());
    }
    PointMasks masks(specs.size());
    for (int64_t c = 0; c < rows; c += kMaskChunk) {
      const int64_t n = std::min(kMaskChunk, rows - c);
      const auto part = random_keep_masks(slice_rows(batch, c, c + n), specs, keep, gen);
      for (size_t m = 0; m < specs.size(); ++m)
        if (part[m].defined()) masks[m] = masks[m].defined() ? torch::cat({masks[m], part[m]}, 0) : part[m];
    }
    const auto logits = model.logits(apply_point_masks(batch, specs, masks, o.text_removal));
    if (logits.dim() != 2 || logits.size(0) != rows || logits.size(1) != model.num_classes())
      throw Error("model '" + model.name() + "' returned logits of an unexpected shape");
    const auto votes = torch::bincount(logits.argmax(1).to(torch::kCPU), {}, model.num_classes());
    const int64_t* pv = votes.data_ptr<int64_t>();
    for (size_t c = 0; c < counts.size(); ++c) counts[c] += pv[c];
    done += rows;
  }
  return counts;
}

}  // namespace

void validate_certify_options(const CertifyOptions& o) {
  if (o.keep.empty()) throw UsageError("keep: give the points kept per modality (e.g. 45,all)");
  for (int64_t k : o.keep)
    if (k < 0 && k != kKeepAll) throw UsageError("keep: counts must be >= 0 or 'all'");
  if (o.n0 <= 0) throw UsageError("n0: must be positive");
  if (o.n <= 0) throw UsageError("n: must be positive");
  if (!(o.alpha > 0.0 && o.alpha < 1.0)) throw UsageError("alpha: must be in (0,1)");
  if (o.batch_size <= 0) throw UsageError("batch_size: must be positive");
  if (o.limit < 0) throw UsageError("limit: must be >= 0 (0: all)");
}

CertifyRecord certify_sample(Classifier& model, const Inputs& sample_in, int64_t label, int64_t index,
                             const CertifyOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const auto& specs = model.modalities();
  const Inputs sample = to_device(sample_in, model.device());
  const InputSpace space(specs, sample);  // checks the sample, counts its points
  const auto keep = expand_keep_list(o.keep, specs.size());

  CertifyRecord r;
  r.index = index;
  r.label = label;
  r.points = space.points();
  for (size_t m = 0; m < specs.size(); ++m) {
    r.modality_names.push_back(specs[m].name);
    r.keep.push_back(keep[m] == kKeepAll ? r.points[m] : std::min(keep[m], r.points[m]));
  }
  torch::Generator gen = make_cpu_generator(mix_seed(o.seed, static_cast<uint64_t>(index)));
  const auto selection = count_votes(model, sample, keep, o.n0, o, gen);
  r.counts = count_votes(model, sample, keep, o.n, o, gen);
  r.vote = arg_max(r.counts);
  r.candidate = arg_max(selection);
  r.candidate_count = r.counts[static_cast<size_t>(r.candidate)];
  r.p_lower = clopper_pearson_lower(r.candidate_count, o.n, o.alpha);
  r.radius = certified_radius(r.p_lower, r.points, r.keep);
  r.prediction = r.radius.total >= 0 ? r.candidate : -1;
  r.correct = r.prediction >= 0 && r.prediction == label;
  if (o.record_seconds) r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

CertifyResult run_certification(Classifier& model, const Inputs& inputs, const torch::Tensor& labels,
                                const std::vector<std::string>& ids, const CertifyOptions& o) {
  validate_certify_options(o);
  expand_keep_list(o.keep, model.modalities().size());
  const int64_t total = batch_size(inputs);
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != total)
    throw Error("certify: expected one label per sample");
  if (!ids.empty() && static_cast<int64_t>(ids.size()) != total) throw Error("certify: expected one id per sample");
  const int64_t count = o.limit > 0 ? std::min(o.limit, total) : total;
  const std::string name = o.model_name.empty() ? model.name() : o.model_name;

  CertifyResult result;
  AppendFile jsonl;
  if (!o.out_dir.empty()) {
    std::filesystem::create_directories(o.out_dir);
    result.jsonl_path = (std::filesystem::path(o.out_dir) / "certify.jsonl").string();
    result.summary_path = (std::filesystem::path(o.out_dir) / "certify_summary.json").string();
    write_file_atomically(result.jsonl_path, "");  // a new run starts an empty file
    jsonl = AppendFile(result.jsonl_path);
  }
  const auto host_labels = labels.to(torch::kCPU).to(torch::kLong).contiguous();
  ProgressBar bar("certify " + name, count, o.quiet);
  int64_t correct = 0;
  for (int64_t i = 0; i < count; ++i) {
    CertifyRecord r = certify_sample(model, slice_rows(inputs, i, i + 1), host_labels[i].item<int64_t>(), i, o);
    r.id = ids.empty() ? std::to_string(i) : ids[static_cast<size_t>(i)];
    correct += r.correct ? 1 : 0;
    if (jsonl.is_open()) jsonl.write_line(certify_record_to_json(r).dump());
    result.records.push_back(std::move(r));
    char status[64];
    std::snprintf(status, sizeof status, "certified correct %.3f",
                  static_cast<double>(correct) / static_cast<double>(i + 1));
    bar.update(i + 1, status);
  }
  if (jsonl.is_open()) jsonl.close();
  result.summary = summarize_certification(result.records, name, o);
  bar.finish(std::to_string(count) + " samples");
  if (!o.out_dir.empty())
    write_file_atomically(result.summary_path, certify_summary_to_json(result.summary).dump(2) + "\n");
  return result;
}

}  // namespace muroan
