// Options shared by the subcommands that measure a model: --checkpoint |
// --manifest, --data, --device, --cache-dir.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli_options.h"
#include "commands.h"
#include "muroan/error.h"

namespace muroan::cli {

const std::string& ModelSourceOptions::model_path() const {
  if (checkpoint.empty() == manifest.empty())
    throw UsageError("give exactly one of --checkpoint DIR (a built-in model) and --manifest FILE (TorchScript)");
  return checkpoint.empty() ? manifest : checkpoint;
}

void warn_truncated(const SampleData& data, const std::string& source) {
  if (data.truncated_texts == 0) return;
  std::fprintf(stderr,
               "warning: %s: %lld of %lld texts were longer than the input's max_len; their last words were "
               "dropped (whole words) before the model saw them\n",
               source.c_str(), static_cast<long long>(data.truncated_texts), static_cast<long long>(data.size()));
}

ModelAndData load_model_source(const ModelSourceOptions& o, const torch::Device& device) {
  ModelAndData md = load_model_and_data(o.model_path(), o.data, device, o.cache_dir);
  warn_truncated(md.data, md.data_source);
  return md;
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
