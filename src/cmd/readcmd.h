/* SPDX-License-Identifier: MIT */
/*
 * readcmd - what the commands that read a profile (report, folded, info, flamegraph, export) share: their
 * options struct, the option entries and table fragments they have in common, the parse of their
 * command lines, and the profile loader. Each command's own table is in its cmd_*.c; a command refuses
 * the options of the others by name.
 */
#ifndef SCORCH_READCMD_H
#define SCORCH_READCMD_H

#include <stdint.h>

#include "flamegraph.h"
#include "options.h"
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
	const char *title, *format;           /* flamegraph, export */
	enum flamegraph_colors colors;
	uint32_t width;
	double min_width;
	int icicle;
	struct view_opts view;
	int resymbolize; /* report: name the code again (resymbolize.h) */
	const char *debug_dirs[READ_CMD_MAX_DEBUG_DIRS];
	size_t nr_debug_dirs;
	int no_sandbox; /* report --resymbolize: parse in this process */
	int event;      /* --event: index in read_cmd_event_names */
};

/* The tables of the read commands, in their cmd_*.c. */
extern const struct opts_entry report_options[], folded_options[], info_options[], flamegraph_options[],
	export_options[];
/* All of them, NULL-terminated: the siblings (options.h) of each read command. */
extern const struct opts_entry *const read_cmd_tables[];

/* Fragments: --pid, --tid, --comm (which samples); --focus, --ignore, --no-inline, --no-kernel (stacks). */
extern const struct opts_entry read_cmd_id_filters[], read_cmd_stack_filters[];
/* The values of --event ("cpu" first, the default), and the events (PROFILE_EV_MASK bits) of each. */
extern const char *const read_cmd_event_names[];
extern const uint32_t read_cmd_event_masks[];
/* The values of --by, in the order of enum view_by. */
extern const char *const read_cmd_by_names[];
opts_cb read_cmd__opt_comm;

#define READ_CMD_OPT_INPUT                                                                                 \
	OPTS_STRING('i', "input", "FILE", "profile to read, '-' for standard input (default scorch.prof)", \
		    struct read_cmd_opts, input)
#define READ_CMD_OPT_OUTPUT(help) OPTS_STRING('o', "output", "FILE", help, struct read_cmd_opts, output)
#define READ_CMD_OPT_BY(help) \
	OPTS_CHOICE(0, "by", "KEY", help, struct read_cmd_opts, view.by, read_cmd_by_names, "--by key")
#define READ_CMD_OPT_COMM                                                                 \
	OPTS_CALLBACK(0, "comm", "NAME", "only threads with this name (may be repeated)", \
		      struct read_cmd_opts, view.comms, read_cmd__opt_comm)
#define READ_CMD_OPT_EVENT                                                                \
	OPTS_CHOICE(0, "event", "EVENT",                                                  \
		    "cpu (samples), off-cpu (time off CPU, where the threads blocked),\n" \
		    "wall (both, as time), or one off-CPU state: off-cpu:sleep,\n"        \
		    "off-cpu:disk or off-cpu:runq (default cpu)",                         \
		    struct read_cmd_opts, event, read_cmd_event_names, "event")
#define READ_CMD_OPT_PARTIAL                                                                           \
	OPTS_FLAG(0, "partial", "read a profile whose recording did not finish", struct read_cmd_opts, \
		  partial)

/*
 * Parse argv for read command 'cmd' (its table a member of read_cmd_tables) into *o, which may preset
 * 'output'. Returns 0, 1 after printing --help, -EINVAL after logging a usage error, -ENOMEM (logged).
 */
int read_cmd__parse(int argc, char **argv, const struct opts_cmd *cmd, struct read_cmd_opts *o);
/*
 * Load o->input, a scorch profile or folded stacks (input.h), into a new profile (profile__init'ed
 * here), resymbolized when o->resymbolize, its counts made the time of the events of --event
 * (profile__select_event: refused for a profile recorded without --off-cpu). Returns 0, or -1 after
 * logging.
 */
int read_cmd__load(const struct read_cmd_opts *o, struct profile *p);
/*
 * Make the counts of 'p', read from 'input', the time of the events of read_cmd_event_names[event]
 * (0, "cpu", changes nothing). 0, or a negative errno after logging: -EINVAL for a profile with no
 * off-CPU time, or no frequency when the CPU time is asked for.
 */
int read_cmd__select_event(const char *input, int event, struct profile *p);
/* The name of the input for messages and headers. */
const char *read_cmd__input_name(const struct read_cmd_opts *o);

#endif
