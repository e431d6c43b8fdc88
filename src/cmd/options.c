// SPDX-License-Identifier: MIT
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "cli.h"
#include "log.h"
#include "options.h"

/* Help lines: "  -i, --input FILE         profile to read"; continuation lines start under the text. */
#define LABEL_WIDTH 24
#define HELP_INDENT (2 + LABEL_WIDTH + 1)

enum builtin { B_NONE, B_QUIET, B_VERBOSE, B_HELP };

/* One option of the flattened table: the command's own (includes spliced in), -q/-v/-h, siblings'. */
struct item {
	const struct opts_entry *e;
	const char *help_prefix; /* of the OPTS_INCLUDE it came from, or "" */
	enum builtin builtin;
	int foreign; /* a sibling's: refused by name */
};

static const struct opts_entry builtins[] = {
	{ .type = OPTS_T_FLAG, .short_name = 'q', .long_name = "quiet", .help = "print errors only" },
	{ .type = OPTS_T_FLAG, .short_name = 'v', .long_name = "verbose", .help = "print debug messages" },
	{ .type = OPTS_T_FLAG, .short_name = 'h', .long_name = "help", .help = "show this help" },
};

struct table {
	struct item *items;
	size_t nr, alloc;
};

static int taken(const struct table *t, const struct opts_entry *e)
{
	size_t i;

	for (i = 0; i < t->nr; i++) {
		const struct opts_entry *o = t->items[i].e;

		if ((e->short_name && o->short_name == e->short_name) ||
		    (e->long_name && o->long_name && !strcmp(o->long_name, e->long_name)))
			return 1;
	}
	return 0;
}

static int add(struct table *t, const struct opts_entry *e, const char *prefix, enum builtin b, int foreign)
{
	if (foreign && taken(t, e))
		return 0;
	if (array__grow(&t->items, &t->alloc, t->nr + 1, sizeof(*t->items)))
		return -ENOMEM;
	t->items[t->nr++] = (struct item){ e, prefix, b, foreign };
	return 0;
}

static int add_table(struct table *t, const struct opts_entry *e, const char *prefix, int foreign)
{
	int err = 0;

	for (; !err && e->type != OPTS_T_END; e++)
		err = e->type == OPTS_T_INCLUDE ? add_table(t, e->include, e->help ? e->help : "", foreign)
						: add(t, e, prefix, B_NONE, foreign);
	return err;
}

static int flatten(const struct opts_cmd *cmd, struct table *t)
{
	const struct opts_entry *const *s;
	int err = add_table(t, cmd->options, "", 0), i;

	for (i = 0; !err && i < 3; i++)
		err = add(t, &builtins[i], "", (enum builtin)(B_QUIET + i), 0);
	for (s = cmd->siblings; s && *s && !err; s++)
		err = add_table(t, *s, "", 1);
	return err;
}

static void print_help(FILE *f, const char *prefix, const char *help)
{
	const char *nl;

	fputs(prefix, f);
	while ((nl = strchr(help, '\n'))) {
		fprintf(f, "%.*s\n%*s", (int)(nl - help), help, HELP_INDENT, "");
		help = nl + 1;
	}
	fprintf(f, "%s\n", help);
}

static void print_usage(const struct opts_cmd *cmd, const struct table *t, FILE *f)
{
	const char *u = cmd->usage, *nl;
	size_t i;

	fputs("Usage: ", f);
	while ((nl = strchr(u, '\n'))) {
		fprintf(f, "%.*s\n       ", (int)(nl - u), u);
		u = nl + 1;
	}
	fprintf(f, "%s\n\n%s\n\nOptions:\n", u, cmd->description);
	for (i = 0; i < t->nr; i++) {
		const struct item *it = &t->items[i];
		const struct opts_entry *e = it->e;
		char label[64];

		if (it->foreign)
			continue;
		snprintf(label, sizeof(label), "%c%c%s%s%s%s%s", e->short_name ? '-' : ' ',
			 e->short_name ? e->short_name : ' ', e->short_name && e->long_name ? ", " : "  ",
			 e->long_name ? "--" : "", e->long_name ? e->long_name : "", e->argh ? " " : "",
			 e->argh ? e->argh : "");
		fprintf(f, "  %-*s ", LABEL_WIDTH, label);
		print_help(f, it->help_prefix,
			   it->builtin == B_VERBOSE && cmd->verbose_help ? cmd->verbose_help : e->help);
	}
	if (cmd->epilogue)
		fprintf(f, "\n%s", cmd->epilogue);
}

void opts__usage(const struct opts_cmd *cmd, FILE *f)
{
	struct table t = { 0 };

	if (flatten(cmd, &t))
		pr_err("out of memory");
	else
		print_usage(cmd, &t, f);
	free(t.items);
}

/* The getopt_long structures of the flattened table: long options answer 256 + their item's index. */
static int build_getopt(const struct opts_cmd *cmd, const struct table *t, char **shortopts,
			struct option **longopts)
{
	size_t i, n = 0, s = 0;

