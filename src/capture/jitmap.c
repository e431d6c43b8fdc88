// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "clock.h"
#include "jitmap.h"
#include "log.h"
#include "perfmap.h"
#include "procmaps.h"
#include "profile.h"
#include "proctab.h"

/*
 * The one perf-map read in flight, in a worker thread: the main loop never waits for a file that the
 * target wrote (and sized) to be parsed. The result goes to the process only if it is still the one
 * the read was for (serial).
 */
struct jitmap_job {
	pthread_t thread;
	int active; /* a thread was started and not joined yet */
	atomic_int done;
	uint32_t pid;
	uint64_t serial;
	char root[32], path[48];
	int in_root; /* read inside root, else in ours */
	uid_t uid;
	struct perfmap map; /* the result, owned until handed to the process */
	int err;
};

struct jitmap {
	struct profile *p;  /* borrowed */
	struct proctab *pt; /* borrowed */
	int pending;        /* some process wants its perf map read again */
	struct jitmap_job job;
	size_t next; /* where the next reload pass starts (fairness) */
	struct jitmap_stats st;
};

struct jitmap *jitmap__new(struct profile *p, struct proctab *pt)
{
	struct jitmap *jm = calloc(1, sizeof(*jm));

	if (!jm)
		return NULL;
	jm->p = p;
	jm->pt = pt;
	return jm;
}

void jitmap__free(struct jitmap *jm)
{
	if (!jm)
		return;
	if (jm->job.active)
		pthread_join(jm->job.thread, NULL);
	perfmap__release(&jm->job.map);
	free(jm);
}

void jitmap__stats(const struct jitmap *jm, struct jitmap_stats *out)
{
	*out = jm->st;
}

/* The process's id as it sees itself (the last NSpid), for the name of its perf map. */
static uint32_t own_ns_pid(uint32_t pid)
{
	char path[64], line[256];
	uint32_t nspid = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6) == 0) {
			char *last = strrchr(line, '\t');
			unsigned long v = last ? strtoul(last + 1, NULL, 10) : 0;

			if (v && v <= UINT32_MAX)
				nspid = (uint32_t)v;
			break;
		}
	}
	fclose(f);
	return nspid;
}

#define JIT_RELOAD_NS 1000000000ULL
/* Reading the maps of every process at the end of a recording stops after this long. */
#define JIT_FINAL_NS (5 * 1000 * 1000 * 1000ULL)

int jitmap__is_code(const struct procmaps_entry *e)
{
	return (e->perms & PROCMAPS_X) && !e->inode && (!e->path[0] || strncmp(e->path, "[anon:", 6) == 0);
}

/* Named after the process's perf map as perf does: "/tmp/perf-NSPID.map". */
uint32_t jitmap__mapping(struct jitmap *jm, struct proctab_proc *pr)
{
	char path[48];

	if (pr->jit.mapping != PROFILE_NONE)
		return pr->jit.mapping;
	if (!pr->nspid)
		pr->nspid = own_ns_pid(pr->pid);
	snprintf(path, sizeof(path), "/tmp/perf-%u.map", pr->nspid);
	pr->jit.mapping = profile__intern_mapping_cstr(jm->p, path, "", PROFILE_MAP_JIT);
	return pr->jit.mapping;
}

int jitmap__name(struct jitmap *jm, uint32_t loc, const struct perfmap_entry *je)
{
	struct profile_frame f = { 0 };

	f.function = profile__intern_cstr(jm->p, je->name);
	if (f.function == PROFILE_NONE)
		return -ENOMEM;
	jm->st.jit_locations++;
	return profile__set_location_frames(jm->p, loc, &f, 1);
}

