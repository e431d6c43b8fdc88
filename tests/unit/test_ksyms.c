// SPDX-License-Identifier: MIT
/* Unit tests for the /proc/kallsyms parser (src/symbol/ksyms.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"

static struct ksyms *parse(const char *text)
{
	return ksyms__parse(text, strlen(text));
}

/* Parsing must fail with EINVAL. */
static void assert_rejected(const char *text, size_t len)
{
	struct ksyms *k;

	errno = 0;
	k = ksyms__parse(text, len);
	if (k) {
		ksyms__free(k);
		fail_msg("accepted malformed kallsyms text '%.*s'", len > 80 ? 80 : (int)len, text);
	}
	assert_int_equal(errno, EINVAL);
}

#define REJECT(literal) assert_rejected(literal, sizeof(literal) - 1)

static const char sample[] =
	"0000000000000000 A fixed_percpu_data\n"           /* absolute, zero address */
	"ffffffff81000000 T _stext\n"
	"ffffffff81001000 t early_helper\n"
	"ffffffff81002000 D some_data\n"                  /* data: skipped */
	"ffffffff81002800 b some_bss\n"                   /* bss: skipped */
	"ffffffff81003000 W weak_fn\n"
	"ffffffff81004000 R rodata_thing\n"               /* read-only data: skipped */
	"0000000000000000 T hidden_by_kptr_restrict\n"    /* zero addresses are skipped */
	"ffffffff81005000 w weak_local\n"
	"\n"                                              /* blank lines are ignored */
	"ffffffffc0a00000 t mod_init_thing\t[mymod]\n"
	"ffffffffc0a00100 T mod_export\t[mymod]\n"
	"ffffffffc0b00000 t other_fn\t[other_mod]\n"
	"ffffffff81000800 T _sinittext\n";                /* out of order: sorted on load */

static void test_parse_text_symbols(void **state)
{
	struct ksyms *k = parse(sample);
	const struct ksym *s;

	(void)state;
	assert_non_null(k);
	assert_int_equal(ksyms__count(k), 8);

	s = ksyms__find(k, 0xffffffff81000000ULL);
	assert_non_null(s);
	assert_string_equal(s->name, "_stext");
	assert_null(s->module);
	assert_true(s->addr == 0xffffffff81000000ULL);

	s = ksyms__find(k, 0xffffffff81000800ULL);
	assert_string_equal(s->name, "_sinittext");
	s = ksyms__find(k, 0xffffffff81001000ULL - 1);
	assert_string_equal(s->name, "_sinittext");
	s = ksyms__find(k, 0xffffffff81001000ULL);
	assert_string_equal(s->name, "early_helper");
	/* Data symbols do not end a function: early_helper runs up to weak_fn. */
	s = ksyms__find(k, 0xffffffff81002800ULL);
	assert_string_equal(s->name, "early_helper");
	s = ksyms__find(k, 0xffffffff81003fffULL);
	assert_string_equal(s->name, "weak_fn");
	s = ksyms__find(k, 0xffffffff81005000ULL);
	assert_string_equal(s->name, "weak_local");
	assert_null(s->module);
	ksyms__free(k);
}

static void test_modules(void **state)
{
	struct ksyms *k = parse(sample);
	const struct ksym *s;

	(void)state;
	assert_non_null(k);
	s = ksyms__find(k, 0xffffffffc0a00000ULL);
	assert_string_equal(s->name, "mod_init_thing");
	assert_non_null(s->module);
	assert_string_equal(s->module, "mymod");
	s = ksyms__find(k, 0xffffffffc0a000ffULL);
	assert_string_equal(s->name, "mod_init_thing");
	s = ksyms__find(k, 0xffffffffc0a00100ULL);
	assert_string_equal(s->name, "mod_export");
	assert_string_equal(s->module, "mymod");
	s = ksyms__find(k, 0xffffffffc0b00123ULL);
	assert_string_equal(s->name, "other_fn");
	assert_string_equal(s->module, "other_mod");
	/* The last symbol has no known end. */
	s = ksyms__find(k, UINT64_MAX);
	assert_string_equal(s->name, "other_fn");
	ksyms__free(k);
}

static void test_find_before_first(void **state)
{
	struct ksyms *k = parse(sample);

	(void)state;
	assert_non_null(k);
	assert_null(ksyms__find(k, 0));
	assert_null(ksyms__find(k, 0xffffffff80ffffffULL));
	assert_non_null(ksyms__find(k, 0xffffffff81000000ULL));
	ksyms__free(k);
}

