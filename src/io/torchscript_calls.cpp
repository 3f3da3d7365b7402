#include "io/torchscript_calls.h"

#include <cmath>
#include <sstream>

#include "io/torch_error.h"
#include "muroan/error.h"

namespace muroan::io {

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

int64_t real_token_id(const ModalitySpec& spec) {
  const int64_t id = spec.pad_id == 0 ? 1 : 0;
  return spec.vocab_size > 0 && id >= spec.vocab_size ? spec.pad_id : id;
}

Inputs probe_inputs(const std::vector<ModalitySpec>& specs, int64_t rows, const torch::Device& device) {
  Inputs inputs;
  for (const auto& spec : specs) {
    if (spec.is_image()) {
      inputs.push_back(torch::full({rows, spec.channels(), spec.height(), spec.width()}, 0.5,
                                   torch::TensorOptions().dtype(torch::kFloat).device(device)));
    } else if (spec.is_audio()) {  // a quiet tone, not the fill: a model may divide by the energy
      const auto t = torch::arange(spec.num_samples(), torch::kFloat) / static_cast<double>(spec.sample_rate);
      inputs.push_back(
          (0.1 * torch::sin(2 * M_PI * 440.0 * t)).unsqueeze(0).expand({rows, -1}).contiguous().to(device));
    } else if (spec.is_signal()) {  // a slow wave on every channel, phase-shifted per channel
      const auto t = torch::arange(spec.num_samples(), torch::kFloat) / static_cast<double>(spec.sample_rate);
      const auto phase = torch::arange(spec.channels(), torch::kFloat).unsqueeze(1);
      inputs.push_back((0.1 * torch::sin(2 * M_PI * 1.0 * t.unsqueeze(0) + phase))
                           .unsqueeze(0)
                           .expand({rows, -1, -1})
                           .contiguous()
                           .to(device));
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

std::vector<torch::jit::IValue> to_ivalues(const Inputs& inputs) {
  std::vector<torch::jit::IValue> out;
  out.reserve(inputs.size());
  for (const auto& t : inputs) out.emplace_back(t.clone());
  return out;
}

torch::jit::Module load_module(const std::string& file, const std::string& what) {
  torch::jit::Module m;
  try {
    m = torch::jit::load(file, torch::kCPU);
  } catch (const std::exception& e) {
    throw InputError(
        file, "cannot load " + what + " (save it with torch.jit.script(model).save(path)): " + torch_error_line(e));
  }
  m.eval();
  return m;
}

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

}  // namespace muroan::io
