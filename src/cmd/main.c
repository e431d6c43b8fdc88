// SPDX-License-Identifier: MIT
/*
 * scorch - a sampling CPU profiler for Linux. main() only dispatches: each command lives in its own
 * cmd_*.c. After the command, standard output is flushed and closed here, so a full disk or a closed
 * pipe becomes an error exit instead of silently truncated output.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "testhooks.h"

struct cmd_struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd_struct commands[] = {
	{ "record", cmd_record, "sample processes into a profile file" },
	{ "report", cmd_report, "print the hottest functions of a profile" },
	{ "folded", cmd_folded, "write folded stacks for flame graph tools" },
	{ "info", cmd_info, "print a profile's metadata and quality counters" },
	{ "diff", cmd_diff, "compare profiles: which functions regressed, with a CI exit status" },
	{ "symbolize", cmd_symbolize, "print function, file:line and inlines of addresses" },
	{ "flamegraph", cmd_flamegraph, "draw an interactive SVG flame graph" },
	{ "export", cmd_export, "write a profile for pprof or speedscope" },
	{ "top", cmd_top, "show the hottest functions of running processes, live" },
	{ "dump", cmd_dump, "print the current stack of every thread of a running process" },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: scorch [--version] [--help] COMMAND [ARGS...]\n\n"
		   "A sampling CPU profiler for Linux.\n\nCommands:\n");
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'scorch COMMAND --help' or 'scorch help COMMAND' for a command's options.\n");
}

/* Levenshtein distance, for "did you mean" hints. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 64;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(*prev));
	}
	return prev[lb];
}

static const struct cmd_struct *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NR_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	size_t i, best = 0, best_d = (size_t)-1;

	pr_err("'%s' is not a scorch command", name);
	for (i = 0; i < NR_COMMANDS; i++) {
		size_t d = edit_distance(name, commands[i].name);

		if (d < best_d) {
			best_d = d;
			best = i;
		}
	}
	if (best_d <= 2)
		fprintf(stderr, "The most similar command is '%s'.\n", commands[best].name);
	fprintf(stderr, "Run 'scorch --help' for the list of commands.\n");
	return EXIT_USAGE;
}

/* Flush and close stdout: a write error there is the command's error too. */
static int finish_stdout(int ret)
{
	if (fflush(stdout) || ferror(stdout)) {
		if (errno != EPIPE)
			pr_err("cannot write to standard output: %s", strerror(errno));
		return ret ? ret : EXIT_ERROR;
	}
	if (fclose(stdout) && errno != EBADF) {
		pr_err("cannot close standard output: %s", strerror(errno));
		return ret ? ret : EXIT_ERROR;
	}
	return ret;
}

int main(int argc, char **argv)
{
	const struct cmd_struct *cmd;

	log__set_level(LOG_INFO);
	if (testhooks__load())
		return EXIT_ERROR;
	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_usage(stdout);
		return finish_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("scorch %s\n", SCORCH_VERSION);
		return finish_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "help")) {
		char *help_argv[] = { argv[2], "--help", NULL };

		if (argc < 3) {
			print_usage(stdout);
			return finish_stdout(EXIT_OK);
		}
		cmd = find_command(argv[2]);
		if (!cmd)
			return unknown_command(argv[2]);
		return finish_stdout(cmd->fn(2, help_argv));
	}
	if (argv[1][0] == '-') {
		pr_err("unknown option '%s'", argv[1]);
		fprintf(stderr, "Run 'scorch --help' for usage.\n");
		return EXIT_USAGE;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		return unknown_command(argv[1]);
	return finish_stdout(cmd->fn(argc - 1, argv + 1));
}