static void test_empty_and_no_text(void **state)
{
	struct ksyms *k;

	(void)state;
	k = ksyms__parse("", 0);
	assert_non_null(k);
	assert_int_equal(ksyms__count(k), 0);
	assert_null(ksyms__find(k, 0xffffffff81000000ULL));
	ksyms__free(k);

	/* What an unprivileged reader sees with kptr_restrict: every address is zero. */
	k = parse("0000000000000000 T _stext\n0000000000000000 t foo\t[m]\n");
	assert_non_null(k);
	assert_int_equal(ksyms__count(k), 0);
	assert_null(ksyms__find(k, 1));
	ksyms__free(k);
	ksyms__free(NULL);
}

static void test_no_trailing_newline_and_case(void **state)
{
	struct ksyms *k = parse("FFFFFFFF81000000 T upper\nffffffff81000010 t last");
	const struct ksym *s;

	(void)state;
	assert_non_null(k);
	assert_int_equal(ksyms__count(k), 2);
	s = ksyms__find(k, 0xffffffff81000005ULL);
	assert_string_equal(s->name, "upper");
	s = ksyms__find(k, 0xffffffff81000010ULL);
	assert_string_equal(s->name, "last");
	ksyms__free(k);
}

static void test_text_not_null_terminated(void **state)
{
	/* The parser takes a length: bytes after it are not read. */
	static const char text[] = "ffffffff81000000 T first\nffffffff81000010 T second\n";
	struct ksyms *k = ksyms__parse(text, strlen("ffffffff81000000 T first\n"));

	(void)state;
	assert_non_null(k);
	assert_int_equal(ksyms__count(k), 1);
	assert_string_equal(ksyms__find(k, 0xffffffff81000010ULL)->name, "first");
	ksyms__free(k);
}

static void test_malformed(void **state)
{
	static const char nul_line[] = "ffffffff81000000 T a\0b\n";
	char *long_line;

	(void)state;
	REJECT("ffffffff81000000 T\n");             /* no name */
	REJECT("ffffffff81000000 T \n");            /* empty name */
	REJECT("ffffffff81000000\n");               /* no type */
	REJECT("xyz T foo\n");                      /* not hex */
	REJECT(" ffffffff81000000 T foo\n");        /* leading space */
	REJECT("ffffffff81000000  T foo\n");        /* two spaces */
	REJECT("ffffffff81000000\tT foo\n");        /* tab separator */
	REJECT("1ffffffff81000000 T foo\n");        /* 17 digits */
	REJECT("ffffffff81000000 T foo\tmod\n");    /* module without brackets */
	REJECT("ffffffff81000000 T foo\t[mod\n");   /* unclosed bracket */
	REJECT("ffffffff81000000 T foo\t[]\n");     /* empty module name */
	REJECT("ffffffff81000000 T foo\t\n");       /* tab, no module */
	/* A bad line anywhere fails the whole text, data symbols included. */
	REJECT("ffffffff81000000 T ok\nffffffff81000010 D\n");
	assert_rejected(nul_line, sizeof(nul_line) - 1);

	/* Longer than any line the kernel prints (KSYM_NAME_LEN is 512). */
	long_line = malloc(2100);
	assert_non_null(long_line);
	memset(long_line, 'a', 2100);
	memcpy(long_line, "ffffffff81000000 T ", 19);
	assert_rejected(long_line, 2100);
	free(long_line);
}

static void test_long_but_valid_line(void **state)
{
	char line[1024];
	struct ksyms *k;

	(void)state;
	/* 1000 bytes is within the line limit (names are at most KSYM_NAME_LEN = 512 in practice). */
	memset(line, 'n', sizeof(line));
	memcpy(line, "ffffffff81000000 T ", 19);
	k = ksyms__parse(line, 1000);
	assert_non_null(k);
	assert_int_equal(strlen(ksyms__find(k, 0xffffffff81000000ULL)->name), 1000 - 19);
	ksyms__free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_text_symbols),
		cmocka_unit_test(test_modules),
		cmocka_unit_test(test_find_before_first),
		cmocka_unit_test(test_empty_and_no_text),
		cmocka_unit_test(test_no_trailing_newline_and_case),
		cmocka_unit_test(test_text_not_null_terminated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_long_but_valid_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
