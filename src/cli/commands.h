// Folder src/cli/: the subcommands; wires every other folder and is called by none.
//
// The subcommands. Each Add* registers its CLI11 subcommand and returns it with the action
// to run when it was chosen; actions return the process exit code (common_flags.h).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace vigil::cli {

using Action = std::function<int()>;
struct Command {
  CLI::App* sub;
  Action run;
};

Command AddRunCommand(CLI::App& app);
Command AddCheckConfigCommand(CLI::App& app);
Command AddImportCommand(CLI::App& app);
Command AddReplayCommand(CLI::App& app);
Command AddStatusCommand(CLI::App& app);
Command AddProcessCommand(CLI::App& app);
Command AddExportCommand(CLI::App& app);
Command AddReprocessCommand(CLI::App& app);
Command AddSimulateCommand(CLI::App& app);
Command AddTrainCommand(CLI::App& app);
Command AddModelsCommand(CLI::App& app);
Command AddPredictCommand(CLI::App& app);
Command AddUploadCommand(CLI::App& app);

// Parses argv and runs the chosen subcommand.
int Main(int argc, char** argv);

}  // namespace vigil::cli
