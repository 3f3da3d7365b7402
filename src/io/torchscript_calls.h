// Private to MUROAN: calling a user's TorchScript module with MUROAN's inputs,
// shared by the model adapter (torchscript_classifier.cpp) and the manifest's
// truth module (oracle/torchscript_oracle.cpp).
#pragma once

#include <torch/script.h>

#include <string>
#include <vector>

#include "muroan/inputs.h"
#include "muroan/modality.h"

namespace muroan::io {

// "image [2, 1, 8, 8] Float, tokens [2, 6] Long", for error messages.
std::string inputs_text(const std::vector<ModalitySpec>& specs, const Inputs& inputs);
// "image, tokens".
std::string names_text(const std::vector<ModalitySpec>& specs);
// An id other than the padding id, inside the vocabulary when it is known.
int64_t real_token_id(const ModalitySpec& spec);
// Inputs every module must accept: mid-grey images, half-filled token rows (a
// model may refuse all-pad rows, e.g. when it packs sequences by length),
// tabular rows of the fill values; `rows` rows on `device`.
Inputs probe_inputs(const std::vector<ModalitySpec>& specs, int64_t rows, const torch::Device& device);
// The arguments of one call, copied: a module that writes into its input
// tensors must not change the sample, the candidates or later queries.
std::vector<torch::jit::IValue> to_ivalues(const Inputs& inputs);
// The module in `file`, loaded on the CPU in eval mode; throws InputError
// naming the file ("cannot load <what> ...") when LibTorch cannot read it.
torch::jit::Module load_module(const std::string& file, const std::string& what);
// Throws InputError(where, ...) unless `m` has `method` taking one argument per
// input in `specs` (`file` names the module in the message).
void check_method(torch::jit::Module& m, const std::string& file, const std::string& method,
                  const std::vector<ModalitySpec>& specs, const std::string& where);

}  // namespace muroan::io
