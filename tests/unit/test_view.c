// SPDX-License-Identifier: MIT
/*
 * Unit tests for the view (src/present/view.h) through its readers: folded's options (prefixes, annotations,
 * --no-kernel, --no-inline, --by), the thread and regex filters, and report's callers/callees,
 * --percent-limit, --sort name and --json.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"
#include "profile.h"
#include "report.h"
#include "view.h"

struct fixture {
	struct profile p;
};

static uint32_t loc2(struct profile *p, uint32_t mapping, uint64_t addr, uint32_t flags, const char *fn,
		     const char *inl)
{
	struct profile_frame fr[2] = { 0 };
	uint32_t n = 0, id;

	if (inl) {
		fr[n].function = profile__intern_cstr(p, inl);
		fr[n].file = profile__intern_cstr(p, "a.c");
		fr[n].line = 7;
		fr[n++].flags = PROFILE_FRAME_INLINE;
	}
	if (fn) {
		fr[n].function = profile__intern_cstr(p, fn);
		fr[n].file = profile__intern_cstr(p, "a.c");
		fr[n++].line = 3;
	}
	id = profile__add_location(p, mapping, addr, flags, fr, n);
	assert_int_not_equal(id, PROFILE_NONE);
	return id;
}

static void add(struct profile *p, uint32_t thread, uint64_t n, const uint32_t *locs, uint32_t depth)
{
	uint32_t s = profile__intern_stack(p, locs, depth);

	assert_int_not_equal(s, PROFILE_NONE);
	assert_int_not_equal(profile__add_count(p, s, thread, n), PROFILE_NONE);
}

/*
 * Stacks, root first (20 samples):
 *   app 1/1:    main;run;calc(inline);memcpy;sys_read(k)   4
 *   app 1/1:    main;run;calc(inline)                      6
 *   work 1/2:   main;helper;memcpy                         3
 *   jit 2/2:    main;jitted(JIT)                           5
 *   jit 2/2:    main;helper                                2
 */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct profile *p;
	uint32_t app, libc, kern, jit, t0, t1, t2, l_main, l_run, l_help, l_memcpy, l_sys, l_jit;

	if (!f)
		return -1;
	p = &f->p;
	profile__init(p);
	app = profile__intern_mapping(p, profile__intern_cstr(p, "/bin/app"), 0, PROFILE_MAP_FILE);
	libc = profile__intern_mapping(p, profile__intern_cstr(p, "/lib/libc.so.6"), 0, PROFILE_MAP_FILE);
	kern = profile__intern_mapping(p, profile__intern_cstr(p, "[kernel.kallsyms]"), 0, PROFILE_MAP_KERNEL);
	jit = profile__intern_mapping(p, profile__intern_cstr(p, "/tmp/perf-2.map"), 0, PROFILE_MAP_JIT);
	l_main = loc2(p, app, 0x10, 0, "main", NULL);
	l_run = loc2(p, app, 0x20, 0, "run", "calc");
	l_help = loc2(p, app, 0x30, 0, "helper", NULL);
	l_memcpy = loc2(p, libc, 0x40, 0, "memcpy", NULL);
	l_sys = loc2(p, kern, 0x50, PROFILE_LOC_KERNEL, "sys_read", NULL);
	l_jit = loc2(p, jit, 0x60, 0, "jitted", NULL);
	t0 = profile__intern_thread(p, 1, 1, profile__intern_cstr(p, "app"));
	t1 = profile__intern_thread(p, 1, 2, profile__intern_cstr(p, "work"));
	t2 = profile__intern_thread(p, 2, 2, profile__intern_cstr(p, "jit"));
	add(p, t0, 4, (uint32_t[]){ l_sys, l_memcpy, l_run, l_main }, 4);
	add(p, t0, 6, (uint32_t[]){ l_run, l_main }, 2);
	add(p, t1, 3, (uint32_t[]){ l_memcpy, l_help, l_main }, 3);
	add(p, t2, 5, (uint32_t[]){ l_jit, l_main }, 2);
	add(p, t2, 2, (uint32_t[]){ l_help, l_main }, 2);
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

static void same(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want)) {
		static char msg[900];

		snprintf(msg, sizeof(msg), "%s:\n%.400s\nexpected\n%.400s", what, got, want);
		fail_msg("%s", msg);
	}
}

static void check_folded(const struct profile *p, const struct folded_opts *o, const char *want)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(folded__write(f, p, o), 0);
	assert_int_equal(fclose(f), 0);
	same("folded", out, want);
	free(out);
}

