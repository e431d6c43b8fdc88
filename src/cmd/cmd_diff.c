// SPDX-License-Identifier: MIT
/*
 * scorch diff: compare base and new profiles (scorch profiles or folded stacks, one or several runs per
 * side) and say, per function, whether its share regressed, with an exit status CI can gate on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diff.h"
#include "flamegraph.h"
#include "input.h"
#include "log.h"
#include "options.h"
#include "outfile.h"
#include "readcmd.h"
#include "view.h"

enum fail_on { FAIL_NEVER, FAIL_REGRESSION, FAIL_CHANGE };

struct diff_cmd_opts {
	const char **files[2]; /* owned arrays of names borrowed from argv */
	uint32_t nr_files[2];
	const char *output;
	enum diff_format format;
	int by_given;
	struct diff_opts d;
	enum fail_on fail_on;
	uint32_t top;
	int partial;
	const char *flamegraph; /* SVG to write, or NULL */
	int event;              /* --event: index in read_cmd_event_names */
};

static const char *const format_names[] = { "table", "markdown", "json", "folded", NULL };
static const char *const by_names[] = { "function", "line", "module", "stack", NULL };
static const char *const metric_names[] = { "self", "total", NULL };
static const char *const fail_names[] = { "regression", "change", NULL };

/* -b and -N: one more run of a side. */
static int opt_run(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct diff_cmd_opts *o = base;
	int side = e->short_name == 'N';

	(void)name;
	o->files[side][o->nr_files[side]++] = arg;
	return 0;
}

/* -o and --flamegraph: a file name, '-' for standard output. */
static int opt_file(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	(void)name;
	if (!*arg) {
		pr_err("%s needs a file name", e->short_name ? "-o" : "--flamegraph");
		return -EINVAL;
	}
	*(const char **)((char *)base + e->offset) = arg;
	return 0;
}

static int opt_by(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct diff_cmd_opts *o = base;
	int v;

	(void)e;
	(void)name;
	if (cli__parse_choice(arg, "key", by_names, &v))
		return -EINVAL;
	o->d.by = (enum diff_by)v;
	o->by_given = 1;
	return 0;
}

static int opt_fail_on(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct diff_cmd_opts *o = base;
	int v;

	(void)e;
	(void)name;
	if (cli__parse_choice(arg, "--fail-on value", fail_names, &v))
		return -EINVAL;
	o->fail_on = v ? FAIL_CHANGE : FAIL_REGRESSION;
	return 0;
}

static int opt_top(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct diff_cmd_opts *o = base;

	(void)e;
	/* -n was the new run before it meant rows in every command: say so to old scripts. */
	if (!strcmp(name, "-n") && *arg && strspn(arg, "0123456789") != strlen(arg)) {
		pr_err("-n takes a number of rows, not '%s': give a new run with -N or --new", arg);
		return -EINVAL;
	}
	return cli__parse_u32(arg, 0, UINT32_MAX, name, &o->top);
}

static const struct opts_entry diff_options[] = {
	OPTS_CALLBACK('b', "base", "FILE", "a base run (repeat for several runs)", struct diff_cmd_opts,
		      files, opt_run),
	OPTS_CALLBACK('N', "new", "FILE", "a new run (repeat for several runs)", struct diff_cmd_opts, files,
		      opt_run),
	OPTS_CHOICE('f', "format", "FMT", "table, markdown, json or folded (default table)",
		    struct diff_cmd_opts, format, format_names, "format"),
	OPTS_CALLBACK('o', "output", "FILE", "file to write, '-' for standard output (default -)",
		      struct diff_cmd_opts, output, opt_file),
	OPTS_CALLBACK(0, "by", "KEY", "function, line, module or stack (default function; stack for folded)",
		      struct diff_cmd_opts, d.by, opt_by),
	OPTS_CHOICE(0, "metric", "SHARE", "self or total: the share that decides verdicts (default self)",
		    struct diff_cmd_opts, d.metric, metric_names, "share"),
	OPTS_DOUBLE(0, "alpha", "A", "false discovery rate, 0 < A < 1 (default 0.01)", struct diff_cmd_opts,
		    d.alpha, 0, 1, CLI_MIN_OPEN | CLI_MAX_OPEN),
	OPTS_DOUBLE(0, "threshold", "POINTS",
		    "least growth of a share, in points, that is a regression (default 1)",
		    struct diff_cmd_opts, d.threshold, 0, 100, CLI_MAX_OPEN),
	OPTS_DOUBLE(0, "min-expected", "N",
		    "test a row only when N samples are expected on a side (default 5)", struct diff_cmd_opts,
		    d.min_expected, 0, 1e15, CLI_MAX_OPEN),
	OPTS_CALLBACK(0, "fail-on", "WHAT", "regression or change: exit with status 3 when one is found",
		      struct diff_cmd_opts, fail_on, opt_fail_on),
	OPTS_CALLBACK('n', "top", "N", "rows of the table or markdown, 0 for all (default 20)",
		      struct diff_cmd_opts, top, opt_top),
	OPTS_CALLBACK(0, "flamegraph", "FILE", "also draw a differential flame graph (red grew, blue shrank)",
		      struct diff_cmd_opts, flamegraph, opt_file),
	OPTS_CHOICE(0, "event", "EVENT",
		    "cpu (samples, the default), or time: off-cpu, wall, off-cpu:sleep,\n"
		    "off-cpu:disk or off-cpu:runq, each millisecond counted as a sample",
		    struct diff_cmd_opts, event, read_cmd_event_names, "event"),
	OPTS_FLAG(0, "partial", "read profiles whose recording did not finish", struct diff_cmd_opts,
		  partial),
	OPTS_END(),
};

