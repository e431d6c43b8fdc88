// SPDX-License-Identifier: MIT
/* The export command: a profile for pprof (and Pyroscope, Grafana, Parca) or speedscope. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "log.h"
#include "outfile.h"
#include "readcmd.h"

static const char export_usage[] =
	"Usage: scorch export --format FORMAT -o FILE [options]\n"
	"\n"
	"Write a profile for other tools: pprof (gzip'd profile.proto, also read by Pyroscope, Grafana and\n"
	"Parca) or speedscope (JSON).\n"
	"\n"
	"Options:\n"
	"  -f, --format FORMAT      pprof or speedscope\n"
	"  -i, --input FILE         profile to read, '-' for standard input (default scorch.prof)\n"
	"  -o, --output FILE        file to write, '-' for standard output\n"
	"      --pid PID[,PID...]   only these processes\n"
	"      --tid TID[,TID...]   only these threads\n"
	"      --comm NAME          only threads with this name (may be repeated)\n"
	"      --by KEY             speedscope: function, line or module (default function)\n"
	"      --focus REGEX        speedscope: only stacks with a frame whose name matches\n"
	"      --ignore REGEX       speedscope: leave out stacks with a frame whose name matches\n"
	"      --no-inline          speedscope: fold inlined frames into their caller\n"
	"      --no-kernel          speedscope: leave out kernel frames\n"
	"      --partial            read a profile whose recording did not finish\n"
	"  -q, --quiet              print errors only\n"
	"  -v, --verbose            print debug messages\n"
	"  -h, --help               show this help\n";

int cmd_export(int argc, char **argv)
{
	struct read_cmd_opts o = { .output = "" };
	struct outfile out;
	struct profile p;
	int pprof, err = read_cmd__parse(argc, argv, "export", export_usage,
					 "format input output pid tid comm by focus ignore no-inline no-kernel partial "
					 "quiet verbose help",
					 &o);
	FILE *f;

	if (err)
		return err > 0 ? EXIT_OK : cli__usage_error("export");
	if (!o.format) {
		pr_err("no format: give --format pprof or --format speedscope");
		return cli__usage_error("export");
	}
	if (strcmp(o.format, "pprof") && strcmp(o.format, "speedscope")) {
		pr_err("unknown format '%s': use pprof or speedscope", o.format);
		return cli__usage_error("export");
	}
	if (!*o.output) {
		pr_err("-o needs a file name");
		return cli__usage_error("export");
	}
	pprof = !strcmp(o.format, "pprof");
	if (pprof && (o.view.focus || o.view.ignore || o.view.no_inline || o.view.no_kernel || o.view.by)) {
		pr_err("--by, --focus, --ignore, --no-inline and --no-kernel apply to speedscope only: pprof does them itself");
		return cli__usage_error("export");
	}
	if (read_cmd__load(&o, &p))
		return EXIT_ERROR;
	if (outfile__open(&out, o.output, pprof)) {
		profile__release(&p);
		return EXIT_ERROR;
	}
	f = outfile__fp(&out);
	if (!f)
		err = -errno;
	else if (pprof)
		err = export__pprof(f, &p, &o.view);
	else
		err = export__speedscope(f, &p, &o.view, read_cmd__input_name(&o));
	if (err) {
		if (err != -EINVAL && err != -E2BIG) /* both logged already */
			pr_err("cannot write '%s': %s", o.output, strerror(-err));
		outfile__abort(&out);
	} else {
		err = outfile__commit(&out);
	}
	profile__release(&p);
	return err == -EINVAL ? cli__usage_error("export") : err ? EXIT_ERROR : EXIT_OK;
}
