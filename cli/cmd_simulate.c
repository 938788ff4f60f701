/* Placeholder while the simulate command is being written (replaced in this change). */
#include "cli/cli.h"
int main_simulate(int argc, char **argv) { (void)argc; (void)argv; hs_cli_error("simulate", "unavailable"); return 1; }
