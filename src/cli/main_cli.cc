#include <cstdio>
#include <vector>

#include "cli/commands.h"
#include "cli/common_flags.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::cli {

int Main(int argc, char** argv) {
  CLI::App app{"vigil: MQTT sensor streams -> loss-free data lake -> features and labels.\n"
               "Run `vigil <command> --help` for the options of a command."};
  app.set_version_flag("--version", VIGIL_VERSION);
  app.require_subcommand(1);
  const std::vector<Command> commands = {
      AddRunCommand(app),
      AddCheckConfigCommand(app),
      AddImportCommand(app),
      AddReplayCommand(app),
      AddStatusCommand(app),
      AddProcessCommand(app),
      AddExportCommand(app),
      AddReprocessCommand(app),
      AddSimulateCommand(app),
      AddTrainCommand(app),
      AddModelsCommand(app),
      AddPredictCommand(app),
      AddUploadCommand(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line a script can log: what is wrong and where to look.
    std::string where = "vigil";
    for (CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
    std::fprintf(stderr, "%s: %s (see %s --help)\n", where.c_str(), e.what(), where.c_str());
    return kExitUsage;
  }
  for (const Command& c : commands) {
    if (c.sub->parsed()) return c.run();
  }
  return kExitUsage;
}

}  // namespace vigil::cli
