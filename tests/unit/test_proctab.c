// SPDX-License-Identifier: MIT
/*
 * Unit tests for the process table (src/capture/proctab.h): a process is read once and found again,
 * its maps entries resolve to profile mappings once, an address outside the maps reads them again
 * (after the maps-change hook), an exec empties its caches, a process that is gone without maps or
 * mapping events is counted once, and forgetting the exited ones spares zombies and what 'keep' keeps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maplog.h"
#include "profile.h"
#include "proctab.h"
#include "sandbox.h"

struct fixture {
	struct profile p;
	struct sandbox *sb;
	struct maplog *log;
	struct proctab *pt;
	uint32_t changes;     /* maps-change hook calls */
	uint32_t changed_pid; /* the pid of the last */
};

static int on_change(void *ctx, uint32_t pid)
{
	struct fixture *f = ctx;

	f->changes++;
	f->changed_pid = pid;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	profile__init(&f->p);
	f->sb = sandbox__new(NULL, 0); /* in this process: no child to start */
	f->log = maplog__new();
	f->pt = f->sb && f->log ? proctab__new(&f->p, f->sb, f->log) : NULL;
	if (!f->pt)
		return -1;
	proctab__set_maps_change(f->pt, on_change, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	proctab__free(f->pt);
	maplog__free(f->log);
	sandbox__free(f->sb);
	profile__release(&f->p);
	free(f);
	return 0;
}

static pid_t dead_child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	return pid;
}

static void test_get_reads_once(void **state)
{
	struct fixture *f = *state;
	uint32_t self = (uint32_t)getpid();
	struct proctab_proc *pr, *again;
	struct proctab_stats st;
	int err;

	assert_null(proctab__find(f->pt, self));
	pr = proctab__get(f->pt, self, 0, &err);
	assert_int_equal(err, 0);
	assert_non_null(pr);
	assert_int_equal(pr->pid, self);
	assert_true(pr->maps_ok);
	assert_false(pr->gone);
	assert_true(pr->maps.nr > 0);
	assert_true(pr->uid_known);
	assert_int_equal(pr->jit.mapping, PROFILE_NONE);
	assert_int_equal(f->changes, 1); /* the first read */
	again = proctab__get(f->pt, self, 0, &err);
	assert_int_equal(err, 0);
	assert_ptr_equal(again, pr);
	assert_ptr_equal(proctab__find(f->pt, self), pr);
	assert_int_equal(proctab__count(f->pt), 1);
	assert_ptr_equal(proctab__at(f->pt, 0), pr);
	assert_null(proctab__at(f->pt, 1));
	assert_int_equal(f->changes, 1);
	proctab__stats(f->pt, &st);
	assert_int_equal(st.execs, 0);
	assert_int_equal(st.maps_unreadable, 0);
}

static void test_resolve_once(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = (uint64_t)(uintptr_t)test_resolve_once;
	const struct procmaps_entry *e;
	struct proctab_proc *pr;
	uint32_t nr_mappings;
	size_t i;
	int err;

	pr = proctab__get(f->pt, (uint32_t)getpid(), 0, &err);
	assert_non_null(pr);
	e = proctab__find_map(f->pt, pr, addr, &err);
	assert_int_equal(err, 0);
	assert_non_null(e);
	assert_true(addr >= e->start && addr < e->end);
	i = (size_t)(e - pr->maps.entries);
	assert_false(pr->pm[i].resolved);
	assert_int_equal(proctab__resolve(f->pt, pr, i), 0);
	assert_true(pr->pm[i].resolved);
	assert_non_null(pr->pm[i].elf);
	assert_int_equal(f->p.mappings[pr->pm[i].mapping].kind, PROFILE_MAP_FILE);
	assert_string_equal(profile__str(&f->p, f->p.mappings[pr->pm[i].mapping].name), e->path);
	nr_mappings = f->p.nr_mappings;
	assert_int_equal(proctab__resolve(f->pt, pr, i), 0);
	assert_int_equal(f->p.nr_mappings, nr_mappings);
}

