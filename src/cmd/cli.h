/* SPDX-License-Identifier: MIT */
/*
 * cli - what the commands share: their entry points, exit codes, and argument parsing helpers.
 *
 * Every command is 'int cmd_NAME(int argc, char **argv)' returning an exit code; only main() exits.
 * Its options are a table (options.h); the parsers here, used by the tables' entries, log a usage error
 * naming the option and the bad value, and return -EINVAL.
 */
#ifndef SCORCH_CLI_H
#define SCORCH_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes, documented in scorch(1). */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_REGRESSION = 3,
};

int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_folded(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_symbolize(int argc, char **argv);
int cmd_flamegraph(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_dump(int argc, char **argv);

/* Parse an unsigned decimal in [min, max] for option 'opt'. */
int cli__parse_u32(const char *s, uint32_t min, uint32_t max, const char *opt, uint32_t *out);
/*
 * Parse "ID[,ID...]" for option 'opt', each in [min, INT_MAX], appending to ids[*nr] (at most 'max' in
 * all, 'noun' in the message saying so, e.g. "pids"). An empty field ("1,,2") is an error, not a
 * separator. Returns 0, -EINVAL or -ENOMEM (both logged).
 */
int cli__parse_ids(const char *arg, const char *opt, uint32_t min, const char *noun, uint32_t *ids,
		   size_t max, size_t *nr);
/* cli__parse_ids for -p: pids from 1. */
int cli__parse_pids(const char *arg, uint32_t *pids, size_t max, size_t *nr);
/* Bounds of cli__parse_double: open (min, max excluded) or closed (the default). */
enum { CLI_MIN_OPEN = 1 << 0, CLI_MAX_OPEN = 1 << 1 };
/* Parse a number from min to max for option 'opt' (bounds: CLI_MIN_OPEN, CLI_MAX_OPEN). */
int cli__parse_double(const char *s, const char *opt, double min, double max, unsigned bounds, double *out);
/*
 * Set *out to the index of 's' in 'names' (NULL-terminated), or log "unknown WHAT 'S': use A, B or C"
 * and return -EINVAL.
 */
int cli__parse_choice(const char *s, const char *what, const char *const *names, int *out);
/* Parse positive seconds (decimals allowed, at most a week) into nanoseconds. */
int cli__parse_seconds(const char *s, const char *opt, uint64_t *ns);
/*
 * Parse a duration, a number (decimals allowed) with a unit ns, us, ms or s (none: ms), from 0 to a
 * minute, into nanoseconds.
 */
int cli__parse_duration(const char *s, const char *opt, uint64_t *ns);
/* Handle -v/-q for a command (sets the log level). */
void cli__verbosity(int verbose, int quiet);
/*
 * For commands that open one descriptor per file a target maps (record, top, symbolize, report
 * --resymbolize): raise the soft RLIMIT_NOFILE to the hard limit, as far as the kernel's nr_open
 * allows. Failing that, the limit stays as it was (logged with -v); running out is then counted
 * and warned about where it happens (safeopen__fd_error).
 */
void cli__raise_nofile(void);
/* Print "usage" text plus a hint to stderr after a usage error; returns EXIT_USAGE. */
int cli__usage_error(const char *cmd);
/* --debug-dir DIR: append 'arg' to dirs[*nr] (at most 'max'); an empty name is an error. */
int cli__add_debug_dir(const char *arg, const char **dirs, size_t max, size_t *nr);
/*
 * The exit code of a command whose option parse did not return 0: EXIT_OK after --help (err > 0),
 * EXIT_ERROR for -ENOMEM, else EXIT_USAGE after the hint of cli__usage_error.
 */
int cli__parse_status(int err, const char *cmd);

#endif
