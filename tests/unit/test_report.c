// SPDX-License-Identifier: MIT
/* Unit tests for the hotspot report (src/present/report.h): aggregation, sorting and the printed table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "report.h"

struct fixture {
	struct profile p;
	uint32_t app, libc, kernel;
	uint32_t t0, t1;
	/* locations of the standard profile */
	uint32_t main_, work, leaf, rec, kern, alpha, beta;
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

/*
 * The standard profile, 19 samples:
 *
 *   main -> work -> leaf                 6 (4 in t0, 2 in t1)
 *   main -> work                         2
 *   main -> rec -> work -> rec           4 (recursion)
 *   main -> work -> leaf -> [kernel]     1
 *   main -> beta                         3
 *   main -> alpha                        3
 *
 * self/total: leaf 6/7, rec 4/4, alpha 3/3, beta 3/3, work 2/13, [kernel] 1/1, main 0/19.
 */
static int setup_standard(void **state)
{
	const uint32_t E = PROFILE_NONE;
	struct fixture *f;

	if (setup(state))
		return -1;
	f = *state;
	f->main_ = loc(f, f->app, 0x100, "main");
	f->work = loc(f, f->app, 0x200, "work");
	f->leaf = loc(f, f->app, 0x300, "leaf");
	f->rec = loc(f, f->app, 0x400, "rec");
	f->kern = loc(f, f->kernel, 0xffffffff81000010ULL, NULL);
	f->alpha = loc(f, f->app, 0x500, "alpha");
	f->beta = loc(f, f->app, 0x600, "beta");
	sample(f, f->t0, 4, f->leaf, f->work, f->main_, E);
	sample(f, f->t1, 2, f->leaf, f->work, f->main_, E);
	sample(f, f->t0, 2, f->work, f->main_, E);
	sample(f, f->t0, 4, f->rec, f->work, f->rec, f->main_, E);
	sample(f, f->t0, 1, f->kern, f->leaf, f->work, f->main_, E);
	sample(f, f->t1, 3, f->beta, f->main_, E);
	sample(f, f->t0, 3, f->alpha, f->main_, E);
	/* The header's inputs. */
	profile__meta_set(&f->p, "command", "./app --fast");
	profile__meta_set(&f->p, "hostname", "box");
	profile__meta_set(&f->p, "kernel", "6.1.0");
	profile__meta_set(&f->p, "cpus", "2");
	profile__meta_set(&f->p, "start_time", "2024-01-02T03:04:05Z");
	profile__meta_set(&f->p, "event", "cpu-clock");
	profile__meta_set(&f->p, "frequency", "99");
	profile__meta_set(&f->p, "call_graph", "fp");
	profile__meta_set(&f->p, "duration_ns", "1500000000");
	profile__counter_set(&f->p, "lost", 1);
	profile__counter_set(&f->p, "truncated_stacks", 2);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	profile__release(&f->p);
	free(f);
	return 0;
}

static void check_row(const struct fixture *f, const struct report_row *r, const char *fn, uint32_t mapping,
		      uint64_t self, uint64_t total)
{
	const char *name = r->function ? profile__str(&f->p, r->function) : "(unnamed)";

	if (strcmp(name, fn) != 0 || r->mapping != mapping || r->self != self || r->total != total)
		fail_msg("row %s (mapping %u) self %llu total %llu, expected %s (mapping %u) self %llu total %llu",
			 name, r->mapping, (unsigned long long)r->self, (unsigned long long)r->total, fn, mapping,
			 (unsigned long long)self, (unsigned long long)total);
}

static void test_aggregate_by_self(void **state)
{
	struct fixture *f = *state;
	struct report_row *rows;
	size_t nr = 0;

	rows = report__aggregate(&f->p, REPORT_SORT_SELF, &nr);
	assert_non_null(rows);
	assert_int_equal(nr, 7);
	check_row(f, &rows[0], "leaf", f->app, 6, 7);
	check_row(f, &rows[1], "rec", f->app, 4, 4);
	/* Equal self and total: by name. */
	check_row(f, &rows[2], "alpha", f->app, 3, 3);
	check_row(f, &rows[3], "beta", f->app, 3, 3);
	check_row(f, &rows[4], "work", f->app, 2, 13);
	check_row(f, &rows[5], "(unnamed)", f->kernel, 1, 1);
	assert_int_equal(rows[5].loc, f->kern);
	check_row(f, &rows[6], "main", f->app, 0, 19);
	assert_int_equal(rows[6].loc, PROFILE_NONE);
	free(rows);
}

