// vigil: the thin entry point; everything else lives in vigil_core (src/cli wires it).
#include "cli/commands.h"

int main(int argc, char** argv) { return vigil::cli::Main(argc, argv); }
