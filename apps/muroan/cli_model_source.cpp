// Options shared by the subcommands that measure a model: --checkpoint |
// --manifest, --data, --device, --cache-dir.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli_flags.h"
#include "cli_options.h"
#include "commands.h"
#include "muroan/error.h"

namespace muroan::cli {

void warn_truncated(const SampleData& data, const std::string& source) {
  const std::string warning = truncation_warning(data, source);
  if (!warning.empty()) std::fprintf(stderr, "warning: %s\n", warning.c_str());
}

ModelAndData load_model_source(const ModelSourceOptions& o, const torch::Device& device) {
  ModelAndData md = load_model_and_data(o, device);
  warn_truncated(md.data, md.data_source);
  return md;
}

void add_model_source_options(FlagBinder& flags, ModelSourceOptions& o) {
  flags.bind("--checkpoint", "checkpoint", o.checkpoint, "Checkpoint directory written by muroan train");
  flags.bind("--manifest", "manifest", o.manifest, "manifest.json of a TorchScript model (DESIGN.md section 5)");
  flags.bind("--data", "data", o.data,
             "Samples: a split (train, val, test; default test) for a checkpoint, a samples.jsonl for a "
             "manifest (default: the one beside it)");
  flags.bind("--device", "device", o.device, "auto, cpu or cuda");
  flags.bind("--cache-dir", "cache_dir", o.cache_dir, "Where generated task data is cached");
}

}  // namespace muroan::cli
