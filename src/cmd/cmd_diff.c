// SPDX-License-Identifier: MIT
/*
 * scorch diff: compare base and new profiles (scorch profiles or folded stacks, one or several runs per
 * side) and say, per function, whether its share regressed, with an exit status CI can gate on.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diff.h"
#include "flamegraph.h"
#include "input.h"
#include "log.h"
#include "outfile.h"
#include "view.h"

static const char diff_usage[] =
	"Usage: scorch diff [options] BASE NEW\n"
	"       scorch diff [options] -b BASE [-b BASE]... -N NEW [-N NEW]...\n"
	"\n"
	"Compare two profiles, or several runs per side, function by function: each function's share of\n"
	"the samples before and after, the change in points, and a verdict (regressed, improved,\n"
	"unchanged, too few samples) from a statistical test corrected for testing many functions.\n"
	"Inputs are scorch profiles or folded stacks (\"frame;...;frame COUNT\" lines) from any tool.\n"
	"\n"
	"Options:\n"
	"  -b, --base FILE          a base run (repeat for several runs)\n"
	"  -N, --new FILE           a new run (repeat for several runs)\n"
	"  -f, --format FMT         table, markdown, json or folded (default table)\n"
	"  -o, --output FILE        file to write, '-' for standard output (default -)\n"
	"      --by KEY             function, line, module or stack (default function; stack for folded)\n"
	"      --metric SHARE       self or total: the share that decides verdicts (default self)\n"
	"      --alpha A            false discovery rate, 0 < A < 1 (default 0.01)\n"
	"      --threshold POINTS   least growth of a share, in points, that is a regression (default 1)\n"
	"      --min-expected N     test a row only when N samples are expected on a side (default 5)\n"
	"      --fail-on WHAT       regression or change: exit with status 3 when one is found\n"
	"  -n, --top N              rows of the table or markdown, 0 for all (default 20)\n"
	"      --flamegraph FILE    also draw a differential flame graph (red grew, blue shrank)\n"
	"      --partial            read profiles whose recording did not finish\n"
	"  -q, --quiet              print errors only\n"
	"  -v, --verbose            print debug messages\n"
	"  -h, --help               show this help\n"
	"\n"
	"Exit status: 0 no regression (or no --fail-on), 3 regression found (with --fail-on), 1 error,\n"
	"2 usage error.\n";

enum {
	OPT_BY = 256,
	OPT_METRIC,
	OPT_ALPHA,
	OPT_THRESHOLD,
	OPT_MIN_EXPECTED,
	OPT_FAIL_ON,
	OPT_TOP,
	OPT_PARTIAL,
	OPT_FLAMEGRAPH,
};

enum fail_on { FAIL_NEVER, FAIL_REGRESSION, FAIL_CHANGE };

struct diff_cmd_opts {
	const char **files[2]; /* borrowed from argv */
	uint32_t nr_files[2];
	const char *output;
	enum diff_format format;
	int by_given;
	struct diff_opts d;
	enum fail_on fail_on;
	uint32_t top;
	int partial;
	const char *flamegraph; /* SVG to write, or NULL */
};