static const struct opts_cmd diff_cmd = {
	.name = "diff",
	.usage = "scorch diff [options] BASE NEW\n"
		 "scorch diff [options] -b BASE [-b BASE]... -N NEW [-N NEW]...",
	.description =
		"Compare two profiles, or several runs per side, function by function: each function's share of\n"
		"the samples before and after, the change in points, and a verdict (regressed, improved,\n"
		"unchanged, too few samples) from a statistical test corrected for testing many functions.\n"
		"Inputs are scorch profiles or folded stacks (\"frame;...;frame COUNT\" lines) from any tool.",
	.options = diff_options,
	.epilogue =
		"Exit status: 0 no regression (or no --fail-on), 3 regression found (with --fail-on), 1 error,\n"
		"2 usage error.\n",
};

static int parse_args(int argc, char **argv, struct diff_cmd_opts *o)
{
	int err, rest;

	o->output = "-";
	o->top = 20;
	o->d.alpha = DIFF_ALPHA_DEFAULT;
	o->d.threshold = DIFF_THRESHOLD_DEFAULT;
	o->d.min_expected = DIFF_MIN_EXPECTED_DEFAULT;
	o->files[0] = calloc((size_t)argc, sizeof(*o->files[0]));
	o->files[1] = calloc((size_t)argc, sizeof(*o->files[1]));
	if (!o->files[0] || !o->files[1]) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	err = opts__parse(&diff_cmd, argc, argv, o, &rest);
	if (err)
		return err;
	if (rest < argc) {
		if (o->nr_files[0] || o->nr_files[1]) {
			pr_err("give the profiles either as BASE NEW or with -b and -N, not both");
			return -EINVAL;
		}
		if (argc - rest != 2) {
			pr_err("%s: give two profiles, BASE and NEW",
			       argc - rest < 2 ? "too few profiles" : "too many profiles");
			return -EINVAL;
		}
		o->files[0][o->nr_files[0]++] = argv[rest];
		o->files[1][o->nr_files[1]++] = argv[rest + 1];
	}
	if (!o->nr_files[0] || !o->nr_files[1]) {
		pr_err("nothing to compare: give BASE NEW, or -b BASE and -N NEW");
		return -EINVAL;
	}
	if (o->format == DIFF_FMT_FOLDED) {
		if (o->by_given && o->d.by != DIFF_BY_STACK) {
			pr_err("--format folded writes stacks: it takes no --by other than stack");
			return -EINVAL;
		}
		o->d.by = DIFF_BY_STACK;
	}
	return 0;
}

/* Write the differential flame graph of what 'fg' was given. */
static int write_flamegraph(struct flamegraph *fg, const char *path)
{
	struct outfile out;
	FILE *f;
	int err;

	if (outfile__open(&out, path, 0))
		return -EIO;
	f = outfile__fp(&out);
	err = f ? flamegraph__write(fg, f) : -errno;
	if (err) {
		pr_err("cannot write the flame graph '%s': %s", path, strerror(-err));
		outfile__abort(&out);
		return err;
	}
	return outfile__commit(&out);
}

