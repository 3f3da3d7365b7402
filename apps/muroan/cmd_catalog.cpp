// `muroan tasks` and `muroan models`: what MUROAN knows.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli_app.h"
#include "muroan/fusion.h"
#include "muroan/task.h"

namespace muroan::cli {

void register_tasks(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("tasks", "List the built-in tasks");
  cmd->callback([&action] {
    action = [] {
      for (const auto& t : task_catalog())
        std::printf(
            "%-14s %s; model: %s image readout, head width %lld; training: at most %lld epochs, Adam %g, "
            "patience %lld\n",
            t.name.c_str(), t.description.c_str(), t.image_readout.c_str(), static_cast<long long>(t.head_hidden),
            static_cast<long long>(t.epochs), t.learning_rate, static_cast<long long>(t.patience));
      return kExitOk;
    };
  });
}

void register_models(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("models", "List the fusions of the model zoo (for --fusion)");
  cmd->callback([&action] {
    action = [] {
      for (const auto& f : fusion_catalog())
        std::printf("%-12s %s%s\n", f.name.c_str(), f.multimodal ? "" : "[unimodal baseline] ", f.description.c_str());
      return kExitOk;
    };
  });
}

}  // namespace muroan::cli
