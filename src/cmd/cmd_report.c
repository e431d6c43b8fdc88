// SPDX-License-Identifier: MIT
/*
 * The commands that read a profile: report (hotspot table, callers/callees), folded (folded stacks),
 * info (metadata and quality counters). What they share with flamegraph and export is in readcmd.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "folded.h"
#include "log.h"
#include "outfile.h"
#include "readcmd.h"
#include "report.h"
#include "utf8.h"

static const char *const sort_names[] = { "self", "total", "name", NULL };

static int opt_debug_dir(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct read_cmd_opts *o = base;

	(void)e;
	(void)name;
	return cli__add_debug_dir(arg, o->debug_dirs, READ_CMD_MAX_DEBUG_DIRS, &o->nr_debug_dirs);
}

const struct opts_entry report_options[] = {
	READ_CMD_OPT_INPUT,
	OPTS_U32('n', "top", "N", "rows to print, 0 for all (default 20)", struct read_cmd_opts, top, 0,
		 UINT32_MAX),
	OPTS_CHOICE('s', "sort", "KEY", "self, total or name (default self)", struct read_cmd_opts, sort,
		    sort_names, "sort key"),
	READ_CMD_OPT_BY("function, line, module or process (default function)"),
	READ_CMD_OPT_EVENT,
	OPTS_DOUBLE(0, "percent-limit", "P", "leave out rows below P percent", struct read_cmd_opts,
		    percent_limit, 0, 100, 0),
	OPTS_STRING(0, "callers", "FUNC", "who calls FUNC, with each caller's share of FUNC's samples",
		    struct read_cmd_opts, callers),
	OPTS_STRING(0, "callees", "FUNC", "what FUNC calls, with each callee's share of FUNC's samples",
		    struct read_cmd_opts, callees),
	OPTS_FLAG(0, "json", "write JSON instead of a table", struct read_cmd_opts, json),
	OPTS_INCLUDE(read_cmd_id_filters, NULL),
	OPTS_INCLUDE(read_cmd_stack_filters, NULL),
	OPTS_FLAG(0, "no-header", "leave out the '#' header lines", struct read_cmd_opts, no_header),
	READ_CMD_OPT_PARTIAL,
	OPTS_FLAG(0, "resymbolize", "name the code again, from the files and debuginfo found now",
		  struct read_cmd_opts, resymbolize),
	OPTS_CALLBACK(0, "debug-dir", "DIR",
		      "with --resymbolize: also look for debuginfo in DIR (repeatable)", struct read_cmd_opts,
		      debug_dirs, opt_debug_dir),
	OPTS_FLAG(0, "no-sandbox",
		  "with --resymbolize: parse ELF/DWARF in this process, not in an\nunprivileged child",
		  struct read_cmd_opts, no_sandbox),
	OPTS_END(),
};

static const struct opts_cmd report_cmd = {
	.name = "report",
	.usage = "scorch report [options]",
	.description =
		"Print the hottest functions of a profile: self and total (inclusive) share of samples; or who\n"
		"calls a function and what it calls.",
	.options = report_options,
	.siblings = read_cmd_tables,
};

const struct opts_entry folded_options[] = {
	READ_CMD_OPT_INPUT,
	READ_CMD_OPT_OUTPUT("file to write, '-' for standard output (default -)"),
	/* Prefixes, as in stackcollapse-perf.pl: not the filters of the other read commands. */
	OPTS_FLAG(0, "pid", "start each stack with a \"comm-PID\" frame", struct read_cmd_opts, pid_prefix),
	OPTS_FLAG(0, "tid", "start each stack with a \"comm-PID/TID\" frame", struct read_cmd_opts,
		  tid_prefix),
	OPTS_FLAG(0, "annotate", "mark kernel frames _[k], inlined _[i], JIT _[j] and Python _[py]",
		  struct read_cmd_opts, annotate),
	READ_CMD_OPT_BY("function, line or module (default function)"),
	READ_CMD_OPT_EVENT,
	READ_CMD_OPT_COMM,
	OPTS_INCLUDE(read_cmd_stack_filters, NULL),
	READ_CMD_OPT_PARTIAL,
	OPTS_END(),
};

static const struct opts_cmd folded_cmd = {
	.name = "folded",
	.usage = "scorch folded [options]",
	.description =
		"Write a profile as folded stacks (\"root;...;leaf COUNT\" per line) for flamegraph.pl, inferno\n"
		"or speedscope.",
	.options = folded_options,
	.siblings = read_cmd_tables,
};

const struct opts_entry info_options[] = {
	READ_CMD_OPT_INPUT,
	READ_CMD_OPT_PARTIAL,
	OPTS_END(),
};

