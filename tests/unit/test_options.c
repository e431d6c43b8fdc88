// SPDX-License-Identifier: MIT
/* options: tables to getopt and back, --help from the table, siblings refused by name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"

struct t_opts {
	const char *input;
	uint32_t top;
	double limit;
	int flag, pid_prefix, kind;
	const char *cb_name, *cb_arg;
	int cb_calls;
};

static const char *const kinds[] = { "red", "green", "blue", NULL };

static int cb(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct t_opts *o = base;

	(void)e;
	o->cb_name = name;
	o->cb_arg = arg;
	o->cb_calls++;
	return 0;
}

static const struct opts_entry fragment[] = {
	OPTS_FLAG(0, "flag", "a flag\non two lines", struct t_opts, flag),
	OPTS_CALLBACK('c', "call", "ARG", "a callback", struct t_opts, cb_arg, cb),
	OPTS_END(),
};

static const struct opts_entry table[] = {
	OPTS_STRING('i', "input", "FILE", "where from", struct t_opts, input),
	OPTS_U32('n', "top", "N", "rows", struct t_opts, top, 0, 100),
	OPTS_DOUBLE(0, "limit", "P", "a share", struct t_opts, limit, 0, 1, CLI_MAX_OPEN),
	OPTS_CHOICE(0, "kind", "K", "red, green or blue", struct t_opts, kind, kinds, "kind"),
	OPTS_FLAG(0, "pid", "a prefix, where the sibling has a filter", struct t_opts, pid_prefix),
	OPTS_INCLUDE(fragment, "pre: "),
	OPTS_END(),
};

static const struct opts_entry sibling[] = {
	OPTS_STRING(0, "pid", "PID", "a filter", struct t_opts, input),
	OPTS_STRING('s', "sort", "KEY", "a sort key", struct t_opts, input),
	OPTS_FLAG(0, "json", "JSON", struct t_opts, flag),
	OPTS_END(),
};

static const struct opts_entry *const siblings[] = { table, sibling, NULL };

static const struct opts_cmd cmd = {
	.name = "test",
	.usage = "scorch test [options]\nscorch test -c ARG",
	.description = "A command for the tests.",
	.options = table,
	.verbose_help = "print more",
	.epilogue = "The end.\n",
	.siblings = siblings,
};

static int parse(struct t_opts *o, int *rest, ...)
{
	char *argv[32] = { "test" };
	int argc = 1;
	va_list ap;

	memset(o, 0, sizeof(*o));
	va_start(ap, rest);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return opts__parse(&cmd, argc, argv, o, rest);
}

static void test_help(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	opts__usage(&cmd, f);
	fclose(f);
	assert_string_equal(buf,
			    "Usage: scorch test [options]\n"
			    "       scorch test -c ARG\n"
			    "\n"
			    "A command for the tests.\n"
			    "\n"
			    "Options:\n"
			    "  -i, --input FILE         where from\n"
			    "  -n, --top N              rows\n"
			    "      --limit P            a share\n"
			    "      --kind K             red, green or blue\n"
			    "      --pid                a prefix, where the sibling has a filter\n"
			    "      --flag               pre: a flag\n"
			    "                           on two lines\n"
			    "  -c, --call ARG           pre: a callback\n"
			    "  -q, --quiet              print errors only\n"
			    "  -v, --verbose            print more\n"
			    "  -h, --help               show this help\n"
			    "\n"
			    "The end.\n");
	free(buf);
}

static void test_values(void **state)
{
	struct t_opts o;
	int rest;

	(void)state;
	assert_int_equal(parse(&o, &rest, "-i", "in", "--top=7", "--limit", "0.5", "--kind", "blue", "--pid",
			       "--flag", "x", NULL), 0);
	assert_string_equal(o.input, "in");
	assert_int_equal(o.top, 7);
	assert_true(o.limit == 0.5);
	assert_int_equal(o.kind, 2);
	assert_int_equal(o.pid_prefix, 1);
	assert_int_equal(o.flag, 1);
	assert_int_equal(rest, 10); /* getopt moves the operand "x" last */
	assert_int_equal(o.cb_calls, 0);
}

static void test_callback_names(void **state)
{
	struct t_opts o;
	int rest;

	(void)state;
	assert_int_equal(parse(&o, &rest, "-c", "a", NULL), 0);
	assert_string_equal(o.cb_name, "-c");
	assert_string_equal(o.cb_arg, "a");
	assert_int_equal(parse(&o, &rest, "--call", "b", "--ca=c", NULL), 0);
	assert_string_equal(o.cb_name, "--call");
	assert_string_equal(o.cb_arg, "c");
	assert_int_equal(o.cb_calls, 2);
}

static void test_errors(void **state)
{
	struct t_opts o;
	int rest;

	(void)state;
	assert_int_equal(parse(&o, &rest, "-n", "101", NULL), -EINVAL);   /* out of range */
	assert_int_equal(parse(&o, &rest, "--limit", "1", NULL), -EINVAL); /* open bound */
	assert_int_equal(parse(&o, &rest, "--kind", "pink", NULL), -EINVAL);
	assert_int_equal(parse(&o, &rest, "--bogus", NULL), -EINVAL);
	assert_int_equal(parse(&o, &rest, "-x", NULL), -EINVAL);
	assert_int_equal(parse(&o, &rest, "-i", NULL), -EINVAL);       /* a value missing */
	assert_int_equal(parse(&o, &rest, "--flag=1", NULL), -EINVAL); /* a value not taken */
	/* A sibling's options are known, and refused: */
	assert_int_equal(parse(&o, &rest, "-s", "self", NULL), -EINVAL);
	assert_int_equal(parse(&o, &rest, "--json", NULL), -EINVAL);
	assert_null(o.input);
}

static void test_own_entry_wins(void **state)
{
	struct t_opts o;
	int rest;

	(void)state;
	/* The command's --pid takes no value, whatever its sibling's does: "1" stays an operand. */
	assert_int_equal(parse(&o, &rest, "--pid", "1", NULL), 0);
	assert_int_equal(o.pid_prefix, 1);
	assert_null(o.input);
	assert_int_equal(rest, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_callback_names),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_own_entry_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
