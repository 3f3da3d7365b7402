#include "muroan/version.h"

#include <torch/version.h>

#include <string>

namespace muroan {

nlohmann::ordered_json software_versions() {
  return {{"muroan", MUROAN_VERSION},
          {"libtorch", TORCH_VERSION},
          {"compiler", std::string("gcc-compatible ") + __VERSION__},
          {"c++", std::to_string(__cplusplus)}};
}

}  // namespace muroan
