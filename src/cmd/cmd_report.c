// SPDX-License-Identifier: MIT
/*
 * The commands that read a profile: report (hotspot table, callers/callees), folded (folded stacks),
 * info (metadata and quality counters); and the option parser they share with flamegraph and export.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "folded.h"
#include "log.h"
#include "outfile.h"
#include "input.h"
#include "readcmd.h"
#include "report.h"
#include "resymbolize.h"
#include "utf8.h"

#define FILTER_HELP \
	"      --pid PID[,PID...]   only these processes\n" \
	"      --tid TID[,TID...]   only these threads\n" \
	"      --comm NAME          only threads with this name (may be repeated)\n" \
	"      --focus REGEX        only stacks with a frame whose name matches\n" \
	"      --ignore REGEX       leave out stacks with a frame whose name matches\n" \
	"      --no-inline          fold inlined frames into their caller\n" \
	"      --no-kernel          leave out kernel frames\n"

static const char report_usage[] =
	"Usage: scorch report [options]\n"
	"\n"
	"Print the hottest functions of a profile: self and total (inclusive) share of samples; or who\n"
	"calls a function and what it calls.\n"
	"\n"
	"Options:\n"
	"  -i, --input FILE         profile to read, '-' for standard input (default scorch.prof)\n"
	"  -n, --top N              rows to print, 0 for all (default 20)\n"
	"  -s, --sort KEY           self, total or name (default self)\n"
	"      --by KEY             function, line, module or process (default function)\n"
	"      --percent-limit P    leave out rows below P percent\n"
	"      --callers FUNC       who calls FUNC, with each caller's share of FUNC's samples\n"
	"      --callees FUNC       what FUNC calls, with each callee's share of FUNC's samples\n"
	"      --json               write JSON instead of a table\n"
	FILTER_HELP
	"      --no-header          leave out the '#' header lines\n"
	"      --partial            read a profile whose recording did not finish\n"
	"      --resymbolize        name the code again, from the files and debuginfo found now\n"
	"      --debug-dir DIR      with --resymbolize: also look for debuginfo in DIR (repeatable)\n"
	"      --no-sandbox         with --resymbolize: parse ELF/DWARF in this process, not in an\n"
	"                           unprivileged child\n"
	"  -q, --quiet              print errors only\n"
	"  -v, --verbose            print debug messages\n"
	"  -h, --help               show this help\n";

static const char folded_usage[] =
	"Usage: scorch folded [options]\n"
	"\n"
	"Write a profile as folded stacks (\"root;...;leaf COUNT\" per line) for flamegraph.pl, inferno\n"
	"or speedscope.\n"
	"\n"
	"Options:\n"
	"  -i, --input FILE         profile to read, '-' for standard input (default scorch.prof)\n"
	"  -o, --output FILE        file to write, '-' for standard output (default -)\n"
	"      --pid                start each stack with a \"comm-PID\" frame\n"
	"      --tid                start each stack with a \"comm-PID/TID\" frame\n"
	"      --annotate           mark kernel frames _[k], inlined _[i] and JIT _[j]\n"
	"      --by KEY             function, line or module (default function)\n"
	"      --comm NAME          only threads with this name (may be repeated)\n"
	"      --focus REGEX        only stacks with a frame whose name matches\n"
	"      --ignore REGEX       leave out stacks with a frame whose name matches\n"
	"      --no-inline          fold inlined frames into their caller\n"
	"      --no-kernel          leave out kernel frames\n"
	"      --partial            read a profile whose recording did not finish\n"
	"  -q, --quiet              print errors only\n"
	"  -v, --verbose            print debug messages\n"
	"  -h, --help               show this help\n";

static const char info_usage[] =
	"Usage: scorch info [options]\n"
	"\n"
	"Print what a profile holds: how and when it was recorded, its size, and its quality counters.\n"
	"\n"
	"Options:\n"
	"  -i, --input FILE         profile to read, '-' for standard input (default scorch.prof)\n"
	"      --partial            read a profile whose recording did not finish\n"
	"  -q, --quiet              print errors only\n"
	"  -v, --verbose            print debug messages\n"
	"  -h, --help               show this help\n";

enum {
	OPT_PARTIAL = 256,
	OPT_NO_HEADER,
	OPT_BY,
	OPT_PERCENT_LIMIT,
	OPT_PID,
	OPT_TID,
	OPT_COMM,
	OPT_FOCUS,
	OPT_IGNORE,
	OPT_CALLERS,
	OPT_CALLEES,
	OPT_JSON,
	OPT_NO_INLINE,
	OPT_NO_KERNEL,
	OPT_ANNOTATE,
	OPT_TITLE,
	OPT_WIDTH,
	OPT_MIN_WIDTH,
	OPT_ICICLE,
	OPT_COLORS,
	OPT_FORMAT,
	OPT_RESYMBOLIZE,
	OPT_DEBUG_DIR,
	OPT_NO_SANDBOX,
};

static int parse_ids(const char *s, const char *opt, uint32_t *ids, uint32_t *nr)
{
	char buf[32];

	while (1) {
		size_t n = strcspn(s, ",");

		if (n >= sizeof(buf)) {
			pr_err("%s takes a whole number, not '%.*s'", opt, (int)n, s);
			return -EINVAL;
		}
		memcpy(buf, s, n);
		buf[n] = 0;
		if (*nr >= VIEW_MAX_IDS) {
			pr_err("%s: at most %d ids", opt, VIEW_MAX_IDS);
			return -EINVAL;
		}
		if (cli__parse_u32(buf, 0, INT32_MAX, opt, &ids[*nr]))
			return -EINVAL;
		(*nr)++;
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

static int parse_double(const char *s, const char *opt, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = s && *s ? strtod(s, &end) : NAN;
	if (!s || !*s || errno || *end || isnan(v)) {
		pr_err("%s takes a number, not '%s'", opt, s ? s : "");
		return -EINVAL;
	}
	if (v < min || v > max) {
		pr_err("%s %s is out of range: use %g to %g", opt, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int allows(const char *allowed, const char *name)
{
	size_t n = strlen(name);
	const char *s = allowed;

	while ((s = strstr(s, name))) {
		if ((s == allowed || s[-1] == ' ') && (s[n] == ' ' || !s[n]))
			return 1;
		s += n;
	}
	return 0;
}

int read_cmd__parse(int argc, char **argv, const char *cmd, const char *usage, const char *allowed,
		    struct read_cmd_opts *o)
{
	struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "top", required_argument, NULL, 'n' },
		{ "sort", required_argument, NULL, 's' },
		{ "partial", no_argument, NULL, OPT_PARTIAL },
		{ "no-header", no_argument, NULL, OPT_NO_HEADER },
		{ "by", required_argument, NULL, OPT_BY },
		{ "percent-limit", required_argument, NULL, OPT_PERCENT_LIMIT },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "tid", required_argument, NULL, OPT_TID },
		{ "comm", required_argument, NULL, OPT_COMM },
		{ "focus", required_argument, NULL, OPT_FOCUS },
		{ "ignore", required_argument, NULL, OPT_IGNORE },
		{ "callers", required_argument, NULL, OPT_CALLERS },
		{ "callees", required_argument, NULL, OPT_CALLEES },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-inline", no_argument, NULL, OPT_NO_INLINE },
		{ "no-kernel", no_argument, NULL, OPT_NO_KERNEL },
		{ "annotate", no_argument, NULL, OPT_ANNOTATE },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "width", required_argument, NULL, OPT_WIDTH },
		{ "min-width", required_argument, NULL, OPT_MIN_WIDTH },
		{ "icicle", no_argument, NULL, OPT_ICICLE },
		{ "colors", required_argument, NULL, OPT_COLORS },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "resymbolize", no_argument, NULL, OPT_RESYMBOLIZE },
		{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
		{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* 'scorch folded --pid' and '--tid' are prefixes (as in stackcollapse-perf.pl), not filters. */
	int prefixes = !strcmp(cmd, "folded");
	int c, verbose = 0, quiet = 0, idx;
	struct option *lo;

	if (prefixes)
		for (lo = longopts; lo->name; lo++)
			if (lo->val == OPT_PID || lo->val == OPT_TID)
				lo->has_arg = no_argument;
	o->input = "scorch.prof";
	if (!o->output)
		o->output = "-";
	o->top = 20;
	o->sort = REPORT_SORT_SELF;
	o->min_width = -1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:o:n:s:f:qvh", longopts, &idx)) != -1) {
		char name[3] = { '-', (char)c, 0 };

		if (c != '?' && c != ':') {
			for (lo = longopts; lo->name && lo->val != c; lo++)
				;
			if (c == 'f') /* -f is --format */
				for (lo = longopts; strcmp(lo->name, "format"); lo++)
					;
			if (lo->name && !allows(allowed, lo->name)) {
				if (c < 256)
					pr_err("'scorch %s' has no option -%c/--%s", cmd, c, lo->name);
				else
					pr_err("'scorch %s' has no option --%s", cmd, lo->name);
				return -EINVAL;
			}
		}
		switch (c) {
		case 'i':
			o->input = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'n':
			if (cli__parse_u32(optarg, 0, UINT32_MAX, name, &o->top))
				return -EINVAL;
			break;
		case 's':
			if (strcmp(optarg, "self") == 0)
				o->sort = REPORT_SORT_SELF;
			else if (strcmp(optarg, "total") == 0)
				o->sort = REPORT_SORT_TOTAL;
			else if (strcmp(optarg, "name") == 0)
				o->sort = REPORT_SORT_NAME;
			else {
				pr_err("unknown sort key '%s': use self, total or name", optarg);
				return -EINVAL;
			}
			break;
		case OPT_BY:
			if (!strcmp(optarg, "function"))
				o->view.by = VIEW_BY_FUNCTION;
			else if (!strcmp(optarg, "line"))
				o->view.by = VIEW_BY_LINE;
			else if (!strcmp(optarg, "module"))
				o->view.by = VIEW_BY_MODULE;
			else if (!strcmp(optarg, "process"))
				o->view.by = VIEW_BY_PROCESS;
			else {
				pr_err("unknown --by key '%s': use function, line, module or process", optarg);
				return -EINVAL;
			}
			break;
		case OPT_PERCENT_LIMIT:
			if (parse_double(optarg, "--percent-limit", 0, 100, &o->percent_limit))
				return -EINVAL;
			break;
		case OPT_PID:
			if (prefixes)
				o->pid_prefix = 1;
			else if (parse_ids(optarg, "--pid", o->view.pids, &o->view.nr_pids))
				return -EINVAL;
			break;
		case OPT_TID:
			if (prefixes)
				o->tid_prefix = 1;
			else if (parse_ids(optarg, "--tid", o->view.tids, &o->view.nr_tids))
				return -EINVAL;
			break;
		case OPT_COMM:
			if (o->view.nr_comms >= VIEW_MAX_IDS) {
				pr_err("--comm: at most %d names", VIEW_MAX_IDS);
				return -EINVAL;
			}
			o->view.comms[o->view.nr_comms++] = optarg;
			break;
		case OPT_FOCUS:
			o->view.focus = optarg;
			break;
		case OPT_IGNORE:
			o->view.ignore = optarg;
			break;
		case OPT_CALLERS:
			o->callers = optarg;
			break;
		case OPT_CALLEES:
			o->callees = optarg;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_NO_INLINE:
			o->view.no_inline = 1;
			break;
		case OPT_NO_KERNEL:
			o->view.no_kernel = 1;
			break;
		case OPT_ANNOTATE:
			o->annotate = 1;
			break;
		case OPT_TITLE:
			o->title = optarg;
			break;
		case OPT_WIDTH:
			if (cli__parse_u32(optarg, 100, 100000, "--width", &o->width))
				return -EINVAL;
			break;
		case OPT_MIN_WIDTH:
			if (parse_double(optarg, "--min-width", 0, 1000, &o->min_width))
				return -EINVAL;
			break;
		case OPT_ICICLE:
			o->icicle = 1;
			break;
		case OPT_COLORS:
			if (strcmp(optarg, "kind") && strcmp(optarg, "module")) {
				pr_err("unknown colour scheme '%s': use kind or module", optarg);
				return -EINVAL;
			}
			o->colors = optarg;
			break;
		case 'f':
		case OPT_FORMAT:
			o->format = optarg;
			break;
		case OPT_PARTIAL:
			o->partial = 1;
			break;
		case OPT_RESYMBOLIZE:
			o->resymbolize = 1;
			break;
		case OPT_NO_SANDBOX:
			o->no_sandbox = 1;
			break;
		case OPT_DEBUG_DIR:
			if (o->nr_debug_dirs == READ_CMD_MAX_DEBUG_DIRS || !optarg[0]) {
				pr_err(optarg[0] ? "too many --debug-dir options" : "--debug-dir takes a directory, not ''");
				return -EINVAL;
			}
			o->debug_dirs[o->nr_debug_dirs++] = optarg;
			break;
		case OPT_NO_HEADER:
			o->no_header = 1;
			break;
		default: {
			int r = cli__option_tail(c, argv, usage, &verbose, &quiet);

			if (r)
				return r;
			break;
		}
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (o->nr_debug_dirs && !o->resymbolize) {
		pr_err("--debug-dir needs --resymbolize");
		return -EINVAL;
	}
	if (o->no_sandbox && !o->resymbolize) {
		pr_err("--no-sandbox needs --resymbolize");
		return -EINVAL;
	}
	cli__verbosity(verbose, quiet);
	return 0;
}

