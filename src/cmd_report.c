// SPDX-License-Identifier: MIT
/*
 * The commands that read a profile: report (hotspot table), folded (folded stacks), info (metadata
 * and quality counters).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "folded.h"
#include "log.h"
#include "outfile.h"
#include "pfile.h"
#include "report.h"
#include "resymbolize.h"

static const char report_usage[] =
	"Usage: scorch report [options]\n"
	"\n"
	"Print the hottest functions of a profile: self and total (inclusive) share of samples.\n"
	"\n"
	"Options:\n"
	"  -i, --input FILE         profile to read, '-' for standard input (default scorch.prof)\n"
	"  -n, --top N              rows to print, 0 for all (default 20)\n"
	"  -s, --sort KEY           self or total (default self)\n"
	"      --no-header          leave out the '#' header lines\n"
	"      --partial            read a profile whose recording did not finish\n"
	"      --resymbolize        name the code again, from the files and debuginfo found now\n"
	"      --debug-dir DIR      with --resymbolize: also look for debuginfo in DIR (repeatable)\n"
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

enum { OPT_PARTIAL = 256, OPT_NO_HEADER, OPT_RESYMBOLIZE, OPT_DEBUG_DIR };

#define MAX_DEBUG_DIRS 32

struct read_cmd_opts {
	const char *input;
	const char *output;
	uint32_t top;
	enum report_sort sort;
	int partial;
	int no_header;
	int resymbolize;
	const char *debug_dirs[MAX_DEBUG_DIRS];
	size_t nr_debug_dirs;
};

/* Parse the options of report/folded/info; 'allowed' lists the short options the command takes. */
static int parse_read_args(int argc, char **argv, const char *cmd, const char *usage, const char *allowed,
			   struct read_cmd_opts *o)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "top", required_argument, NULL, 'n' },
		{ "sort", required_argument, NULL, 's' },
		{ "partial", no_argument, NULL, OPT_PARTIAL },
		{ "no-header", no_argument, NULL, OPT_NO_HEADER },
		{ "resymbolize", no_argument, NULL, OPT_RESYMBOLIZE },
		{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, verbose = 0, quiet = 0, idx;

	o->input = "scorch.prof";
	o->output = "-";
	o->top = 20;
	o->sort = REPORT_SORT_SELF;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:o:n:s:qvh", longopts, &idx)) != -1) {
		char name[3] = { '-', (char)c, 0 };

		if (c != '?' && c != ':' && c < 256 && !strchr(allowed, c)) {
			const struct option *lo = longopts;

			while (lo->name && lo->val != c)
				lo++;
			pr_err("'scorch %s' has no option -%c/--%s", cmd, c, lo->name);
			return -EINVAL;
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
			else {
				pr_err("unknown sort key '%s': use self or total", optarg);
				return -EINVAL;
			}
			break;
		case OPT_PARTIAL:
			o->partial = 1;
			break;
		case OPT_NO_HEADER:
			if (!strchr(allowed, 'N')) {
				pr_err("'scorch %s' has no option --no-header", cmd);
				return -EINVAL;
			}
			o->no_header = 1;
			break;
		case OPT_RESYMBOLIZE:
		case OPT_DEBUG_DIR:
			if (!strchr(allowed, 'R')) {
				pr_err("'scorch %s' has no option %s", cmd, argv[optind - 1]);
				return -EINVAL;
			}
			if (c == OPT_RESYMBOLIZE) {
				o->resymbolize = 1;
			} else if (o->nr_debug_dirs == MAX_DEBUG_DIRS || !optarg[0]) {
				pr_err(optarg[0] ? "too many --debug-dir options" : "--debug-dir takes a directory, not ''");
				return -EINVAL;
			} else {
				o->debug_dirs[o->nr_debug_dirs++] = optarg;
			}
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ':':
			pr_err("option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			pr_err("unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
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
	cli__verbosity(verbose, quiet);
	return 0;
}

static int load(const struct read_cmd_opts *o, struct profile *p)
{
	struct pfile_read_opts ro = { .allow_partial = o->partial };
	int partial;

	profile__init(p);
	if (pfile__read(o->input, &ro, p, &partial)) {
		profile__release(p);
		return -1;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct read_cmd_opts o = { 0 };
	struct report_opts ro = { 0 };
	struct profile p;
	int err = parse_read_args(argc, argv, "report", report_usage, "inshqvNR", &o);

	if (err)
		return err > 0 ? EXIT_OK : cli__usage_error("report");
	if (load(&o, &p))
		return EXIT_ERROR;
	if (o.resymbolize && (err = resymbolize__profile(&p, o.debug_dirs, o.nr_debug_dirs)) < 0) {
		pr_err("cannot resymbolize '%s': %s", o.input, strerror(-err));
		profile__release(&p);
		return EXIT_ERROR;
	}
	if (o.resymbolize)
		pr_debug("resymbolized %d locations", err);
	ro.top = o.top;
	ro.sort = o.sort;
	ro.no_header = o.no_header;
	err = report__print(stdout, &p, &ro, strcmp(o.input, "-") ? o.input : "<stdin>");
	if (err)
		pr_err("cannot report on '%s': %s", o.input, strerror(-err));
	profile__release(&p);
	return err ? EXIT_ERROR : EXIT_OK;
}

int cmd_folded(int argc, char **argv)
{
	struct read_cmd_opts o = { 0 };
	struct folded_opts fo = { 0 };
	struct outfile out;
	struct profile p;
	FILE *f;
	int err = parse_read_args(argc, argv, "folded", folded_usage, "ioqvh", &o);

	if (err)
		return err > 0 ? EXIT_OK : cli__usage_error("folded");
	if (load(&o, &p))
		return EXIT_ERROR;
	if (outfile__open(&out, o.output, 0)) {
		profile__release(&p);
		return EXIT_ERROR;
	}
	f = outfile__fp(&out);
	err = f ? folded__write(f, &p, &fo) : -errno;
	if (err) {
		pr_err("cannot write folded stacks: %s", strerror(-err));
		outfile__abort(&out);
	} else {
		err = outfile__commit(&out);
	}
	profile__release(&p);
	return err ? EXIT_ERROR : EXIT_OK;
}

int cmd_info(int argc, char **argv)
{
	struct read_cmd_opts o = { 0 };
	struct profile p;
	uint32_t i, unnamed = 0;
	int err = parse_read_args(argc, argv, "info", info_usage, "iqvh", &o);

	if (err)
		return err > 0 ? EXIT_OK : cli__usage_error("info");
	if (load(&o, &p))
		return EXIT_ERROR;
	report__print_header(stdout, &p, strcmp(o.input, "-") ? o.input : "<stdin>");
	printf("\n[meta]\n");
	for (i = 0; i < p.nr_meta; i++)
		printf("%-24s %s\n", profile__str(&p, p.meta[i].key), profile__str(&p, p.meta[i].value));
	printf("\n[counters]\n");
	for (i = 0; i < p.nr_counters; i++)
		printf("%-24s %" PRIu64 "\n", profile__str(&p, p.counters[i].key), p.counters[i].num);
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

		printf("%-40s %s\n", profile__str(&p, p.mappings[i].name), *bid ? bid : "-");
	}
	profile__release(&p);
	return EXIT_OK;
}
