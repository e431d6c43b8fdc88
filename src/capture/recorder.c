// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "idxmap.h"
#include "jitmap.h"
#include "ksyms.h"
#include "log.h"
#include "maplog.h"
#include "perfmap.h"
#include "procmaps.h"
#include "proctab.h"
#include "pyproc.h"
#include "recorder.h"
#include "safeopen.h"
#include "sandbox.h"
#include "symbolizer.h"
#include "testhooks.h"
#include "unwinder.h"
#include "uwload.h"

#define MAX_FRAMES 16
/*
 * Distinct threads kept apart in a profile; later ones are merged per process (threads_merged).
 * SCORCH_TEST_MAX_THREADS lowers it, for the tests only.
 */
#define MAX_THREADS 65536
/* The recorder holds 2 x 127 addresses per sample at most. */
#define MAX_DEPTH 256

/* Samples queued for unwinding before they are sent to the unwinding service as one batch. */
#define QUEUE_MAX SANDBOX_UW_MAX_BATCH

/* A sample waiting for its user stack from the unwinding service. */
struct queued {
	uint32_t pid, tid, slot;
	int unwound, uw_root;
	uint32_t nr_kips, nr_uips;
	char comm[SCORCH_COMM_LEN];
	uint64_t kips[SCORCH_MAX_STACK], uips[SCORCH_MAX_STACK];
	struct pyproc_frames py; /* named when the sample came: the code objects may not live long */
	uint64_t off_ns;         /* a wait: recorder_sample.off_ns, off_state */
	uint32_t off_state;
};

struct recorder {
	struct profile *p; /* borrowed */
	struct recorder_opts opts;
	struct sandbox *sym; /* owned: the symbolizer, in its sandboxed child */
	struct ksyms *ksyms; /* owned, NULL when unavailable */
	int ksyms_tried;
	struct proctab *procs;    /* owned: the processes, their maps and files */
	struct jitmap *jit;       /* owned: their JIT code and perf maps */
	struct u64map kaddrs;     /* kernel address -> location id */
	uint32_t unknown_mapping; /* "[unknown]" mapping id, or PROFILE_NONE */
	uint32_t locs[MAX_DEPTH];
	/* quality counters */
	uint64_t kstack_errors, ustack_errors, truncated;
	uint64_t threads_merged;
	uint32_t max_threads;
	/* unwinding, in the sandbox's unwinding service */
	struct queued *queue; /* owned, QUEUE_MAX */
	uint32_t nr_queued;
	int flushing;
	uint64_t uips[MAX_DEPTH];
	uint64_t user_stacks, user_roots, unwind_truncated, unwind_depth;
	uint64_t user_stacks_cut; /* user stacks ended at a caller that cannot be code */
	uint64_t kernel_walks;    /* -g auto kept the kernel's frame-pointer walk over a failed unwind */
	uint64_t kernel_unwound, kernel_roots; /* user stacks unwound in the kernel, and those to the root */
	uint64_t off_user_stacks, off_user_roots; /* the same as user_stacks and user_roots, of waits */
	/* in-kernel unwinding */
	struct uwload *uw;    /* owned, NULL when off */
	uint32_t uw_want[64]; /* processes whose tables to load or bring up to date */
	uint32_t nr_uw_want;
	/* mapping events */
	struct maplog *log; /* owned */
	struct pyproc *py;  /* owned, NULL when off */
	struct pyproc_frames pyf;
	enum recorder_events events;
	int (*drain)(void *ctx); /* brings in pending mapping events, or NULL */
	void *drain_ctx;
};

static int flush_pid(void *ctx, uint32_t pid);

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
	r->procs = r->sym && r->log ? proctab__new(p, r->sym, r->log) : NULL;
	r->jit = r->procs ? jitmap__new(p, r->procs) : NULL;
	if (!r->sym || !r->queue || !r->log || !r->procs || !r->jit) {
		proctab__free(r->procs);
		maplog__free(r->log);
		sandbox__free(r->sym);
		free(r->queue);
		free(r);
		return NULL;
	}
	proctab__set_maps_change(r->procs, flush_pid, r);
	u64map__init(&r->kaddrs);
	r->unknown_mapping = PROFILE_NONE;
	r->max_threads = MAX_THREADS;
	if (testhooks__set(TESTHOOK_MAX_THREADS))
		r->max_threads = (uint32_t)testhooks__num(TESTHOOK_MAX_THREADS);
	return r;
}

