// whatif entry point: parse the command line, dispatch, map exceptions to exit codes.
#include "cli/cli.hpp"

int main(int argc, char** argv) {
  return whatif::cli::run_cli(argc, argv);
}
