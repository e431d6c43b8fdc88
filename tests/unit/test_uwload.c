// SPDX-License-Identifier: MIT
/*
 * Unit tests for the unwind-table loader (src/capture/uwload.h), with a sink that stands for the BPF
 * maps: the entry of this process lists its executable file mappings, sorted, each with a run of
 * table of valid rows whose bias puts a function of this test inside it; nothing is written again while
 * the maps do not change; a second process mapping the same files builds no table; rows too few for
 * every table leave files out (counted) and tables no process uses are evicted for new ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maplog.h"
#include "profile.h"
#include "proctab.h"
#include "sandbox.h"
#include "uwload.h"
#include "uwtable.h"

struct fixture {
	struct profile p;
	struct sandbox *sb;
	struct maplog *log;
	struct proctab *pt;
	struct scorch_uw_row *tables[SCORCH_UW_TABLES]; /* the sink's tables, by slot */
	uint32_t table_nr[SCORCH_UW_TABLES];
	struct scorch_uw_proc last; /* the last entry written */
	uint32_t last_pid, writes, deletes;
	/* the tables made findable by their file, by slot */
	int keyed[SCORCH_UW_TABLES];
	struct scorch_uw_file_key keys[SCORCH_UW_TABLES];
	struct scorch_uw_file kv[SCORCH_UW_TABLES];
};

static int set_file(void *ctx, const struct scorch_uw_file_key *k, const struct scorch_uw_file *v)
{
	struct fixture *f = ctx;
	uint32_t i;

	if (v) {
		assert_true(v->table < SCORCH_UW_TABLES);
		assert_non_null(f->tables[v->table]); /* keyed once loaded */
		assert_int_equal(f->table_nr[v->table], v->nr);
		f->keyed[v->table] = 1;
		f->keys[v->table] = *k;
		f->kv[v->table] = *v;
		return 0;
	}
	for (i = 0; i < SCORCH_UW_TABLES; i++)
		if (f->keyed[i] && memcmp(&f->keys[i], k, sizeof(*k)) == 0)
			f->keyed[i] = 0;
	return 0;
}

static int set_table(void *ctx, uint32_t slot, const struct scorch_uw_row *rows, uint32_t nr)
{
	struct fixture *f = ctx;

	assert_true(slot < SCORCH_UW_TABLES);
	assert_null(f->tables[slot]); /* a slot is emptied before it is reused */
	f->tables[slot] = malloc(nr * sizeof(*rows));
	assert_non_null(f->tables[slot]);
	memcpy(f->tables[slot], rows, nr * sizeof(*rows));
	f->table_nr[slot] = nr;
	return 0;
}

static int drop_table(void *ctx, uint32_t slot)
{
	struct fixture *f = ctx;

	assert_true(slot < SCORCH_UW_TABLES);
	assert_non_null(f->tables[slot]);
	assert_false(f->keyed[slot]); /* a table is found by its file no more before its slot is emptied */
	free(f->tables[slot]);
	f->tables[slot] = NULL;
	return 0;
}

/* Empty every slot (a loader is freed with its tables loaded; the maps would go with the sampler). */
static void drop_all(struct fixture *f)
{
	uint32_t i;

	for (i = 0; i < SCORCH_UW_TABLES; i++) {
		free(f->tables[i]);
		f->tables[i] = NULL;
		f->keyed[i] = 0;
	}
}

static int set_proc(void *ctx, uint32_t pid, const struct scorch_uw_proc *p)
{
	struct fixture *f = ctx;

	if (!p->nr) {
		f->deletes++;
		return 0;
	}
	f->writes++;
	f->last_pid = pid;
	f->last = *p;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	profile__init(&f->p);
	f->sb = sandbox__new(NULL, 0);
	f->log = maplog__new();
	f->pt = f->sb && f->log ? proctab__new(&f->p, f->sb, f->log) : NULL;
	if (!f->pt)
		return -1;
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
	drop_all(f);
	free(f);
	return 0;
}

