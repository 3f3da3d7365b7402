// Option groups shared by several subcommands.
#pragma once

namespace CLI {
class App;
}

namespace muroan::cli {

struct ModelSourceOptions;
void add_model_source_options(CLI::App& cmd, ModelSourceOptions& options);

}  // namespace muroan::cli
