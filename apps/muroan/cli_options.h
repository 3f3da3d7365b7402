// Option groups shared by several subcommands.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace muroan::cli {

struct ModelSourceOptions;

// "a,b,,c" -> {"a", "b", "c"}: the items of a comma-separated option, empty ones dropped.
std::vector<std::string> split_list(const std::string& list);
void add_model_source_options(CLI::App& cmd, ModelSourceOptions& options);

}  // namespace muroan::cli
