// SPDX-License-Identifier: MIT
/* Unit tests for the folded-stacks writer (src/present/folded.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"
#include "profile.h"

static void check_sanitize(const char *in, const char *want)
{
	char buf[128];

	folded__sanitize(in, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("folded__sanitize('%s') gave '%s', expected '%s'", in, buf, want);
}

static void test_sanitize(void **state)
{
	(void)state;
	check_sanitize("main", "main");
	check_sanitize("", "");
	check_sanitize("a;b;c", "a:b:c");
	check_sanitize("tab\there", "tab?here");
	check_sanitize("nl\nx\r\x01\x1f\x7f", "nl?x????");
	check_sanitize("caf\xc3\xa9", "caf\xc3\xa9"); /* UTF-8 is kept */
	check_sanitize("std::vector<int>::at(unsigned long) const", "std::vector<int>::at(unsigned long) const");
	/* A trailing " <digits>" would be read as the count. */
	check_sanitize("foo 12", "foo_12");
	check_sanitize("foo 1", "foo_1");
	check_sanitize("a b 7", "a b_7");
	check_sanitize("foo 1 2", "foo 1_2");
	check_sanitize(" 42", "_42");
	check_sanitize("foo;bar 3", "foo:bar_3");
	/* Anything else ending in digits stays. */
	check_sanitize("foo 12a", "foo 12a");
	check_sanitize("foo12", "foo12");
	check_sanitize("foo 12 ", "foo 12 ");
	check_sanitize("foo ", "foo ");
	check_sanitize("foo\t12", "foo?12");
	check_sanitize("foo 1.5", "foo 1.5");
	check_sanitize("12", "12");
}

static void test_sanitize_truncates(void **state)
{
	char buf[6];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	folded__sanitize("abcdefgh", buf, sizeof(buf));
	assert_string_equal(buf, "abcde");
	/* The rule applies to what is written: "foo 123" cut to "foo 1". */
	folded__sanitize("foo 123", buf, sizeof(buf));
	assert_string_equal(buf, "foo_1");
	folded__sanitize("abc", buf, 1);
	assert_string_equal(buf, "");
	buf[0] = 'x';
	folded__sanitize("abc", buf, 0);
	assert_int_equal(buf[0], 'x');
}

/* --- folded__write --- */

struct fixture {
	struct profile p;
	uint32_t app, libc, kernel;
	uint32_t t0, t1;
};

static uint32_t loc(struct fixture *f, uint32_t mapping, uint64_t addr, const char *fn)
{
	struct profile_frame fr = { fn ? profile__intern_cstr(&f->p, fn) : 0, 0, 0, 0 };
	uint32_t id = profile__add_location(&f->p, mapping, addr, 0, &fr, fn ? 1 : 0);

	assert_int_not_equal(id, PROFILE_NONE);
	return id;
}

/* Add n samples of the stack given leaf first, ending with PROFILE_NONE. */
static void sample(struct fixture *f, uint32_t thread, uint64_t n, ...)
{
	uint32_t locs[32], depth = 0, id, s;
	va_list ap;

	va_start(ap, n);
	while ((id = va_arg(ap, uint32_t)) != PROFILE_NONE)
		locs[depth++] = id;
	va_end(ap);
	s = profile__intern_stack(&f->p, locs, depth);
	assert_int_not_equal(s, PROFILE_NONE);
	assert_int_not_equal(profile__add_count(&f->p, s, thread, n), PROFILE_NONE);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	profile__init(&f->p);
	f->app = profile__intern_mapping(&f->p, profile__intern_cstr(&f->p, "/usr/bin/app"), 0, PROFILE_MAP_FILE);
	f->libc = profile__intern_mapping(&f->p, profile__intern_cstr(&f->p, "/lib/x86_64-linux-gnu/libc.so.6"), 0,
					  PROFILE_MAP_FILE);
	f->kernel = profile__intern_mapping(&f->p, profile__intern_cstr(&f->p, "[kernel.kallsyms]"), 0,
					    PROFILE_MAP_KERNEL);
	f->t0 = profile__intern_thread(&f->p, 10, 10, profile__intern_cstr(&f->p, "app"));
	f->t1 = profile__intern_thread(&f->p, 10, 11, profile__intern_cstr(&f->p, "worker"));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	profile__release(&f->p);
	free(f);
	return 0;
}

