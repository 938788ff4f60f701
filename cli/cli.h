/*
 * cli: what the subcommands share: the error printer, option parsing helpers
 * and the subcommand entry points listed in hetsurv.c's command table.
 */
#ifndef HS_CLI_H
#define HS_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "util/hs_error.h"

/* Exit codes of the subcommands: misuse exits 1 like a failure (validate alone uses 2, its contract). */
enum { HS_EXIT_OK = 0, HS_EXIT_FAIL = 1, HS_EXIT_USAGE = 1 };

/* Prints "hetsurv CMD: message" to stderr. */
void hs_cli_error(const char *cmd, const char *fmt, ...) HS_FORMAT(2, 3);

/* Prints "hetsurv CMD: message" and then the command's usage to stderr; returns HS_EXIT_USAGE. */
int hs_cli_misuse(const char *cmd, void (*usage)(FILE *), const char *fmt, ...) HS_FORMAT(3, 4);

/* Parses a whole string as a finite double; 0 on success, -1 otherwise. */
int hs_cli_double(const char *s, double *out);

/*
 * Splits a comma-separated list into a NULL-terminated array of fresh strings
 * (free with hs_cli_list_free); empty items are dropped.  NULL when out of memory.
 */
char **hs_cli_list(const char *s, size_t *n);
void hs_cli_list_free(char **list);

/* Creates directory path and its parents (mode 0777 & ~umask); 0 or -1 with errno. */
int hs_cli_mkdirs(const char *path);
/* Creates the folder of the file path `out` (e.g. a figure's BASE), saying why not as "hetsurv CMD: ..." on
 * failure; 0 or -1. */
int hs_cli_out_parent(const char *cmd, const char *out);

/*
 * Flushes standard output and checks every write made to it so far.  On a
 * failure prints "hetsurv: error writing standard output: REASON" to stderr
 * (once per process, however often it is called) and returns -1; 0 when all
 * went out.  Every subcommand that prints results calls it at its end.
 */
int hs_cli_stdout_flush(void);
/* Reports a failed write to standard output whose errno e the caller kept (0: unknown), once per process. */
void hs_cli_stdout_error(int e);
/* hs_cli_stdout_flush, then closes standard output (main's last step); 0 or -1. */
int hs_cli_stdout_close(void);

int main_validate(int argc, char **argv);
int main_survival(int argc, char **argv);
int main_score(int argc, char **argv);
int main_simulate(int argc, char **argv);
int main_run(int argc, char **argv);
int main_merge(int argc, char **argv);
int main_submit(int argc, char **argv);
int main_plot(int argc, char **argv);
/* `hetsurv plot map` (cli/plot_map.c), a subcommand of plot. */
int hs_plot_map_main(int argc, char **argv);

#endif /* HS_CLI_H */
