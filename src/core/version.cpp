#include "muroan/version.h"

#include <torch/version.h>

#include <string>

#include "muroan/cpu_threads.h"

namespace muroan {

nlohmann::ordered_json software_versions() {
  const CpuThreads now = current_cpu_threads();
  return {{"muroan", MUROAN_VERSION},
          {"libtorch", TORCH_VERSION},
          {"compiler", std::string("gcc-compatible ") + __VERSION__},
          {"c++", std::to_string(__cplusplus)},
          // Thread counts change the order of floating-point sums (and so the
          // last bits of a trained model), so a run records them.
          {"cpu_threads", {{"torch", now.torch}, {"blas", now.blas}}}};
}

}  // namespace muroan