static struct uwload *loader(struct fixture *f, uint32_t cap)
{
	struct uwload_sink sink = { .cap = cap,
				    .set_table = set_table,
				    .drop_table = drop_table,
				    .set_proc = set_proc,
				    .set_file = set_file,
				    .ctx = f };
	struct uwload *u = uwload__new(f->sb, &sink);

	assert_non_null(u);
	return u;
}

/* Free a loader and, as the sampler's maps would go with it, its tables. */
static void free_loader(struct fixture *f, struct uwload *u)
{
	uwload__free(u);
	drop_all(f);
}

/* The row of entry m that covers addr, checking that the run holds it. */
static const struct scorch_uw_row *row_of(struct fixture *f, const struct scorch_uw_map *m, uint64_t addr)
{
	uint64_t rel = addr - m->bias;
	const struct scorch_uw_row *best = NULL;
	uint32_t i;

	assert_non_null(f->tables[m->table]);
	assert_int_equal(f->table_nr[m->table], m->nr);
	for (i = 0; i < m->nr; i++)
		if (f->tables[m->table][i].pc <= rel)
			best = &f->tables[m->table][i];
	return best;
}

__attribute__((noinline)) static int probe_fn(int x)
{
	return x * 7 + 3;
}

static void test_this_process(void **state)
{
	struct fixture *f = *state;
	struct proctab_proc *pr;
	struct uwload *u = loader(f, 1u << 20);
	struct uwload_stats st;
	uint64_t fn = (uint64_t)(uintptr_t)probe_fn;
	const struct scorch_uw_row *r;
	int err, found = 0, keyed = 0;
	uint32_t i;

	pr = proctab__get(f->pt, (uint32_t)getpid(), 0, &err);
	assert_non_null(pr);
	assert_int_equal(uwload__proc(u, f->pt, pr), 0);
	assert_int_equal(f->writes, 1);
	assert_int_equal(f->last_pid, (uint32_t)getpid());
	assert_true(f->last.nr >= 2); /* this test and libc at least */
	for (i = 0; i < f->last.nr; i++) {
		const struct scorch_uw_map *m = &f->last.maps[i];
		const struct procmaps_entry *e = procmaps__find(&pr->maps, m->start);

		assert_non_null(e);
		assert_true(e->perms & PROCMAPS_X);
		assert_int_equal(e->start, m->start);
		assert_int_equal(e->end, m->end);
		assert_true(i == 0 || f->last.maps[i - 1].end <= m->start);
		assert_true(m->nr >= 1 && m->table < SCORCH_UW_TABLES);
		assert_int_equal(f->table_nr[m->table], m->nr);
		assert_int_equal(uwtable__validate(f->tables[m->table], m->nr), 0);
		if (e->path[0] == '/') {
			/*
			 * Every file's table is findable by the file: its device as the kernel encodes it,
			 * inode and change time; the BPF program's row pc, address - start + offset + adj,
			 * is the entry's, address - bias.
			 */
			struct stat fst;

			assert_true(f->keyed[m->table]);
			assert_int_equal(f->keys[m->table].dev, e->dev_major << 20 | e->dev_minor);
			assert_int_equal(f->keys[m->table].ino, e->inode);
			assert_int_equal(stat(e->path, &fst), 0);
			assert_int_equal(f->keys[m->table].ctime_sec, fst.st_ctim.tv_sec);
			assert_int_equal(f->keys[m->table].ctime_nsec, fst.st_ctim.tv_nsec);
			assert_int_equal(f->kv[m->table].table, m->table);
			assert_int_equal((int64_t)(m->start - e->offset) - f->kv[m->table].adj,
					 (int64_t)m->bias);
			keyed++;
		}
		if (fn >= m->start && fn < m->end) {
			/* Function entry: the CFA is SP + 8, the return address just pushed. */
			r = row_of(f, m, fn);
			assert_non_null(r);
			assert_int_equal(r->kind, SCORCH_UW_CFA_RSP);
			assert_int_equal(r->cfa_off, 8);
			found = 1;
		}
	}
	assert_true(found);
	assert_true(keyed >= 2);
	/* Nothing changed: nothing is written again. */
	assert_int_equal(uwload__proc(u, f->pt, pr), 0);
	assert_int_equal(f->writes, 1);
	uwload__stats(u, &st);
	assert_int_equal(st.tables, f->last.nr);
	assert_int_equal(st.tables_failed, 0);
	assert_true(st.rows > 0 && st.rows == st.rows_peak);
	free_loader(f, u);
}