int read_cmd__load(const struct read_cmd_opts *o, struct profile *p)
{
	struct input_opts io = { .allow_partial = o->partial };
	int err;

	/* A scorch profile, or folded stacks from any tool (input.h). */
	profile__init(p);
	if (input__load(o->input, &io, p, NULL)) {
		profile__release(p);
		return -1;
	}
	if (o->resymbolize) {
		struct resymbolize_opts ro = { o->debug_dirs, o->nr_debug_dirs, o->no_sandbox };

		cli__raise_nofile();
		err = resymbolize__profile(p, &ro);
		if (err < 0) {
			pr_err("cannot resymbolize '%s': %s", o->input, strerror(-err));
			profile__release(p);
			return -1;
		}
		pr_debug("resymbolized %d locations", err);
	}
	return 0;
}

const char *read_cmd__input_name(const struct read_cmd_opts *o)
{
	return strcmp(o->input, "-") ? o->input : "<stdin>";
}

int cmd_report(int argc, char **argv)
{
	struct read_cmd_opts o = { 0 };
	struct report_opts ro = { 0 };
	struct profile p;
	int err = read_cmd__parse(argc, argv, "report", report_usage,
				  "input top sort by percent-limit pid tid comm focus ignore callers callees json "
				  "no-inline no-kernel no-header partial resymbolize debug-dir no-sandbox quiet verbose help",
				  &o);

	if (err)
		return err > 0 ? EXIT_OK : cli__usage_error("report");
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
	int err = read_cmd__parse(argc, argv, "folded", folded_usage,
				  "input output pid tid annotate by comm focus ignore no-inline no-kernel partial "
				  "quiet verbose help",
				  &o);

	if (err)
		return err > 0 ? EXIT_OK : cli__usage_error("folded");
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
	int err = read_cmd__parse(argc, argv, "info", info_usage, "input partial quiet verbose help", &o);

	if (err)
		return err > 0 ? EXIT_OK : cli__usage_error("info");
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
		printf("%-24s %" PRIu64 "\n", utf8__printable(profile__str(&p, p.counters[i].key), key, sizeof(key)),
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
