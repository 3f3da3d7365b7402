#include "muroan/torchscript_oracle.h"

#include <torch/script.h>

#include <algorithm>
#include <filesystem>

#include "io/json_fields.h"
#include "io/torch_error.h"
#include "io/torchscript_calls.h"
#include "muroan/decoupling.h"
#include "muroan/error.h"
#include "muroan/inputs.h"

namespace fs = std::filesystem;

namespace muroan {

struct TorchScriptOracle::Module {
  torch::jit::Module module;
};

namespace {

constexpr int64_t kUndefined = -1;
constexpr int64_t kProbeRows = 2;
constexpr size_t kJudgeRows = 256;  // rows of x_S per call of the module

// What is wrong with forward's output for `rows` rows and `classes` classes, or "".
std::string labels_problem(const torch::jit::IValue& out, int64_t rows, int64_t classes) {
  const std::string expected = "expected int64 labels [" + std::to_string(rows) + "], each in -1.." +
                               std::to_string(classes - 1) + " (-1: no label)";
  if (!out.isTensor()) return "returns a " + out.tagKind() + ", " + expected;
  const auto& t = out.toTensor();
  if (t.dim() != 1 || t.size(0) != rows) return "returns shape " + c10::str(t.sizes()) + ", " + expected;
  if (t.is_floating_point() || t.is_complex() || t.scalar_type() == torch::kBool)
    return std::string("returns ") + c10::toString(t.scalar_type()) + " values, " + expected;
  const auto l = t.to(torch::kLong);
  if (rows > 0 && (l.min().item<int64_t>() < kUndefined || l.max().item<int64_t>() >= classes))
    return "returns label " +
           std::to_string(l.min().item<int64_t>() < kUndefined ? l.min().item<int64_t>() : l.max().item<int64_t>()) +
           ", " + expected;
  return "";
}

class TorchScriptTruth : public SampleTruth {
 public:
  TorchScriptTruth(const TorchScriptOracle& oracle, InputSpace space, int64_t label,
                   const std::vector<std::string>& classes)
      : oracle_(oracle), space_(std::move(space)), label_(label), classes_(classes) {}

  int64_t label() const override { return label_; }

  TruthVerdict judge(const DecouplingSet& set, TextRemoval mode) const override {
    return verdict(oracle_.labels(space_.apply({set}, mode))[0].item<int64_t>());
  }

  // One call of the module for up to kJudgeRows sets: x_S of all of them is
  // one tensor operation per modality (InputSpace::apply).
  std::vector<TruthVerdict> judge_all(const std::vector<DecouplingSet>& sets, TextRemoval mode) const override {
    std::vector<TruthVerdict> out;
    out.reserve(sets.size());
    for (size_t begin = 0; begin < sets.size(); begin += kJudgeRows) {
      const size_t end = std::min(sets.size(), begin + kJudgeRows);
      const std::vector<DecouplingSet> chunk(sets.begin() + static_cast<std::ptrdiff_t>(begin),
                                             sets.begin() + static_cast<std::ptrdiff_t>(end));
      const auto labels = oracle_.labels(space_.apply(chunk, mode));
      const int64_t* l = labels.data_ptr<int64_t>();
      for (size_t k = 0; k < chunk.size(); ++k) out.push_back(verdict(l[k]));
    }
    return out;
  }

 private:
  TruthVerdict verdict(int64_t truth) const {
    TruthVerdict v;
    if (truth == kUndefined) {
      v.reason = oracle_.name() + " gives x_S no label";
      return v;
    }
    v.label = truth;
    if (truth != label_) v.reason = oracle_.name() + " labels x_S '" + classes_.at(static_cast<size_t>(truth)) + "'";
    return v;
  }