/* A child forked from this process maps the same files: its entry reuses every table. */
static void test_shared(void **state)
{
	struct fixture *f = *state;
	struct uwload *u = loader(f, 1u << 20);
	struct proctab_proc *pr, *child;
	struct uwload_stats st;
	uint64_t tables;
	int fds[2], err;
	pid_t pid;
	char c;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[1]);
		(void)!read(fds[0], &c, 1); /* until the parent is done */
		_exit(0);
	}
	close(fds[0]);
	pr = proctab__get(f->pt, (uint32_t)getpid(), 0, &err);
	child = proctab__get(f->pt, (uint32_t)pid, 0, &err);
	assert_non_null(pr);
	assert_non_null(child);
	/* The child first, so that forgetting it moves this process's entry in the loader. */
	assert_int_equal(uwload__proc(u, f->pt, child), 0);
	uwload__stats(u, &st);
	tables = st.tables;
	assert_int_equal(f->last_pid, (uint32_t)pid);
	assert_int_equal(uwload__proc(u, f->pt, pr), 0);
	uwload__stats(u, &st);
	assert_int_equal(st.tables, tables);
	assert_int_equal(f->writes, 2);
	assert_int_equal(f->last_pid, (uint32_t)getpid());
	close(fds[1]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	/* Gone from the table: its entry is deleted, the tables stay for the processes to come. */
	assert_int_equal(proctab__forget_exited(f->pt, NULL, NULL), 1);
	uwload__prune(u, f->pt);
	assert_int_equal(f->deletes, 1);
	uwload__stats(u, &st);
	assert_int_equal(st.tables, tables);
	assert_int_equal(st.tables_evicted, 0);
	/* This process is still known as written: nothing to write again. */
	assert_int_equal(uwload__proc(u, f->pt, pr), 0);
	assert_int_equal(f->writes, 2);
	free_loader(f, u);
}

/* Room for one table at a time: the others are left out and counted; unused ones are evicted. */
static void test_no_room(void **state)
{
	struct fixture *f = *state;
	struct uwload *u;
	struct proctab_proc *pr;
	struct uwload_stats st;
	uint32_t cap = 0, i;
	int err;

	/* As many rows as the largest table of this process: the biggest fits alone. */
	u = loader(f, 1u << 20);
	pr = proctab__get(f->pt, (uint32_t)getpid(), 0, &err);
	assert_non_null(pr);
	assert_int_equal(uwload__proc(u, f->pt, pr), 0);
	for (i = 0; i < f->last.nr; i++)
		if (f->last.maps[i].nr > cap)
			cap = f->last.maps[i].nr;
	free_loader(f, u);
	f->writes = 0;

	u = loader(f, cap);
	assert_int_equal(uwload__proc(u, f->pt, pr), 0);
	uwload__stats(u, &st);
	assert_true(st.tables >= 1);
	assert_true(st.tables_no_room >= 1);
	assert_true(st.rows_no_room >= st.tables_no_room); /* each left-out table has rows */
	assert_true(st.rows <= cap);
	for (i = 0; i < f->last.nr; i++)
		assert_int_equal(uwtable__validate(f->tables[f->last.maps[i].table], f->last.maps[i].nr), 0);
	free_loader(f, u);
}

