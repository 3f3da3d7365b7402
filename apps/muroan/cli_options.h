// Option groups shared by several subcommands.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "muroan/attack.h"
#include "muroan/model_source.h"

namespace CLI {
class App;
}

namespace muroan::cli {

class FlagBinder;

// load_model_and_data for the options' model and data on `device`, with a
// warning on stderr when a tokenizer cut texts to max_len.
ModelAndData load_model_source(const ModelSourceOptions& options, const torch::Device& device);
// The warning: "warning: SOURCE: N of M texts were longer than max_len ...".
void warn_truncated(const SampleData& data, const std::string& source);

// --checkpoint, --manifest, --data, --device, --cache-dir.
void add_model_source_options(FlagBinder& flags, ModelSourceOptions& options);
// --method, --objective, ..., --steps: the fields of AttackOptions.
void bind_attack_options(FlagBinder& flags, AttackOptions& options);

}  // namespace muroan::cli
