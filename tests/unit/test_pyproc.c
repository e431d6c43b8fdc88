// SPDX-License-Identifier: MIT
/* Unit tests for the merge of Python frames into native stacks (src/capture/pyproc.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "profile.h"
#include "pyproc.h"

static uint32_t loc(struct profile *p, const char *fn)
{
	uint32_t m = profile__intern_mapping_cstr(p, "/usr/lib/libpython3.11.so", "", PROFILE_MAP_FILE);
	struct profile_frame f = { .function = profile__intern_cstr(p, fn) };
	uint32_t l = profile__find_location(p, m, f.function);

	return l != PROFILE_NONE ? l : profile__add_location(p, m, f.function, 0, &f, 1);
}

static const char *name(struct profile *p, uint32_t l)
{
	return profile__str(p, p->frames[p->locations[l].frame].function);
}

/* "a;b;c": the functions of locs[0..n), leaf first. */
static void check(struct profile *p, const uint32_t *locs, int n, const char *want)
{
	char got[512] = "";
	int i;

	for (i = 0; i < n; i++) {
		if (i)
			strcat(got, ";");
		strcat(got, name(p, locs[i]));
	}
	assert_string_equal(got, want);
}

static void set_py(struct profile *p, struct pyproc_frames *py, const char *const *fns, const uint8_t *entry,
		   uint32_t n)
{
	uint32_t i;

	py->nr = n;
	for (i = 0; i < n; i++) {
		py->locs[i] = loc(p, fns[i]);
		py->entry[i] = entry[i];
	}
}

static void test_merge(void **state)
{
	static const char *const fns[] = { "a", "b", "c", "d", "e" };
	static const uint8_t entry[] = { 0, 1, 1, 0, 1 };
	struct profile p;
	struct pyproc *pp;
	struct pyproc_frames py;
	uint32_t locs[16];
	int n;

	(void)state;
	profile__init(&p);
	pp = pyproc__new(&p, NULL);
	assert_non_null(pp);
	set_py(&p, &py, fns, entry, 5);

	/* A kernel frame, then user frames with two evaluator calls: each takes its run, the runs
	 * left over go right after the last one placed (they are its callers'). */
	locs[0] = loc(&p, "kfunc");
	locs[1] = loc(&p, "leaf_c");
	locs[2] = loc(&p, "_PyEval_EvalFrameDefault");
	locs[3] = loc(&p, "mid_c");
	locs[4] = loc(&p, "_PyEval_EvalFrameDefault");
	locs[5] = loc(&p, "main");
	n = pyproc__merge(pp, locs, 6, 1, 16, &py);
	assert_int_equal(n, 9);
	check(&p, locs, n, "kfunc;leaf_c;a;b;mid_c;c;d;e;main");

	/* More evaluator frames than runs: the outer ones stay. */
	locs[0] = loc(&p, "_PyEval_EvalFrameDefault");
	locs[1] = loc(&p, "_PyEval_EvalFrameDefault");
	locs[2] = loc(&p, "_PyEval_EvalFrameDefault");
	locs[3] = loc(&p, "_PyEval_EvalFrameDefault");
	locs[4] = loc(&p, "main");
	n = pyproc__merge(pp, locs, 5, 0, 16, &py);
	check(&p, locs, n, "a;b;c;d;e;_PyEval_EvalFrameDefault;main");

	/* No evaluator frame (the native unwind stopped short): the Python frames at the outer end. */
	locs[0] = loc(&p, "leaf_c");
	n = pyproc__merge(pp, locs, 1, 0, 16, &py);
	check(&p, locs, n, "leaf_c;a;b;c;d;e");

	/* Cut at the room given. */
	locs[0] = loc(&p, "_PyEval_EvalFrameDefault");
	locs[1] = loc(&p, "main");
	n = pyproc__merge(pp, locs, 2, 0, 4, &py);
	check(&p, locs, n, "a;b;c;d");

	/* No Python frames: nothing changes. */
	py.nr = 0;
	locs[0] = loc(&p, "_PyEval_EvalFrameDefault");
	assert_int_equal(pyproc__merge(pp, locs, 1, 0, 16, &py), 1);
	check(&p, locs, 1, "_PyEval_EvalFrameDefault");

	pyproc__free(pp);
	profile__release(&p);
}

/* An inlined evaluator frame (the location's outer frame is another function) counts too. */
static void test_merge_inlined(void **state)
{
	static const char *const fns[] = { "f" };
	static const uint8_t entry[] = { 1 };
	struct profile p;
	struct pyproc *pp;
	struct pyproc_frames py;
	struct profile_frame fr[2] = { 0 };
	uint32_t locs[4], m;
	int n;

	(void)state;
	profile__init(&p);
	pp = pyproc__new(&p, NULL);
	set_py(&p, &py, fns, entry, 1);
	m = profile__intern_mapping_cstr(&p, "/usr/bin/python3.11", "", PROFILE_MAP_FILE);
	fr[0].function = profile__intern_cstr(&p, "_PyEval_EvalFrameDefault");
	fr[0].flags = PROFILE_FRAME_INLINE;
	fr[1].function = profile__intern_cstr(&p, "_PyEval_EvalFrame");
	locs[0] = profile__add_location(&p, m, 0x99, 0, fr, 2);
	locs[1] = loc(&p, "main");
	n = pyproc__merge(pp, locs, 2, 0, 4, &py);
	check(&p, locs, n, "f;main");
	pyproc__free(pp);
	profile__release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_merge_inlined),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
