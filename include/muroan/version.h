// The software versions every result file records, so that numbers can be
// reproduced: {"muroan", "libtorch", "compiler", "c++", "cpu_threads"}.
#pragma once

#include <nlohmann/json.hpp>

namespace muroan {

nlohmann::ordered_json software_versions();

}  // namespace muroan
