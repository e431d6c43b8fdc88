// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "clock.h"
#include "idxmap.h"
#include "ksyms.h"
#include "log.h"
#include "maplog.h"
#include "perfmap.h"
#include "procmaps.h"
#include "recorder.h"
#include "safeopen.h"
#include "sandbox.h"
#include "symbolizer.h"
#include "unwinder.h"

#define MAX_FRAMES 16
/*
 * Distinct threads kept apart in a profile; later ones are merged per process (threads_merged).
 * SCORCH_TEST_MAX_THREADS lowers it, for the tests only.
 */
#define MAX_THREADS 65536
#define MAPS_REFRESH_NS (20 * 1000 * 1000ULL)
/* The recorder holds 2 x 127 addresses per sample at most. */
#define MAX_DEPTH 256

/*
 * The one perf-map read in flight, in a worker thread: the main loop never waits for a file that the
 * target wrote (and sized) to be parsed. The result goes to the process only if it is still the one
 * the read was for (serial).
 */
struct jit_job {
	pthread_t thread;
	int active;          /* a thread was started and not joined yet */
	atomic_int done;
	uint32_t pid;
	uint64_t serial;
	char root[32], path[48];
	int in_root;         /* read inside root, else in ours */
	uid_t uid;
	struct perfmap map;  /* the result, owned until handed to the process */
	int err;
};

/* Samples queued for unwinding before they are sent to the unwinding service as one batch. */
#define QUEUE_MAX SANDBOX_UW_MAX_BATCH

/* A sample waiting for its user stack from the unwinding service. */
struct queued {
	uint32_t pid, tid, slot;
	uint32_t nr_kips, nr_uips;
	char comm[SCORCH_COMM_LEN];
	uint64_t kips[SCORCH_MAX_STACK], uips[SCORCH_MAX_STACK];
};

/* What one maps entry of a process resolves to, filled on first use. */
struct proc_map {
	int resolved;
	uint32_t mapping;     /* profile mapping id */
	struct sandbox_elf *elf; /* NULL when the file could not be read as ELF */
};

struct proc {
	uint32_t pid;
	int maps_ok;
	uint64_t maps_time;   /* CLOCK_MONOTONIC ns of the last read */
	struct procmaps maps;
	struct proc_map *pm;  /* owned, one per maps entry */
	struct u64map addrs;  /* runtime address -> location id (for callers: address - 1) */
	struct perfmap jit;   /* /tmp/perf-PID.map of the process, when it has one */
	int jit_tried;        /* a read was attempted (its failure has been reported) */
	int jit_want;         /* a sample missed the map: read it again, from the main loop */
	int jit_big;          /* counted in perfmap_too_large */
	int jit_foreign;      /* warned of a map owned by another user */
	uint64_t jit_time;    /* CLOCK_MONOTONIC ns at the END of the last read attempt */
	uint32_t jit_mapping; /* profile mapping id, or PROFILE_NONE */
	uint32_t nspid;       /* its pid as it sees itself (names its perf map), 0 until needed */
	uid_t uid;            /* owner of /proc/PID when first seen: whom its perf map must belong to */
	gid_t gid;
	int uid_known;
	uint32_t *jit_unnamed; /* owned: locations of its JIT code that the perf map did not name yet */
	size_t nr_jit_unnamed, cap_jit_unnamed;
	uint64_t serial;      /* unique among the processes of this recorder */
	int jit_busy;         /* its map is being read by the worker */
	int jit_exited;       /* gone: kept until its map has been read a last time */
	int jit_last_done;    /* that last read is done */
	uint32_t exec_seq;    /* the exec count its caches belong to */
	int uw_sent;          /* the unwinding service has its maps (it has had samples to unwind) */
	int uw_wanted;        /* it has had samples to unwind (when they came its maps were not known) */
	int from_events;      /* maps were built from the mapping events: the process was gone */
	uint32_t events_seq;  /* exec_seq + 1 of the last build from events counted in maps_from_events */
	int gone;             /* its /proc/PID/maps could not be read at the last try */
	int counted_unreadable; /* counted in maps_unreadable */
	uint64_t log_gen;     /* maplog__generation() at that try */
};

struct recorder {
	struct profile *p;                /* borrowed */
	struct recorder_opts opts;
	struct sandbox *sym;              /* owned: the symbolizer, in its sandboxed child */
	struct ksyms *ksyms;              /* owned, NULL when unavailable */
	int ksyms_tried;
	struct proc **procs;              /* owned */
	size_t nr_procs, cap_procs;
	struct u64map proc_idx;           /* pid -> index + 1 */
	struct u64map kaddrs;             /* kernel address -> location id */
	uint32_t unknown_mapping;         /* "[unknown]" mapping id, or PROFILE_NONE */
	uint32_t locs[MAX_DEPTH];
	/* quality counters */
	uint64_t kstack_errors, ustack_errors, truncated, maps_errors, elf_errors, jit_frames, execs;
	uint64_t threads_merged;
	uint32_t max_threads;
	/* unwinding, in the sandbox's unwinding service */
	struct queued *queue;             /* owned, QUEUE_MAX */
	uint32_t nr_queued;
	int flushing;
	uint64_t uips[MAX_DEPTH];
	uint64_t user_stacks, user_roots, unwind_truncated, unwind_depth;
	uint64_t user_stacks_cut; /* user stacks ended at a caller that cannot be code */
	/* mapping events */
	struct maplog *log;               /* owned */
	enum recorder_events events;
	int (*drain)(void *ctx);          /* brings in pending mapping events, or NULL */
	void *drain_ctx;
	uint64_t maps_from_events, files_from_events;
	/* perf maps */
	int jit_pending;                  /* some process wants its perf map read again */
	struct jit_job job;
	uint64_t proc_serial;
	size_t jit_next;                  /* where the next reload pass starts (fairness) */
	uint64_t jit_too_large, jit_reads, jit_late;
};

struct recorder *recorder__new(struct profile *p, const struct recorder_opts *opts)
{
	struct recorder *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->p = p;
	if (opts)
		r->opts = *opts;
	r->sym = sandbox__new(opts ? &opts->sym : NULL, opts ? !opts->no_sandbox : 1);
	r->queue = malloc(QUEUE_MAX * sizeof(*r->queue));
	r->log = maplog__new();
	if (!r->sym || !r->queue || !r->log) {
		maplog__free(r->log);
		sandbox__free(r->sym);
		free(r->queue);
		free(r);
		return NULL;
	}
	u64map__init(&r->proc_idx);
	u64map__init(&r->kaddrs);
	r->unknown_mapping = PROFILE_NONE;
	r->max_threads = MAX_THREADS;
	if (getenv("SCORCH_TEST_MAX_THREADS"))
		r->max_threads = (uint32_t)strtoul(getenv("SCORCH_TEST_MAX_THREADS"), NULL, 10);
	return r;
}

