// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "clock.h"
#include "idxmap.h"
#include "log.h"
#include "maplog.h"
#include "pidwatch.h"
#include "procmaps.h"
#include "proctab.h"
#include "safeopen.h"
#include "sandbox.h"

#define MAPS_REFRESH_NS (20 * 1000 * 1000ULL)

struct proctab {
	struct profile *p;        /* borrowed */
	struct sandbox *sym;      /* borrowed: the symbolizer and unwinding service */
	const struct maplog *log; /* borrowed */
	proctab_maps_change_fn maps_change;
	void *maps_change_ctx;
	struct proctab_proc **procs; /* owned */
	size_t nr_procs, cap_procs;
	struct u64map idx; /* pid -> index + 1 */
	uint64_t serial;
	struct proctab_stats st;
};

struct proctab *proctab__new(struct profile *p, struct sandbox *sym, const struct maplog *log)
{
	struct proctab *pt = calloc(1, sizeof(*pt));

	if (!pt)
		return NULL;
	pt->p = p;
	pt->sym = sym;
	pt->log = log;
	u64map__init(&pt->idx);
	return pt;
}

static void proc_free(struct proctab_proc *pr)
{
	procmaps__release(&pr->maps);
	free(pr->pm);
	u64map__release(&pr->addrs);
	perfmap__release(&pr->jit.map);
	free(pr->jit.unnamed);
	free(pr);
}

void proctab__free(struct proctab *pt)
{
	size_t i;

	if (!pt)
		return;
	for (i = 0; i < pt->nr_procs; i++)
		proc_free(pt->procs[i]);
	free(pt->procs);
	u64map__release(&pt->idx);
	free(pt);
}

void proctab__set_maps_change(struct proctab *pt, proctab_maps_change_fn fn, void *ctx)
{
	pt->maps_change = fn;
	pt->maps_change_ctx = ctx;
}

size_t proctab__count(const struct proctab *pt)
{
	return pt->nr_procs;
}

struct proctab_proc *proctab__at(const struct proctab *pt, size_t i)
{
	return i < pt->nr_procs ? pt->procs[i] : NULL;
}

void proctab__stats(const struct proctab *pt, struct proctab_stats *out)
{
	*out = pt->st;
}

struct proctab_proc *proctab__find(const struct proctab *pt, uint32_t pid)
{
	uint64_t idx;

	return u64map__get(&pt->idx, pid, &idx) ? pt->procs[idx - 1] : NULL;
}

