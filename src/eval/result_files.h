// Private: the names of a measurement's files and how they are written, shared
// by run_measurement and merge_shards.
#pragma once

#include <cstdint>
#include <string>

namespace muroan {

// "results" + ".jsonl" -> "results.jsonl", or "results.shard-1-of-4.jsonl".
std::string shard_file_name(const std::string& stem, const std::string& ext, int64_t shard_index,
                            int64_t shard_count);

// Writes through a temporary file named after `tag` and renames it into place,
// so readers never see half a file (and concurrent writers of the same text
// never disturb each other).
void write_file_atomically(const std::string& path, const std::string& text, const std::string& tag = "");

}  // namespace muroan
