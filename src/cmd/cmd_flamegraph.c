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

static const char *const color_names[] = { "kind", "module", NULL };

const struct opts_entry flamegraph_options[] = {
	READ_CMD_OPT_INPUT,
	READ_CMD_OPT_OUTPUT("SVG file to write, '-' for standard output (default flamegraph.svg)"),
	OPTS_STRING(0, "title", "TEXT", "title (default \"Flame Graph\")", struct read_cmd_opts, title),
	OPTS_U32(0, "width", "PX", "image width in pixels (default 1200)", struct read_cmd_opts, width, 100,
		 100000),
	OPTS_DOUBLE(0, "min-width", "PX", "leave out frames narrower than PX pixels (default 0.1)",
		    struct read_cmd_opts, min_width, 0, 1000, 0),
	OPTS_FLAG(0, "icicle", "root at the top", struct read_cmd_opts, icicle),
	OPTS_CHOICE(0, "colors", "SCHEME",
		    "kind (user, kernel, inlined, JIT, Python) or module (default kind)",
		    struct read_cmd_opts, colors, color_names, "colour scheme"),
	READ_CMD_OPT_BY("function, line or module (default function)"),
	READ_CMD_OPT_EVENT,
	OPTS_INCLUDE(read_cmd_id_filters, NULL),
	OPTS_INCLUDE(read_cmd_stack_filters, NULL),
	READ_CMD_OPT_PARTIAL,
	OPTS_END(),
};

static const struct opts_cmd flamegraph_cmd = {
	.name = "flamegraph",
	.usage = "scorch flamegraph [options]",
	.description =
		"Draw a profile as a self-contained interactive SVG flame graph: click to zoom, Ctrl-F to search.",
	.options = flamegraph_options,
	.siblings = read_cmd_tables,
};

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
	if (profile__counts_are_us(p))
		snprintf(subtitle, sizeof(subtitle), "%s%s%s: %.1f ms%s", cmd && *cmd ? cmd : "",
			 cmd && *cmd ? " - " : "", profile__events_name(p->count_events),
			 (double)v.total / 1e3, v.total != p->total ? " after filters" : "");
	else
		snprintf(subtitle, sizeof(subtitle), "%s%s%llu samples%s", cmd && *cmd ? cmd : "",
			 cmd && *cmd ? " - " : "", (unsigned long long)v.total,
			 v.total != p->total ? " after filters" : "");
	fo.title = o->title;
	fo.subtitle = subtitle;
	fo.width = o->width;
	fo.min_width = o->min_width;
	fo.icicle = o->icicle;
	fo.colors = o->colors;
	/* Time off CPU in its own palette and unit; wall time mixes both, in the usual colours. */
	if (profile__counts_are_us(p)) {
		fo.unit = "us";
		if (!(p->count_events & PROFILE_EV_MASK(PROFILE_EV_CPU)) &&
		    o->colors == FLAMEGRAPH_COLORS_KIND)
			fo.colors = FLAMEGRAPH_COLORS_OFF_CPU;
	}
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
	int err = read_cmd__parse(argc, argv, &flamegraph_cmd, &o);

	if (err)
		return cli__parse_status(err, "flamegraph");
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
