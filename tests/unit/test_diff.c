// SPDX-License-Identifier: MIT
/*
 * Unit tests for the profile comparison (src/present/diff.h) on folded profiles with known splits: shares
 * rather than counts, verdicts with their thresholds, the too-few-samples rule, self and total,
 * several runs per side (Welch), the row keys, and the printed formats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "input.h"
#include "stats.h"

static void load(struct profile *p, const char *text)
{
	profile__init(p);
	if (input__parse_folded(text, strlen(text), "t", NULL, p))
		fail_msg("cannot parse '%.100s'", text);
}

/* The defaults, but alpha 0.05 as in the hand-checked examples. */
static struct diff_opts defaults(void)
{
	struct diff_opts o = { .by = DIFF_BY_FUNCTION, .metric = DIFF_SELF, .alpha = 0.05,
			       .threshold = DIFF_THRESHOLD_DEFAULT, .min_expected = DIFF_MIN_EXPECTED_DEFAULT };
	return o;
}

/* Diff folded texts: 'base' and 'news' are NULL-terminated lists of runs. */
static void run_diff(struct diff *d, const struct diff_opts *o, const char *const *base, const char *const *news)
{
	uint32_t nb = 0, nn = 0, i;
	struct profile p;

	while (base[nb])
		nb++;
	while (news[nn])
		nn++;
	assert_int_equal(diff__init(d, o, nb, nn), 0);
	for (i = 0; i < nb + nn; i++) {
		load(&p, i < nb ? base[i] : news[i - nb]);
		assert_int_equal(diff__add(d, i >= nb, &p, i < nb ? "base" : "new"), 0);
		profile__release(&p);
	}
	assert_int_equal(diff__finish(d), 0);
}

static const struct diff_row *row(const struct diff *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nr_rows; i++)
		if (strcmp(d->rows[i].name, name) == 0)
			return &d->rows[i];
	fail_msg("no row '%s'", name);
	return NULL;
}

static void test_verdicts(void **state)
{
	static const char *const base[] = { "main;a 20\nmain;b 480\nmain;c 300\nmain;d 200\n", NULL };
	static const char *const news[] = { "main;a 70\nmain;b 430\nmain;c 300\nmain;d 200\nmain;e_[k] 3\n", NULL };
	struct diff_opts o = defaults();
	const struct diff_row *r;
	struct stats_test t;
	struct diff d;

	(void)state;
	run_diff(&d, &o, base, news);
	assert_int_equal(d.method, DIFF_Z_TEST);
	assert_int_equal(d.n[0], 1000);
	assert_int_equal(d.n[1], 1003);
	r = row(&d, "a");
	assert_int_equal(r->m[DIFF_SELF].count[0], 20);
	assert_int_equal(r->m[DIFF_SELF].count[1], 70);
	assert_true(fabs(r->m[DIFF_SELF].share[1] - 100.0 * 70 / 1003) < 1e-9);
	t = stats__two_prop(20, 1000, 70, 1003);
	assert_true(fabs(r->m[DIFF_SELF].p - t.p) < 1e-15);
	assert_int_equal(r->m[DIFF_SELF].verdict, DIFF_REGRESSED);
	assert_int_equal(row(&d, "b")->m[DIFF_SELF].verdict, DIFF_IMPROVED);
	assert_int_equal(row(&d, "c")->m[DIFF_SELF].verdict, DIFF_UNCHANGED);
	assert_int_equal(row(&d, "d")->m[DIFF_SELF].verdict, DIFF_UNCHANGED);
	assert_int_equal(row(&d, "e")->m[DIFF_SELF].verdict, DIFF_TOO_FEW);
	assert_true(isnan(row(&d, "e")->m[DIFF_SELF].q));
	/* main has no self samples (too few) and all the total ones (unchanged at 100%). */
	assert_int_equal(row(&d, "main")->m[DIFF_SELF].verdict, DIFF_TOO_FEW);
	assert_int_equal(row(&d, "main")->m[DIFF_TOTAL].verdict, DIFF_UNCHANGED);
	assert_true(fabs(row(&d, "main")->m[DIFF_TOTAL].delta) < 1e-9);
	/* Regressed rows come first. */
	assert_string_equal(d.rows[0].name, "a");
	assert_int_equal(d.nr_verdict[DIFF_SELF][DIFF_REGRESSED], 1);
	assert_int_equal(d.nr_verdict[DIFF_SELF][DIFF_IMPROVED], 1);
	/* BH over the 4 tested rows: a has the smallest p, so q = 4 p. */
	assert_true(fabs(row(&d, "a")->m[DIFF_SELF].q - 4 * t.p) < 1e-15);
	diff__release(&d);

	/* A threshold above the change: still significant, but not a regression. */
	o.threshold = 6;
	run_diff(&d, &o, base, news);
	assert_int_equal(row(&d, "a")->m[DIFF_SELF].verdict, DIFF_UNCHANGED);
	assert_int_equal(d.nr_verdict[DIFF_SELF][DIFF_REGRESSED], 0);
	diff__release(&d);
}