int recorder__start_sandbox(struct recorder *r)
{
	char why[192];
	int err = sandbox__start(r->sym, why, sizeof(why));

	if (err)
		pr_warn("cannot start the symbolizer sandbox: %s: code will be unnamed ([file+0xoffset]); "
			"--no-sandbox parses in the recorder's process", why);
	return err;
}

static void proc_free(struct proc *pr)
{
	procmaps__release(&pr->maps);
	free(pr->pm);
	u64map__release(&pr->addrs);
	perfmap__release(&pr->jit);
	free(pr->jit_unnamed);
	free(pr);
}

void recorder__free(struct recorder *r)
{
	size_t i;

	if (!r)
		return;
	if (r->job.active)
		pthread_join(r->job.thread, NULL);
	perfmap__release(&r->job.map);
	for (i = 0; i < r->nr_procs; i++)
		proc_free(r->procs[i]);
	free(r->procs);
	u64map__release(&r->proc_idx);
	u64map__release(&r->kaddrs);
	sandbox__free(r->sym);
	ksyms__free(r->ksyms);
	free(r->queue);
	maplog__free(r->log);
	free(r);
}

int recorder__add_event(struct recorder *r, const void *data, size_t size)
{
	return maplog__add_event(r->log, data, size);
}

void recorder__set_event_drain(struct recorder *r, int (*drain)(void *ctx), void *ctx)
{
	r->drain = drain;
	r->drain_ctx = ctx;
}

void recorder__set_events(struct recorder *r, enum recorder_events state)
{
	r->events = state;
}

/* Tell the unwinding service the mappings of a process (after a read, and when a file was opened). */
static int proc_send_maps(struct recorder *r, struct proc *pr)
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
	err = sandbox__uw_maps(r->sym, pr->pid, m, pr->maps.nr);
	free(m);
	pr->uw_sent = !err;
	return err;
}

/* Unwind the queued samples of 'pid' before its maps change (they were taken under the old ones). */
static int flush_pid(struct recorder *r, uint32_t pid)
{
	uint32_t k;

	for (k = 0; k < r->nr_queued; k++)
		if (r->queue[k].pid == pid)
			return recorder__flush(r);
	return 0;
}

/*
 * Whether to look at the maps again for an address outside them: 20 ms after the last read (dlopen),
 * or at once for a gone process when mapping events came in since (its exit's may be among them).
 */
static int maps_stale(struct recorder *r, const struct proc *pr)
{
	return clock__mono_ns() - pr->maps_time > MAPS_REFRESH_NS || (pr->gone && maplog__generation(r->log) != pr->log_gen);
}

