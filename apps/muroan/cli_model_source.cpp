// Options shared by the subcommands that measure a model: --checkpoint |
// --manifest, --data, --device, --cache-dir.
#include <CLI/CLI.hpp>

#include "cli_options.h"
#include "commands.h"
#include "muroan/error.h"

namespace muroan::cli {

const std::string& ModelSourceOptions::model_path() const {
  if (checkpoint.empty() == manifest.empty())
    throw UsageError("give exactly one of --checkpoint DIR (a built-in model) and --manifest FILE (TorchScript)");
  return checkpoint.empty() ? manifest : checkpoint;
}

void add_model_source_options(CLI::App& cmd, ModelSourceOptions& o) {
  cmd.add_option("--checkpoint", o.checkpoint, "Checkpoint directory written by muroan train");
  cmd.add_option("--manifest", o.manifest, "manifest.json of a TorchScript model (DESIGN.md section 5)");
  cmd.add_option("--data", o.data,
                 "Samples: a split (train, val, test; default test) for a checkpoint, a samples.jsonl for a "
                 "manifest (default: the one beside it)");
  cmd.add_option("--device", o.device, "auto, cpu or cuda")->capture_default_str();
  cmd.add_option("--cache-dir", o.cache_dir, "Where generated task data is cached")->capture_default_str();
}

}  // namespace muroan::cli
