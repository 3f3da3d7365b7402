// Bring your own model: a TorchScript module exported from PyTorch, seen through
// the unified Classifier view (DESIGN.md section 5, contract version 1).
//
//   auto model = muroan::load_torchscript_model("byom/manifest.json", device);
//   muroan::SampleData data = muroan::load_samples("byom/samples.jsonl",
//                                                  model->modalities(), model->classes());
//   double acc = muroan::accuracy(*model, data.inputs, data.labels);
//
// The module must have forward(x_1 .. x_M) -> logits [B,K], one input per
// manifest entry in manifest order (image float32 [B,C,H,W], tokens int64 [B,L]
// padded with pad_id), K = the number of manifest classes; and, if the manifest
// names `fusion_method`, that exported method with the same inputs returning the
// fusion embedding [B,D]. Without a fusion method has_fusion() is false: the
// fusion objective and the fusion shift are then not available for the model.
// Gradients flow through the module (white-box attacks on images work);
// supports_token_embeddings() is false (token ids are not differentiable).
#pragma once

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "muroan/classifier.h"
#include "muroan/modality.h"

namespace muroan {

// manifest.json, checked. Paths are resolved against the manifest's folder.
struct Manifest {
  std::string path;        // the manifest file, as given
  std::string model_path;  // field "model", resolved
  // field "contract": 1 (absent; image and tokens inputs) or 2 (any number of
  // inputs, also tabular; DESIGN.md section 5.2)
  int contract = 1;
  std::vector<ModalitySpec> inputs;  // field "inputs", in forward's argument order
  std::vector<std::string> classes;  // field "classes"
  std::string fusion_method;         // field "fusion_method"; empty: none
  // field "truth" (optional), resolved: a TorchScript module that says the true
  // label of a decoupled input (torchscript_oracle.h); empty: no oracle
  std::string truth_path;
  std::string truth_rules;  // field "truth_rules" (optional): the truth module's rules in one line, for reports
  // field "vocab" (optional): a JSON file, a list of words by id or an object
  // word -> id, so that words can be named (protected_tokens, --protect-words)
  std::map<std::string, int64_t> word_ids;
  // field "protected_tokens" (optional): token ids or words (with "vocab") that
  // no attack may decouple, e.g. the negations that decide a caption's truth
  std::vector<int64_t> protected_tokens;
  // field "fields" (optional): input name, "id", "label" or "text" -> the name of
  // the sample-line field that holds it (e.g. {"image": "img", "tokens": "ids"})
  std::map<std::string, std::string> fields;
};

// Reads manifest.json; throws InputError naming the file and the field (e.g.
// "m.json: inputs[1]: field 'max_len' has the wrong type") on any problem.
Manifest load_manifest(const std::string& path);

// Where the vocabulary size of a token input comes from.
enum class VocabOrigin {
  kNone,      // not a token input
  kManifest,  // the manifest's vocab_size
  kProbe,     // found by probing the model on the CPU with growing ids
  kUnknown,   // the model accepts every id probed (no check possible)
};
const char* vocab_origin_name(VocabOrigin origin);

class TorchScriptClassifier : public Classifier {
 public:
  // Loads manifest.model_path on the CPU, checks it against the manifest with
  // probe batches (forward and fusion output shapes, the vocabulary size of
  // token inputs the manifest leaves open), then moves it to `device`. Throws
  // InputError naming the file (and manifest field) on any problem; LibTorch's
  // own errors are reduced to their first line.
  TorchScriptClassifier(Manifest manifest, const torch::Device& device);
  ~TorchScriptClassifier() override;
  TorchScriptClassifier(const TorchScriptClassifier&) = delete;
  TorchScriptClassifier& operator=(const TorchScriptClassifier&) = delete;

  // "<folder of the manifest>/<model file>", e.g. "byom/model.pt".
  std::string name() const override { return name_; }
  // The manifest's inputs, with vocab_size filled in where a probe found it.
  const std::vector<ModalitySpec>& modalities() const override { return modalities_; }
  const std::vector<std::string>& classes() const override { return manifest_.classes; }
  // Throws Error (one line, naming the model) when the module fails or returns
  // anything but a floating tensor [B,K]; the result is float32.
  torch::Tensor logits(const Inputs& inputs) override;
  bool has_fusion() const override { return !manifest_.fusion_method.empty(); }
  // The manifest's fusion method; throws Error when it names none.
  torch::Tensor fusion(const Inputs& inputs) override;
  torch::Device device() const override { return device_; }

  const Manifest& manifest() const { return manifest_; }
  VocabOrigin vocab_origin(size_t modality) const { return vocab_origins_.at(modality); }
  // Size D of the fusion embedding; 0 without a fusion method.
  int64_t fusion_dim() const { return fusion_dim_; }

 private:
  struct Module;  // the TorchScript module, kept out of this header
  std::unique_ptr<Module> module_;
  Manifest manifest_;
  std::vector<ModalitySpec> modalities_;
  std::vector<VocabOrigin> vocab_origins_;
  std::string name_;
  int64_t fusion_dim_ = 0;
  torch::Device device_;
};

// load_manifest + TorchScriptClassifier.
std::unique_ptr<TorchScriptClassifier> load_torchscript_model(const std::string& manifest_path,
                                                              const torch::Device& device);

}  // namespace muroan
