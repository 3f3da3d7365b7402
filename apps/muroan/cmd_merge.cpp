// `muroan merge DIR`: the shard files of a sharded attack -> one result.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "cli_app.h"
#include "commands.h"
#include "muroan/error.h"
#include "muroan/measurement.h"

namespace muroan::cli {

int run_merge(const MergeCommand& o) {
  if (!std::filesystem::is_directory(o.dir)) throw InputError(o.dir, "not a directory");
  const auto counts = shard_counts_in(o.dir);
  if (counts.empty()) throw InputError(o.dir, "holds no results.shard-*-of-N.jsonl files");
  if (counts.size() > 1)
    throw InputError(o.dir, "holds shards of runs with different shard counts (" + std::to_string(counts[0]) + " and " +
                                std::to_string(counts[1]) + ")");
  const int64_t n = counts[0];
  const auto summary = merge_shards(o.dir, n);
  if (!summary) {
    for (int64_t i = 0; i < n; ++i) {
      const auto name = "summary.shard-" + std::to_string(i) + "-of-" + std::to_string(n) + ".json";
      if (!std::filesystem::exists(std::filesystem::path(o.dir) / name))
        throw InputError(o.dir, "shard " + std::to_string(i) + " of " + std::to_string(n) + " has not finished (no " +
                                    name +
                                    "); resume it with the same "
                                    "command and --shard " +
                                    std::to_string(i) + "/" + std::to_string(n));
    }
  }
  std::printf("%s", format_summary_table(*summary).c_str());
  std::printf("merged %lld shards -> %s/summary.json\n", static_cast<long long>(n), o.dir.c_str());
  return kExitOk;
}

void register_merge(CLI::App& app, Action& action) {
  auto o = std::make_shared<MergeCommand>();
  auto* cmd = app.add_subcommand("merge", "Merge the shard files of a sharded attack (mpirun, --shard)");
  cmd->add_option("dir", o->dir, "Result directory of the sharded attack")->required();
  cmd->callback([&action, o] { action = [o] { return run_merge(*o); }; });
}

}  // namespace muroan::cli