/* (Re)read the maps of a process. A process that is gone keeps what was read before. */
static int proc_read_maps(struct recorder *r, struct proc *pr)
{
	struct procmaps m;
	struct proc_map *pm;
	int err;

	err = flush_pid(r, pr->pid);
	if (err)
		return err;
	pr->maps_time = clock__mono_ns();
	procmaps__init(&m);
	err = safeopen__fd_error(procmaps__read(&m, (pid_t)pr->pid));
	if (err == -ENOMEM)
		return err;
	pr->from_events = 0;
	pr->gone = err != 0;
	pr->log_gen = maplog__generation(r->log);
	if (err) {
		/* Gone: what the mapping events said of this exec of it, if anything. */
		procmaps__release(&m);
		procmaps__init(&m);
		err = maplog__build(r->log, pr->pid, pr->exec_seq, &m);
		if (err < 0) {
			procmaps__release(&m);
			return err;
		}
		if (!m.nr) {
			if (!pr->maps_ok && !pr->counted_unreadable) {
				pr->counted_unreadable = 1;
				r->maps_errors++;
			}
			pr_debug("cannot read the maps of pid %u (exec %u), and no mapping events name them yet", pr->pid, pr->exec_seq);
			procmaps__release(&m);
			return 0;
		}
		pr->from_events = 1;
		if (pr->counted_unreadable) { /* counted before its exit's events came */
			pr->counted_unreadable = 0;
			r->maps_errors--;
		}
		if (pr->events_seq != pr->exec_seq + 1) {
			pr->events_seq = pr->exec_seq + 1;
			r->maps_from_events++;
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
	return pr->uw_sent || pr->uw_wanted ? proc_send_maps(r, pr) : 0;
}

/*
 * The process exec'd: everything known of its address space is stale. Forget the cached addresses and
 * the perf map, and read the maps again (which also empties its unwinder cache). Locations already in
 * the profile stay: they name addresses of the old image correctly.
 */
static int proc_exec(struct recorder *r, struct proc *pr, uint32_t exec_seq)
{
	pr->exec_seq = exec_seq;
	u64map__release(&pr->addrs);
	u64map__init(&pr->addrs);
	perfmap__release(&pr->jit);
	perfmap__init(&pr->jit);
	pr->jit_tried = 0;
	pr->jit_mapping = PROFILE_NONE;
	pr->nr_jit_unnamed = 0; /* the old image's map is not the new one's */
	r->execs++;
	return proc_read_maps(r, pr);
}

/* Forget a process in the unwinding service too. */
static void proc_forget(struct recorder *r, struct proc *pr)
{
	if (pr->uw_sent)
		sandbox__uw_maps(r->sym, pr->pid, NULL, 0);
	proc_free(pr);
}

size_t recorder__forget_exited(struct recorder *r)
{
	size_t i, n = 0, gone = 0;

	/* Their queued samples are finished with what is known of them now. */
	if (recorder__flush(r))
		return 0;
	for (i = 0; i < r->nr_procs; i++) {
		struct proc *pr = r->procs[i];

		if (kill((pid_t)pr->pid, 0) && errno == ESRCH) {
			/* JIT code not named yet: its map is read a last time first (a map written at exit). */
			if (pr->jit_busy || (pr->nr_jit_unnamed && !pr->jit_last_done)) {
				if (!pr->jit_exited) {
					pr->jit_exited = 1;
					pr->jit_want = 1;
					r->jit_pending = 1;
				}
				r->procs[n++] = pr;
				continue;
			}
			proc_forget(r, pr);
			gone++;
			continue;
		}
		r->procs[n++] = pr;
	}
	r->nr_procs = n;
	if (!gone)
		return 0;
	/* The index has no removal: build it again (it only shrinks, so this cannot run out of memory
	 * unless the allocator fails on a smaller table; then lookups fall back to a fresh read). */
	u64map__release(&r->proc_idx);
	u64map__init(&r->proc_idx);
	for (i = 0; i < r->nr_procs; i++)
		if (u64map__set(&r->proc_idx, r->procs[i]->pid, i + 1)) {
			/* Out of memory: forget the rest too; they are read again when sampled. */
			size_t j;

			for (j = i; j < r->nr_procs; j++)
				proc_forget(r, r->procs[j]);
			r->nr_procs = i;
			break;
		}
	return gone;
}

static struct proc *get_proc(struct recorder *r, uint32_t pid, uint32_t exec_seq, int *err)
{
	struct proc *pr;
	uint64_t idx;

	*err = 0;
	if (u64map__get(&r->proc_idx, pid, &idx))
		return r->procs[idx - 1];
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		goto nomem;
	pr->pid = pid;
	pr->serial = ++r->proc_serial;
	/* First seen after an exec: its maps (or its mapping events) are of that exec. */
	pr->exec_seq = exec_seq;
	r->execs += exec_seq != 0;
	pr->jit_mapping = PROFILE_NONE;
	perfmap__init(&pr->jit);
	{
		char dir[32];
		struct stat st;

		snprintf(dir, sizeof(dir), "/proc/%u", pid);
		if (stat(dir, &st) == 0) {
			pr->uid = st.st_uid;
			pr->gid = st.st_gid;
			pr->uid_known = 1;
		}
	}
	procmaps__init(&pr->maps);
	u64map__init(&pr->addrs);
	if (r->nr_procs == r->cap_procs) {
		size_t ncap = r->cap_procs ? r->cap_procs * 2 : 16;
		struct proc **n = realloc(r->procs, ncap * sizeof(*n));

		if (!n)
			goto nomem;
		r->procs = n;
		r->cap_procs = ncap;
	}
	r->procs[r->nr_procs++] = pr;
	if (u64map__set(&r->proc_idx, pid, r->nr_procs))
		goto nomem_added;
	*err = proc_read_maps(r, pr);
	return *err ? NULL : pr;
nomem:
	free(pr);
nomem_added:
	*err = -ENOMEM;
	return NULL;
}

int recorder__add_process(struct recorder *r, uint32_t pid)
{
	int err;

	get_proc(r, pid, 0, &err);
	return err;
}

static uint32_t intern_mapping(struct recorder *r, const char *name, const char *build_id, uint32_t kind)
{
	uint32_t n = profile__intern_cstr(r->p, name);
	uint32_t b = profile__intern_cstr(r->p, build_id);

	if (n == PROFILE_NONE || b == PROFILE_NONE)
		return PROFILE_NONE;
	return profile__intern_mapping(r->p, n, b, kind);
}

static int resolve_map(struct recorder *r, struct proc *pr, size_t i)
{
	const struct procmaps_entry *e = &pr->maps.entries[i];
	struct proc_map *pm = &pr->pm[i];
	const char *name = e->path;
	uint32_t kind = PROFILE_MAP_ANON;

	pm->resolved = 1;
	if (e->path[0] == '/' && e->inode) {
		char root[32];
		int fd = -ENOENT;

		if (!pr->from_events)
			fd = safeopen__mapping(pr->pid, e->start, e->end, e->path, e->dev_major, e->dev_minor,
					       e->inode);
		if (fd < 0) {
			/* Gone (or its files out of reach): the path a mapping event gave, if the file is still it. */
			const char *path = maplog__path(r->log, e->dev_major, e->dev_minor, e->inode);

			if (path && (fd = safeopen__identified(path, e->dev_major, e->dev_minor, e->inode)) >= 0)
				r->files_from_events++;
			else if (path)
				pr_debug("not opening '%s' named by a mapping event of pid %u: %s", path, pr->pid,
					 strerror(-fd));
		}
		/* Debuginfo is looked up under the target's root, as for a live process: gone, only the
		 * debug directories remain. */
		snprintf(root, sizeof(root), "/proc/%u/root", pr->pid);
		kind = PROFILE_MAP_FILE;
		if (fd >= 0) {
			pm->elf = sandbox__open_fd(r->sym, fd, e->path, root);
			close(fd);
		}
		if (!pm->elf)
			r->elf_errors++;
	} else if (strcmp(e->path, "[vdso]") == 0) {
		kind = PROFILE_MAP_VDSO;
		pm->elf = sandbox__vdso(r->sym);
	} else if (!e->path[0]) {
		name = "[anon]";
	}
	pm->mapping = intern_mapping(r, name, pm->elf ? sandbox__build_id(pm->elf) : "", kind);
	if (pm->mapping == PROFILE_NONE)
		return -ENOMEM;
	/* The unwinding service may now read the file. */
	return pr->uw_sent && kind == PROFILE_MAP_FILE ? proc_send_maps(r, pr) : 0;
}

static uint32_t add_location(struct recorder *r, uint32_t mapping, uint64_t addr, uint32_t flags,
			     const struct sym_frame *sf, int n)
{
	struct profile_frame frames[MAX_FRAMES];
	int i;

	for (i = 0; i < n; i++) {
		frames[i].function = sf[i].function ? profile__intern_cstr(r->p, sf[i].function) : 0;
		frames[i].file = sf[i].file ? profile__intern_cstr(r->p, sf[i].file) : 0;
		frames[i].line = sf[i].line;
		frames[i].flags = sf[i].inlined ? PROFILE_FRAME_INLINE : 0;
		if (frames[i].function == PROFILE_NONE || frames[i].file == PROFILE_NONE)
			return PROFILE_NONE;
	}
	return profile__add_location(r->p, mapping, addr, flags, frames, (uint32_t)n);
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

/*
 * Whether entry 'e' is anonymous executable memory: JIT code, which only the process's perf map can
 * name ("[anon:NAME]" is anonymous memory that a process named with PR_SET_VMA_ANON_NAME).
 */
static int is_jit_code(const struct procmaps_entry *e)
{
	return (e->perms & PROCMAPS_X) && !e->inode && (!e->path[0] || strncmp(e->path, "[anon:", 6) == 0);
}

/* The process's JIT mapping, named after its perf map as perf does: "/tmp/perf-NSPID.map". */
static uint32_t jit_mapping(struct recorder *r, struct proc *pr)
{
	char path[48];

	if (pr->jit_mapping != PROFILE_NONE)
		return pr->jit_mapping;
	if (!pr->nspid)
		pr->nspid = own_ns_pid(pr->pid);
	snprintf(path, sizeof(path), "/tmp/perf-%u.map", pr->nspid);
	pr->jit_mapping = intern_mapping(r, path, "", PROFILE_MAP_JIT);
	return pr->jit_mapping;
}

/* Give location 'loc' the name of the perf-map region 'je'. */
static int jit_name_location(struct recorder *r, uint32_t loc, const struct perfmap_entry *je)
{
	struct profile_frame f = { 0 };

	f.function = profile__intern_cstr(r->p, je->name);
	if (f.function == PROFILE_NONE)
		return -ENOMEM;
	r->jit_frames++;
	return profile__set_location_frames(r->p, loc, &f, 1);
}

/* Name the JIT locations of 'pr' that the map it holds now describes (read later than their samples). */
static int jit_rename(struct recorder *r, struct proc *pr)
{
	size_t i, n = 0;
	int err;

	for (i = 0; i < pr->nr_jit_unnamed; i++) {
		uint32_t loc = pr->jit_unnamed[i];
		const struct perfmap_entry *je;

		if (r->p->locations[loc].nr_frames)
			continue;
		je = perfmap__find(&pr->jit, r->p->locations[loc].addr);
		if (!je) {
			pr->jit_unnamed[n++] = loc;
			continue;
		}
		if ((err = jit_name_location(r, loc, je)))
			return err;
		r->jit_late++;
	}
	pr->nr_jit_unnamed = n;
	return 0;
}

/*
 * Where the perf map of 'pr' is to be read: a live process's inside its root; one that is gone, in our
 * /tmp when it shared our pid namespace (its own /tmp is out of reach), and only if it belongs to the
 * user the process had. Returns 0 when there is nothing to read.
 */
static int jit_where(struct proc *pr, struct jit_job *j)
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
static int jit_apply(struct recorder *r, struct proc *pr, const struct jit_job *j, int err, struct perfmap *map)
{
	r->jit_reads++;
	pr->jit_time = clock__mono_ns(); /* the once-a-second limit counts from the end of the read */
	if (pr->jit_exited)
		pr->jit_last_done = 1;
	if (err == -EFBIG && !pr->jit_big) {
		pr->jit_big = 1;
		r->jit_too_large++;
		pr_warn("ignoring '%s' of pid %u: larger than %u MiB", j->path, pr->pid, PERFMAP_MAX_SIZE >> 20);
	} else if (err == -EPERM && !pr->jit_foreign) {
		pr->jit_foreign = 1;
		pr_warn("ignoring '%s' of pid %u: not owned by the process's user or root", j->path, pr->pid);
	} else if (err && err != -ENOENT && err != -EFBIG && err != -ENOMEM && err != -EALREADY && !pr->jit_tried) {
		pr_debug("cannot read '%s' of pid %u: %s", j->path, pr->pid, strerror(-err));
	}
	pr->jit_tried = 1;
	if (err) { /* -EALREADY: unchanged since the last read, which named what it could */
		perfmap__release(map);
		return err == -ENOMEM ? err : 0;
	}
	perfmap__release(&pr->jit);
	pr->jit = *map;
	perfmap__init(map);
	if (pr->jit.bad_lines)
		pr_debug("'%s' of pid %u: %zu malformed lines skipped", j->path, pr->pid, pr->jit.bad_lines);
	return jit_rename(r, pr);
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
static int jit_load(struct recorder *r, struct proc *pr)
{
	struct jit_job j = { 0 };
	struct perfmap m;

	if (!jit_where(pr, &j)) {
		pr->jit_time = clock__mono_ns();
		if (pr->jit_exited)
			pr->jit_last_done = 1;
		return 0;
	}
	perfmap__init(&m);
	jit_same_file(&m, &pr->jit);
	return jit_apply(r, pr, &j, perfmap__load(&m, j.in_root ? j.root : NULL, j.path, j.uid), &m);
}

static void *jit_worker(void *arg)
{
	struct jit_job *j = arg;

	j->err = perfmap__load(&j->map, j->in_root ? j->root : NULL, j->path, j->uid);
	atomic_store(&j->done, 1);
	return NULL;
}

/* Take the worker's result if it is there ('wait': wait for it). Only -ENOMEM is returned. */
static int jit_collect(struct recorder *r, int wait)
{
	struct jit_job *j = &r->job;
	struct proc *pr = NULL;
	uint64_t idx;
	int err = 0;

	if (!j->active || (!wait && !atomic_load(&j->done)))
		return 0;
	pthread_join(j->thread, NULL);
	j->active = 0;
	if (u64map__get(&r->proc_idx, j->pid, &idx) && r->procs[idx - 1]->serial == j->serial)
		pr = r->procs[idx - 1];
	if (pr) {
		pr->jit_busy = 0;
		err = jit_apply(r, pr, j, j->err, &j->map);
	}
	perfmap__release(&j->map);
	return err;
}

/* Start reading the map of 'pr' in the worker (in this thread if no thread can be started). */
static int jit_start(struct recorder *r, struct proc *pr)
{
	struct jit_job *j = &r->job;
	sigset_t all, old;
	int err;

	if (!jit_where(pr, j)) {
		pr->jit_time = clock__mono_ns();
		if (pr->jit_exited)
			pr->jit_last_done = 1;
		return 0;
	}
	perfmap__init(&j->map);
	jit_same_file(&j->map, &pr->jit);
	atomic_store(&j->done, 0);
	/* Signals are for the main loop: the worker blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&j->thread, NULL, jit_worker, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pr_debug("cannot start the perf-map reader thread: %s", strerror(err));
		return jit_load(r, pr);
	}
	j->active = 1;
	pr->jit_busy = 1;
	return 0;
}

/* The last read of a process's map (the recording ends): its unnamed JIT code. */
static int jit_final(struct recorder *r, struct proc *pr)
{
	pr->jit_want = 0;
	return jit_load(r, pr);
}

/*
 * The perf-map region holding addr, in the map as last read. A miss only asks for the map to be read
 * again (recorder__reload_perfmaps()): the sample callback never reads files the target wrote.
 */
static const struct perfmap_entry *jit_find(struct recorder *r, struct proc *pr, uint64_t addr)
{
	const struct perfmap_entry *je = perfmap__find(&pr->jit, addr);

	if (!je && !pr->jit_want) {
		pr->jit_want = 1;
		r->jit_pending = 1;
	}
	return je;
}

int recorder__reload_perfmaps(struct recorder *r)
{
	size_t k, n = r->nr_procs;
	int err = jit_collect(r, 0);

	if (err || r->job.active || !r->jit_pending)
		return err;
	r->jit_pending = 0;
	for (k = 0; k < n; k++) {
		size_t at = (r->jit_next + k) % n;
		struct proc *pr = r->procs[at];

		if (!pr->jit_want)
			continue;
		if (pr->jit_tried && !pr->jit_exited && clock__mono_ns() - pr->jit_time < JIT_RELOAD_NS) {
			r->jit_pending = 1;
			continue;
		}
		/* One read at a time; the next call goes on after this process. */
		pr->jit_want = 0;
		r->jit_next = at + 1;
		r->jit_pending = 1;
		return jit_start(r, pr);
	}
	return 0;
}

int recorder__final_perfmaps(struct recorder *r)
{
	uint64_t start = clock__mono_ns();
	size_t i;
	int err = jit_collect(r, 1);

	for (i = 0; !err && i < r->nr_procs; i++) {
		struct proc *pr = r->procs[i];

		if (!pr->nr_jit_unnamed)
			continue;
		if (clock__mono_ns() - start > JIT_FINAL_NS) {
			pr_warn("reading perf maps took too long: the JIT code of %zu processes stays unnamed",
				r->nr_procs - i);
			break;
		}
		err = jit_final(r, pr);
	}
	return err;
}

/* Whether process 'pr' has the HotSpot JVM mapped. */
static int is_jvm(const struct proc *pr)
{
	size_t i;

	for (i = 0; i < pr->maps.nr; i++) {
		const char *slash = strrchr(pr->maps.entries[i].path, '/');

		if (slash && strcmp(slash + 1, "libjvm.so") == 0)
			return 1;
	}
	return 0;
}

int recorder__ask_jvms(struct recorder *r, int timeout_ms)
{
	size_t i;
	int asked = 0, err = jit_collect(r, 1);

	if (err)
		return err;
	for (i = 0; i < r->nr_procs; i++) {
		struct proc *pr = r->procs[i];
		char dir[32];
		struct stat st;

		snprintf(dir, sizeof(dir), "/proc/%u", pr->pid);
		if (!is_jvm(pr) || stat(dir, &st) != 0 || kill((pid_t)pr->pid, 0) != 0)
			continue;
		pr_debug("asking the JVM %u for its perf map (jcmd %u Compiler.perfmap)", pr->pid, pr->pid);
		err = perfmap__ask_jvm(pr->pid, st.st_uid, st.st_gid, timeout_ms, log__level() >= LOG_DEBUG);
		if (err == -ENOENT) {
			pr_warn("--java-perfmap: jcmd not found in PATH: Java frames of pid %u stay unnamed", pr->pid);
			return asked;
		}
		if (err) {
			pr_warn("--java-perfmap: 'jcmd %u Compiler.perfmap' %s (needs JDK 17 or later)", pr->pid,
				err == -ETIMEDOUT ? "timed out" : err == -EIO ? "failed" : strerror(-err));
			continue;
		}
		asked++;
		if ((err = jit_final(r, pr)))
			return err;
	}
	return asked;
}

/* The location of user address 'addr' (already adjusted to point into the call for callers). */
static uint32_t user_location(struct recorder *r, struct proc *pr, uint64_t addr, int *err)
{
	const struct procmaps_entry *e;
	const struct perfmap_entry *je = NULL;
	struct sym_frame sf[MAX_FRAMES];
	uint64_t v, rel;
	uint32_t mapping = PROFILE_NONE, loc, flags = 0;
	size_t i;
	int n = 0, jit = 0;

	*err = 0;
	if (u64map__get(&pr->addrs, addr, &v))
		return (uint32_t)v;
	e = procmaps__find(&pr->maps, addr);
	if (!e && maps_stale(r, pr)) {
		/* Perhaps mapped since we looked (dlopen): look again. */
		*err = proc_read_maps(r, pr);
		if (*err)
			return PROFILE_NONE;
		e = procmaps__find(&pr->maps, addr);
	}
	if (e && is_jit_code(e)) {
		/* JIT code: under the process's JIT mapping, named now or when its perf map is read again. */
		i = (size_t)(e - pr->maps.entries);
		rel = addr;
		jit = 1;
	} else if (e) {
		i = (size_t)(e - pr->maps.entries);
		if (!pr->pm[i].resolved && (*err = resolve_map(r, pr, i)))
			return PROFILE_NONE;
		mapping = pr->pm[i].mapping;
		if (r->p->mappings[mapping].kind == PROFILE_MAP_FILE) {
			/* The ELF virtual address, or the file offset when the file is unreadable. */
			rel = addr - e->start + e->offset;
			if (pr->pm[i].elf && sandbox__offset_to_vaddr(pr->pm[i].elf, rel, &v) == 0)
				rel = v;
			else
				flags = PROFILE_LOC_FILE_OFFSET;
		} else if (r->p->mappings[mapping].kind == PROFILE_MAP_VDSO) {
			rel = addr - e->start;
		} else {
			rel = addr;
			i = SIZE_MAX;
		}
	} else {
		if (r->unknown_mapping == PROFILE_NONE)
			r->unknown_mapping = intern_mapping(r, "[unknown]", "", PROFILE_MAP_ANON);
		mapping = r->unknown_mapping;
		if (mapping == PROFILE_NONE)
			goto nomem;
		rel = addr;
		i = SIZE_MAX;
	}
	/* Other anonymous memory (or none) too, when the perf map says it is code. */
	if (jit || i == SIZE_MAX)
		je = jit_find(r, pr, addr);
	if (jit || je) {
		mapping = jit_mapping(r, pr);
		if (mapping == PROFILE_NONE)
			goto nomem;
	}
	loc = profile__find_location(r->p, mapping, rel);
	if (loc == PROFILE_NONE) {
		if (je) {
			memset(sf, 0, sizeof(sf[0]));
			sf[0].function = je->name;
			n = 1;
			r->jit_frames++;
		} else if (!jit && i != SIZE_MAX && pr->pm[i].elf && !flags) {
			v = rel;
			if (r->p->mappings[mapping].kind != PROFILE_MAP_VDSO ||
			    sandbox__offset_to_vaddr(pr->pm[i].elf, rel, &v) == 0)
				n = sandbox__lookup(r->sym, pr->pm[i].elf, v, sf, MAX_FRAMES);
		}
		loc = add_location(r, mapping, rel, flags, sf, n);
		if (loc == PROFILE_NONE)
			goto nomem;
	} else if (je && !r->p->locations[loc].nr_frames && (*err = jit_name_location(r, loc, je))) {
		return PROFILE_NONE;
	}
	/* Kept unnamed for now: named when the map is read again (at the latest when the process exits
	 * or the recording ends). Cached below, so listed once. */
	if (jit && !r->p->locations[loc].nr_frames &&
	    (array__grow(&pr->jit_unnamed, &pr->cap_jit_unnamed, pr->nr_jit_unnamed + 1, sizeof(uint32_t)) ||
	     (pr->jit_unnamed[pr->nr_jit_unnamed++] = loc, 0)))
		goto nomem;
	/* An address outside the maps may be mapped by the time we look again (exec, dlopen): not cached. */
	if (i != SIZE_MAX && u64map__set(&pr->addrs, addr, loc))
		goto nomem;
	return loc;
nomem:
	*err = -ENOMEM;
	return PROFILE_NONE;
}

static uint32_t kernel_location(struct recorder *r, uint64_t addr, int *err)
{
	const struct ksym *ks = NULL;
	struct sym_frame sf;
	uint32_t mapping, loc;
	uint64_t v;
	char modname[80];

	*err = 0;
	if (u64map__get(&r->kaddrs, addr, &v))
		return (uint32_t)v;
	if (!r->ksyms_tried) {
		r->ksyms_tried = 1;
		r->ksyms = ksyms__load();
		if (!r->ksyms)
			pr_warn("cannot read /proc/kallsyms (%s): kernel frames will not be named", strerror(errno));
	}
	if (r->ksyms)
		ks = ksyms__find(r->ksyms, addr);
	if (ks && ks->module)
		snprintf(modname, sizeof(modname), "[%s]", ks->module);
	else
		snprintf(modname, sizeof(modname), "[kernel.kallsyms]");
	mapping = intern_mapping(r, modname, "", PROFILE_MAP_KERNEL);
	if (mapping == PROFILE_NONE)
		goto nomem;
	loc = profile__find_location(r->p, mapping, addr);
	if (loc == PROFILE_NONE) {
		memset(&sf, 0, sizeof(sf));
		sf.function = ks ? ks->name : NULL;
		loc = add_location(r, mapping, addr, PROFILE_LOC_KERNEL, &sf, ks ? 1 : 0);
		if (loc == PROFILE_NONE)
			goto nomem;
	}
	if (u64map__set(&r->kaddrs, addr, loc))
		goto nomem;
	return loc;
nomem:
	*err = -ENOMEM;
	return PROFILE_NONE;
}

/* Count an unwind that could not step past 'ip', under the name of the file that holds it. */
static int count_unwind_failure(struct recorder *r, struct proc *pr, uint64_t ip)
{
	const struct procmaps_entry *e = procmaps__find(&pr->maps, ip);
	const char *name = !e ? "[unknown]" : !e->path[0] ? "[anon]" : e->path;
	const char *slash = strrchr(name, '/');
	char key[128];

	snprintf(key, sizeof(key), "unwind_failed:%s", slash ? slash + 1 : name);
	return profile__counter_add(r->p, key, 1) ? -ENOMEM : 0;
}

/* Whether the sample's user stack comes from (or is repaired by) the unwinder. */
static int wants_unwind(const struct recorder *r, const struct recorder_sample *s)
{
	if (!s->uregs)
		return 0;
	/* fp: only the leaf's caller is needed; the walk from RBP has the rest, perhaps without it. */
	return r->opts.call_graph != RECORDER_CG_FP ||
	       (s->nr_uips >= 1 && s->nr_uips < MAX_DEPTH && s->uips[0] == s->uregs[SCORCH_REG_RIP]);
}

/*
 * The user IPs of a sample, leaf first, according to the call-graph mode and the unwinding service's
 * result 'res' (NULL: none asked for): the frame-pointer walk as given (with the leaf's caller put back
 * from the CFI when the leaf had not pushed its frame), or the DWARF unwind of the stack copy. Points
 * *ips at s->uips, at r->uips or at the result's addresses.
 */
static int user_ips(struct recorder *r, struct proc *pr, const struct recorder_sample *s,
		    const struct sandbox_uw_result *res, const uint64_t **ips, uint32_t *nr, int *root)
{
	int err;

	*ips = s->uips;
	*nr = s->nr_uips;
	*root = 0;
	/* Lost to a failed child, or nothing unwound: the kernel's frame-pointer walk stays. */
	if (!res || res->lost || !res->nr)
		return 0;
	if (r->opts.call_graph == RECORDER_CG_FP) {
		if (res->nr == 2 && (s->nr_uips < 2 || s->uips[1] != res->ips[1])) {
			r->uips[0] = s->uips[0];
			r->uips[1] = res->ips[1];
			memcpy(r->uips + 2, s->uips + 1, (s->nr_uips - 1) * sizeof(*s->uips));
			*ips = r->uips;
			*nr = s->nr_uips + 1;
		}
		return 0;
	}
	if (res->status == UNWINDER_TRUNCATED)
		r->unwind_truncated++;
	else if (res->status == UNWINDER_DEPTH)
		r->unwind_depth++;
	if (res->status >= UNWINDER_NO_INFO && (err = count_unwind_failure(r, pr, res->fail_ip)))
		return err;
	/* auto: where neither CFI nor the frame pointer could go on, a longer kernel walk is the better guess. */
	if (r->opts.call_graph == RECORDER_CG_AUTO && res->status >= UNWINDER_NO_INFO && s->nr_uips > res->nr)
		return 0;
	*ips = res->ips;
	*nr = res->nr;
	*root = res->status == UNWINDER_ROOT;
	return 0;
}

/*
 * Whether 'addr', a caller's return address in process 'pr', cannot be code: it is in no mapping, and
 * below the lowest one or above the highest in user space. A frame-pointer walk that enters code
 * built without frame pointers steps to such garbage (0, small integers, stack contents), each
 * address a frame of its own. An address between mappings stays: it may be code mapped since the
 * maps were read (dlopen).
 */
static int impossible_caller(const struct proc *pr, uint64_t addr)
{
	const struct procmaps *m = &pr->maps;
	size_t hi = m->nr;

	/* [vsyscall] sits in the kernel's half; it is no bound of user space. */
	while (hi > 0 && m->entries[hi - 1].start >= 0xffff800000000000ULL)
		hi--;
	if (!hi)
		return 0; /* nothing known of the process */
	if (addr >= m->entries[0].start && addr < m->entries[hi - 1].end)
		return 0;
	return !procmaps__find(m, addr);
}

/* Whether the outermost user location is where threads and processes begin. */
static int is_root_location(struct recorder *r, uint32_t loc)
{
	static const char *const roots[] = { "_start", "__libc_start_main", "__libc_start_call_main",
					     "start_thread", "clone", "clone3", "__clone", "__clone3" };
	const struct profile_location *l = &r->p->locations[loc];
	const char *fn;
	size_t i;

	if (!l->nr_frames)
		return 0;
	fn = profile__str(r->p, r->p->frames[l->frame + l->nr_frames - 1].function);
	for (i = 0; fn && i < sizeof(roots) / sizeof(roots[0]); i++)
		if (strcmp(fn, roots[i]) == 0)
			return 1;
	return 0;
}

/* Put the sample into the profile, with the user stack 'res' gave (NULL: as sampled). */
static int finish_sample(struct recorder *r, const struct recorder_sample *s, struct proc *pr,
			 const struct sandbox_uw_result *res)
{
	uint32_t depth = 0, i, comm, thread, stack;
	int err = 0;

	if (!r->opts.no_kernel) {
		for (i = 0; i < s->nr_kips && depth < MAX_DEPTH; i++) {
			/* Callers are return addresses: step back into the call instruction. */
			uint64_t a = i ? s->kips[i] - 1 : s->kips[i];

			r->locs[depth] = kernel_location(r, a, &err);
			if (err)
				return err;
			depth++;
		}
	}
	if (pr) {
		const uint64_t *uips;
		uint32_t nr_uips, first = depth;
		int root;

		err = user_ips(r, pr, s, res, &uips, &nr_uips, &root);
		if (err)
			return err;
		for (i = 0; i < nr_uips && depth < MAX_DEPTH; i++) {
			/* The user leaf is a return address too when the sample hit the kernel. */
			uint64_t a = (i || s->nr_kips) && uips[i] ? uips[i] - 1 : uips[i];

			if (i && impossible_caller(pr, uips[i])) {
				r->user_stacks_cut++;
				break;
			}

			r->locs[depth] = user_location(r, pr, a, &err);
			if (err)
				return err;
			depth++;
		}
		if (depth > first) {
			r->user_stacks++;
			/* The CFI said there is no caller, or the outermost function is a known root. */
			r->user_roots += root || is_root_location(r, r->locs[depth - 1]);
		}
	}
	comm = profile__intern_str(r->p, s->comm, strnlen(s->comm, 16));
	if (comm == PROFILE_NONE)
		return -ENOMEM;
	/*
	 * Short-lived threads would grow the profile without end (a thread pool that churns makes
	 * thousands a second): past MAX_THREADS, new threads are counted as their process's tid 0.
	 */
	thread = profile__find_thread(r->p, s->pid, s->tid, comm);
	if (thread == PROFILE_NONE && r->p->nr_threads >= r->max_threads) {
		r->threads_merged++;
		thread = profile__intern_thread(r->p, s->pid, 0, comm);
	} else if (thread == PROFILE_NONE) {
		thread = profile__intern_thread(r->p, s->pid, s->tid, comm);
	}
	stack = profile__intern_stack(r->p, r->locs, depth);
	if (thread == PROFILE_NONE || stack == PROFILE_NONE)
		return -ENOMEM;
	if (profile__add_count(r->p, stack, thread, 1) == PROFILE_NONE)
		return -errno;
	return 0;
}

/*
 * Queue a sample, for the unwinding service when 'unwind' (else only to keep its place: finishing it
 * now could read maps and flush the queue from inside finish_sample()); recorder__flush() finishes it.
 */
static int queue_sample(struct recorder *r, struct proc *pr, const struct recorder_sample *s, int unwind,
			int hold)
{
	uint32_t max = r->opts.call_graph == RECORDER_CG_FP ? 2 : MAX_DEPTH / 2;
	struct queued *q;
	int slot = -1, err;

	if (unwind)
		pr->uw_wanted = 1;
	if (unwind && !pr->uw_sent && (err = proc_send_maps(r, pr)))
		return err;
	if (unwind)
		slot = sandbox__uw_queue(r->sym, pr->pid, s->uregs, s->ustack_bytes, s->ustack_size, max,
				 r->opts.call_graph == RECORDER_CG_AUTO);
	if (unwind && slot == -ENOSPC) {
		if ((err = recorder__flush(r)))
			return err;
		slot = sandbox__uw_queue(r->sym, pr->pid, s->uregs, s->ustack_bytes, s->ustack_size, max,
					 r->opts.call_graph == RECORDER_CG_AUTO);
	}
	if (slot == -ENOMEM)
		return slot;
	if (slot < 0 && !r->nr_queued && !hold)
		return finish_sample(r, s, pr, NULL);
	q = &r->queue[r->nr_queued++];
	q->pid = s->pid;
	q->tid = s->tid;
	q->slot = slot < 0 ? UINT32_MAX : (uint32_t)slot;
	memset(q->comm, 0, sizeof(q->comm));
	memcpy(q->comm, s->comm, strnlen(s->comm, sizeof(q->comm)));
	q->nr_kips = s->nr_kips < SCORCH_MAX_STACK ? s->nr_kips : SCORCH_MAX_STACK;
	q->nr_uips = s->nr_uips < SCORCH_MAX_STACK ? s->nr_uips : SCORCH_MAX_STACK;
	if (q->nr_kips) /* kips may be NULL when there are none */
		memcpy(q->kips, s->kips, q->nr_kips * sizeof(*q->kips));
	if (q->nr_uips)
		memcpy(q->uips, s->uips, q->nr_uips * sizeof(*q->uips));
	return r->nr_queued == QUEUE_MAX ? recorder__flush(r) : 0;
}

int recorder__add_sample(struct recorder *r, const struct recorder_sample *s)
{
	struct proc *pr = NULL;
	int err = 0, hold;

	if (s->kstack_error)
		r->kstack_errors++;
	if (s->ustack_error)
		r->ustack_errors++;
	if (s->kstack_truncated || s->ustack_truncated)
		r->truncated++;
	if (!r->opts.no_user && (s->nr_uips || s->uregs)) {
		pr = get_proc(r, s->pid, s->exec_seq, &err);
		if (err)
			return err;
		if (s->exec_seq != pr->exec_seq) {
			err = proc_exec(r, pr, s->exec_seq);
			if (err)
				return err;
		}
		/*
		 * Behind queued samples, every sample with user frames waits its turn. So does one of a
		 * process already gone whose mappings are not known yet: its exit's mapping events are
		 * read before the queue is flushed (capture.c).
		 */
		hold = pr->gone && !pr->maps.nr;
		if (r->nr_queued || wants_unwind(r, s) || hold)
			return queue_sample(r, pr, s, wants_unwind(r, s), hold);
	}
	return finish_sample(r, s, pr, NULL);
}

/* The unwinding service missed 'addr' of 'pid': read the maps again or open the file, as in-process. */
static int unwind_need(void *ctx, uint32_t pid, uint64_t addr)
{
	struct recorder *r = ctx;
	const struct procmaps_entry *e;
	struct proc *pr;
	uint64_t idx;
	size_t i;
	int err;

	if (!u64map__get(&r->proc_idx, pid, &idx))
		return 0;
	pr = r->procs[idx - 1];
	e = procmaps__find(&pr->maps, addr);
	if (!e && maps_stale(r, pr)) {
		/* Perhaps mapped since we looked (exec, dlopen): look again. */
		if ((err = proc_read_maps(r, pr)))
			return err;
		e = procmaps__find(&pr->maps, addr);
	}
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
		    o->dev_minor == e->dev_minor && strcmp(o->path, e->path) == 0 && (err = resolve_map(r, pr, j)))
			return err;
	}
	if ((err = resolve_map(r, pr, i)))
		return err;
	return 1;
}

int recorder__flush(struct recorder *r)
{
	uint32_t k;
	int err;

	if (r->flushing || !r->nr_queued)
		return 0;
	r->flushing = 1; /* maps read while finishing do not flush again */
	/* Processes that exited since their samples came: their mappings, before unwinding and naming. */
	err = r->drain ? r->drain(r->drain_ctx) : 0;
	if (!err)
		err = sandbox__uw_run(r->sym, unwind_need, r);
	for (k = 0; !err && k < r->nr_queued; k++) {
		const struct queued *q = &r->queue[k];
		struct recorder_sample s = {
			.pid = q->pid, .tid = q->tid, .comm = q->comm,
			.kips = q->kips, .nr_kips = q->nr_kips,
			.uips = q->uips, .nr_uips = q->nr_uips,
		};
		struct proc *pr = NULL;
		uint64_t idx;

		if (u64map__get(&r->proc_idx, q->pid, &idx))
			pr = r->procs[idx - 1];
		err = finish_sample(r, &s, pr, pr && q->slot != UINT32_MAX ? sandbox__uw_result(r->sym, q->slot) : NULL);
	}
	sandbox__uw_reset(r->sym);
	r->nr_queued = 0;
	r->flushing = 0;
	return err;
}

int recorder__store_counters(struct recorder *r)
{
	static const char *const events_state[] = { [RECORDER_EVENTS_UNAVAILABLE] = "unavailable",
						    [RECORDER_EVENTS_ON] = "yes",
						    [RECORDER_EVENTS_OFF] = "off" };
	struct profile *p = r->p;
	struct sandbox_stats ss;
	struct sandbox_uw_stats us;
	struct maplog_stats ms;

	sandbox__stats(r->sym, &ss);
	sandbox__uw_stats(r->sym, &us);
	if (profile__counter_set(p, "symbolizer_restarts", ss.restarts) ||
	    profile__counter_set(p, "symbolizer_timeouts", ss.timeouts) ||
	    profile__counter_set(p, "symbolizer_start_failed", ss.start_failures) ||
	    profile__counter_set(p, "symbolizer_outside_kills", ss.outside_kills) ||
	    profile__counter_set(p, "fd_exhausted", safeopen__fd_exhausted()))
		return -ENOMEM;

	maplog__stats(r->log, &ms);
	if (profile__counter_set(p, "maps_from_events", r->maps_from_events) ||
	    profile__counter_set(p, "files_from_events", r->files_from_events) ||
	    profile__counter_set(p, "mapping_events_received", ms.mmaps + ms.paths) ||
	    profile__counter_set(p, "mapping_events_bad", ms.bad) ||
	    profile__counter_set(p, "mapping_log_dropped", ms.maps_dropped + ms.paths_dropped) ||
	    profile__meta_set(p, "mapping_events", events_state[r->events]))
		return -ENOMEM;
	if (profile__counter_set(p, "kernel_stack_errors", r->kstack_errors) ||
	    profile__counter_set(p, "user_stack_errors", r->ustack_errors) ||
	    profile__counter_set(p, "truncated_stacks", r->truncated) ||
	    profile__counter_set(p, "maps_unreadable", r->maps_errors) ||
	    profile__counter_set(p, "files_unreadable", r->elf_errors) ||
	    profile__counter_set(p, "jit_locations", r->jit_frames) ||
	    profile__counter_set(p, "jit_named_late", r->jit_late) ||
	    profile__counter_set(p, "perfmap_reads", r->jit_reads) ||
	    profile__counter_set(p, "perfmap_too_large", r->jit_too_large) ||
	    profile__counter_set(p, "execs", r->execs) ||
	    profile__counter_set(p, "threads_merged", r->threads_merged) ||
	    profile__counter_set(p, "unwind_images_evicted", us.images_evicted) ||
	    profile__counter_set(p, "unwind_sandbox_batches", us.batches) ||
	    profile__counter_set(p, "unwind_sandbox_samples", us.samples) ||
	    profile__counter_set(p, "unwind_sandbox_retries", us.retries) ||
	    profile__counter_set(p, "unwind_sandbox_failures", us.failures) ||
	    profile__counter_set(p, "unwind_files_dropped", us.files_dropped) ||
	    profile__counter_set(p, "user_stacks", r->user_stacks) ||
	    profile__counter_set(p, "user_stacks_root", r->user_roots) ||
	    profile__counter_set(p, "unwind_truncated", r->unwind_truncated) ||
	    profile__counter_set(p, "user_stacks_cut", r->user_stacks_cut) ||
	    profile__counter_set(p, "unwind_depth_cap", r->unwind_depth) ||
	    profile__meta_setf(p, "unwind_root_share", "%.1f%%",
			       r->user_stacks ? 100.0 * (double)r->user_roots / (double)r->user_stacks : 0.0))
		return -ENOMEM;
	return 0;
}
