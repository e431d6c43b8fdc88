// SPDX-License-Identifier: MIT
/* The flamegraph command: a profile as an interactive SVG flame graph. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flamegraph.h"
#include "log.h"
#include "outfile.h"
#include "readcmd.h"
#include "view.h"

static const char flamegraph_usage[] =
	"Usage: scorch flamegraph [options]\n"
	"\n"
	"Draw a profile as a self-contained interactive SVG flame graph: click to zoom, Ctrl-F to search.\n"
	"\n"
	"Options:\n"
	"  -i, --input FILE         profile to read, '-' for standard input (default scorch.prof)\n"
	"  -o, --output FILE        SVG file to write, '-' for standard output (default flamegraph.svg)\n"
	"      --title TEXT         title (default \"Flame Graph\")\n"
	"      --width PX           image width in pixels (default 1200)\n"
	"      --min-width PX       leave out frames narrower than PX pixels (default 0.1)\n"
	"      --icicle             root at the top\n"
	"      --colors SCHEME      kind (user, kernel, inlined, JIT) or module (default kind)\n"
	"      --by KEY             function, line or module (default function)\n"
	"      --pid PID[,PID...]   only these processes\n"
	"      --tid TID[,TID...]   only these threads\n"
	"      --comm NAME          only threads with this name (may be repeated)\n"
	"      --focus REGEX        only stacks with a frame whose name matches\n"
	"      --ignore REGEX       leave out stacks with a frame whose name matches\n"
	"      --no-inline          fold inlined frames into their caller\n"
	"      --no-kernel          leave out kernel frames\n"
	"      --partial            read a profile whose recording did not finish\n"
	"  -q, --quiet              print errors only\n"
	"  -v, --verbose            print debug messages\n"
	"  -h, --help               show this help\n";

static int draw(FILE *out, const struct profile *p, const struct read_cmd_opts *o)
{
	struct flamegraph_opts fo = { 0 };
	struct flamegraph *fg = NULL;
	char subtitle[512];
	const char *cmd = profile__meta_get(p, "command");
	struct view v;
	int err = view__build(&v, p, &o->view);

	if (err)
		return err;
	snprintf(subtitle, sizeof(subtitle), "%s%s%llu samples%s", cmd && *cmd ? cmd : "", cmd && *cmd ? " - " : "",
		 (unsigned long long)v.total, v.total != p->total ? " after filters" : "");
	fo.title = o->title;
	fo.subtitle = subtitle;
	fo.width = o->width;
	fo.min_width = o->min_width;
	fo.icicle = o->icicle;
	fo.colors = o->colors && !strcmp(o->colors, "module") ? FLAMEGRAPH_COLORS_MODULE : FLAMEGRAPH_COLORS_KIND;
	fg = flamegraph__new(&fo);
	err = -ENOMEM;
	if (!fg)
		goto out;
	err = flamegraph__add_view(fg, &v, 0, 0);
	if (err)
		goto out;
	err = flamegraph__write(fg, out);
out:
	flamegraph__free(fg);
	view__release(&v);
	return err;
}

int cmd_flamegraph(int argc, char **argv)
{
	struct read_cmd_opts o = { .output = "flamegraph.svg" };
	struct outfile out;
	struct profile p;
	FILE *f;
	int err = read_cmd__parse(argc, argv, "flamegraph", flamegraph_usage,
				  "input output title width min-width icicle colors by pid tid comm focus ignore "
				  "no-inline no-kernel partial quiet verbose help",
				  &o);

	if (err)
		return err > 0 ? EXIT_OK : cli__usage_error("flamegraph");
	if (read_cmd__load(&o, &p))
		return EXIT_ERROR;
	if (outfile__open(&out, o.output, 0)) {
		profile__release(&p);
		return EXIT_ERROR;
	}
	f = outfile__fp(&out);
	err = f ? draw(f, &p, &o) : -errno;
	if (err) {
		if (err != -EINVAL && err != -E2BIG) /* both logged already */
			pr_err("cannot write flame graph '%s': %s", o.output, strerror(-err));
		outfile__abort(&out);
	} else {
		err = outfile__commit(&out);
	}
	profile__release(&p);
	return err == -EINVAL ? cli__usage_error("flamegraph") : err ? EXIT_ERROR : EXIT_OK;
}
