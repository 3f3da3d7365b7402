#include "eval/result_files.h"

#include <filesystem>
#include <fstream>

#include "muroan/error.h"

namespace muroan {

std::string shard_file_name(const std::string& stem, const std::string& ext, int64_t shard_index, int64_t shard_count) {
  if (shard_count <= 1) return stem + ext;
  return stem + ".shard-" + std::to_string(shard_index) + "-of-" + std::to_string(shard_count) + ext;
}

}  // namespace muroan