int recorder__start_sandbox(struct recorder *r)
{
	char why[192];
	int err = sandbox__start(r->sym, why, sizeof(why));

	if (err)
		pr_warn("cannot start the symbolizer sandbox: %s: code will be unnamed ([file+0xoffset]); "
			"--no-sandbox parses in the recorder's process",
			why);
	return err;
}

void recorder__free(struct recorder *r)
{
	if (!r)
		return;
	jitmap__free(r->jit); /* waits for its worker, which may be reading a process's map */
	pyproc__free(r->py);
	uwload__free(r->uw);
	proctab__free(r->procs);
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

/* Unwind the queued samples of 'pid' before its maps change (they were taken under the old ones). */
static int flush_pid(void *ctx, uint32_t pid)
{
	struct recorder *r = ctx;
	uint32_t k;

	for (k = 0; k < r->nr_queued; k++)
		if (r->queue[k].pid == pid)
			return recorder__flush(r);
	return 0;
}

size_t recorder__forget_exited(struct recorder *r)
{
	/* Their queued samples are finished with what is known of them now. */
	size_t n;

	if (recorder__flush(r))
		return 0;
	n = proctab__forget_exited(r->procs, jitmap__keep_exited, r->jit);
	if (n && r->uw)
		uwload__prune(r->uw, r->procs);
	if (n && r->py)
		pyproc__prune(r->py, r->procs);
	return n;
}

/* Have the tables of 'pid' loaded at the next recorder__load_tables() (at most 64 wait). */
static void want_tables(struct recorder *r, uint32_t pid)
{
	uint32_t i;

	if (!r->uw)
		return;
	for (i = 0; i < r->nr_uw_want; i++)
		if (r->uw_want[i] == pid)
			return;
	if (r->nr_uw_want < sizeof(r->uw_want) / sizeof(r->uw_want[0]))
		r->uw_want[r->nr_uw_want++] = pid;
}

int recorder__add_process(struct recorder *r, uint32_t pid)
{
	int err;

	struct proctab_proc *pr = proctab__get(r->procs, pid, 0, &err);

	if (!err)
		want_tables(r, pid);
	if (!err && r->py)
		err = pyproc__probe(r->py, r->procs, pr);
	return err;
}

int recorder__enable_tables(struct recorder *r, const struct uwload_sink *sink)
{
	r->uw = uwload__new(r->sym, sink);
	return r->uw ? 0 : -ENOMEM;
}

uint32_t recorder__python_walk(struct recorder *r, uint32_t pid, uint64_t fs_base,
			       struct scorch_py_frame *out, uint32_t *status)
{
	*status = SCORCH_PY_NONE;
	return r->py ? pyproc__walk(r->py, pid, fs_base, out, status) : 0;
}

int recorder__enable_python(struct recorder *r, const struct pyproc_sink *sink)
{
	if (r->opts.no_python)
		return 0;
	r->py = pyproc__new(r->p, sink);
	return r->py ? 0 : -ENOMEM;
}

/*
 * Building tables takes the recorder from the ring buffer (a big C++ library, 150 ms): a call loads
 * processes for at most this long, the others wait for the next call, so that a system-wide recording
 * that meets many new processes at once keeps reading samples.
 */
#define LOAD_TABLES_NS (20 * 1000 * 1000ULL)

int recorder__load_tables(struct recorder *r)
{
	uint64_t start = clock__mono_ns();
	uint32_t i;
	int err = 0;

	for (i = 0; !err && i < r->nr_uw_want; i++) {
		struct proctab_proc *pr = proctab__find(r->procs, r->uw_want[i]);
		uint64_t t0 = clock__mono_ns();

		if (i && t0 - start > LOAD_TABLES_NS)
			break;
		if (pr && (!pr->gone || pr->maps.nr)) { /* gone: its files' tables serve the next ones */
			err = uwload__proc(r->uw, r->procs, pr);
			pr_debug("unwind tables of pid %u: %.1f ms", pr->pid,
				 (double)(clock__mono_ns() - t0) / 1e6);
		}
	}
	memmove(r->uw_want, r->uw_want + i, (r->nr_uw_want - i) * sizeof(*r->uw_want));
	r->nr_uw_want -= i;
	return err == -ENOMEM ? err : 0;
}

int recorder__reload_perfmaps(struct recorder *r)
{
	return jitmap__reload(r->jit);
}

int recorder__final_perfmaps(struct recorder *r)
{
	return jitmap__final(r->jit);
}

int recorder__ask_jvms(struct recorder *r, int timeout_ms)
{
	return jitmap__ask_jvms(r->jit, timeout_ms);
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

/* The location of user address 'addr' (already adjusted to point into the call for callers). */
static uint32_t user_location(struct recorder *r, struct proctab_proc *pr, uint64_t addr, int *err)
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
	e = proctab__find_map(r->procs, pr, addr, err);
	if (*err)
		return PROFILE_NONE;
	if (e && jitmap__is_code(e)) {
		/* JIT code: under the process's JIT mapping, named now or when its perf map is read again. */
		i = (size_t)(e - pr->maps.entries);
		rel = addr;
		jit = 1;
	} else if (e) {
		i = (size_t)(e - pr->maps.entries);
		if ((*err = proctab__resolve(r->procs, pr, i)))
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
			r->unknown_mapping =
				profile__intern_mapping_cstr(r->p, "[unknown]", "", PROFILE_MAP_ANON);
		mapping = r->unknown_mapping;
		if (mapping == PROFILE_NONE)
			goto nomem;
		rel = addr;
		i = SIZE_MAX;
	}
	/* Other anonymous memory (or none) too, when the perf map says it is code. */
	if (jit || i == SIZE_MAX)
		je = jitmap__find(r->jit, pr, addr);
	if (jit || je) {
		mapping = jitmap__mapping(r->jit, pr);
		if (mapping == PROFILE_NONE)
			goto nomem;
	}
	loc = profile__find_location(r->p, mapping, rel);
	if (loc == PROFILE_NONE) {
		if (!je && !jit && i != SIZE_MAX && pr->pm[i].elf && !flags) {
			v = rel;
			if (r->p->mappings[mapping].kind != PROFILE_MAP_VDSO ||
			    sandbox__offset_to_vaddr(pr->pm[i].elf, rel, &v) == 0)
				n = sandbox__lookup(r->sym, pr->pm[i].elf, v, sf, MAX_FRAMES);
		}
		loc = je ? jitmap__add_location(r->jit, mapping, rel, je)
			 : add_location(r, mapping, rel, flags, sf, n);
		if (loc == PROFILE_NONE)
			goto nomem;
	} else if (je && !r->p->locations[loc].nr_frames && (*err = jitmap__name(r->jit, loc, je))) {
		return PROFILE_NONE;
	}
	/* Kept unnamed for now: named when the map is read again (at the latest when the process exits
	 * or the recording ends). Cached below, so listed once. */
	if (jit && !r->p->locations[loc].nr_frames && jitmap__note_unnamed(r->jit, pr, loc))
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
			pr_warn("cannot read /proc/kallsyms (%s): kernel frames will not be named",
				strerror(errno));
	}
	if (r->ksyms)
		ks = ksyms__find(r->ksyms, addr);
	if (ks && ks->module)
		snprintf(modname, sizeof(modname), "[%s]", ks->module);
	else
		snprintf(modname, sizeof(modname), "[kernel.kallsyms]");
	mapping = profile__intern_mapping_cstr(r->p, modname, "", PROFILE_MAP_KERNEL);
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
static int count_unwind_failure(struct recorder *r, struct proctab_proc *pr, uint64_t ip)
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
static int user_ips(struct recorder *r, struct proctab_proc *pr, const struct recorder_sample *s,
		    const struct sandbox_uw_result *res, const uint64_t **ips, uint32_t *nr, int *root)
{
	int err;

	*ips = s->uips;
	*nr = s->nr_uips;
	*root = s->uw_root;
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
	/* auto: where neither CFI nor the frame pointer could go on, a longer kernel walk is the better
	 * guess. */
	if (r->opts.call_graph == RECORDER_CG_AUTO && res->status >= UNWINDER_NO_INFO &&
	    s->nr_uips > res->nr) {
		r->kernel_walks++;
		return 0;
	}
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
static int impossible_caller(const struct proctab_proc *pr, uint64_t addr)
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
	static const char *const roots[] = {
		"_start",  "__libc_start_main", "__libc_start_call_main", "start_thread", "clone", "clone3",
		"__clone", "__clone3"
	};
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

/* The profile's event of a wait in state 'state' (enum scorch_off_state, checked by the sampler). */
static uint32_t off_event(uint32_t state)
{
	return state == SCORCH_OFF_DISK   ? PROFILE_EV_OFF_DISK
	       : state == SCORCH_OFF_RUNQ ? PROFILE_EV_OFF_RUNQ
					  : PROFILE_EV_OFF_SLEEP;
}

/* Put the sample into the profile, with the user stack 'res' gave (NULL: as sampled). */
static int finish_sample(struct recorder *r, const struct recorder_sample *s, struct proctab_proc *pr,
			 const struct sandbox_uw_result *res, const struct pyproc_frames *py)
{
	uint32_t depth = 0, i, comm, thread, stack;
	int err = 0, n;

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
			/* The CFI said there is no caller, or the outermost function is a known root. */
			root = root || is_root_location(r, r->locs[depth - 1]);
			r->user_stacks++;
			r->user_roots += root;
			r->off_user_stacks += !!s->off_ns;
			r->off_user_roots += s->off_ns && root;
		}
		r->kernel_unwound += s->unwound;
		r->kernel_roots += s->unwound && s->uw_root;
		if (r->py && py && py->nr) {
			n = pyproc__merge(r->py, r->locs, depth, first, MAX_DEPTH, py);
			if (n < 0)
				return n;
			depth = (uint32_t)n;
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
	if (s->off_ns)
		return profile__add_wait(r->p, off_event(s->off_state), stack, thread, 1, s->off_ns) ==
				       PROFILE_NONE
			       ? -errno
			       : 0;
	if (profile__add_count(r->p, stack, thread, 1) == PROFILE_NONE)
		return -errno;
	return 0;
}

/*
 * Queue a sample, for the unwinding service when 'unwind' (else only to keep its place: finishing it
 * now could read maps and flush the queue from inside finish_sample()); recorder__flush() finishes it.
 */
static int queue_sample(struct recorder *r, struct proctab_proc *pr, const struct recorder_sample *s,
			int unwind, int hold)
{
	uint32_t max = r->opts.call_graph == RECORDER_CG_FP ? 2 : MAX_DEPTH / 2;
	struct queued *q;
	int slot = -1, err;

	/* Only out of memory is fatal: out of descriptors, the sample keeps its frame-pointer stack. */
	if (unwind && (err = proctab__want_unwind(r->procs, pr))) {
		if (err == -ENOMEM)
			return err;
		unwind = 0;
	}
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
		return finish_sample(r, s, pr, NULL, &r->pyf);
	q = &r->queue[r->nr_queued++];
	q->pid = s->pid;
	q->tid = s->tid;
	q->slot = slot < 0 ? UINT32_MAX : (uint32_t)slot;
	q->unwound = s->unwound;
	q->uw_root = s->uw_root;
	q->off_ns = s->off_ns;
	q->off_state = s->off_state;
	memset(q->comm, 0, sizeof(q->comm));
	memcpy(q->comm, s->comm, strnlen(s->comm, sizeof(q->comm)));
	q->nr_kips = s->nr_kips < SCORCH_MAX_STACK ? s->nr_kips : SCORCH_MAX_STACK;
	q->nr_uips = s->nr_uips < SCORCH_MAX_STACK ? s->nr_uips : SCORCH_MAX_STACK;
	if (q->nr_kips) /* kips may be NULL when there are none */
		memcpy(q->kips, s->kips, q->nr_kips * sizeof(*q->kips));
	if (q->nr_uips)
		memcpy(q->uips, s->uips, q->nr_uips * sizeof(*q->uips));
	q->py.nr = r->pyf.nr;
	memcpy(q->py.locs, r->pyf.locs, r->pyf.nr * sizeof(*q->py.locs));
	memcpy(q->py.entry, r->pyf.entry, r->pyf.nr);
	return r->nr_queued == QUEUE_MAX ? recorder__flush(r) : 0;
}

int recorder__add_sample(struct recorder *r, const struct recorder_sample *s)
{
	struct proctab_proc *pr = NULL;
	int err = 0, hold;

	if (s->kstack_error)
		r->kstack_errors++;
	if (s->ustack_error)
		r->ustack_errors++;
	if (s->kstack_truncated || s->ustack_truncated)
		r->truncated++;
	if (!r->opts.no_user && (s->nr_uips || s->uregs)) {
		pr = proctab__get(r->procs, s->pid, s->exec_seq, &err);
		if (err)
			return err;
		if (s->exec_seq != pr->exec_seq) {
			err = proctab__exec(r->procs, pr, s->exec_seq);
			if (err)
				return err;
		}
		/*
		 * Behind queued samples, every sample with user frames waits its turn. So does one of a
		 * process already gone whose mappings are not known yet: its exit's mapping events are
		 * read before the queue is flushed (capture.c).
		 */
		if (s->uw_fallback)
			want_tables(r, pr->pid);
		/* Named now: the code objects the walk saw may be gone by the time the sample is finished. */
		r->pyf.nr = 0;
		if (r->py && ((err = pyproc__probe(r->py, r->procs, pr)) ||
			      (err = pyproc__name(r->py, s->pid, s->exec_seq, s->py, s->nr_py, s->py_status,
						  &r->pyf))))
			return err;
		hold = pr->gone && !pr->maps.nr;
		if (r->nr_queued || wants_unwind(r, s) || hold)
			return queue_sample(r, pr, s, wants_unwind(r, s), hold);
	}
	return finish_sample(r, s, pr, NULL, pr ? &r->pyf : NULL);
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
		err = sandbox__uw_run(r->sym, proctab__uw_need, r->procs);
	for (k = 0; !err && k < r->nr_queued; k++) {
		const struct queued *q = &r->queue[k];
		struct recorder_sample s = {
			.pid = q->pid,
			.tid = q->tid,
			.comm = q->comm,
			.kips = q->kips,
			.nr_kips = q->nr_kips,
			.uips = q->uips,
			.nr_uips = q->nr_uips,
			.unwound = q->unwound,
			.uw_root = q->uw_root,
			.off_ns = q->off_ns,
			.off_state = q->off_state,
		};
		struct proctab_proc *pr = proctab__find(r->procs, q->pid);

		err = finish_sample(r, &s, pr,
				    pr && q->slot != UINT32_MAX ? sandbox__uw_result(r->sym, q->slot) : NULL,
				    &q->py);
	}
	sandbox__uw_reset(r->sym);
	r->nr_queued = 0;
	r->flushing = 0;
	/*
	 * The tables of the processes whose samples fell back, between batches too: a reader behind on a
	 * full ring buffer unwinds batch after batch of copies, and each table loaded sooner spares the
	 * copies of the samples to come (and, by its file, those of the next processes that map it).
	 */
	if (!err && r->nr_uw_want)
		err = recorder__load_tables(r);
	return err;
}

static int count_table_file(void *ctx, const char *name, uint64_t unknown, int err)
{
	struct recorder *r = ctx;
	const char *slash = strrchr(name, '/');
	char key[128];

	snprintf(key, sizeof(key), "%s:%s", err ? "unwind_table_failed" : "unwind_rows_unknown",
		 slash ? slash + 1 : name);
	return profile__counter_set(r->p, key, err ? 1 : unknown) ? -ENOMEM : 0;
}

/* The in-kernel unwinder's tables: how many, how big, and the files it could not (wholly) use. */
static int store_table_counters(struct recorder *r)
{
	struct uwload_stats st;

	if (!r->uw)
		return 0;
	if (profile__meta_setf(r->p, "unwind_kernel_share", "%.1f%%",
			       r->user_stacks ? 100.0 * (double)r->kernel_unwound / (double)r->user_stacks
					      : 0.0))
		return -ENOMEM;
	uwload__stats(r->uw, &st);
	if (profile__counter_set(r->p, "unwind_tables", st.tables) ||
	    profile__counter_set(r->p, "unwind_tables_failed", st.tables_failed) ||
	    profile__counter_set(r->p, "unwind_tables_evicted", st.tables_evicted) ||
	    profile__counter_set(r->p, "unwind_tables_no_room", st.tables_no_room) ||
	    profile__counter_set(r->p, "unwind_table_rows_no_room", st.rows_no_room) ||
	    profile__counter_set(r->p, "unwind_table_rows_peak", st.rows_peak) ||
	    profile__counter_set(r->p, "unwind_table_procs", st.procs) ||
	    profile__counter_set(r->p, "unwind_table_maps_left_out", st.maps_left_out) ||
	    profile__counter_set(r->p, "unwind_table_files_keyed", st.files_keyed))
		return -ENOMEM;
	return uwload__each_file(r->uw, count_table_file, r);
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
	struct proctab_stats ps;
	struct jitmap_stats js;

	if (store_table_counters(r) || (r->py && pyproc__store_counters(r->py)))
		return -ENOMEM;
	sandbox__stats(r->sym, &ss);
	sandbox__uw_stats(r->sym, &us);
	if (profile__counter_set(p, "symbolizer_restarts", ss.restarts) ||
	    profile__counter_set(p, "symbolizer_timeouts", ss.timeouts) ||
	    profile__counter_set(p, "symbolizer_start_failed", ss.start_failures) ||
	    profile__counter_set(p, "symbolizer_outside_kills", ss.outside_kills) ||
	    profile__counter_set(p, "fd_exhausted", safeopen__fd_exhausted()))
		return -ENOMEM;

	maplog__stats(r->log, &ms);
	proctab__stats(r->procs, &ps);
	jitmap__stats(r->jit, &js);
	if (profile__counter_set(p, "maps_from_events", ps.maps_from_events) ||
	    profile__counter_set(p, "files_from_events", ps.files_from_events) ||
	    profile__counter_set(p, "mapping_events_received", ms.mmaps + ms.paths) ||
	    profile__counter_set(p, "mapping_events_bad", ms.bad) ||
	    profile__counter_set(p, "mapping_log_dropped", ms.maps_dropped + ms.paths_dropped) ||
	    profile__meta_set(p, "mapping_events", events_state[r->events]))
		return -ENOMEM;
	if (profile__counter_set(p, "kernel_stack_errors", r->kstack_errors) ||
	    profile__counter_set(p, "user_stack_errors", r->ustack_errors) ||
	    profile__counter_set(p, "truncated_stacks", r->truncated) ||
	    profile__counter_set(p, "maps_unreadable", ps.maps_unreadable) ||
	    profile__counter_set(p, "files_unreadable", ps.files_unreadable) ||
	    profile__counter_set(p, "jit_locations", js.jit_locations) ||
	    profile__counter_set(p, "jit_named_late", js.jit_named_late) ||
	    profile__counter_set(p, "perfmap_reads", js.perfmap_reads) ||
	    profile__counter_set(p, "perfmap_too_large", js.perfmap_too_large) ||
	    profile__counter_set(p, "execs", ps.execs) ||
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
	    profile__counter_set(p, "unwind_kernel_walk", r->kernel_walks) ||
	    profile__counter_set(p, "unwind_kernel_stacks", r->kernel_unwound) ||
	    profile__counter_set(p, "unwind_kernel_root", r->kernel_roots) ||
	    profile__counter_set(p, "unwind_depth_cap", r->unwind_depth) ||
	    profile__meta_setf(p, "unwind_root_share", "%.1f%%",
			       r->user_stacks ? 100.0 * (double)r->user_roots / (double)r->user_stacks : 0.0))
		return -ENOMEM;
	/* Only in a profile with waits: a CPU profile's counters stay as they were. */
	if (r->off_user_stacks && (profile__counter_set(p, "off_cpu_user_stacks", r->off_user_stacks) ||
				   profile__counter_set(p, "off_cpu_user_stacks_root", r->off_user_roots)))
		return -ENOMEM;
	return 0;
}