static void test_shares_not_counts(void **state)
{
	/* Ten times the samples, same split: nothing changed (raw deltas would say +900%). */
	static const char *const base[] = { "main;a 100\nmain;b 900\n", NULL };
	static const char *const news[] = { "main;a 1000\nmain;b 9000\n", NULL };
	/* 0 against 1 sample is not a finding. */
	static const char *const base2[] = { "main;a 1000\n", NULL };
	static const char *const news2[] = { "main;a 999\nmain;rare 1\n", NULL };
	struct diff_opts o = defaults();
	struct diff d;
	size_t i;

	(void)state;
	run_diff(&d, &o, base, news);
	for (i = 0; i < d.nr_rows; i++) {
		assert_true(fabs(d.rows[i].m[DIFF_SELF].delta) < 1e-9);
		assert_int_not_equal(d.rows[i].m[DIFF_SELF].verdict, DIFF_REGRESSED);
	}
	assert_true(row(&d, "a")->m[DIFF_SELF].p > 0.99);
	diff__release(&d);
	run_diff(&d, &o, base2, news2);
	assert_int_equal(row(&d, "rare")->m[DIFF_SELF].verdict, DIFF_TOO_FEW);
	assert_int_equal(d.nr_verdict[DIFF_SELF][DIFF_REGRESSED], 0);
	diff__release(&d);
}

static void test_total(void **state)
{
	/* a's callee b doubles: b's self and a's total grow, a's self does not. */
	static const char *const base[] = { "main;a 500\nmain;a;b 100\nmain;c 400\n", NULL };
	static const char *const news[] = { "main;a 500\nmain;a;b 200\nmain;c 300\n", NULL };
	/* Recursion counts once towards the total. */
	static const char *const base2[] = { "main;f;f;f 10\nmain;g 10\n", NULL };
	struct diff_opts o = defaults();
	struct diff d;

	(void)state;
	o.metric = DIFF_TOTAL;
	run_diff(&d, &o, base, news);
	assert_int_equal(row(&d, "a")->m[DIFF_TOTAL].count[0], 600);
	assert_int_equal(row(&d, "a")->m[DIFF_TOTAL].count[1], 700);
	assert_int_equal(row(&d, "a")->m[DIFF_TOTAL].verdict, DIFF_REGRESSED);
	assert_int_equal(row(&d, "a")->m[DIFF_SELF].verdict, DIFF_UNCHANGED);
	assert_int_equal(row(&d, "b")->m[DIFF_SELF].verdict, DIFF_REGRESSED);
	assert_int_equal(d.nr_verdict[DIFF_TOTAL][DIFF_REGRESSED], 2); /* a and b */
	diff__release(&d);
	run_diff(&d, &o, base2, base2);
	assert_int_equal(row(&d, "f")->m[DIFF_TOTAL].count[0], 10);
	assert_int_equal(row(&d, "main")->m[DIFF_TOTAL].count[0], 20);
	diff__release(&d);
}

