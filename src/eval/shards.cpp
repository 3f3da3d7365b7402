// merge_shards: the files of N shard processes -> the files of one process.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <utility>

#include "eval/result_files.h"
#include "muroan/error.h"
#include "muroan/json_file.h"
#include "muroan/measurement.h"

namespace muroan {
namespace {

namespace fs = std::filesystem;

nlohmann::ordered_json read_json(const fs::path& path) { return read_ordered_json_file(path.string()); }

}  // namespace

std::vector<int64_t> shard_counts_in(const std::string& dir) {
  static const std::regex pattern(R"(results\.shard-\d+-of-(\d+)\.jsonl)");
  std::set<int64_t> counts;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, pattern)) counts.insert(std::stoll(m[1].str()));
  }
  return {counts.begin(), counts.end()};
}

std::optional<MeasurementSummary> merge_shards(const std::string& dir_name, int64_t shard_count,
                                               const std::string& writer_tag) {
  if (shard_count < 2)
    throw UsageError("merge: a sharded run has at least 2 shards, not " + std::to_string(shard_count));
  const fs::path dir(dir_name);
  auto file = [&](const char* stem, const char* ext, int64_t i) {
    return dir / shard_file_name(stem, ext, i, shard_count);
  };
  // A shard is finished when its summary exists (written after its last record).
  for (int64_t i = 0; i < shard_count; ++i)
    if (!fs::exists(file("summary", ".json", i))) return std::nullopt;

  nlohmann::ordered_json run;
  std::vector<SampleRecord> records;
  for (int64_t i = 0; i < shard_count; ++i) {
    const fs::path run_path = file("run", ".json", i);
    auto shard_run = read_json(run_path);
    if (!shard_run.is_object() || shard_run.value("shard_index", int64_t{-1}) != i ||
        shard_run.value("shard_count", int64_t{-1}) != shard_count)
      throw InputError(run_path.string(), "expected shard " + std::to_string(i) + " of " + std::to_string(shard_count));
    shard_run["shard_index"] = 0;
    shard_run["shard_count"] = 1;
    if (i == 0) {
      run = shard_run;
    } else if (shard_run != run) {
      throw InputError(run_path.string(), "this shard ran another model, method or options than shard 0");
    }
    auto shard_records = read_records(file("results", ".jsonl", i).string(), /*drop_truncated_tail=*/false);
    for (auto& r : shard_records) records.push_back(std::move(r));
  }
  std::sort(records.begin(), records.end(),
            [](const SampleRecord& a, const SampleRecord& b) { return a.index < b.index; });
  for (size_t k = 0; k < records.size(); ++k)
    if (records[k].index != static_cast<int64_t>(k))
      throw InputError(dir.string(), "the shards' records do not cover samples 0.." +
                                         std::to_string(records.size() - 1) + " once each (sample " +
                                         std::to_string(k) + " is " +
                                         (records[k].index > static_cast<int64_t>(k) ? "missing)" : "repeated)"));

  std::string jsonl;
  for (const auto& r : records) jsonl += record_to_json(r).dump() + "\n";
  MeasurementSummary summary =
      summarize(records, run.at("model").get<std::string>(), attack_options_from_json(run.at("options")),
                run.contains("oracle") && run["oracle"].is_string() ? run["oracle"].get<std::string>() : "");
  // results before run.json: a reader that finds run.json finds its results.
  write_file_atomically((dir / "results.jsonl").string(), jsonl, writer_tag);
  write_file_atomically((dir / "run.json").string(), run.dump(2) + "\n", writer_tag);
  write_file_atomically((dir / "summary.json").string(), summary_to_json(summary).dump(2) + "\n", writer_tag);
  return summary;
}

namespace {

int64_t env_int(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return -1;
  char* end = nullptr;
  const long long x = std::strtoll(v, &end, 10);
  return (*end == '\0' && x >= 0) ? x : -1;
}

}  // namespace

ShardPosition resolve_shard(const std::string& given) {
  ShardPosition s;
  if (!given.empty()) {
    long long i = -1, n = -1;
    char rest = 0;
    if (std::sscanf(given.c_str(), "%lld/%lld%c", &i, &n, &rest) != 2 || n < 1 || i < 0 || i >= n)
      throw UsageError("shard: expected i/N with 0 <= i < N, e.g. 0/4; got '" + given + "'");
    s.index = i;
    s.count = n;
    return s;
  }
  for (const auto& [rank, size] : {std::pair{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                                   std::pair{"PMI_RANK", "PMI_SIZE"}, std::pair{"PMIX_RANK", "PMIX_SIZE"}}) {
    const int64_t r = env_int(rank), n = env_int(size);
    if (r >= 0 && n >= 1 && r < n) {
      s.index = r;
      s.count = n;
      return s;
    }
  }
  return s;
}

}  // namespace muroan