  const TorchScriptOracle& oracle_;
  InputSpace space_;
  int64_t label_;
  const std::vector<std::string>& classes_;
};

}  // namespace

TorchScriptOracle::TorchScriptOracle(const Manifest& manifest, std::vector<ModalitySpec> specs)
    : module_(std::make_unique<Module>()),
      specs_(std::move(specs)),
      classes_(manifest.classes),
      rules_(manifest.truth_rules) {
  const std::string& file = manifest.truth_path;
  name_ = (fs::path(file).parent_path().filename() / fs::path(file).filename()).string();
  auto& m = module_->module;
  m = io::load_module(file, "the truth module");
  io::check_method(m, file, "forward", specs_, io::field_where(manifest.path, "truth"));
  // A probe batch, checked as every later call is.
  (void)labels(io::probe_inputs(specs_, kProbeRows, torch::kCPU));
}

TorchScriptOracle::~TorchScriptOracle() = default;

std::string TorchScriptOracle::rules() const {
  if (!rules_.empty()) return rules_;
  return "the manifest's truth module " + name_ + " labels each decoupled input (-1: no label)";
}

torch::Tensor TorchScriptOracle::labels(const Inputs& rows) const {
  Inputs cpu;
  cpu.reserve(rows.size());
  for (const auto& t : rows) cpu.push_back(t.to(torch::kCPU));
  torch::NoGradGuard no_grad;
  torch::jit::IValue out;
  try {
    out = module_->module.forward(io::to_ivalues(cpu));
  } catch (const std::exception& e) {
    throw Error(name_ + ": forward fails on " + io::inputs_text(specs_, cpu) + ": " + io::torch_error_line(e));
  }
  const std::string problem =
      labels_problem(out, cpu.empty() ? 0 : cpu[0].size(0), static_cast<int64_t>(classes_.size()));
  if (!problem.empty()) throw Error(name_ + ": forward " + problem);
  return out.toTensor().to(torch::kLong).contiguous();
}

std::unique_ptr<SampleTruth> TorchScriptOracle::prepare(const Inputs& sample, int64_t label) const {
  Inputs cpu;
  for (const auto& t : sample) cpu.push_back(t.to(torch::kCPU));
  const int64_t clean = labels(cpu)[0].item<int64_t>();
  if (clean != label)
    throw Error(
        name_ + " labels the clean sample " +
        (clean == kUndefined ? std::string("-1 (no label)") : "'" + classes_.at(static_cast<size_t>(clean)) + "'") +
        ", the data says '" + classes_.at(static_cast<size_t>(label)) +
        "': the truth module and the samples disagree, so its verdicts would not mean what they say");
  return std::make_unique<TorchScriptTruth>(*this, InputSpace(specs_, std::move(cpu)), label, classes_);
}

std::string format_truth_info(const TorchScriptOracle& oracle, const SampleData* data) {
  std::string out = "truth: " + oracle.name() + ": " + oracle.rules() + "\n";
  if (data == nullptr || data->size() == 0) return out;
  constexpr int64_t kRows = 256;
  int64_t agree = 0, first = -1, first_truth = 0;
  for (int64_t b = 0; b < data->size(); b += kRows) {
    const int64_t e = std::min(b + kRows, data->size());
    const auto truth = oracle.labels(slice_rows(data->inputs, b, e));
    const auto same = truth.eq(data->labels.slice(0, b, e).to(torch::kLong));
    agree += same.sum().item<int64_t>();
    if (first < 0 && !same.all().item<bool>()) {
      const int64_t k = torch::logical_not(same).nonzero()[0][0].item<int64_t>();
      first = b + k;
      first_truth = truth[k].item<int64_t>();
    }
  }
  out += "truth: labels " + std::to_string(agree) + " of " + std::to_string(data->size()) +
         " clean samples as the data does";
  if (first >= 0) {
    const auto name = [&](int64_t c) {
      return c < 0 ? std::string("-1 (no label)") : "'" + oracle.classes().at(static_cast<size_t>(c)) + "'";
    };
    out += "; not sample '" + data->ids.at(static_cast<size_t>(first)) + "' (truth " + name(first_truth) + ", data " +
           name(data->labels[first].item<int64_t>()) + "), where an attack would stop";
  }
  return out + "\n";
}

std::unique_ptr<TorchScriptOracle> load_torchscript_oracle(const Manifest& manifest,
                                                           const std::vector<ModalitySpec>& specs) {
  if (manifest.truth_path.empty()) return nullptr;
  return std::make_unique<TorchScriptOracle>(manifest, specs);
}

}  // namespace muroan
