// Private: the names of a measurement's files and how they are written, shared
// by run_measurement and merge_shards.
#pragma once

#include <cstdint>
#include <string>

#include "muroan/files.h"

namespace muroan {

// "results" + ".jsonl" -> "results.jsonl", or "results.shard-1-of-4.jsonl".
std::string shard_file_name(const std::string& stem, const std::string& ext, int64_t shard_index, int64_t shard_count);

// Whole files are written with write_file_atomically (muroan/files.h).

}  // namespace muroan
