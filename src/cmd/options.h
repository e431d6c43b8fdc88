/* SPDX-License-Identifier: MIT */
/*
 * options - a command's options as data, in the manner of perf's parse-options: one table per command
 * (short and long name, argument name, help text, where the value goes and how it is parsed), from
 * which opts__parse builds getopt_long's structures, stores each value, and writes --help.
 *
 * Tables are static const: an entry names its value by its offset in the command's options struct
 * ('base' of opts__parse), so a fragment shared by several commands is an array of its own, spliced
 * into a table with OPTS_INCLUDE. Every command also takes -q, -v and -h, added here.
 *
 * --help is written from the table in the order of its entries: "Usage: " and the usage lines, the
 * description, then one line per option, "  -i, --input FILE         help", the help text starting
 * in column 28 (a label of at most 24 characters keeps it there) and each '\n' in it starting a line
 * indented as far; then the epilogue. Nothing here exits; errors are logged once and returned.
 *
 * To add an option: an entry in the command's table (its help as the man page words it), and the
 * man page's OPTIONS; tests/reports/manpages.sh holds the two together for the read commands.
 */
#ifndef SCORCH_OPTIONS_H
#define SCORCH_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opts_type {
	OPTS_T_END,
	OPTS_T_FLAG,     /* int: set to 1 */
	OPTS_T_STRING,   /* const char *: the argument, borrowed from argv */
	OPTS_T_U32,      /* uint32_t: a whole number in [min, max] (cli__parse_u32) */
	OPTS_T_DOUBLE,   /* double: a number from min to max (cli__parse_double; 'flags' CLI_MIN_OPEN,
			    CLI_MAX_OPEN) */
	OPTS_T_CHOICE,   /* an enum (int-sized): the index of the argument in 'choices' (cli__parse_choice) */
	OPTS_T_CALLBACK, /* cb parses the argument (or, for an option without one, NULL) */
	OPTS_T_INCLUDE,  /* the entries of 'include', each help text after this one's 'help' prefix */
};

struct opts_entry;

/*
 * Parse 'arg' (NULL for an option that takes none) for entry 'e', given on the command line as 'name'
 * ("-n" or "--top"), into 'base' (the struct given to opts__parse). Returns 0, or -EINVAL after logging.
 */
typedef int opts_cb(const struct opts_entry *e, const char *arg, const char *name, void *base);

struct opts_entry {
	enum opts_type type;
	int short_name;        /* a letter, or 0 */
	const char *long_name; /* or NULL */
	const char *argh;      /* the argument's name in --help; NULL: the option takes none */
	const char *help;      /* '\n' starts an indented continuation line */
	size_t offset;         /* of the value in 'base' */
	double min, max;       /* OPTS_T_U32, OPTS_T_DOUBLE */
	unsigned flags;
	const char *const *choices;       /* OPTS_T_CHOICE: NULL-terminated */
	const char *what;                 /* OPTS_T_CHOICE: its name in messages ("sort key") */
	opts_cb *cb;                      /* OPTS_T_CALLBACK */
	const struct opts_entry *include; /* OPTS_T_INCLUDE */
};

#define OPTS_FLAG(s, l, h, st, f)                                                      \
	{                                                                              \
		.type = OPTS_T_FLAG, .short_name = (s), .long_name = (l), .help = (h), \
		.offset = offsetof(st, f)                                              \
	}
#define OPTS_STRING(s, l, a, h, st, f)                                                                \
	{                                                                                             \
		.type = OPTS_T_STRING, .short_name = (s), .long_name = (l), .argh = (a), .help = (h), \
		.offset = offsetof(st, f)                                                             \
	}
#define OPTS_U32(s, l, a, h, st, f, lo, hi)                                                        \
	{                                                                                          \
		.type = OPTS_T_U32, .short_name = (s), .long_name = (l), .argh = (a), .help = (h), \
		.offset = offsetof(st, f), .min = (lo), .max = (hi)                                \
	}
#define OPTS_DOUBLE(s, l, a, h, st, f, lo, hi, fl)                                                    \
	{                                                                                             \
		.type = OPTS_T_DOUBLE, .short_name = (s), .long_name = (l), .argh = (a), .help = (h), \
		.offset = offsetof(st, f), .min = (lo), .max = (hi), .flags = (fl)                    \
	}
#define OPTS_CHOICE(s, l, a, h, st, f, names, w)                                                      \
	{                                                                                             \
		.type = OPTS_T_CHOICE, .short_name = (s), .long_name = (l), .argh = (a), .help = (h), \
		.offset = offsetof(st, f), .choices = (names), .what = (w)                            \
	}
/* An option with an argument (a != NULL) or without, parsed by fn; its value at offsetof(st, f). */
#define OPTS_CALLBACK(s, l, a, h, st, f, fn)                                                            \
	{                                                                                               \
		.type = OPTS_T_CALLBACK, .short_name = (s), .long_name = (l), .argh = (a), .help = (h), \
		.offset = offsetof(st, f), .cb = (fn)                                                   \
	}
#define OPTS_INCLUDE(table, help_prefix)                                          \
	{                                                                         \
		.type = OPTS_T_INCLUDE, .include = (table), .help = (help_prefix) \
	}
#define OPTS_END()                 \
	{                          \
		.type = OPTS_T_END \
	}

struct opts_cmd {
	const char *name;        /* "report", for messages */
	const char *usage;       /* the Usage lines, without "Usage: ", '\n' between them */
	const char *description; /* the paragraph(s) after them */
	const struct opts_entry *options;
	const char *verbose_help; /* -v's help, NULL: "print debug messages" */
	const char *epilogue;     /* printed after the options, or NULL */
	/*
	 * Options of sibling commands this one does not take, or NULL: given to it, they are refused by name
	 * ("'scorch info' has no option -s/--sort") rather than as unknown.
	 */
	const struct opts_entry *const *siblings; /* NULL-terminated */
	int in_order; /* stop at the first operand (getopt's '+'): a command follows */
};

/*
 * Parse argv[1..] by cmd's table into 'base'; sets the log level from -q/-v. Returns 0 and the index of
 * the first operand in *rest; 1 after printing --help to stdout; -EINVAL after logging a usage error;
 * -ENOMEM (logged).
 */
int opts__parse(const struct opts_cmd *cmd, int argc, char **argv, void *base, int *rest);
/* Write cmd's --help. */
void opts__usage(const struct opts_cmd *cmd, FILE *f);

#endif