/* Run folded__write and compare its whole output with 'want'. */
static void check_output(const struct profile *p, const char *want)
{
	struct folded_opts opts = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(folded__write(f, p, &opts), 0);
	assert_int_equal(fclose(f), 0);
	if (strcmp(out, want) != 0) {
		/* cmocka cuts messages at 1024 bytes: show the first line that differs. */
		static char msg[512];
		size_t i = 0, line = 1, bol = 0;

		while (out[i] && out[i] == want[i]) {
			if (out[i++] == '\n') {
				line++;
				bol = i;
			}
		}
		snprintf(msg, sizeof(msg), "folded output line %zu is\n  '%.*s'\nexpected\n  '%.*s'", line,
			 (int)strcspn(out + bol, "\n"), out + bol, (int)strcspn(want + bol, "\n"), want + bol);
		free(out); /* before failing, so that a failure leaks nothing (ASan reports leaks) */
		fail_msg("%s", msg);
	}
	free(out);
}

static void test_write_empty(void **state)
{
	struct fixture *f = *state;

	check_output(&f->p, "");
	/* Stacks and threads without samples print nothing either. */
	loc(f, f->app, 0x10, "main");
	assert_int_equal(profile__intern_stack(&f->p, (uint32_t[]){ 0 }, 1), 0);
	check_output(&f->p, "");
}

static void test_write_root_first_and_merged(void **state)
{
	struct fixture *f = *state;
	uint32_t main_ = loc(f, f->app, 0x100, "main");
	uint32_t work = loc(f, f->app, 0x200, "work");
	uint32_t leaf = loc(f, f->app, 0x300, "leaf");
	uint32_t leaf2 = loc(f, f->app, 0x304, "leaf"); /* another address in the same function */
	uint32_t kern = loc(f, f->kernel, 0xffffffff81000010ULL, NULL);
	uint32_t lib = loc(f, f->libc, 0x1234, NULL);
	uint32_t odd = loc(f, f->app, 0x400, "foo;bar 12");
	uint32_t idle = loc(f, f->app, 0x500, "idle");
	const uint32_t E = PROFILE_NONE;

	sample(f, f->t0, 3, leaf, work, main_, E);
	sample(f, f->t1, 2, leaf, work, main_, E);  /* same stack, other thread */
	sample(f, f->t0, 4, leaf2, work, main_, E); /* other location, same names */
	sample(f, f->t0, 1, kern, leaf, work, main_, E);
	sample(f, f->t1, 5, lib, main_, E);
	sample(f, f->t0, 7, E);
	sample(f, f->t0, 1, odd, main_, E);
	sample(f, f->t1, 2, main_, E);
	/* A stack that exists but whose samples are in no count of its own is skipped. */
	assert_int_not_equal(profile__intern_stack(&f->p, &idle, 1), PROFILE_NONE);

	check_output(&f->p,
		     "[no stack] 7\n"
		     "main 2\n"
		     "main;[libc.so.6+0x1234] 5\n"
		     "main;foo:bar_12 1\n"
		     "main;work;leaf 9\n"
		     "main;work;leaf;[kernel.kallsyms+0xffffffff81000010] 1\n");
}

static void test_write_inlined_frames(void **state)
{
	struct fixture *f = *state;
	struct profile_frame fr[3] = {
		{ profile__intern_cstr(&f->p, "inner"), 0, 0, PROFILE_FRAME_INLINE },
		{ profile__intern_cstr(&f->p, "middle"), 0, 0, PROFILE_FRAME_INLINE },
		{ profile__intern_cstr(&f->p, "outer"), 0, 0, 0 },
	};
	uint32_t main_ = loc(f, f->app, 0x100, "main");
	uint32_t in = profile__add_location(&f->p, f->app, 0x200, 0, fr, 3);
	const uint32_t E = PROFILE_NONE;

	assert_int_not_equal(in, PROFILE_NONE);
	sample(f, f->t0, 6, in, main_, E);
	/* A frame without a function name is labelled by its location. */
	fr[1].function = 0;
	in = profile__add_location(&f->p, f->app, 0x300, 0, fr, 3);
	sample(f, f->t0, 1, in, main_, E);
	check_output(&f->p,
		     "main;outer;[app+0x300];inner 1\n"
		     "main;outer;middle;inner 6\n");
}

static void test_write_sorted_bytewise(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "b", "B", "a", "_x", "a;b", "a:b", "aa", "a b" };
	const uint32_t E = PROFILE_NONE;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		sample(f, f->t0, i + 1, loc(f, f->app, 0x10 * (i + 1), names[i]), E);
	/* "a;b" and "a:b" are the same line once sanitized, and merge. */
	check_output(&f->p,
		     "B 2\n"
		     "_x 4\n"
		     "a 3\n"
		     "a b 8\n"
		     "a:b 11\n"
		     "aa 7\n"
		     "b 1\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_sanitize_truncates),
		cmocka_unit_test_setup_teardown(test_write_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_root_first_and_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_inlined_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_sorted_bytewise, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
