/* SPDX-License-Identifier: MIT */
/*
 * readcmd - what the commands that read a profile (report, folded, info, flamegraph, export) share: one
 * option parser and the profile loader. Implemented in cmd_report.c.
 */
#ifndef SCORCH_READCMD_H
#define SCORCH_READCMD_H

#include <stdint.h>

#include "profile.h"
#include "report.h"
#include "view.h"

#define READ_CMD_MAX_DEBUG_DIRS 32

struct read_cmd_opts {
	const char *input;
	const char *output;
	uint32_t top;
	enum report_sort sort;
	int partial;
	int no_header;
	int json;
	double percent_limit;
	const char *callers, *callees;
	int pid_prefix, tid_prefix, annotate; /* folded */
	const char *title, *format, *colors;  /* flamegraph, export */
	uint32_t width;
	double min_width;
	int icicle;
	struct view_opts view;
	int resymbolize;                      /* report: name the code again (resymbolize.h) */
	const char *debug_dirs[READ_CMD_MAX_DEBUG_DIRS];
	size_t nr_debug_dirs;
	int no_sandbox;                       /* report --resymbolize: parse in this process */
};

/*
 * Parse argv for command 'cmd'. 'allowed' is a space-separated list of the long option names the command
 * takes (e.g. "input output pid"). Returns 0, 1 after printing --help, or -EINVAL after logging a
 * usage error.
 */
int read_cmd__parse(int argc, char **argv, const char *cmd, const char *usage, const char *allowed,
		    struct read_cmd_opts *o);
/*
 * Load o->input, a scorch profile or folded stacks (input.h), into a new profile (profile__init'ed
 * here), resymbolized when o->resymbolize. Returns 0, or -1 after logging.
 */
int read_cmd__load(const struct read_cmd_opts *o, struct profile *p);
/* The name of the input for messages and headers. */
const char *read_cmd__input_name(const struct read_cmd_opts *o);

#endif