static void test_unknown_address_reads_again(void **state)
{
	struct fixture *f = *state;
	struct proctab_proc *pr;
	int err;

	pr = proctab__get(f->pt, (uint32_t)getpid(), 0, &err);
	assert_non_null(pr);
	assert_int_equal(f->changes, 1);
	/* Stale (read "long ago"): an address in no mapping reads the maps again, hook first. */
	pr->maps_time = 0;
	assert_null(proctab__find_map(f->pt, pr, 8, &err));
	assert_int_equal(err, 0);
	assert_int_equal(f->changes, 2);
	assert_int_equal(f->changed_pid, (uint32_t)getpid());
	/* Just read: not again. */
	assert_null(proctab__find_map(f->pt, pr, 8, &err));
	assert_int_equal(f->changes, 2);
}

static void test_exec_empties_caches(void **state)
{
	struct fixture *f = *state;
	struct proctab_proc *pr;
	struct proctab_stats st;
	uint64_t v;
	int err;

	pr = proctab__get(f->pt, (uint32_t)getpid(), 0, &err);
	assert_non_null(pr);
	assert_int_equal(u64map__set(&pr->addrs, 0x1234, 7), 0);
	pr->jit.mapping = 3;
	pr->jit.tried = 1;
	assert_int_equal(proctab__exec(f->pt, pr, 2), 0);
	assert_int_equal(pr->exec_seq, 2);
	assert_false(u64map__get(&pr->addrs, 0x1234, &v));
	assert_int_equal(pr->jit.mapping, PROFILE_NONE);
	assert_false(pr->jit.tried);
	assert_int_equal(f->changes, 2); /* the maps were read again */
	proctab__stats(f->pt, &st);
	assert_int_equal(st.execs, 1);
}

static void test_gone_counted_once(void **state)
{
	struct fixture *f = *state;
	pid_t child = dead_child();
	struct proctab_proc *pr;
	struct proctab_stats st;
	int err;

	assert_int_equal(waitpid(child, NULL, 0), child);
	/* First seen after its first exec: counted as one. */
	pr = proctab__get(f->pt, (uint32_t)child, 1, &err);
	assert_int_equal(err, 0);
	assert_non_null(pr);
	assert_true(pr->gone);
	assert_false(pr->maps_ok);
	assert_int_equal(pr->maps.nr, 0);
	pr->maps_time = 0;
	assert_null(proctab__find_map(f->pt, pr, 0x1000, &err));
	assert_int_equal(err, 0);
	proctab__stats(f->pt, &st);
	assert_int_equal(st.maps_unreadable, 1);
	assert_int_equal(st.execs, 1);
}

static int keep_calls;
static uint32_t keep_pid;

static int keep_one(void *ctx, struct proctab_proc *pr)
{
	(void)ctx;
	keep_calls++;
	return pr->pid == keep_pid;
}

static void test_forget_exited(void **state)
{
	struct fixture *f = *state;
	pid_t a = dead_child(), b = dead_child();
	uint32_t self = (uint32_t)getpid();
	struct proctab_proc *pb;
	uint64_t serial_b;
	int err;

	assert_non_null(proctab__get(f->pt, self, 0, &err));
	assert_non_null(proctab__get(f->pt, (uint32_t)a, 0, &err));
	pb = proctab__get(f->pt, (uint32_t)b, 0, &err);
	assert_non_null(pb);
	serial_b = pb->serial;
	/* Zombies still have their pids: nothing to forget. */
	assert_int_equal(proctab__forget_exited(f->pt, keep_one, NULL), 0);
	assert_int_equal(keep_calls, 0);
	assert_int_equal(waitpid(a, NULL, 0), a);
	assert_int_equal(waitpid(b, NULL, 0), b);
	keep_pid = (uint32_t)b;
	assert_int_equal(proctab__forget_exited(f->pt, keep_one, NULL), 1);
	assert_int_equal(keep_calls, 2);
	assert_int_equal(proctab__count(f->pt), 2);
	assert_null(proctab__find(f->pt, (uint32_t)a));
	assert_ptr_equal(proctab__find(f->pt, (uint32_t)b), pb);
	assert_ptr_equal(proctab__at(f->pt, 0), proctab__find(f->pt, self));
	/* Without 'keep', it goes too; a pid seen again is a new process. */
	assert_int_equal(proctab__forget_exited(f->pt, NULL, NULL), 1);
	assert_int_equal(proctab__count(f->pt), 1);
	pb = proctab__get(f->pt, (uint32_t)b, 0, &err);
	assert_non_null(pb);
	assert_true(pb->serial > serial_b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_reads_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_address_reads_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_empties_caches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_counted_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_exited, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