static int parse_double(const char *s, const char *opt, double min, double max, int min_open, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = s && *s ? strtod(s, &end) : NAN;
	if (!s || !*s || errno || *end || isnan(v)) {
		pr_err("%s takes a number, not '%s'", opt, s ? s : "");
		return -EINVAL;
	}
	if ((min_open ? !(v > min) : !(v >= min)) || !(v < max)) {
		pr_err("%s %s is out of range: use %s %g and less than %g", opt, s, min_open ? "more than" : "at least",
		       min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Set *out to the index of 's' in 'names' (n of them); 'choices' lists them for the error message. */
static int pick(const char *s, const char *what, const char *const *names, int n, const char *choices, int *out)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	pr_err("unknown %s '%s': use %s", what, s, choices);
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct diff_cmd_opts *o)
{
	static const struct option longopts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "new", required_argument, NULL, 'N' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "by", required_argument, NULL, OPT_BY },
		{ "metric", required_argument, NULL, OPT_METRIC },
		{ "alpha", required_argument, NULL, OPT_ALPHA },
		{ "threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "min-expected", required_argument, NULL, OPT_MIN_EXPECTED },
		{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "partial", no_argument, NULL, OPT_PARTIAL },
		{ "flamegraph", required_argument, NULL, OPT_FLAMEGRAPH },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const formats[] = { "table", "markdown", "json", "folded" };
	static const char *const bys[] = { "function", "line", "module", "stack" };
	static const char *const metrics[] = { "self", "total" };
	static const char *const fails[] = { "regression", "change" };
	int c, verbose = 0, quiet = 0, v, side;

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
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":b:N:n:f:o:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
		case 'N':
			side = c == 'N';
			o->files[side][o->nr_files[side]++] = optarg;
			break;
		case 'f':
			if (pick(optarg, "format", formats, 4, "table, markdown, json or folded", &v))
				return -EINVAL;
			o->format = (enum diff_format)v;
			break;
		case 'o':
			if (!*optarg) {
				pr_err("-o needs a file name");
				return -EINVAL;
			}
			o->output = optarg;
			break;
		case OPT_BY:
			if (pick(optarg, "key", bys, 4, "function, line, module or stack", &v))
				return -EINVAL;
			o->d.by = (enum diff_by)v;
			o->by_given = 1;
			break;
		case OPT_METRIC:
			if (pick(optarg, "share", metrics, 2, "self or total", &v))
				return -EINVAL;
			o->d.metric = (enum diff_metric)v;
			break;
		case OPT_ALPHA:
			if (parse_double(optarg, "--alpha", 0, 1, 1, &o->d.alpha))
				return -EINVAL;
			break;
		case OPT_THRESHOLD:
			if (parse_double(optarg, "--threshold", 0, 100, 0, &o->d.threshold))
				return -EINVAL;
			break;
		case OPT_MIN_EXPECTED:
			if (parse_double(optarg, "--min-expected", 0, 1e15, 0, &o->d.min_expected))
				return -EINVAL;
			break;
		case OPT_FAIL_ON:
			if (pick(optarg, "--fail-on value", fails, 2, "regression or change", &v))
				return -EINVAL;
			o->fail_on = v ? FAIL_CHANGE : FAIL_REGRESSION;
			break;
		case 'n':
			/* -n was the new run before it meant rows in every command: say so to old scripts. */
			if (*optarg && strspn(optarg, "0123456789") != strlen(optarg)) {
				pr_err("-n takes a number of rows, not '%s': give a new run with -N or --new", optarg);
				return -EINVAL;
			}
			/* fall through */
		case OPT_TOP:
			if (cli__parse_u32(optarg, 0, UINT32_MAX, c == 'n' ? "-n" : "--top", &o->top))
				return -EINVAL;
			break;
		case OPT_PARTIAL:
			o->partial = 1;
			break;
		case OPT_FLAMEGRAPH:
			if (!*optarg) {
				pr_err("--flamegraph needs a file name");
				return -EINVAL;
			}
			o->flamegraph = optarg;
			break;
		default: {
			int r = cli__option_tail(c, argv, diff_usage, &verbose, &quiet);

			if (r)
				return r;
			break;
		}
		}
	}
	if (optind < argc) {
		if (o->nr_files[0] || o->nr_files[1]) {
			pr_err("give the profiles either as BASE NEW or with -b and -N, not both");
			return -EINVAL;
		}
		if (argc - optind != 2) {
			pr_err("%s: give two profiles, BASE and NEW", argc - optind < 2 ? "too few profiles" :
			       "too many profiles");
			return -EINVAL;
		}
		o->files[0][o->nr_files[0]++] = argv[optind];
		o->files[1][o->nr_files[1]++] = argv[optind + 1];
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
	cli__verbosity(verbose, quiet);
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
		struct flamegraph_opts fo = { .title = "Differential Flame Graph", .differential = 1,
					      .subtitle = "red: share grew, blue: share shrank; widths: the new profile" };

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
		return err > 0 ? EXIT_OK : err == -ENOMEM ? EXIT_ERROR : cli__usage_error("diff");
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
