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

const struct opts_entry export_options[] = {
	OPTS_STRING('f', "format", "FORMAT", "pprof or speedscope", struct read_cmd_opts, format),
	READ_CMD_OPT_INPUT,
	READ_CMD_OPT_OUTPUT("file to write, '-' for standard output"),
	OPTS_INCLUDE(read_cmd_id_filters, NULL),
	READ_CMD_OPT_BY("speedscope: function, line or module (default function)"),
	OPTS_INCLUDE(read_cmd_stack_filters, "speedscope: "),
	READ_CMD_OPT_PARTIAL,
	OPTS_END(),
};

static const struct opts_cmd export_cmd = {
	.name = "export",
	.usage = "scorch export --format FORMAT -o FILE [options]",
	.description =
		"Write a profile for other tools: pprof (gzip'd profile.proto, also read by Pyroscope, Grafana and\n"
		"Parca) or speedscope (JSON).",
	.options = export_options,
	.siblings = read_cmd_tables,
};

int cmd_export(int argc, char **argv)
{
	struct read_cmd_opts o = { .output = "" };
	struct outfile out;
	struct profile p;
	int pprof, err = read_cmd__parse(argc, argv, &export_cmd, &o);
	FILE *f;

	if (err)
		return cli__parse_status(err, "export");
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
	if (pprof && (o.view.focus || o.view.ignore || o.view.no_inline || o.view.no_kernel ||
		      o.view.python_only || o.view.by)) {
		pr_err("--by, --focus, --ignore, --no-inline, --no-kernel and --python-only apply to speedscope only: pprof does them itself");
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
