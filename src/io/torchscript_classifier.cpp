// The TorchScript adapter: a user's exported module behind the Classifier view.
#include <torch/script.h>

#include <filesystem>
#include <sstream>

#include "io/torch_error.h"
#include "muroan/error.h"
#include "muroan/torchscript_model.h"

namespace fs = std::filesystem;

namespace muroan {
namespace {

// Probe batches: two rows, so that a model that drops or fixes the batch
// dimension is caught; the vocabulary search uses one row.
constexpr int64_t kProbeRows = 2;
// Largest token id the vocabulary probe tries; a model that accepts it is
// taken to accept every id (vocab_size stays unknown).
constexpr int64_t kMaxProbeId = (int64_t{1} << 31) - 1;

std::string inputs_text(const std::vector<ModalitySpec>& specs, const Inputs& inputs) {
  std::ostringstream out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    out << (i ? ", " : "") << (i < specs.size() ? specs[i].name : "?") << " " << c10::str(inputs[i].sizes()) << " "
        << inputs[i].scalar_type();
  }
  return out.str();
}

std::string names_text(const std::vector<ModalitySpec>& specs) {
  std::string s;
  for (const auto& m : specs) s += (s.empty() ? "" : ", ") + m.name;
  return s;
}

// An id other than the padding id, inside the vocabulary when it is known.
int64_t real_token_id(const ModalitySpec& spec) {
  const int64_t id = spec.pad_id == 0 ? 1 : 0;
  return spec.vocab_size > 0 && id >= spec.vocab_size ? spec.pad_id : id;
}

// Inputs every model must accept: mid-grey images, half-filled token rows (a
// model may refuse all-pad rows, e.g. when it packs sequences by length),
// tabular rows of the fill values.
Inputs probe_inputs(const std::vector<ModalitySpec>& specs, int64_t rows, const torch::Device& device) {
  Inputs inputs;
  for (const auto& spec : specs) {
    if (spec.is_image()) {
      inputs.push_back(torch::full({rows, spec.channels(), spec.height(), spec.width()}, 0.5,
                                   torch::TensorOptions().dtype(torch::kFloat).device(device)));
    } else if (spec.is_tabular()) {  // the fill values: a record with every feature decoupled
      inputs.push_back(torch::tensor(spec.fills, torch::kDouble)
                           .to(torch::kFloat)
                           .unsqueeze(0)
                           .expand({rows, -1})
                           .contiguous()
                           .to(device));
    } else {
      auto tokens = torch::full({rows, spec.max_len()}, spec.pad_id, torch::kLong);
      tokens.narrow(1, 0, (spec.max_len() + 1) / 2).fill_(real_token_id(spec));
      inputs.push_back(tokens.to(device));
    }
  }
  return inputs;
}

// Copies: a model that writes into its input tensors must not change the
// sample, the candidates or the attack's later queries.
std::vector<torch::jit::IValue> to_ivalues(const Inputs& inputs) {
  std::vector<torch::jit::IValue> out;
  out.reserve(inputs.size());
  for (const auto& t : inputs) out.emplace_back(t.clone());
  return out;
}

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

// `method` exists and takes one argument per manifest input.
void check_method(torch::jit::Module& m, const std::string& file, const std::string& method,
                  const std::vector<ModalitySpec>& specs, const std::string& where) {
  const auto found = m.find_method(method);
  if (!found) {
    std::string methods;
    for (const auto& mm : m.get_methods()) methods += (methods.empty() ? "" : ", ") + mm.name();
    throw InputError(
        where, file + " has no method '" + method + "' (it has: " + methods + "; export it with @torch.jit.export)");
  }
  const auto& args = found->function().getSchema().arguments();  // self first
  size_t required = 0;
  for (size_t i = 1; i < args.size(); ++i) required += args[i].default_value() ? 0 : 1;
  if (specs.size() + 1 > args.size() || specs.size() < required)
    throw InputError(file, method + " takes " + std::to_string(args.size() - 1) + " inputs, the manifest lists " +
                               std::to_string(specs.size()) + " (" + names_text(specs) + ")");
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
  try {
    m = torch::jit::load(file, torch::kCPU);
  } catch (const std::exception& e) {
    throw InputError(file, "cannot load TorchScript model (save it with torch.jit.script(model).save(path)): " +
                               io::torch_error_line(e));
  }
  m.eval();
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
        throw InputError(manifest_.path + ": inputs[" + std::to_string(i) + "]: field 'vocab_size'",
                         std::to_string(spec.vocab_size) + " ids, but " + file + " refuses id " +
                             std::to_string(spec.vocab_size - 1) + ": " + error);
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
