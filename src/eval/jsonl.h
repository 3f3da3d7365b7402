// Private: reading a results.jsonl together with the length of its valid part,
// so that a resumed run can cut a truncated last line off.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "muroan/measurement.h"

namespace muroan {

struct JsonlContent {
  std::vector<SampleRecord> records;
  size_t valid_bytes = 0;  // bytes up to and including the last valid line's newline
};

JsonlContent read_jsonl(const std::string& path, bool drop_truncated_tail);

}  // namespace muroan