/* The rows (all tables) a fresh loader gives process pid. */
static uint64_t rows_of(struct fixture *f, struct proctab_proc *pr)
{
	struct uwload *u = loader(f, 1u << 20);
	struct uwload_stats st;

	assert_int_equal(uwload__proc(u, f->pt, pr), 0);
	uwload__stats(u, &st);
	free_loader(f, u);
	return st.rows;
}

/*
 * Room for this process's tables alone. While this process uses them, none is evicted: a process
 * running another binary (sleep) gets no table for it (counted). Once the other process is gone, the
 * tables only it used are evicted to make room for all of this process's.
 */
static pid_t start_sleep(struct fixture *f, struct proctab_proc **pr)
{
	int err, tries;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	for (tries = 0; tries < 200; tries++) { /* until the exec has happened */
		*pr = proctab__get(f->pt, (uint32_t)pid, (uint32_t)tries, &err);
		assert_non_null(*pr);
		if ((*pr)->maps.nr && strstr((*pr)->maps.entries[0].path, "sleep"))
			return pid;
		proctab__exec(f->pt, *pr, (uint32_t)tries + 1);
		usleep(10000);
	}
	fail_msg("sleep did not start");
	return -1;
}

static void stop_sleep(struct fixture *f, pid_t pid)
{
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(proctab__forget_exited(f->pt, NULL, NULL), 1);
}

/* Executable file mappings of pr that its last entry (f->last) leaves out. */
static size_t left_out(struct fixture *f, struct proctab_proc *pr)
{
	size_t i, j, n = 0;

	for (i = 0; i < pr->maps.nr; i++) {
		const struct procmaps_entry *e = &pr->maps.entries[i];

		if (!(e->perms & PROCMAPS_X) || e->path[0] != '/')
			continue;
		for (j = 0; j < f->last.nr && f->last.maps[j].start != e->start; j++)
			;
		n += j == f->last.nr;
	}
	return n;
}

static void test_evict(void **state)
{
	struct fixture *f = *state;
	struct proctab_proc *self, *other;
	struct uwload_stats st;
	struct uwload *u;
	uint64_t cap;
	uint32_t i;
	int err;
	pid_t pid;

	self = proctab__get(f->pt, (uint32_t)getpid(), 0, &err);
	assert_non_null(self);
	cap = rows_of(f, self);

	/* This process first: everything fits; sleep's own table finds no room. */
	u = loader(f, (uint32_t)cap);
	assert_int_equal(uwload__proc(u, f->pt, self), 0);
	assert_int_equal(left_out(f, self), 0);
	pid = start_sleep(f, &other);
	assert_int_equal(uwload__proc(u, f->pt, other), 0);
	uwload__stats(u, &st);
	assert_int_equal(st.tables_evicted, 0);
	assert_int_equal(st.tables_no_room, 1);
	assert_true(st.rows_no_room > 0 && st.rows + st.rows_no_room > cap); /* sleep's own rows */
	assert_int_equal(left_out(f, other), 1);
	stop_sleep(f, pid);
	uwload__prune(u, f->pt);
	free_loader(f, u);

	/* sleep first, then gone: its tables make room for this process's. */
	u = loader(f, (uint32_t)cap);
	pid = start_sleep(f, &other);
	assert_int_equal(uwload__proc(u, f->pt, other), 0);
	stop_sleep(f, pid);
	uwload__prune(u, f->pt);
	assert_int_equal(uwload__proc(u, f->pt, self), 0);
	uwload__stats(u, &st);
	assert_true(st.tables_evicted >= 1);
	assert_true(st.rows <= cap);
	assert_int_equal(st.tables_no_room, 0);
	assert_int_equal(left_out(f, self), 0);
	for (i = 0; i < f->last.nr; i++)
		assert_int_equal(uwtable__validate(f->tables[f->last.maps[i].table], f->last.maps[i].nr), 0);
	free_loader(f, u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_this_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