/* Tell the unwinding service the mappings of a process (after a read, and when a file was opened). */
static int send_maps(struct proctab *pt, struct proctab_proc *pr)
{
	struct sandbox_uw_map *m;
	size_t i;
	int err;

	if (!pr->maps.nr)
		return 0;
	m = malloc(pr->maps.nr * sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (i = 0; i < pr->maps.nr; i++) {
		const struct procmaps_entry *e = &pr->maps.entries[i];

		m[i].start = e->start;
		m[i].end = e->end;
		m[i].offset = e->offset;
		m[i].elf = pr->pm[i].elf;
		if (strcmp(e->path, "[vdso]") == 0)
			m[i].kind = SANDBOX_UW_VDSO;
		else if (e->path[0] != '/' || !e->inode)
			m[i].kind = SANDBOX_UW_NOFILE;
		else if (!pr->pm[i].resolved)
			m[i].kind = SANDBOX_UW_UNRESOLVED;
		else
			m[i].kind = pr->pm[i].elf ? SANDBOX_UW_FILE : SANDBOX_UW_NOFILE;
	}
	err = sandbox__uw_maps(pt->sym, pr->pid, m, pr->maps.nr);
	free(m);
	pr->uw_sent = !err;
	return err;
}

int proctab__want_unwind(struct proctab *pt, struct proctab_proc *pr)
{
	pr->uw_wanted = 1;
	return pr->uw_sent ? 0 : send_maps(pt, pr);
}

/*
 * Whether to look at the maps again for an address outside them: 20 ms after the last read (dlopen),
 * or at once for a gone process when mapping events came in since (its exit's may be among them).
 */
static int maps_stale(const struct proctab *pt, const struct proctab_proc *pr)
{
	return clock__mono_ns() - pr->maps_time > MAPS_REFRESH_NS ||
	       (pr->gone && maplog__generation(pt->log) != pr->log_gen);
}

/* (Re)read the maps of a process. A process that is gone keeps what was read before. */
static int read_maps(struct proctab *pt, struct proctab_proc *pr)
{
	struct procmaps m;
	struct proctab_map *pm;
	int err;

	err = pt->maps_change ? pt->maps_change(pt->maps_change_ctx, pr->pid) : 0;
	if (err)
		return err;
	pr->maps_time = clock__mono_ns();
	procmaps__init(&m);
	err = safeopen__fd_error(procmaps__read(&m, (pid_t)pr->pid));
	if (err == -ENOMEM)
		return err;
	pr->from_events = 0;
	pr->gone = err != 0;
	pr->log_gen = maplog__generation(pt->log);
	if (err) {
		/* Gone: what the mapping events said of this exec of it, if anything. */
		procmaps__release(&m);
		procmaps__init(&m);
		err = maplog__build(pt->log, pr->pid, pr->exec_seq, &m);
		if (err < 0) {
			procmaps__release(&m);
			return err;
		}
		if (!m.nr) {
			if (!pr->maps_ok && !pr->counted_unreadable) {
				pr->counted_unreadable = 1;
				pt->st.maps_unreadable++;
			}
			pr_debug(
				"cannot read the maps of pid %u (exec %u), and no mapping events name them yet",
				pr->pid, pr->exec_seq);
			procmaps__release(&m);
			return 0;
		}
		pr->from_events = 1;
		if (pr->counted_unreadable) { /* counted before its exit's events came */
			pr->counted_unreadable = 0;
			pt->st.maps_unreadable--;
		}
		if (pr->events_seq != pr->exec_seq + 1) {
			pr->events_seq = pr->exec_seq + 1;
			pt->st.maps_from_events++;
		}
	}
	if (!m.nr) {
		/* Read in the middle of an exec: look again at the next unknown address, not 20 ms later. */
		procmaps__release(&m);
		pr->maps_time = 0;
		return 0;
	}
	pm = calloc(m.nr, sizeof(*pm));
	if (!pm) {
		procmaps__release(&m);
		return -ENOMEM;
	}
	procmaps__release(&pr->maps);
	free(pr->pm);
	pr->maps = m;
	pr->pm = pm;
	pr->maps_ok = 1;
	return pr->uw_sent || pr->uw_wanted ? send_maps(pt, pr) : 0;
}

int proctab__exec(struct proctab *pt, struct proctab_proc *pr, uint32_t exec_seq)
{
	pr->exec_seq = exec_seq;
	u64map__release(&pr->addrs);
	u64map__init(&pr->addrs);
	perfmap__release(&pr->jit.map);
	perfmap__init(&pr->jit.map);
	pr->jit.tried = 0;
	pr->jit.mapping = PROFILE_NONE;
	pr->jit.nr_unnamed = 0; /* the old image's map is not the new one's */
	pt->st.execs++;
	/* Reading the maps again also empties its unwinder cache. */
	return read_maps(pt, pr);
}

struct proctab_proc *proctab__get(struct proctab *pt, uint32_t pid, uint32_t exec_seq, int *err)
{
	struct proctab_proc *pr = proctab__find(pt, pid);
	char dir[32];
	struct stat st;

	*err = 0;
	if (pr)
		return pr;
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		goto nomem;
	pr->pid = pid;
	pr->serial = ++pt->serial;
	/* First seen after an exec: its maps (or its mapping events) are of that exec. */
	pr->exec_seq = exec_seq;
	pt->st.execs += exec_seq != 0;
	pr->jit.mapping = PROFILE_NONE;
	perfmap__init(&pr->jit.map);
	snprintf(dir, sizeof(dir), "/proc/%u", pid);
	if (stat(dir, &st) == 0) {
		pr->uid = st.st_uid;
		pr->gid = st.st_gid;
		pr->uid_known = 1;
	}
	procmaps__init(&pr->maps);
	u64map__init(&pr->addrs);
	if (array__grow(&pt->procs, &pt->cap_procs, pt->nr_procs + 1, sizeof(*pt->procs)))
		goto nomem;
	pt->procs[pt->nr_procs++] = pr;
	if (u64map__set(&pt->idx, pid, pt->nr_procs))
		goto nomem_added;
	*err = read_maps(pt, pr);
	return *err ? NULL : pr;
nomem:
	free(pr);
nomem_added:
	*err = -ENOMEM;
	return NULL;
}

const struct procmaps_entry *proctab__find_map(struct proctab *pt, struct proctab_proc *pr, uint64_t addr,
					       int *err)
{
	const struct procmaps_entry *e = procmaps__find(&pr->maps, addr);

	*err = 0;
	if (!e && maps_stale(pt, pr)) {
		/* Perhaps mapped since we looked (exec, dlopen): look again. */
		*err = read_maps(pt, pr);
		if (*err)
			return NULL;
		e = procmaps__find(&pr->maps, addr);
	}
	return e;
}

int proctab__resolve(struct proctab *pt, struct proctab_proc *pr, size_t i)
{
	const struct procmaps_entry *e = &pr->maps.entries[i];
	struct proctab_map *pm = &pr->pm[i];
	const char *name = e->path;
	uint32_t kind = PROFILE_MAP_ANON;

	if (pm->resolved)
		return 0;
	pm->resolved = 1;
	if (e->path[0] == '/' && e->inode) {
		char root[32];
		int fd = -ENOENT;

		if (!pr->from_events)
			fd = safeopen__mapping(pr->pid, e->start, e->end, e->path, e->dev_major, e->dev_minor,
					       e->inode);
		if (fd < 0) {
			/* Gone (or its files out of reach): the path a mapping event gave, if the file is
			 * still it. */
			const char *path = maplog__path(pt->log, e->dev_major, e->dev_minor, e->inode);

			if (path &&
			    (fd = safeopen__identified(path, e->dev_major, e->dev_minor, e->inode)) >= 0)
				pt->st.files_from_events++;
			else if (path)
				pr_debug("not opening '%s' named by a mapping event of pid %u: %s", path,
					 pr->pid, strerror(-fd));
		}
		/* Debuginfo is looked up under the target's root, as for a live process: gone, only the
		 * debug directories remain. */
		snprintf(root, sizeof(root), "/proc/%u/root", pr->pid);
		kind = PROFILE_MAP_FILE;
		if (fd >= 0) {
			struct stat st;

			if (fstat(fd, &st) == 0) {
				pm->ctime_sec = st.st_ctim.tv_sec;
				pm->ctime_nsec = (uint32_t)st.st_ctim.tv_nsec;
			}
			pm->elf = sandbox__open_fd(pt->sym, fd, e->path, root);
			close(fd);
		}
		if (!pm->elf)
			pt->st.files_unreadable++;
	} else if (strcmp(e->path, "[vdso]") == 0) {
		kind = PROFILE_MAP_VDSO;
		pm->elf = sandbox__vdso(pt->sym);
	} else if (!e->path[0]) {
		name = "[anon]";
	}
	pm->mapping =
		profile__intern_mapping_cstr(pt->p, name, pm->elf ? sandbox__build_id(pm->elf) : "", kind);
	if (pm->mapping == PROFILE_NONE)
		return -ENOMEM;
	/* The unwinding service may now read the file (out of descriptors, it unwinds without it). */
	if (pr->uw_sent && kind == PROFILE_MAP_FILE) {
		int err = send_maps(pt, pr);

		return err == -ENOMEM ? err : 0;
	}
	return 0;
}

int proctab__uw_need(void *ctx, uint32_t pid, uint64_t addr)
{
	struct proctab *pt = ctx;
	const struct procmaps_entry *e;
	struct proctab_proc *pr = proctab__find(pt, pid);
	size_t i;
	int err;

	if (!pr)
		return 0;
	e = proctab__find_map(pt, pr, addr, &err);
	if (err)
		return err;
	if (!e)
		return 0;
	i = (size_t)(e - pr->maps.entries);
	if (pr->pm[i].resolved)
		return 1;
	/* The other mappings of the same file too (code and unwind tables are in different segments):
	 * one retry round per file, not per segment. */
	for (size_t j = 0; j < pr->maps.nr; j++) {
		const struct procmaps_entry *o = &pr->maps.entries[j];

		if (j != i && !pr->pm[j].resolved && o->inode == e->inode && o->dev_major == e->dev_major &&
		    o->dev_minor == e->dev_minor && strcmp(o->path, e->path) == 0 &&
		    (err = proctab__resolve(pt, pr, j)))
			return err;
	}
	if ((err = proctab__resolve(pt, pr, i)))
		return err;
	return 1;
}

/* Forget a process in the unwinding service too. */
static void forget(struct proctab *pt, struct proctab_proc *pr)
{
	if (pr->uw_sent)
		sandbox__uw_maps(pt->sym, pr->pid, NULL, 0);
	proc_free(pr);
}

size_t proctab__forget_exited(struct proctab *pt, int (*keep)(void *ctx, struct proctab_proc *pr), void *ctx)
{
	size_t i, n = 0, gone = 0;

	for (i = 0; i < pt->nr_procs; i++) {
		struct proctab_proc *pr = pt->procs[i];

		if (pidwatch__gone(pr->pid) && !(keep && keep(ctx, pr))) {
			forget(pt, pr);
			gone++;
			continue;
		}
		pt->procs[n++] = pr;
	}
	pt->nr_procs = n;
	if (!gone)
		return 0;
	/* The index has no removal: build it again (it only shrinks, so this cannot run out of memory
	 * unless the allocator fails on a smaller table; then lookups fall back to a fresh read). */
	u64map__release(&pt->idx);
	u64map__init(&pt->idx);
	for (i = 0; i < pt->nr_procs; i++)
		if (u64map__set(&pt->idx, pt->procs[i]->pid, i + 1)) {
			/* Out of memory: forget the rest too; they are read again when sampled. */
			size_t j;

			for (j = i; j < pt->nr_procs; j++)
				forget(pt, pt->procs[j]);
			pt->nr_procs = i;
			break;
		}
	return gone;
}
