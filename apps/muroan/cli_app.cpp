#include "cli_app.h"

#include <c10/util/Exception.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "muroan/cpu_memory.h"
#include "muroan/cpu_threads.h"
#include "muroan/error.h"

namespace muroan::cli {
namespace {

constexpr Registrar kCommands[] = {
    register_tasks,       register_models, register_train, register_eval,   register_info,
    register_export_data, register_attack, register_merge, register_replay, register_certify,
    register_analyze,     register_report, register_bench,
};

// LibTorch errors carry a multi-line backtrace; the user gets the first line.
std::string first_line(const std::string& text) {
  const auto pos = text.find('\n');
  return pos == std::string::npos ? text : text.substr(0, pos);
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"MUROAN: measure how robust a multimodal model's fusion is to decoupling attacks", "muroan"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("muroan ") + MUROAN_VERSION);
  // LibTorch's own choice was one thread on a 2-core machine (OpenMP reported
  // 1); the default is one per core. --threads goes before or after the
  // command's name.
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads for LibTorch's operations (0: one per available core)")
      ->check(CLI::NonNegativeNumber);
  // OpenBLAS keeps its own thread pool beside LibTorch's: one BLAS thread per
  // LibTorch thread is the fast setting (include/muroan/cpu_threads.h).
  int blas_threads = 1;
  app.add_option("--blas-threads", blas_threads,
                 "Threads of OpenBLAS's own pool inside each LibTorch thread (0: OpenBLAS's choice, "
                 "which oversubscribes the cores)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.fallthrough();  // subcommands inherit them when made after this line
  Action action;
  for (Registrar reg : kCommands) reg(app, action);
  // CLI11 reports an unknown first word as "a subcommand is required"; name it.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "error: unknown command '%s' (commands: %s)\n", argv[1], names.c_str());
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s (see muroan --help)\n", e.what());
    return kExitUsage;
  }
  keep_freed_memory_for_reuse();
  configure_cpu_threads(threads, blas_threads);
  try {
    return action ? action() : kExitUsage;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitUsage;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitError;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error: %s\n", first_line(e.what_without_backtrace()).c_str());
    return kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", first_line(e.what()).c_str());
    return kExitError;
  }
}

int run_cli(const std::vector<std::string>& args) {
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.emplace_back("muroan");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(storage.size());
  for (auto& s : storage) argv.push_back(s.data());
  return run_cli(static_cast<int>(argv.size()), argv.data());
}

}  // namespace muroan::cli
