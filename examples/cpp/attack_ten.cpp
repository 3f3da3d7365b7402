// MUROAN as a library: load a TorchScript model (manifest.json, contract 1 or
// 2), attack its first ten samples with greedy decoupling, print the summary.
//   attack_ten path/to/manifest.json [path/to/samples.jsonl]
#include <cstdio>
#include <exception>

#include "muroan/attack.h"
#include "muroan/device.h"
#include "muroan/measurement.h"
#include "muroan/model_source.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MANIFEST [SAMPLES]\n", argv[0]);
    return 2;
  }
  try {
    const torch::Device device = muroan::resolve_device("auto");
    const muroan::ModelAndData md = muroan::load_model_and_data(argv[1], argc > 2 ? argv[2] : "", device);
    muroan::AttackOptions attack;
    attack.method = "greedy";
    attack.protected_tokens = md.protected_tokens;  // the manifest's; without an oracle, any flip counts
    muroan::MeasurementOptions measure;
    measure.limit = 10;
    measure.quiet = true;
    const muroan::MeasurementResult r =
        muroan::run_measurement(*md.model, md.data.inputs, md.data.labels, md.data.ids, md.data.texts, attack, measure);
    std::printf("%s", muroan::format_summary_table(r.summary).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