static void test_folded_annotate(void **state)
{
	struct fixture *f = *state;
	struct folded_opts o = { .annotate = 1 };

	check_folded(&f->p, &o,
		     "main;helper 2\n"
		     "main;helper;memcpy 3\n"
		     "main;jitted_[j] 5\n"
		     "main;run;calc_[i] 6\n"
		     "main;run;calc_[i];memcpy;sys_read_[k] 4\n");
}

static void test_folded_prefixes(void **state)
{
	struct fixture *f = *state;
	struct folded_opts o = { .pid_prefix = 1 };

	/* The prefix names the thread's comm, as stackcollapse-perf.pl does. */
	check_folded(&f->p, &o,
		     "app-1;main;run;calc 6\n"
		     "app-1;main;run;calc;memcpy;sys_read 4\n"
		     "jit-2;main;helper 2\n"
		     "jit-2;main;jitted 5\n"
		     "work-1;main;helper;memcpy 3\n");
	o.pid_prefix = 0;
	o.tid_prefix = 1;
	check_folded(&f->p, &o,
		     "app-1/1;main;run;calc 6\n"
		     "app-1/1;main;run;calc;memcpy;sys_read 4\n"
		     "jit-2/2;main;helper 2\n"
		     "jit-2/2;main;jitted 5\n"
		     "work-1/2;main;helper;memcpy 3\n");
}

static void test_folded_no_kernel_no_inline(void **state)
{
	struct fixture *f = *state;
	struct view_opts vo = { .no_kernel = 1, .no_inline = 1 };
	struct folded_opts o = { .view = &vo };

	/* Without the kernel and inlined frames, two stacks become one line. */
	check_folded(&f->p, &o,
		     "main;helper 2\n"
		     "main;helper;memcpy 3\n"
		     "main;jitted 5\n"
		     "main;run 6\n"
		     "main;run;memcpy 4\n");
}

static void test_folded_by_module_and_line(void **state)
{
	struct fixture *f = *state;
	struct view_opts vo = { .by = VIEW_BY_MODULE };
	struct folded_opts o = { .view = &vo };

	/* Consecutive frames of one module merge. */
	check_folded(&f->p, &o,
		     "app 8\n"
		     "app;libc.so.6 3\n"
		     "app;libc.so.6;[kernel.kallsyms] 4\n"
		     "app;perf-2.map 5\n");
	vo.by = VIEW_BY_LINE;
	check_folded(&f->p, &o,
		     "main a.c:3;helper a.c:3 2\n"
		     "main a.c:3;helper a.c:3;memcpy a.c:3 3\n"
		     "main a.c:3;jitted a.c:3 5\n"
		     "main a.c:3;run a.c:3;calc a.c:7 6\n"
		     "main a.c:3;run a.c:3;calc a.c:7;memcpy a.c:3;sys_read a.c:3 4\n");
}

/* A func's label is the frame's name alone: all of it, but for the " file:line" that --by line adds. */
static void test_label_len(void **state)
{
	struct fixture *f = *state;
	struct view_opts vo = { .by = VIEW_BY_LINE };
	struct view v;
	uint32_t i, seen = 0;

	assert_int_equal(view__build(&v, &f->p, &vo), 0);
	for (i = 0; i < v.nr_funcs; i++)
		if (!strcmp(v.funcs[i].name, "calc a.c:7")) {
			assert_int_equal(v.funcs[i].label_len, 4);
			seen++;
		}
	assert_int_equal(seen, 1);
	view__release(&v);
	for (vo.by = VIEW_BY_FUNCTION; vo.by <= VIEW_BY_PROCESS; vo.by++) {
		if (vo.by == VIEW_BY_LINE)
			continue;
		assert_int_equal(view__build(&v, &f->p, &vo), 0);
		for (i = 0; i < v.nr_funcs; i++)
			assert_int_equal(v.funcs[i].label_len, strlen(v.funcs[i].name));
		view__release(&v);
	}
}

static void test_by_process(void **state)
{
	struct fixture *f = *state;
	struct view_opts vo = { .by = VIEW_BY_PROCESS };
	struct folded_opts o = { .view = &vo };

	/* One frame per stack; thread "work" of process 1 goes under its main thread's name. */
	check_folded(&f->p, &o, "app (1) 13\njit (2) 7\n");
	/* --focus still matches functions. */
	vo.focus = "^memcpy$";
	check_folded(&f->p, &o, "app (1) 7\n");
	vo = (struct view_opts){ .by = VIEW_BY_PROCESS, .comms = { "jit" }, .nr_comms = 1 };
	check_folded(&f->p, &o, "jit (2) 7\n");
}