static const struct opts_cmd info_cmd = {
	.name = "info",
	.usage = "scorch info [options]",
	.description =
		"Print what a profile holds: how and when it was recorded, its size, and its quality counters.",
	.options = info_options,
	.siblings = read_cmd_tables,
};

int cmd_report(int argc, char **argv)
{
	struct read_cmd_opts o = { 0 };
	struct report_opts ro = { 0 };
	struct profile p;
	int err = read_cmd__parse(argc, argv, &report_cmd, &o);

	if (err)
		return cli__parse_status(err, "report");
	if (read_cmd__load(&o, &p))
		return EXIT_ERROR;
	ro.top = o.top;
	ro.sort = o.sort;
	ro.no_header = o.no_header;
	ro.json = o.json;
	ro.percent_limit = o.percent_limit;
	ro.callers = o.callers;
	ro.callees = o.callees;
	ro.view = &o.view;
	err = report__print(stdout, &p, &ro, read_cmd__input_name(&o));
	profile__release(&p);
	if (err == -EINVAL)
		return cli__usage_error("report");
	if (err && err != -ENOENT && err != -E2BIG) /* both logged already */
		pr_err("cannot report on '%s': %s", o.input, strerror(-err));
	return err ? EXIT_ERROR : EXIT_OK;
}

int cmd_folded(int argc, char **argv)
{
	struct read_cmd_opts o = { 0 };
	struct folded_opts fo = { 0 };
	struct outfile out;
	struct profile p;
	FILE *f;
	int err = read_cmd__parse(argc, argv, &folded_cmd, &o);

	if (err)
		return cli__parse_status(err, "folded");
	if (read_cmd__load(&o, &p))
		return EXIT_ERROR;
	fo.pid_prefix = o.pid_prefix;
	fo.tid_prefix = o.tid_prefix;
	fo.annotate = o.annotate;
	fo.view = &o.view;
	if (outfile__open(&out, o.output, 0)) {
		profile__release(&p);
		return EXIT_ERROR;
	}
	f = outfile__fp(&out);
	err = f ? folded__write(f, &p, &fo) : -errno;
	if (err) {
		if (err != -EINVAL && err != -E2BIG) /* both logged already */
			pr_err("cannot write folded stacks: %s", strerror(-err));
		outfile__abort(&out);
	} else {
		err = outfile__commit(&out);
	}
	profile__release(&p);
	return err == -EINVAL ? cli__usage_error("folded") : err ? EXIT_ERROR : EXIT_OK;
}

int cmd_info(int argc, char **argv)
{
	struct read_cmd_opts o = { 0 };
	struct profile p;
	uint32_t i, unnamed = 0;
	char key[256], val[4096];
	int err = read_cmd__parse(argc, argv, &info_cmd, &o);

	if (err)
		return cli__parse_status(err, "info");
	if (read_cmd__load(&o, &p))
		return EXIT_ERROR;
	report__print_header(stdout, &p, read_cmd__input_name(&o));
	printf("\n[meta]\n");
	/* Keys, values and paths are the recorded target's: no byte of them may drive the terminal. */
	for (i = 0; i < p.nr_meta; i++) {
		printf("%-24s ", utf8__printable(profile__str(&p, p.meta[i].key), key, sizeof(key)));
		utf8__fputs(profile__str(&p, p.meta[i].value), stdout);
		putchar('\n');
	}
	printf("\n[counters]\n");
	for (i = 0; i < p.nr_counters; i++)
		printf("%-24s %" PRIu64 "\n",
		       utf8__printable(profile__str(&p, p.counters[i].key), key, sizeof(key)),
		       p.counters[i].num);
	for (i = 0; i < p.nr_locations; i++)
		unnamed += p.locations[i].nr_frames == 0;
	printf("\n[contents]\n");
	printf("%-24s %" PRIu64 "\n", "samples", p.total);
	printf("%-24s %u\n", "threads", p.nr_threads);
	printf("%-24s %u\n", "unique stacks", p.nr_stacks);
	printf("%-24s %u (%u unnamed)\n", "locations", p.nr_locations, unnamed);
	printf("%-24s %u\n", "mappings", p.nr_mappings);
	printf("\n[mappings]\n");
	for (i = 0; i < p.nr_mappings; i++) {
		const char *bid = profile__str(&p, p.mappings[i].build_id);

		printf("%-40s %s\n", utf8__printable(profile__str(&p, p.mappings[i].name), val, sizeof(val)),
		       *bid ? utf8__printable(bid, key, sizeof(key)) : "-");
	}
	profile__release(&p);
	return EXIT_OK;
}
