// muroan: the command-line program. All work is in muroan_cli (cli_app.cpp).
#include "cli_app.h"

int main(int argc, char** argv) { return muroan::cli::run_cli(argc, argv); }