	*shortopts = malloc(3 + 2 * t->nr + 1);
	*longopts = calloc(t->nr + 1, sizeof(**longopts));
	if (!*shortopts || !*longopts)
		return -ENOMEM;
	if (cmd->in_order)
		(*shortopts)[s++] = '+';
	(*shortopts)[s++] = ':';
	for (i = 0; i < t->nr; i++) {
		const struct opts_entry *e = t->items[i].e;

		if (e->short_name) {
			(*shortopts)[s++] = (char)e->short_name;
			if (e->argh)
				(*shortopts)[s++] = ':';
		}
		if (e->long_name)
			(*longopts)[n++] =
				(struct option){ e->long_name, e->argh ? required_argument : no_argument,
						 NULL, 256 + (int)i };
	}
	(*shortopts)[s] = 0;
	return 0;
}

static int store(const struct item *it, const char *arg, const char *name, void *base)
{
	const struct opts_entry *e = it->e;
	char canon[64];
	void *v = (char *)base + e->offset;

	/* Values are named as the options always were: by the short name when there is one. */
	if (e->short_name)
		snprintf(canon, sizeof(canon), "-%c", e->short_name);
	else
		snprintf(canon, sizeof(canon), "--%s", e->long_name);
	switch (e->type) {
	case OPTS_T_FLAG:
		*(int *)v = 1;
		return 0;
	case OPTS_T_STRING:
		*(const char **)v = arg;
		return 0;
	case OPTS_T_U32:
		return cli__parse_u32(arg, (uint32_t)e->min, (uint32_t)e->max, canon, v);
	case OPTS_T_DOUBLE:
		return cli__parse_double(arg, canon, e->min, e->max, e->flags, v);
	case OPTS_T_CHOICE:
		return cli__parse_choice(arg, e->what, e->choices, v);
	case OPTS_T_CALLBACK:
		return e->cb(e, arg, name, base);
	default:
		return -EINVAL;
	}
}

/* getopt_long's complaint ':' (a value missing) or '?' (unknown, or a value where none is taken). */
static int getopt_error(int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "", *eq = strchr(arg, '=');

	if (c == ':') {
		pr_err("option '%s' needs a value", arg);
		return -EINVAL;
	}
	/* getopt_long sets optopt for a known long option given a value it does not take. */
	if (strncmp(arg, "--", 2) == 0 && eq && optopt)
		pr_err("option '%.*s' takes no value", (int)(eq - arg), arg);
	else if (strncmp(arg, "--", 2) != 0 && optopt > ' ' && optopt < 127)
		pr_err("unknown option '-%c'", optopt);
	else
		pr_err("unknown option '%s'", arg);
	return -EINVAL;
}

static int parse(const struct opts_cmd *cmd, const struct table *t, int argc, char **argv, void *base,
		 const char *shortopts, const struct option *longopts)
{
	int c, idx, verbose = 0, quiet = 0, err;

	opterr = 0;
	optind = 1;
	while ((idx = -1, c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct item *it = NULL;
		char name[80];
		size_t i;

		if (c == ':' || c == '?')
			return getopt_error(c, argv);
		if (c >= 256)
			it = &t->items[c - 256];
		for (i = 0; !it && i < t->nr; i++)
			if (t->items[i].e->short_name == c)
				it = &t->items[i];
		if (!it)
			return -EINVAL;
		if (it->foreign) {
			if (it->e->short_name && it->e->long_name)
				pr_err("'scorch %s' has no option -%c/--%s", cmd->name, it->e->short_name,
				       it->e->long_name);
			else if (it->e->long_name)
				pr_err("'scorch %s' has no option --%s", cmd->name, it->e->long_name);
			else
				pr_err("'scorch %s' has no option -%c", cmd->name, it->e->short_name);
			return -EINVAL;
		}
		switch (it->builtin) {
		case B_QUIET:
			quiet = 1;
			continue;
		case B_VERBOSE:
			verbose = 1;
			continue;
		case B_HELP:
			print_usage(cmd, t, stdout);
			return 1;
		case B_NONE:
			break;
		}
		if (idx >= 0)
			snprintf(name, sizeof(name), "--%s", longopts[idx].name);
		else
			snprintf(name, sizeof(name), "-%c", c);
		err = store(it, it->e->argh ? optarg : NULL, name, base);
		if (err)
			return err;
	}
	cli__verbosity(verbose, quiet);
	return 0;
}

int opts__parse(const struct opts_cmd *cmd, int argc, char **argv, void *base, int *rest)
{
	struct table t = { 0 };
	struct option *longopts = NULL;
	char *shortopts = NULL;
	int err = flatten(cmd, &t);

	if (!err)
		err = build_getopt(cmd, &t, &shortopts, &longopts);
	if (err)
		pr_err("out of memory");
	else
		err = parse(cmd, &t, argc, argv, base, shortopts, longopts);
	*rest = optind;
	free(shortopts);
	free(longopts);
	free(t.items);
	return err;
}
