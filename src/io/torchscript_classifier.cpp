// The TorchScript adapter: a user's exported module behind the Classifier view.
#include <torch/script.h>

#include <filesystem>
#include <sstream>

#include "io/torch_error.h"
#include "io/torchscript_calls.h"
#include "muroan/error.h"
#include "muroan/torchscript_model.h"

namespace fs = std::filesystem;

namespace muroan {
namespace {

using io::check_method;
using io::inputs_text;
using io::names_text;
using io::probe_inputs;
using io::real_token_id;
using io::to_ivalues;

// Probe batches: two rows, so that a model that drops or fixes the batch
// dimension is caught; the vocabulary search uses one row.
constexpr int64_t kProbeRows = 2;
// Largest token id the vocabulary probe tries; a model that accepts it is
// taken to accept every id (vocab_size stays unknown).
constexpr int64_t kMaxProbeId = (int64_t{1} << 31) - 1;

// What is wrong with a method's output, or "" when it is a floating tensor
// [rows, cols] (cols < 0: any positive width D).
std::string output_problem(const torch::jit::IValue& out, int64_t rows, int64_t cols, const char* what) {
  const std::string expected = std::string(what) + " [" + std::to_string(rows) + ", " +
                               (cols < 0 ? std::string("D") : std::to_string(cols)) + "]";
  if (!out.isTensor()) return "returns a " + out.tagKind() + ", expected a tensor: " + expected;
  const auto& t = out.toTensor();
  if (t.dim() != 2 || t.size(0) != rows || (cols >= 0 && t.size(1) != cols) || t.size(1) == 0)
    return "returns shape " + c10::str(t.sizes()) + ", expected " + expected;
  if (!t.is_floating_point())
    return std::string("returns ") + c10::toString(t.scalar_type()) + " values, expected float32 " + expected;
  return "";
}

// A method's output on a probe batch, checked; `cols` as in output_problem.
torch::Tensor probe_method(torch::jit::Module& m, const std::string& file, const std::string& method,
                           const std::vector<ModalitySpec>& specs, int64_t cols, const char* what,
                           const torch::Device& on) {
  const Inputs x = probe_inputs(specs, kProbeRows, on);
  torch::jit::IValue out;
  try {
    out = m.get_method(method)(to_ivalues(x));
  } catch (const std::exception& e) {
    throw InputError(file, method + " fails on a probe batch (" + inputs_text(specs, x) + ") on " + on.str() + ": " +
                               io::torch_error_line(e));
  }
  const std::string problem = output_problem(out, kProbeRows, cols, what);
  if (!problem.empty()) {
    const std::string k = cols >= 0 ? " (K = " + std::to_string(cols) + ", the number of classes in the manifest)" : "";
    throw InputError(file, method + " " + problem + k);
  }
  return out.toTensor();
}

// Whether forward accepts token id `id` in input `modality` (one row, on the CPU).
bool forward_accepts_id(torch::jit::Module& m, const std::vector<ModalitySpec>& specs, size_t modality, int64_t id,
                        std::string* error = nullptr) {
  Inputs x = probe_inputs(specs, 1, torch::kCPU);
  x[modality][0][0] = id;
  try {
    m.forward(to_ivalues(x));
    return true;
  } catch (const std::exception& e) {
    if (error) *error = io::torch_error_line(e);
    return false;
  }
}

// The vocabulary size of token input `modality`: the smallest id forward
// refuses, by bisection (ids below it are taken to work, as in an embedding);
// 0 when forward accepts even kMaxProbeId.
int64_t probe_vocab_size(torch::jit::Module& m, const std::vector<ModalitySpec>& specs, size_t modality) {
  if (forward_accepts_id(m, specs, modality, kMaxProbeId)) return 0;
  int64_t ok = real_token_id(specs[modality]), refused = kMaxProbeId;
  while (refused - ok > 1) {
    const int64_t mid = ok + (refused - ok) / 2;
    if (forward_accepts_id(m, specs, modality, mid))
      ok = mid;
    else
      refused = mid;
  }
  return refused;
}

// The manifest's vocab_size of input i is more than the model accepts.
InputError vocab_size_refused(const std::string& manifest, const std::string& file, size_t i, int64_t vocab_size,
                              const std::string& error) {
  return InputError(manifest + ": inputs[" + std::to_string(i) + "]: field 'vocab_size'",
                    std::to_string(vocab_size) + " ids, but " + file + " refuses id " + std::to_string(vocab_size - 1) +
                        ": " + error);
}

}  // namespace

const char* vocab_origin_name(VocabOrigin origin) {
  switch (origin) {
    case VocabOrigin::kNone:
      return "none";
    case VocabOrigin::kManifest:
      return "manifest";
    case VocabOrigin::kProbe:
      return "probe";
    case VocabOrigin::kUnknown:
      return "unknown";
  }
  return "?";
}

struct TorchScriptClassifier::Module {
  torch::jit::Module module;
};

TorchScriptClassifier::TorchScriptClassifier(Manifest manifest, const torch::Device& device)
    : module_(std::make_unique<Module>()),
      manifest_(std::move(manifest)),
      modalities_(manifest_.inputs),
      device_(device) {
  const std::string& file = manifest_.model_path;
  const fs::path manifest_dir = fs::path(manifest_.path).parent_path();
  name_ = (manifest_dir.filename() / fs::path(file).filename()).string();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw InputError(manifest_.path + ": field 'model'", file + " does not exist or is not a file");

  // Load and probe on the CPU: a failed probe on CUDA (e.g. an embedding index
  // out of range) would poison the CUDA context for the rest of the process.
  auto& m = module_->module;
  m = io::load_module(file, "TorchScript model");
  torch::NoGradGuard no_grad;

  check_method(m, file, "forward", modalities_, manifest_.path);
  if (has_fusion())
    check_method(m, file, manifest_.fusion_method, modalities_, manifest_.path + ": field 'fusion_method'");
  probe_method(m, file, "forward", modalities_, num_classes(), "logits", torch::kCPU);
  if (has_fusion())
    fusion_dim_ =
        probe_method(m, file, manifest_.fusion_method, modalities_, -1, "fusion embedding", torch::kCPU).size(1);

  vocab_origins_.assign(modalities_.size(), VocabOrigin::kNone);
  for (size_t i = 0; i < modalities_.size(); ++i) {
    ModalitySpec& spec = modalities_[i];
    if (!spec.is_tokens()) continue;
    if (spec.vocab_size > 0) {
      std::string error;
      if (!forward_accepts_id(m, modalities_, i, spec.vocab_size - 1, &error))
        throw vocab_size_refused(manifest_.path, file, i, spec.vocab_size, error);
      vocab_origins_[i] = VocabOrigin::kManifest;
    } else {
      spec.vocab_size = probe_vocab_size(m, modalities_, i);
      vocab_origins_[i] = spec.vocab_size > 0 ? VocabOrigin::kProbe : VocabOrigin::kUnknown;
    }
  }

  if (device_ != torch::Device(torch::kCPU)) {
    m.to(device_);
    probe_method(m, file, "forward", modalities_, num_classes(), "logits", device_);
  }
}

TorchScriptClassifier::~TorchScriptClassifier() = default;

torch::Tensor TorchScriptClassifier::logits(const Inputs& inputs) {
  if (inputs.size() != modalities_.size())
    throw Error(name_ + ": expected " + std::to_string(modalities_.size()) + " inputs (" + names_text(modalities_) +
                "), got " + std::to_string(inputs.size()));
  torch::jit::IValue out;
  try {
    out = module_->module.forward(to_ivalues(inputs));
  } catch (const std::exception& e) {
    throw Error(name_ + ": forward fails on " + inputs_text(modalities_, inputs) + ": " + io::torch_error_line(e));
  }
  const std::string problem = output_problem(out, batch_size(inputs), num_classes(), "logits");
  if (!problem.empty()) throw Error(name_ + ": forward " + problem);
  return out.toTensor().to(torch::kFloat);
}

torch::Tensor TorchScriptClassifier::fusion(const Inputs& inputs) {
  if (!has_fusion())
    throw Error(name_ +
                ": no fusion embedding (the manifest names no fusion_method), so the fusion objective "
                "and the fusion shift are not available for this model");
  if (inputs.size() != modalities_.size())
    throw Error(name_ + ": expected " + std::to_string(modalities_.size()) + " inputs (" + names_text(modalities_) +
                "), got " + std::to_string(inputs.size()));
  torch::jit::IValue out;
  try {
    out = module_->module.get_method(manifest_.fusion_method)(to_ivalues(inputs));
  } catch (const std::exception& e) {
    throw Error(name_ + ": " + manifest_.fusion_method + " fails on " + inputs_text(modalities_, inputs) + ": " +
                io::torch_error_line(e));
  }
  const std::string problem = output_problem(out, batch_size(inputs), fusion_dim_, "fusion embedding");
  if (!problem.empty()) throw Error(name_ + ": " + manifest_.fusion_method + " " + problem);
  return out.toTensor().to(torch::kFloat);
}

std::unique_ptr<TorchScriptClassifier> load_torchscript_model(const std::string& manifest_path,
                                                              const torch::Device& device) {
  return std::make_unique<TorchScriptClassifier>(load_manifest(manifest_path), device);
}

}  // namespace muroan