static void test_aggregate_by_total(void **state)
{
	struct fixture *f = *state;
	struct report_row *rows;
	size_t nr = 0;

	rows = report__aggregate(&f->p, REPORT_SORT_TOTAL, &nr);
	assert_non_null(rows);
	assert_int_equal(nr, 7);
	check_row(f, &rows[0], "main", f->app, 0, 19);
	check_row(f, &rows[1], "work", f->app, 2, 13);
	check_row(f, &rows[2], "leaf", f->app, 6, 7);
	check_row(f, &rows[3], "rec", f->app, 4, 4);
	check_row(f, &rows[4], "alpha", f->app, 3, 3);
	check_row(f, &rows[5], "beta", f->app, 3, 3);
	check_row(f, &rows[6], "(unnamed)", f->kernel, 1, 1);
	free(rows);
}

static void test_aggregate_keys(void **state)
{
	struct fixture *f = *state;
	const uint32_t E = PROFILE_NONE;
	uint32_t main_ = loc(f, f->app, 0x100, "main");
	uint32_t a1 = loc(f, f->app, 0x200, "helper");
	uint32_t a2 = loc(f, f->app, 0x208, "helper");   /* same function, other address: one row */
	uint32_t b = loc(f, f->libc, 0x200, "helper");   /* same name in another module: its own row */
	uint32_t u1 = loc(f, f->libc, 0x9000, NULL);     /* unnamed addresses: one row each */
	uint32_t u2 = loc(f, f->libc, 0x9010, NULL);
	struct report_row *rows;
	size_t nr = 0, i;
	uint64_t self = 0;

	sample(f, f->t0, 5, a1, main_, E);
	sample(f, f->t1, 5, a2, main_, E);
	sample(f, f->t0, 1, b, main_, E);
	sample(f, f->t0, 2, u2, main_, E);
	sample(f, f->t0, 2, u1, main_, E);
	rows = report__aggregate(&f->p, REPORT_SORT_SELF, &nr);
	assert_int_equal(nr, 5);
	check_row(f, &rows[0], "helper", f->app, 10, 10);
	/* Unnamed rows tie: they sort by location. */
	check_row(f, &rows[1], "(unnamed)", f->libc, 2, 2);
	assert_int_equal(rows[1].loc, u1);
	check_row(f, &rows[2], "(unnamed)", f->libc, 2, 2);
	assert_int_equal(rows[2].loc, u2);
	check_row(f, &rows[3], "helper", f->libc, 1, 1);
	check_row(f, &rows[4], "main", f->app, 0, 15);
	for (i = 0; i < nr; i++)
		self += rows[i].self;
	assert_int_equal(self, f->p.total);
	free(rows);
}

static void test_aggregate_inlined(void **state)
{
	struct fixture *f = *state;
	const uint32_t E = PROFILE_NONE;
	struct profile_frame fr[3] = {
		{ profile__intern_cstr(&f->p, "inner"), 0, 0, PROFILE_FRAME_INLINE },
		{ profile__intern_cstr(&f->p, "inner"), 0, 0, PROFILE_FRAME_INLINE }, /* inlined recursion */
		{ profile__intern_cstr(&f->p, "outer"), 0, 0, 0 },
	};
	uint32_t main_ = loc(f, f->app, 0x100, "main");
	uint32_t in = profile__add_location(&f->p, f->app, 0x200, 0, fr, 3);
	struct report_row *rows;
	size_t nr = 0;

	sample(f, f->t0, 3, in, main_, E);
	rows = report__aggregate(&f->p, REPORT_SORT_TOTAL, &nr);
	assert_int_equal(nr, 3);
	/* Only the innermost frame of the leaf location is self time. */
	check_row(f, &rows[0], "inner", f->app, 3, 3);
	check_row(f, &rows[1], "main", f->app, 0, 3);
	check_row(f, &rows[2], "outer", f->app, 0, 3);
	free(rows);
}

static void test_aggregate_empty(void **state)
{
	struct fixture *f = *state;
	size_t nr = 99;

	errno = ENOMEM;
	assert_null(report__aggregate(&f->p, REPORT_SORT_SELF, &nr));
	assert_int_equal(nr, 0);
	assert_int_not_equal(errno, ENOMEM);
}