/* Name the JIT locations of 'pr' that the map it holds now describes (read later than their samples). */
static int jit_rename(struct jitmap *jm, struct proctab_proc *pr)
{
	size_t i, n = 0;
	int err;

	for (i = 0; i < pr->jit.nr_unnamed; i++) {
		uint32_t loc = pr->jit.unnamed[i];
		const struct perfmap_entry *je;

		if (jm->p->locations[loc].nr_frames)
			continue;
		je = perfmap__find(&pr->jit.map, jm->p->locations[loc].addr);
		if (!je) {
			pr->jit.unnamed[n++] = loc;
			continue;
		}
		if ((err = jitmap__name(jm, loc, je)))
			return err;
		jm->st.jit_named_late++;
	}
	pr->jit.nr_unnamed = n;
	return 0;
}

/*
 * Where the perf map of 'pr' is to be read: a live process's inside its root; one that is gone, in our
 * /tmp when it shared our pid namespace (its own /tmp is out of reach), and only if it belongs to the
 * user the process had. Returns 0 when there is nothing to read.
 */
static int jit_where(struct proctab_proc *pr, struct jitmap_job *j)
{
	char dir[32];
	struct stat st;
	int fd, alive;

	if (!pr->nspid)
		pr->nspid = own_ns_pid(pr->pid);
	snprintf(j->path, sizeof(j->path), "/tmp/perf-%u.map", pr->nspid);
	snprintf(dir, sizeof(dir), "/proc/%u", pr->pid);
	snprintf(j->root, sizeof(j->root), "/proc/%u/root", pr->pid);
	/* A zombie's root cannot be opened, no more than a reaped process's. */
	fd = open(j->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	alive = fd >= 0 && stat(dir, &st) == 0;
	if (fd >= 0)
		close(fd);
	j->pid = pr->pid;
	j->serial = pr->serial;
	j->in_root = alive;
	if (alive)
		j->uid = st.st_uid;
	else if (pr->uid_known && pr->nspid == pr->pid)
		j->uid = pr->uid;
	else
		return 0;
	return 1;
}

/* Give 'pr' the result of a read of its map ('map', moved) and name its JIT code that it describes. */
static int jit_apply(struct jitmap *jm, struct proctab_proc *pr, const struct jitmap_job *j, int err,
		     struct perfmap *map)
{
	jm->st.perfmap_reads++;
	pr->jit.time = clock__mono_ns(); /* the once-a-second limit counts from the end of the read */
	if (pr->jit.exited)
		pr->jit.last_done = 1;
	if (err == -EFBIG && !pr->jit.big) {
		pr->jit.big = 1;
		jm->st.perfmap_too_large++;
		pr_warn("ignoring '%s' of pid %u: larger than %u MiB", j->path, pr->pid,
			PERFMAP_MAX_SIZE >> 20);
	} else if (err == -EPERM && !pr->jit.foreign) {
		pr->jit.foreign = 1;
		pr_warn("ignoring '%s' of pid %u: not owned by the process's user or root", j->path, pr->pid);
	} else if (err && err != -ENOENT && err != -EFBIG && err != -ENOMEM && err != -EALREADY &&
		   !pr->jit.tried) {
		pr_debug("cannot read '%s' of pid %u: %s", j->path, pr->pid, strerror(-err));
	}
	pr->jit.tried = 1;
	if (err) { /* -EALREADY: unchanged since the last read, which named what it could */
		perfmap__release(map);
		return err == -ENOMEM ? err : 0;
	}
	perfmap__release(&pr->jit.map);
	pr->jit.map = *map;
	perfmap__init(map);
	if (pr->jit.map.bad_lines)
		pr_debug("'%s' of pid %u: %zu malformed lines skipped", j->path, pr->pid,
			 pr->jit.map.bad_lines);
	return jit_rename(jm, pr);
}

/* Let a read into the empty 'to' know which file 'from' was read from (not parsed again unchanged). */
static void jit_same_file(struct perfmap *to, const struct perfmap *from)
{
	to->dev = from->dev;
	to->ino = from->ino;
	to->size = from->size;
	to->mtime_ns = from->mtime_ns;
}

/* Read the perf map of 'pr' now, in this thread (the recording has ended). Only -ENOMEM is returned. */
static int jit_load(struct jitmap *jm, struct proctab_proc *pr)
{
	struct jitmap_job j = { 0 };
	struct perfmap m;

	if (!jit_where(pr, &j)) {
		pr->jit.time = clock__mono_ns();
		if (pr->jit.exited)
			pr->jit.last_done = 1;
		return 0;
	}
	perfmap__init(&m);
	jit_same_file(&m, &pr->jit.map);
	return jit_apply(jm, pr, &j, perfmap__load(&m, j.in_root ? j.root : NULL, j.path, j.uid), &m);
}

static void *jit_worker(void *arg)
{
	struct jitmap_job *j = arg;

	j->err = perfmap__load(&j->map, j->in_root ? j->root : NULL, j->path, j->uid);
	atomic_store(&j->done, 1);
	return NULL;
}

/* Take the worker's result if it is there ('wait': wait for it). Only -ENOMEM is returned. */
static int jit_collect(struct jitmap *jm, int wait)
{
	struct jitmap_job *j = &jm->job;
	struct proctab_proc *pr;
	int err = 0;

	if (!j->active || (!wait && !atomic_load(&j->done)))
		return 0;
	pthread_join(j->thread, NULL);
	j->active = 0;
	pr = proctab__find(jm->pt, j->pid);
	if (pr && pr->serial == j->serial) {
		pr->jit.busy = 0;
		err = jit_apply(jm, pr, j, j->err, &j->map);
	}
	perfmap__release(&j->map);
	return err;
}

/* Start reading the map of 'pr' in the worker (in this thread if no thread can be started). */
static int jit_start(struct jitmap *jm, struct proctab_proc *pr)
{
	struct jitmap_job *j = &jm->job;
	sigset_t all, old;
	int err;

	if (!jit_where(pr, j)) {
		pr->jit.time = clock__mono_ns();
		if (pr->jit.exited)
			pr->jit.last_done = 1;
		return 0;
	}
	perfmap__init(&j->map);
	jit_same_file(&j->map, &pr->jit.map);
	atomic_store(&j->done, 0);
	/* Signals are for the main loop: the worker blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&j->thread, NULL, jit_worker, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pr_debug("cannot start the perf-map reader thread: %s", strerror(err));
		return jit_load(jm, pr);
	}
	j->active = 1;
	pr->jit.busy = 1;
	return 0;
}

/* The last read of a process's map (the recording ends): its unnamed JIT code. */
static int jit_final(struct jitmap *jm, struct proctab_proc *pr)
{
	pr->jit.want = 0;
	return jit_load(jm, pr);
}

/* The sample callback never reads files the target wrote. */
const struct perfmap_entry *jitmap__find(struct jitmap *jm, struct proctab_proc *pr, uint64_t addr)
{
	const struct perfmap_entry *je = perfmap__find(&pr->jit.map, addr);

	if (!je && !pr->jit.want) {
		pr->jit.want = 1;
		jm->pending = 1;
	}
	return je;
}

int jitmap__reload(struct jitmap *jm)
{
	size_t k, n = proctab__count(jm->pt);
	int err = jit_collect(jm, 0);

	if (err || jm->job.active || !jm->pending)
		return err;
	jm->pending = 0;
	for (k = 0; k < n; k++) {
		size_t at = (jm->next + k) % n;
		struct proctab_proc *pr = proctab__at(jm->pt, at);

		if (!pr->jit.want)
			continue;
		if (pr->jit.tried && !pr->jit.exited && clock__mono_ns() - pr->jit.time < JIT_RELOAD_NS) {
			jm->pending = 1;
			continue;
		}
		/* One read at a time; the next call goes on after this process. */
		pr->jit.want = 0;
		jm->next = at + 1;
		jm->pending = 1;
		return jit_start(jm, pr);
	}
	return 0;
}

int jitmap__final(struct jitmap *jm)
{
	uint64_t start = clock__mono_ns();
	size_t i;
	int err = jit_collect(jm, 1);

	for (i = 0; !err && i < proctab__count(jm->pt); i++) {
		struct proctab_proc *pr = proctab__at(jm->pt, i);

		if (!pr->jit.nr_unnamed)
			continue;
		if (clock__mono_ns() - start > JIT_FINAL_NS) {
			pr_warn("reading perf maps took too long: the JIT code of %zu processes stays unnamed",
				proctab__count(jm->pt) - i);
			break;
		}
		err = jit_final(jm, pr);
	}
	return err;
}

/* Whether process 'pr' has the HotSpot JVM mapped. */
static int is_jvm(const struct proctab_proc *pr)
{
	size_t i;

	for (i = 0; i < pr->maps.nr; i++) {
		const char *slash = strrchr(pr->maps.entries[i].path, '/');

		if (slash && strcmp(slash + 1, "libjvm.so") == 0)
			return 1;
	}
	return 0;
}

int jitmap__ask_jvms(struct jitmap *jm, int timeout_ms)
{
	size_t i;
	int asked = 0, err = jit_collect(jm, 1);

	if (err)
		return err;
	for (i = 0; i < proctab__count(jm->pt); i++) {
		struct proctab_proc *pr = proctab__at(jm->pt, i);
		char dir[32];
		struct stat st;

		snprintf(dir, sizeof(dir), "/proc/%u", pr->pid);
		if (!is_jvm(pr) || stat(dir, &st) != 0 || kill((pid_t)pr->pid, 0) != 0)
			continue;
		pr_debug("asking the JVM %u for its perf map (jcmd %u Compiler.perfmap)", pr->pid, pr->pid);
		err = perfmap__ask_jvm(pr->pid, st.st_uid, st.st_gid, timeout_ms, log__level() >= LOG_DEBUG);
		if (err == -ENOENT) {
			pr_warn("--java-perfmap: jcmd not found in PATH: Java frames of pid %u stay unnamed",
				pr->pid);
			return asked;
		}
		if (err) {
			pr_warn("--java-perfmap: 'jcmd %u Compiler.perfmap' %s (needs JDK 17 or later)",
				pr->pid,
				err == -ETIMEDOUT ? "timed out"
				: err == -EIO     ? "failed"
						  : strerror(-err));
			continue;
		}
		asked++;
		if ((err = jit_final(jm, pr)))
			return err;
	}
	return asked;
}

uint32_t jitmap__add_location(struct jitmap *jm, uint32_t mapping, uint64_t addr,
			      const struct perfmap_entry *je)
{
	struct profile_frame f = { 0 };

	f.function = profile__intern_cstr(jm->p, je->name);
	if (f.function == PROFILE_NONE)
		return PROFILE_NONE;
	jm->st.jit_locations++;
	return profile__add_location(jm->p, mapping, addr, 0, &f, 1);
}

int jitmap__note_unnamed(struct jitmap *jm, struct proctab_proc *pr, uint32_t loc)
{
	(void)jm;
	if (array__grow(&pr->jit.unnamed, &pr->jit.cap_unnamed, pr->jit.nr_unnamed + 1, sizeof(uint32_t)))
		return -ENOMEM;
	pr->jit.unnamed[pr->jit.nr_unnamed++] = loc;
	return 0;
}

int jitmap__keep_exited(void *ctx, struct proctab_proc *pr)
{
	struct jitmap *jm = ctx;

	/* JIT code not named yet: its map is read a last time first (a map written at exit). */
	if (!pr->jit.busy && !(pr->jit.nr_unnamed && !pr->jit.last_done))
		return 0;
	if (!pr->jit.exited) {
		pr->jit.exited = 1;
		pr->jit.want = 1;
		jm->pending = 1;
	}
	return 1;
}
