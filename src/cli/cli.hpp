// The whatif command line: subcommands, SimGrid pass-through options and exit codes.
#pragma once

namespace whatif::cli {

// Runs whatif with the process arguments; returns the exit code (0 ok, 1 simulation failure, 2 bad input).
int run_cli(int argc, char** argv);

}  // namespace whatif::cli
