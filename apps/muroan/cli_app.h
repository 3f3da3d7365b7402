// The muroan command-line program: one thin file per subcommand (cmd_*.cpp),
// each declaring its options with defaults, validating them, and making one
// call into the library. run_cli() parses, dispatches and turns every error into
// one `error: ...` line and a non-zero exit code.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace muroan::cli {

// Exit codes.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // an input or run-time error
constexpr int kExitUsage = 2;  // a bad command line

// The action a subcommand runs once its options are parsed; returns the exit code.
using Action = std::function<int()>;
// Adds a subcommand to `app`; `action` is set to run it.
using Registrar = void (*)(CLI::App& app, Action& action);

int run_cli(int argc, char** argv);
// The same, from a list of arguments (without the program name); for tests.
int run_cli(const std::vector<std::string>& args);

// Subcommands.
void register_tasks(CLI::App& app, Action& action);
void register_models(CLI::App& app, Action& action);
void register_train(CLI::App& app, Action& action);
void register_eval(CLI::App& app, Action& action);
void register_info(CLI::App& app, Action& action);
void register_export_data(CLI::App& app, Action& action);
void register_attack(CLI::App& app, Action& action);
void register_merge(CLI::App& app, Action& action);
void register_replay(CLI::App& app, Action& action);
void register_certify(CLI::App& app, Action& action);
void register_analyze(CLI::App& app, Action& action);
void register_report(CLI::App& app, Action& action);
void register_bench(CLI::App& app, Action& action);

}  // namespace muroan::cli