static void test_several_runs(void **state)
{
	/* Run-to-run spread of a few points: a 2-point shift is noise, a 10-point one is not. */
	static const char *const base[] = { "main;a 300\nmain;b 700\n", "main;a 330\nmain;b 670\n",
					    "main;a 280\nmain;b 720\n", NULL };
	static const char *const same[] = { "main;a 320\nmain;b 680\n", "main;a 290\nmain;b 710\n",
					    "main;a 310\nmain;b 690\n", NULL };
	static const char *const worse[] = { "main;a 400\nmain;b 600\n", "main;a 410\nmain;b 590\n",
					     "main;a 390\nmain;b 610\n", NULL };
	static const double sa[] = { 30, 33, 28 }, sw[] = { 40, 41, 39 };
	struct diff_opts o = defaults();
	const struct diff_row *r;
	struct stats_test t;
	struct diff d;

	(void)state;
	run_diff(&d, &o, base, same);
	assert_int_equal(d.method, DIFF_WELCH);
	assert_int_equal(d.nr_verdict[DIFF_SELF][DIFF_REGRESSED], 0);
	assert_int_equal(d.nr_verdict[DIFF_SELF][DIFF_IMPROVED], 0);
	diff__release(&d);
	run_diff(&d, &o, base, worse);
	r = row(&d, "a");
	t = stats__welch(sa, 3, sw, 3);
	assert_true(fabs(r->m[DIFF_SELF].share[0] - 91.0 / 3) < 1e-9);
	assert_true(fabs(r->m[DIFF_SELF].p - t.p) < 1e-12);
	assert_int_equal(r->m[DIFF_SELF].verdict, DIFF_REGRESSED);
	assert_int_equal(row(&d, "b")->m[DIFF_SELF].verdict, DIFF_IMPROVED);
	assert_true(r->m[DIFF_SELF].mde > 0 && r->m[DIFF_SELF].mde < 10);
	diff__release(&d);
	/* One run on a side: the z-test on the pooled counts. */
	run_diff(&d, &o, (const char *const[]){ base[0], NULL }, worse);
	assert_int_equal(d.method, DIFF_Z_TEST);
	assert_int_equal(row(&d, "a")->m[DIFF_SELF].count[1], 1200);
	diff__release(&d);
}

static void test_keys(void **state)
{
	static const char *const base[] = { "libx.so`f;g 10\nliby.so`f;g 20\n", NULL };
	static const char *const news[] = { "libx.so`f;g 10\nliby.so`f;h 20\n", NULL };
	struct diff_opts o = defaults();
	struct diff d;

	(void)state;
	o.use_modules = 1;
	run_diff(&d, &o, base, base);
	assert_int_equal(d.nr_rows, 3); /* f in libx, f in liby, g */
	diff__release(&d);
	o.use_modules = 0;
	run_diff(&d, &o, base, base);
	assert_int_equal(d.nr_rows, 2);
	assert_int_equal(row(&d, "f")->m[DIFF_TOTAL].count[0], 30);
	diff__release(&d);
	o.by = DIFF_BY_MODULE;
	run_diff(&d, &o, base, base);
	assert_int_equal(d.nr_rows, 3); /* libx.so, liby.so, [folded] */
	assert_int_equal(row(&d, "liby.so")->m[DIFF_TOTAL].count[0], 20);
	diff__release(&d);
	o.by = DIFF_BY_STACK;
	run_diff(&d, &o, base, news);
	assert_int_equal(row(&d, "f;g")->m[DIFF_SELF].count[0], 30);
	assert_int_equal(row(&d, "f;g")->m[DIFF_SELF].count[1], 10);
	assert_int_equal(row(&d, "f;h")->m[DIFF_SELF].count[0], 0);
	diff__release(&d);
}

/* A profile whose function f has two sampled lines, 10 and 20, with 'n10' and 'n20' samples. */
static void lines_profile(struct profile *p, uint64_t n10, uint64_t n20)
{
	struct profile_frame fr = { 0 };
	uint32_t m, loc, st, th, line;

	profile__init(p);
	m = profile__intern_mapping(p, profile__intern_cstr(p, "/bin/app"), 0, PROFILE_MAP_FILE);
	th = profile__intern_thread(p, 1, 1, 0);
	fr.function = profile__intern_cstr(p, "f");
	fr.file = profile__intern_cstr(p, "f.c");
	for (line = 10; line <= 20; line += 10) {
		fr.line = line;
		loc = profile__add_location(p, m, line, 0, &fr, 1);
		st = profile__intern_stack(p, &loc, 1);
		assert_int_not_equal(profile__add_count(p, st, th, line == 10 ? n10 : n20), PROFILE_NONE);
	}
}

