// SPDX-License-Identifier: MIT
/*
 * Unit tests for the JIT maps of recorded processes (src/capture/jitmap.h): which maps entries are JIT
 * code, the JIT mapping named after the perf map and interned once, a miss only asking for the map to
 * be read again, and an exited process kept while JIT code of it is unnamed, until its map has been
 * read a last time. Reading real perf maps is tested through the recorder (test_recorder).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jitmap.h"
#include "maplog.h"
#include "profile.h"
#include "proctab.h"
#include "sandbox.h"

struct fixture {
	struct profile p;
	struct sandbox *sb;
	struct maplog *log;
	struct proctab *pt;
	struct jitmap *jm;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	profile__init(&f->p);
	f->sb = sandbox__new(NULL, 0);
	f->log = maplog__new();
	f->pt = f->sb && f->log ? proctab__new(&f->p, f->sb, f->log) : NULL;
	f->jm = f->pt ? jitmap__new(&f->p, f->pt) : NULL;
	if (!f->jm)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	jitmap__free(f->jm);
	proctab__free(f->pt);
	maplog__free(f->log);
	sandbox__free(f->sb);
	profile__release(&f->p);
	free(f);
	return 0;
}

static void test_is_code(void **state)
{
	struct procmaps_entry e;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.perms = PROCMAPS_R | PROCMAPS_X;
	e.path = "";
	assert_true(jitmap__is_code(&e));
	e.path = "[anon:v8 code]";
	assert_true(jitmap__is_code(&e));
	e.path = "[vdso]";
	assert_false(jitmap__is_code(&e));
	e.path = "";
	e.perms = PROCMAPS_R | PROCMAPS_W;
	assert_false(jitmap__is_code(&e));
	e.perms = PROCMAPS_R | PROCMAPS_X;
	e.inode = 42;
	e.path = "/usr/lib/libc.so.6";
	assert_false(jitmap__is_code(&e));
}

static void test_mapping_and_miss(void **state)
{
	struct fixture *f = *state;
	struct proctab_proc *pr;
	char name[48];
	uint32_t m;
	int err;

	pr = proctab__get(f->pt, (uint32_t)getpid(), 0, &err);
	assert_non_null(pr);
	m = jitmap__mapping(f->jm, pr);
	assert_int_not_equal(m, PROFILE_NONE);
	assert_int_equal(f->p.mappings[m].kind, PROFILE_MAP_JIT);
	snprintf(name, sizeof(name), "/tmp/perf-%u.map", pr->nspid);
	assert_string_equal(profile__str(&f->p, f->p.mappings[m].name), name);
	assert_int_equal(jitmap__mapping(f->jm, pr), m);
	/* No map read: a miss, which only asks for a read. */
	assert_false(pr->jit.want);
	assert_null(jitmap__find(f->jm, pr, 0x1000));
	assert_true(pr->jit.want);
}

static void test_keep_exited(void **state)
{
	struct fixture *f = *state;
	struct proctab_proc *pr;
	int err;

	pr = proctab__get(f->pt, (uint32_t)getpid(), 0, &err);
	assert_non_null(pr);
	/* Nothing unnamed: not kept. */
	assert_false(jitmap__keep_exited(f->jm, pr));
	assert_false(pr->jit.exited);
	assert_int_equal(jitmap__note_unnamed(f->jm, pr, 3), 0);
	assert_int_equal(pr->jit.nr_unnamed, 1);
	/* Unnamed JIT code: kept, and its map asked to be read a last time. */
	assert_true(jitmap__keep_exited(f->jm, pr));
	assert_true(pr->jit.exited);
	assert_true(pr->jit.want);
	assert_true(jitmap__keep_exited(f->jm, pr));
	/* That read done: let go. */
	pr->jit.last_done = 1;
	assert_false(jitmap__keep_exited(f->jm, pr));
	/* A read in flight keeps it in any case. */
	pr->jit.busy = 1;
	assert_true(jitmap__keep_exited(f->jm, pr));
	pr->jit.busy = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_code),
		cmocka_unit_test_setup_teardown(test_mapping_and_miss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_exited, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