/*
 * A process has one row even when its main thread had several names (it exec'd, or renamed itself):
 * the name with the most samples. Before, the threads other than the main one took the name of the
 * first main-thread entry, and the process showed as two rows.
 */
static void test_by_process_renamed(void **state)
{
	struct fixture *f = *state;
	struct profile *p = &f->p;
	struct view_opts vo = { .by = VIEW_BY_PROCESS };
	struct folded_opts o = { .view = &vo };
	uint32_t app = profile__intern_mapping(p, profile__intern_cstr(p, "/bin/py"), 0, PROFILE_MAP_FILE);
	uint32_t l = loc2(p, app, 0x10, 0, "main", NULL);
	uint32_t pre = profile__intern_thread(p, 3, 3, profile__intern_cstr(p, "scorch"));
	uint32_t post = profile__intern_thread(p, 3, 3, profile__intern_cstr(p, "py"));
	uint32_t worker = profile__intern_thread(p, 3, 4, profile__intern_cstr(p, "py-worker"));
	uint32_t lone = profile__intern_thread(p, 5, 6, profile__intern_cstr(p, "lone"));

	add(p, pre, 2, &l, 1);
	add(p, post, 5, &l, 1);
	add(p, worker, 4, &l, 1);
	add(p, lone, 1, &l, 1);
	check_folded(p, &o, "app (1) 13\njit (2) 7\nlone (5) 1\npy (3) 11\n");
	/* Filters pick threads; the row keeps its process's name. */
	vo.comms[0] = "scorch";
	vo.nr_comms = 1;
	check_folded(p, &o, "py (3) 2\n");
}

static void test_thread_filters(void **state)
{
	struct fixture *f = *state;
	struct view_opts vo = { .pids = { 1 }, .nr_pids = 1 };
	struct view v;

	assert_int_equal(view__build(&v, &f->p, &vo), 0);
	assert_int_equal(v.total, 13);
	view__release(&v);
	vo = (struct view_opts){ .tids = { 2 }, .nr_tids = 1 };
	assert_int_equal(view__build(&v, &f->p, &vo), 0);
	assert_int_equal(v.total, 10); /* tid 2 in pid 1 (work) and pid 2 (jit) */
	view__release(&v);
	vo = (struct view_opts){ .comms = { "jit", "app" }, .nr_comms = 2, .pids = { 2 }, .nr_pids = 1 };
	assert_int_equal(view__build(&v, &f->p, &vo), 0);
	assert_int_equal(v.total, 7); /* both filters apply */
	view__release(&v);
}

static void test_focus_ignore(void **state)
{
	struct fixture *f = *state;
	struct view_opts vo = { .focus = "^memcpy$" };
	struct view v;

	assert_int_equal(view__build(&v, &f->p, &vo), 0);
	assert_int_equal(v.total, 7);
	view__release(&v);
	vo.ignore = "sys_";
	assert_int_equal(view__build(&v, &f->p, &vo), 0);
	assert_int_equal(v.total, 3);
	view__release(&v);
	vo = (struct view_opts){ .ignore = "help|jit" };
	assert_int_equal(view__build(&v, &f->p, &vo), 0);
	assert_int_equal(v.total, 10);
	view__release(&v);
	vo = (struct view_opts){ .focus = "(unclosed" };
	assert_int_equal(view__build(&v, &f->p, &vo), -EINVAL);
}

static void test_kinds(void **state)
{
	struct fixture *f = *state;
	struct view_opts vo = { 0 };
	struct view v;
	uint32_t i, seen = 0;

	assert_int_equal(view__build(&v, &f->p, &vo), 0);
	for (i = 0; i < v.nr_funcs; i++) {
		const char *n = v.funcs[i].name;
		uint32_t want = !strcmp(n, "sys_read") ? VIEW_KIND_KERNEL :
				!strcmp(n, "calc")     ? VIEW_KIND_INLINE :
				!strcmp(n, "jitted")   ? VIEW_KIND_JIT :
							 VIEW_KIND_USER;

		assert_int_equal(v.funcs[i].kind, want);
		seen++;
	}
	assert_int_equal(seen, 7);
	view__release(&v);
}

static void check_report(const struct profile *p, const struct report_opts *o, int want_err, const char *want)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(report__print(f, p, o, "t.prof"), want_err);
	assert_int_equal(fclose(f), 0);
	if (want)
		same("report", out, want);
	free(out);
}

