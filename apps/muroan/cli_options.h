// Option groups shared by several subcommands.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "muroan/model_source.h"

namespace CLI {
class App;
}

namespace muroan::cli {

struct ModelSourceOptions;

// load_model_and_data for the options' model and data on `device`, with a
// warning on stderr when a tokenizer cut texts to max_len.
ModelAndData load_model_source(const ModelSourceOptions& options, const torch::Device& device);
// The warning: "warning: SOURCE: N of M texts were longer than max_len ...".
void warn_truncated(const SampleData& data, const std::string& source);

// "a,b,,c" -> {"a", "b", "c"}: the items of a comma-separated option, empty ones dropped.
std::vector<std::string> split_list(const std::string& list);
// A non-negative decimal integer of at most 18 digits (no sign, no spaces) into *out.
bool parse_index(const std::string& s, int64_t* out);
void add_model_source_options(CLI::App& cmd, ModelSourceOptions& options);

}  // namespace muroan::cli