static void test_by_line(void **state)
{
	struct diff_opts o = defaults();
	struct profile p;
	struct diff d;

	(void)state;
	o.by = DIFF_BY_LINE;
	o.use_modules = 1;
	assert_int_equal(diff__init(&d, &o, 1, 1), 0);
	lines_profile(&p, 500, 500);
	assert_int_equal(diff__add(&d, 0, &p, "base"), 0);
	profile__release(&p);
	lines_profile(&p, 300, 700);
	assert_int_equal(diff__add(&d, 1, &p, "new"), 0);
	profile__release(&p);
	assert_int_equal(diff__finish(&d), 0);
	assert_int_equal(d.nr_rows, 2);
	assert_string_equal(d.rows[0].name, "f (f.c:20)");
	assert_string_equal(d.rows[0].module, "app");
	assert_int_equal(d.rows[0].m[DIFF_SELF].verdict, DIFF_REGRESSED);
	assert_int_equal(row(&d, "f (f.c:10)")->m[DIFF_SELF].verdict, DIFF_IMPROVED);
	diff__release(&d);
	/* By function, the two lines are one row, unchanged at 100%. */
	o.by = DIFF_BY_FUNCTION;
	assert_int_equal(diff__init(&d, &o, 1, 1), 0);
	lines_profile(&p, 500, 500);
	assert_int_equal(diff__add(&d, 0, &p, "base"), 0);
	assert_int_equal(diff__add(&d, 1, &p, "new"), 0);
	profile__release(&p);
	assert_int_equal(diff__finish(&d), 0);
	assert_int_equal(d.nr_rows, 1);
	assert_int_equal(d.rows[0].m[DIFF_SELF].count[0], 1000);
	diff__release(&d);
}

static char *print(const struct diff *d, enum diff_format fmt, size_t top)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(diff__print(f, d, fmt, top), 0);
	fclose(f);
	return buf;
}

static void test_formats(void **state)
{
	static const char *const base[] = { "main;a 20\nmain;b|x 979\nmain;\x1b[31mred 1\n", NULL };
	static const char *const news[] = { "main;a 80\nmain;b|x 920\n", NULL };
	struct diff_opts o = defaults();
	struct diff d;
	char *s;

	(void)state;
	run_diff(&d, &o, base, news);
	s = print(&d, DIFF_FMT_TABLE, 0);
	assert_non_null(strstr(s, "# verdict: 1 regressed, 1 improved, 0 unchanged, 2 with too few samples\n"));
	assert_non_null(strstr(s, "?[31mred ")); /* no escape sequence reaches the terminal */
	assert_null(strchr(s, '\x1b'));
	assert_non_null(strstr(s, "  2.00%   8.00%   +6.00        20        80 "));
	free(s);
	s = print(&d, DIFF_FMT_TABLE, 1);
	assert_non_null(strstr(s, "# 2 more rows below the top 1 (-n 0 shows all)\n"));
	assert_null(strstr(s, "main")); /* no self samples on either side: left out */
	free(s);
	s = print(&d, DIFF_FMT_MARKDOWN, 0);
	assert_non_null(strstr(s, "### scorch diff: 1 regression\n"));
	assert_non_null(strstr(s, "| **regressed** | a (\\[folded\\]) | 2.00 | 8.00 | +6.00 | "));
	assert_non_null(strstr(s, "| improved | b\\|x (\\[folded\\]) |"));
	free(s);
	s = print(&d, DIFF_FMT_JSON, 0);
	assert_non_null(strstr(s, "\"summary\": {\n    \"regressed\": 1,\n    \"improved\": 1,\n    \"unchanged\": 0,\n    \"too_few\": 2\n  }"));
	assert_non_null(strstr(s, "\"name\": \"\\u001b[31mred\""));
	assert_non_null(strstr(s, "\"name\": \"a\",\n      \"module\": \"[folded]\",\n      \"self\": {\n        \"base_count\": 20,\n"
				  "        \"new_count\": 80,\n        \"base_share\": 2,\n        \"new_share\": 8,\n        \"delta\": 6,"));
	assert_non_null(strstr(s, "\"verdict\": \"too_few\""));
	free(s);
	/* folded needs stack rows */
	assert_int_equal(diff__print(stdout, &d, DIFF_FMT_FOLDED, 0), -EINVAL);
	diff__release(&d);
	o.by = DIFF_BY_STACK;
	run_diff(&d, &o, base, news);
	s = print(&d, DIFF_FMT_FOLDED, 0);
	assert_string_equal(s, "main;?[31mred 1 0\nmain;a 20 80\nmain;b|x 979 920\n");
	free(s);
	diff__release(&d);
}