/* A profile of one stack of 'depth' frames of one named location, counted once in each of 'threads'. */
static void deep_profile(struct profile *p, uint32_t depth, uint32_t threads, uint32_t pids)
{
	struct profile_frame fr = { 0 };
	uint32_t m, l, *locs = malloc(depth * sizeof(*locs)), s, i, t;

	assert_non_null(locs);
	profile__init(p);
	m = profile__intern_mapping(p, profile__intern_cstr(p, "/bin/app"), 0, PROFILE_MAP_FILE);
	fr.function = profile__intern_cstr(p, "f");
	l = profile__add_location(p, m, 0x10, 0, &fr, 1);
	for (i = 0; i < depth; i++)
		locs[i] = l;
	s = profile__intern_stack(p, locs, depth);
	for (i = 0; i < threads; i++) {
		t = profile__intern_thread(p, 1 + i % pids, 1 + i, profile__intern_cstr(p, "app"));
		assert_int_not_equal(profile__add_count(p, s, t, 1), PROFILE_NONE);
	}
	free(locs);
}

/*
 * A stack counted in many threads is expanded once: one path, and the view's frames are the stack's
 * depth, not depth x threads (before, 2,000 frames in 2,000 threads made 4 million).
 */
static void test_stack_expanded_once(void **state)
{
	const struct view_opts vo = { 0 }, by_proc = { .by = VIEW_BY_PROCESS };
	struct profile p;
	struct view v;
	uint32_t s;

	(void)state;
	deep_profile(&p, 2000, 2000, 3);
	assert_int_equal(view__build(&v, &p, &vo), 0);
	assert_int_equal(v.nr_stacks, 2000);
	assert_int_equal(v.nr_paths, 1);
	assert_int_equal(v.nr_funcs_of, 2000);
	assert_int_equal(v.paths[0].depth, 2000);
	assert_int_equal(v.paths[0].count, 2000);
	for (s = 0; s < v.nr_stacks; s++) {
		assert_int_equal(v.stacks[s].path, 0);
		assert_true(view__stack_funcs(&v, s) == view__path_funcs(&v, 0));
		assert_int_equal(v.stacks[s].depth, 2000);
	}
	view__release(&v);
	/* --by process: one path per process. */
	assert_int_equal(view__build(&v, &p, &by_proc), 0);
	assert_int_equal(v.nr_stacks, 2000);
	assert_int_equal(v.nr_paths, 3);
	assert_int_equal(v.nr_funcs_of, 3);
	assert_int_equal(v.paths[0].count + v.paths[1].count + v.paths[2].count, 2000);
	view__release(&v);
	profile__release(&p);
}

/* A profile whose only samples have no stack: no frame at all, and no offset applied to NULL. */
static void test_empty_stacks(void **state)
{
	const struct view_opts vo = { 0 };
	struct folded_opts fo = { .tid_prefix = 1 };
	struct profile p;
	struct view v;

	(void)state;
	profile__init(&p);
	assert_int_not_equal(profile__add_count(&p, profile__intern_stack(&p, NULL, 0),
						profile__intern_thread(&p, 1, 2, profile__intern_cstr(&p, "a")), 3),
			     PROFILE_NONE);
	assert_int_equal(view__build(&v, &p, &vo), 0);
	assert_int_equal(v.nr_stacks, 1);
	assert_int_equal(v.nr_paths, 1);
	assert_int_equal(v.nr_funcs_of, 0);
	assert_null(v.funcs_of);
	assert_null(view__stack_funcs(&v, 0));
	assert_null(view__path_funcs(&v, 0));
	view__release(&v);
	check_folded(&p, &fo, "a-1/2;[no stack] 3\n");
	profile__release(&p);
}

/*
 * The expansion budget (profile.expand_limit): past it the view and its readers fail with -E2BIG
 * instead of materialising stack x threads. Report (the distinct paths) fits where folded --tid
 * (a line per thread) does not.
 */
