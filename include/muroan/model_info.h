// What MUROAN understood of a TorchScript model (bring your own model): its
// inputs in the order forward takes them, each with its kind, shape and
// points, the classes and the fusion embedding; and of a samples.jsonl, the
// mean points per sample and the model's accuracy. `muroan info` prints both.
//
//   auto model = muroan::load_torchscript_model("byom/manifest.json", device);
//   std::cout << muroan::format_model_info(*model);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "muroan/sample_data.h"
#include "muroan/torchscript_model.h"

namespace muroan {

// The model's inputs, points, classes and fusion, one line each, as text.
std::string format_model_info(const TorchScriptClassifier& model);

struct DataInfo {
  std::string path;
  int64_t samples = 0;
  std::vector<double> mean_points;  // per input: pixels, or words (a word's pieces are one point)
  double accuracy = 0.0;
  int64_t correct = 0;
};
// The data's size, mean points per sample and input, and the model's accuracy
// (forward passes of `batch_size` rows).
DataInfo describe_data(TorchScriptClassifier& model, const SampleData& data, const std::string& path,
                       int64_t batch_size);
std::string format_data_info(const DataInfo& info, const std::vector<ModalitySpec>& specs);

}  // namespace muroan
