// The whatif command line: subcommands, SimGrid pass-through options and exit codes.
#pragma once

#include <string>

namespace whatif::cli {

// Runs whatif with the process arguments; returns the exit code (0 ok, 1 simulation failure, 2 bad input).
int run_cli(int argc, char** argv);

// The path of the running whatif executable (/proc/self/exe), for commands that start whatif again or look
// beside it; throws std::runtime_error when it cannot be read.
std::string self_executable();

}  // namespace whatif::cli