static void test_expand_budget(void **state)
{
	const struct view_opts vo = { 0 };
	struct folded_opts plain = { .view = &vo }, tid = { .tid_prefix = 1, .view = &vo };
	struct report_opts ro = { .view = &vo };
	struct profile p;
	struct view v;
	FILE *null = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(null);
	deep_profile(&p, 20000, 500, 1);
	p.expand_limit = 1 << 20;
	assert_int_equal(view__build(&v, &p, &vo), 0);
	assert_true(v.budget < (1 << 20) - 20000 * 4);
	assert_int_equal(view__charge(&v, 1 << 20), -E2BIG);
	assert_int_equal(v.budget, 0);
	view__release(&v);
	assert_int_equal(report__print(null, &p, &ro, "deep"), 0);
	assert_int_equal(folded__write(null, &p, &plain), 0);
	/* 500 lines of 20,000 frames: 20 MB of text from one stack. */
	assert_int_equal(folded__write(null, &p, &tid), -E2BIG);
	p.expand_limit = 256 << 20;
	assert_int_equal(folded__write(null, &p, &tid), 0);
	/* A budget smaller than the stack itself: the view cannot be built. */
	p.expand_limit = 40000;
	assert_int_equal(view__build(&v, &p, &vo), -E2BIG);
	fclose(null);
	profile__release(&p);
}

static void test_callers_callees(void **state)
{
	struct fixture *f = *state;
	struct report_opts o = { .no_header = 1, .callers = "memcpy", .callees = "main" };

	check_report(&f->p, &o, 0,
		     "# callers of 'memcpy': 7 samples, 35.00% of all\n"
		     "  Share   Samples  Caller                                   Module\n"
		     " 57.14%         4  calc                                     app\n"
		     " 42.86%         3  helper                                   app\n"
		     "\n"
		     "# callees of 'main': 20 samples, 100.00% of all\n"
		     "  Share   Samples  Callee                                   Module\n"
		     " 50.00%        10  run                                      app\n"
		     " 25.00%         5  helper                                   app\n"
		     " 25.00%         5  jitted                                   perf-2.map\n");
	o = (struct report_opts){ .no_header = 1, .callees = "calc" };
	check_report(&f->p, &o, 0,
		     "# callees of 'calc': 10 samples, 50.00% of all\n"
		     "  Share   Samples  Callee                                   Module\n"
		     " 60.00%         6  [self]                                   \n"
		     " 40.00%         4  memcpy                                   libc.so.6\n");
	o = (struct report_opts){ .no_header = 1, .callers = "nosuch" };
	check_report(&f->p, &o, -ENOENT, NULL);
}

static void test_report_limits_and_name_sort(void **state)
{
	struct fixture *f = *state;
	struct view_opts vo = { .pids = { 1 }, .nr_pids = 1 };
	struct report_opts o = { .no_header = 1, .sort = REPORT_SORT_NAME, .percent_limit = 40, .view = &vo };

	/* Of pid 1's 13 samples; name order; rows whose total is below 40% left out. */
	check_report(&f->p, &o, 0,
		     "  Self%  Total%      Self     Total  Function                                 Module\n"
		     " 46.15%  76.92%         6        10  calc                                     app\n"
		     "  0.00% 100.00%         0        13  main                                     app\n"
		     " 23.08%  53.85%         3         7  memcpy                                   libc.so.6\n"
		     "  0.00%  76.92%         0        10  run                                      app\n"
		     "# 2 below --percent-limit 40%\n");
}

static void test_report_json(void **state)
{
	struct fixture *f = *state;
	struct report_opts o = { .json = 1, .top = 1 };
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	assert_non_null(fp);
	assert_int_equal(report__print(fp, &f->p, &o, "t\"1.prof"), 0);
	assert_int_equal(fclose(fp), 0);
	same("json", out,
	     "{\n"
	     "  \"profile\": \"t\\\"1.prof\",\n"
	     "  \"samples\": 20,\n"
	     "  \"shown_samples\": 20,\n"
	     "  \"lost\": 0,\n"
	     "  \"by\": \"function\",\n"
	     "  \"sort\": \"self\",\n"
	     "  \"rows\": [\n"
	     "    {\n"
	     "      \"name\": \"calc\",\n"
	     "      \"module\": \"app\",\n"
	     "      \"file\": \"a.c\",\n"
	     "      \"self\": 6,\n"
	     "      \"total\": 10,\n"
	     "      \"self_percent\": 30.0000,\n"
	     "      \"total_percent\": 50.0000\n"
	     "    }\n"
	     "  ],\n"
	     "  \"rows_left_out\": 6\n"
	     "}\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_folded_annotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folded_prefixes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folded_no_kernel_no_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folded_by_module_and_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_len, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_process_renamed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_focus_ignore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callers_callees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_limits_and_name_sort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_json, setup, teardown),
		cmocka_unit_test(test_stack_expanded_once),
		cmocka_unit_test(test_empty_stacks),
		cmocka_unit_test(test_expand_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