/* Run report__print and compare its whole output with 'want'. */
static void check_print(const struct profile *p, const struct report_opts *opts, const char *want)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(report__print(f, p, opts, "test.prof"), 0);
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
		snprintf(msg, sizeof(msg), "report output line %zu is\n  '%.*s'\nexpected\n  '%.*s'", line,
			 (int)strcspn(out + bol, "\n"), out + bol, (int)strcspn(want + bol, "\n"), want + bol);
		free(out); /* before failing, so that a failure leaks nothing (ASan reports leaks) */
		fail_msg("%s", msg);
	}
	free(out);
}

#define TABLE_HEAD "  Self%  Total%      Self     Total  Function                                 Module\n"

static void test_print_top(void **state)
{
	struct fixture *f = *state;
	struct report_opts opts = { .top = 3, .sort = REPORT_SORT_SELF };

	check_print(&f->p, &opts,
		    "# profile:  test.prof\n"
		    "# command:  ./app --fast\n"
		    "# host:     box (Linux 6.1.0, 2 CPUs)\n"
		    "# started:  2024-01-02T03:04:05Z\n"
		    "# sampling: cpu-clock at 99 Hz, call graph fp, for 1.50 s\n"
		    "# samples:  19, lost 1 (5.00%), truncated stacks 2\n"
		    "#\n" TABLE_HEAD
		    " 31.58%  36.84%         6         7  leaf                                     app\n"
		    " 21.05%  21.05%         4         4  rec                                      app\n"
		    " 15.79%  15.79%         3         3  alpha                                    app\n"
		    "# 4 more functions below the top 3 (-n 0 shows all)\n");
}

static void test_print_all_by_total(void **state)
{
	struct fixture *f = *state;
	struct report_opts opts = { .top = 0, .sort = REPORT_SORT_TOTAL, .no_header = 1 };

	check_print(&f->p, &opts,
		    TABLE_HEAD
		    "  0.00% 100.00%         0        19  main                                     app\n"
		    " 10.53%  68.42%         2        13  work                                     app\n"
		    " 31.58%  36.84%         6         7  leaf                                     app\n"
		    " 21.05%  21.05%         4         4  rec                                      app\n"
		    " 15.79%  15.79%         3         3  alpha                                    app\n"
		    " 15.79%  15.79%         3         3  beta                                     app\n"
		    "  5.26%   5.26%         1         1  [kernel.kallsyms+0xffffffff81000010]     [kernel.kallsyms]\n");
	/* A top that is not smaller than the number of rows shows them all, without the "more" line. */
	opts.top = 7;
	opts.sort = REPORT_SORT_SELF;
	check_print(&f->p, &opts,
		    TABLE_HEAD
		    " 31.58%  36.84%         6         7  leaf                                     app\n"
		    " 21.05%  21.05%         4         4  rec                                      app\n"
		    " 15.79%  15.79%         3         3  alpha                                    app\n"
		    " 15.79%  15.79%         3         3  beta                                     app\n"
		    " 10.53%  68.42%         2        13  work                                     app\n"
		    "  5.26%   5.26%         1         1  [kernel.kallsyms+0xffffffff81000010]     [kernel.kallsyms]\n"
		    "  0.00% 100.00%         0        19  main                                     app\n");
}

/* report__print's whole output, owned by the caller. */
static char *print_str(const struct profile *p, const struct report_opts *opts)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(report__print(f, p, opts, "test.prof"), 0);
	assert_int_equal(fclose(f), 0);
	return out;
}

/* The line under a cut table names the rows in the plural: "processes", not "processs". */
static void test_print_more_plural(void **state)
{
	struct fixture *f = *state;
	struct view_opts vo = { .by = VIEW_BY_PROCESS };
	struct report_opts opts = { .top = 1, .no_header = 1, .view = &vo };
	uint32_t t2 = profile__intern_thread(&f->p, 20, 20, profile__intern_cstr(&f->p, "other"));
	char *s;

	sample(f, t2, 5, f->leaf, f->main_, PROFILE_NONE);
	s = print_str(&f->p, &opts);
	assert_non_null(strstr(s, "# 1 more processes below the top 1 (-n 0 shows all)\n"));
	free(s);
	vo.by = VIEW_BY_MODULE;
	opts.top = 1;
	s = print_str(&f->p, &opts);
	assert_non_null(strstr(s, "# 1 more modules below the top 1 (-n 0 shows all)\n"));
	free(s);
}