/*
 * Names the target chose, in every format: no byte a terminal acts on in the table, none that makes
 * markup in markdown (images, links, mentions, code, emphasis, HTML, URLs), valid UTF-8 JSON.
 */
static void test_hostile_names(void **state)
{
	static const char *const base[] = {
		"main;\xc2\x9b" "31mc1\x9b" "32m\xe2\x80\xae 600\n"
		"main;m`![img](http://e.example/x.png) [a](b) @team `c` \\ *e* _f_ <b>&|x 300\n" /* module m */
		"main;lat\xe9n\x07 100\n", NULL };
	struct diff_opts o = defaults();
	struct diff d;
	const char *bad;
	char *s;

	(void)state;
	run_diff(&d, &o, base, base);
	s = print(&d, DIFF_FMT_TABLE, 0);
	assert_non_null(strstr(s, "  ?31mc1?32m?  "));
	assert_non_null(strstr(s, "  lat?n?  "));
	for (bad = "\x07\x9b\xc2\xe2\xe9"; *bad; bad++)
		assert_null(strchr(s, *bad));
	free(s);
	s = print(&d, DIFF_FMT_MARKDOWN, 0);
	assert_non_null(strstr(s, "| \\!\\[img\\]\\(http\\://e.example/x.png\\) \\[a\\]\\(b\\) @<!-- -->team \\`c\\` \\\\ "
				  "\\*e\\* \\_f\\_ &lt;b&gt;&amp;\\|x (m) |"));
	assert_non_null(strstr(s, "| ?31mc1?32m? (\\[folded\\]) |"));
	assert_non_null(strstr(s, "| lat?n? (\\[folded\\]) |"));
	for (bad = "\x07\x9b\xc2\xe2\xe9"; *bad; bad++)
		assert_null(strchr(s, *bad));
	free(s);
	s = print(&d, DIFF_FMT_JSON, 0);
	assert_non_null(strstr(s, "\"name\": \"\\u009b31mc1\\ufffd32m\\u202e\""));
	assert_non_null(strstr(s, "\"name\": \"lat\\ufffdn\\u0007\""));
	assert_non_null(strstr(s, "\"name\": \"![img](http://e.example/x.png) [a](b) @team `c` \\\\ *e* _f_ <b>&|x\""));
	for (bad = "\x07\x9b\xc2\xe2\xe9"; *bad; bad++)
		assert_null(strchr(s, *bad));
	free(s);
	diff__release(&d);
}

static void test_errors(void **state)
{
	struct diff_opts o = defaults();
	struct profile p;
	struct diff d;

	(void)state;
	assert_int_equal(diff__init(&d, &o, 0, 1), -EINVAL);
	diff__release(&d);
	o.alpha = 1;
	assert_int_equal(diff__init(&d, &o, 1, 1), -EINVAL);
	diff__release(&d);
	o = defaults();
	assert_int_equal(diff__init(&d, &o, 1, 1), 0);
	profile__init(&p);
	assert_int_equal(diff__add(&d, 0, &p, "empty"), -ENODATA);
	profile__release(&p);
	assert_int_equal(diff__finish(&d), -EINVAL); /* runs missing */
	load(&p, "a 1\n");
	assert_int_equal(diff__add(&d, 0, &p, "x"), 0);
	assert_int_equal(diff__add(&d, 0, &p, "x"), -EINVAL); /* one base run only */
	assert_int_equal(diff__add(&d, 2, &p, "x"), -EINVAL);
	profile__release(&p);
	diff__release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),      cmocka_unit_test(test_shares_not_counts),
		cmocka_unit_test(test_total),         cmocka_unit_test(test_several_runs),
		cmocka_unit_test(test_keys),          cmocka_unit_test(test_by_line),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