/* Add a profile's stacks to the differential flame graph, on its side. */
static int add_to_flamegraph(struct flamegraph *fg, const struct profile *p, int side, int no_modules)
{
	struct view_opts vo = { 0 };
	struct view v;
	int err = view__build(&v, p, &vo);

	if (err)
		return err;
	err = flamegraph__add_view(fg, &v, side, no_modules);
	view__release(&v);
	return err;
}

/* Load every input, then feed them to the diff: whether rows are keyed by module depends on all. */
static int load_and_diff(struct diff_cmd_opts *o, struct diff *d)
{
	struct flamegraph *fg = NULL;
	struct input_opts io = { .allow_partial = o->partial };
	uint32_t total = o->nr_files[0] + o->nr_files[1], i;
	struct profile *p = calloc(total, sizeof(*p));
	int err = -ENOMEM, all_scorch = 1;

	if (!p) {
		pr_err("out of memory");
		return err;
	}
	for (i = 0; i < total; i++) {
		const char *f = i < o->nr_files[0] ? o->files[0][i] : o->files[1][i - o->nr_files[0]];
		enum input_format fmt = INPUT_SCORCH;

		profile__init(&p[i]);
		err = input__load(f, &io, &p[i], &fmt);
		if (!err && o->event && !(err = read_cmd__select_event(f, o->event, &p[i])))
			profile__scale_counts(&p[i], 1000); /* microseconds to milliseconds */
		if (err)
			goto out;
		if (!p[i].total) {
			pr_err("'%s' has no samples: nothing to compare", f);
			err = -ENODATA;
			goto out;
		}
		all_scorch &= fmt == INPUT_SCORCH;
	}
	o->d.use_modules = all_scorch;
	if (o->flamegraph) {
		struct flamegraph_opts fo = {
			.title = "Differential Flame Graph",
			.differential = 1,
			.subtitle = "red: share grew, blue: share shrank; widths: the new profile"
		};

		fg = flamegraph__new(&fo);
		if (!fg) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = diff__init(d, &o->d, o->nr_files[0], o->nr_files[1]);
	for (i = 0; !err && i < total; i++) {
		int side = i >= o->nr_files[0];
		const char *f = side ? o->files[1][i - o->nr_files[0]] : o->files[0][i];

		err = diff__add(d, side, &p[i], strcmp(f, "-") ? f : "<stdin>");
		if (!err && fg)
			err = add_to_flamegraph(fg, &p[i], side, !all_scorch);
		profile__release(&p[i]);
	}
	if (!err)
		err = diff__finish(d);
	if (!err && fg && write_flamegraph(fg, o->flamegraph)) {
		err = -EIO;
		goto out;
	}
	if (err && err != -E2BIG) /* past a reader's limit: logged already */
		pr_err("cannot compare the profiles: %s", strerror(-err));
out:
	flamegraph__free(fg);
	for (i = 0; i < total; i++)
		profile__release(&p[i]);
	free(p);
	return err;
}

int cmd_diff(int argc, char **argv)
{
	struct diff_cmd_opts o = { 0 };
	struct diff d = { 0 };
	struct outfile out;
	const size_t *v;
	FILE *f;
	int err = parse_args(argc, argv, &o), ret = EXIT_ERROR;

	if (err) {
		free(o.files[0]);
		free(o.files[1]);
		return cli__parse_status(err, "diff");
	}
	if (load_and_diff(&o, &d))
		goto out;
	if (outfile__open(&out, o.output, 0))
		goto out;
	f = outfile__fp(&out);
	err = f ? diff__print(f, &d, o.format, o.top) : -errno;
	if (err) {
		pr_err("cannot write the diff to '%s': %s", o.output, strerror(-err));
		outfile__abort(&out);
		goto out;
	}
	if (outfile__commit(&out))
		goto out;
	v = d.nr_verdict[d.opts.metric];
	ret = EXIT_OK;
	if (v[DIFF_REGRESSED] && o.fail_on != FAIL_NEVER)
		ret = EXIT_REGRESSION;
	if (v[DIFF_IMPROVED] && o.fail_on == FAIL_CHANGE)
		ret = EXIT_REGRESSION;
	if (ret == EXIT_REGRESSION)
		pr_info("%zu regressed, %zu improved: exit status 3 (--fail-on %s)", v[DIFF_REGRESSED],
			v[DIFF_IMPROVED], o.fail_on == FAIL_CHANGE ? "change" : "regression");
out:
	diff__release(&d);
	free(o.files[0]);
	free(o.files[1]);
	return ret;
}