/* Names, paths and meta from the profile reach the table and header with '?' for what a terminal acts on. */
static void test_print_hostile(void **state)
{
	struct fixture *f = *state;
	struct report_opts opts = { .top = 0 };
	uint32_t evil = profile__intern_mapping(&f->p, profile__intern_cstr(&f->p, "/lib/li\nb\x1b[2J.so"), 0,
						PROFILE_MAP_FILE);
	uint32_t l = loc(f, evil, 0x10, "fn\xc2\x9b" "31m\x9b" "32m\x07\xe2\x80\xae");
	uint32_t t = profile__intern_thread(&f->p, 30, 30, profile__intern_cstr(&f->p, "c\x1b" "c"));
	const char *bad;
	char *s;

	profile__meta_set(&f->p, "command", "./app\n# samples: 1000\x1b]0;title\x07");
	profile__meta_set(&f->p, "hostname", "box\r");
	sample(f, t, 4, l, f->main_, PROFILE_NONE);
	s = print_str(&f->p, &opts);
	assert_non_null(strstr(s, "# command:  ./app?# samples: 1000?]0;title?\n"));
	assert_non_null(strstr(s, "# host:     box? (Linux"));
	assert_non_null(strstr(s, "  fn?31m?32m??                             li?b?[2J.so\n"));
	for (bad = "\x1b\x07\r\x9b\xc2\xe2"; *bad; bad++)
		assert_null(strchr(s, *bad));
	free(s);
	opts.callees = "main";
	s = print_str(&f->p, &opts);
	assert_non_null(strstr(s, "  fn?31m?32m??                             li?b?[2J.so\n"));
	for (bad = "\x1b\x07\r\x9b\xc2\xe2"; *bad; bad++)
		assert_null(strchr(s, *bad));
	free(s);
}

static void test_print_no_samples(void **state)
{
	struct fixture *f = *state;
	struct report_opts opts = { .top = 10 };

	check_print(&f->p, &opts,
		    "# profile:  test.prof\n"
		    "# samples:  0, lost 0 (0.00%)\n"
		    "#\n"
		    "# no samples\n");
	opts.no_header = 1;
	check_print(&f->p, &opts, "# no samples\n");
}

/*
 * An inlined chain whose outer frame has no name: the outer frame's row is the location's, and it must
 * be labelled "[module+0xaddr]" as in the folded output, not with the inner frame's name.
 */
static void test_print_unnamed_outer_frame(void **state)
{
	struct fixture *f = *state;
	const uint32_t E = PROFILE_NONE;
	struct profile_frame fr[2] = {
		{ profile__intern_cstr(&f->p, "inl"), 0, 0, PROFILE_FRAME_INLINE },
		{ 0, 0, 0, 0 },
	};
	uint32_t main_ = loc(f, f->app, 0x100, "main");
	uint32_t in = profile__add_location(&f->p, f->app, 0x700, 0, fr, 2);
	struct report_opts opts = { .sort = REPORT_SORT_SELF, .no_header = 1 };

	sample(f, f->t0, 2, in, main_, E);
	check_print(&f->p, &opts,
		    TABLE_HEAD
		    "100.00% 100.00%         2         2  inl                                      app\n"
		    "  0.00% 100.00%         0         2  [app+0x700]                              app\n"
		    "  0.00% 100.00%         0         2  main                                     app\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_aggregate_by_self, setup_standard, teardown),
		cmocka_unit_test_setup_teardown(test_aggregate_by_total, setup_standard, teardown),
		cmocka_unit_test_setup_teardown(test_aggregate_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aggregate_inlined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aggregate_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_top, setup_standard, teardown),
		cmocka_unit_test_setup_teardown(test_print_all_by_total, setup_standard, teardown),
		cmocka_unit_test_setup_teardown(test_print_more_plural, setup_standard, teardown),
		cmocka_unit_test_setup_teardown(test_print_hostile, setup_standard, teardown),
		cmocka_unit_test_setup_teardown(test_print_no_samples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_unnamed_outer_frame, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
