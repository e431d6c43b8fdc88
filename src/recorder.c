// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "idxmap.h"
#include "ksyms.h"
#include "log.h"
#include "perfmap.h"
#include "procmaps.h"
#include "recorder.h"
#include "safeopen.h"
#include "symbolizer.h"

#define MAX_FRAMES 16
#define MAPS_REFRESH_NS (20 * 1000 * 1000ULL)
/* The recorder holds 2 x 127 addresses per sample at most. */
#define MAX_DEPTH 256

/* What one maps entry of a process resolves to, filled on first use. */
struct proc_map {
	int resolved;
	uint32_t mapping;     /* profile mapping id */
	struct sym_elf *elf;  /* NULL when the file could not be read as ELF */
};

struct proc {
	uint32_t pid;
	int maps_ok;
	uint64_t maps_time;   /* CLOCK_MONOTONIC ns of the last read */
	struct procmaps maps;
	struct proc_map *pm;  /* owned, one per maps entry */
	struct u64map addrs;  /* runtime address -> location id (for callers: address - 1) */
	struct perfmap jit;   /* /tmp/perf-PID.map of the process, when it has one */
	int jit_tried;
	uint64_t jit_time;    /* CLOCK_MONOTONIC ns of the last load attempt */
	uint32_t jit_mapping; /* profile mapping id, or PROFILE_NONE */
};

struct recorder {
	struct profile *p;                /* borrowed */
	struct recorder_opts opts;
	struct symbolizer *sym;           /* owned */
	struct ksyms *ksyms;              /* owned, NULL when unavailable */
	int ksyms_tried;
	struct proc **procs;              /* owned */
	size_t nr_procs, cap_procs;
	struct u64map proc_idx;           /* pid -> index + 1 */
	struct u64map kaddrs;             /* kernel address -> location id */
	uint32_t unknown_mapping;         /* "[unknown]" mapping id, or PROFILE_NONE */
	uint32_t locs[MAX_DEPTH];
	/* quality counters */
	uint64_t kstack_errors, ustack_errors, truncated, maps_errors, elf_errors, jit_frames;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct recorder *recorder__new(struct profile *p, const struct recorder_opts *opts)
{
	struct recorder *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->p = p;
	if (opts)
		r->opts = *opts;
	r->sym = symbolizer__new(opts ? &opts->sym : NULL);
	if (!r->sym) {
		free(r);
		return NULL;
	}
	u64map__init(&r->proc_idx);
	u64map__init(&r->kaddrs);
	r->unknown_mapping = PROFILE_NONE;
	return r;
}

static void proc_free(struct proc *pr)
{
	procmaps__release(&pr->maps);
	free(pr->pm);
	u64map__release(&pr->addrs);
	perfmap__release(&pr->jit);
	free(pr);
}

void recorder__free(struct recorder *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nr_procs; i++)
		proc_free(r->procs[i]);
	free(r->procs);
	u64map__release(&r->proc_idx);
	u64map__release(&r->kaddrs);
	symbolizer__free(r->sym);
	ksyms__free(r->ksyms);
	free(r);
}

/* (Re)read the maps of a process. A process that is gone keeps what was read before. */
static int proc_read_maps(struct recorder *r, struct proc *pr)
{
	struct procmaps m;
	struct proc_map *pm;
	int err;

	pr->maps_time = now_ns();
	procmaps__init(&m);
	err = procmaps__read(&m, (pid_t)pr->pid);
	if (err == -ENOMEM)
		return err;
	if (err) {
		if (!pr->maps_ok)
			r->maps_errors++;
		pr_debug("cannot read the maps of pid %u: %s", pr->pid, strerror(-err));
		return 0;
	}
	pm = calloc(m.nr ? m.nr : 1, sizeof(*pm));
	if (!pm) {
		procmaps__release(&m);
		return -ENOMEM;
	}
	procmaps__release(&pr->maps);
	free(pr->pm);
	pr->maps = m;
	pr->pm = pm;
	pr->maps_ok = 1;
	return 0;
}

static struct proc *get_proc(struct recorder *r, uint32_t pid, int *err)
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
	pr->jit_mapping = PROFILE_NONE;
	perfmap__init(&pr->jit);
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

	get_proc(r, pid, &err);
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
		int fd = safeopen__mapping(pr->pid, e->start, e->end, e->path, e->dev_major, e->dev_minor,
					   e->inode);

		snprintf(root, sizeof(root), "/proc/%u/root", pr->pid);
		kind = PROFILE_MAP_FILE;
		if (fd >= 0) {
			pm->elf = symbolizer__open_fd(r->sym, fd, e->path, root);
			close(fd);
		}
		if (!pm->elf)
			r->elf_errors++;
	} else if (strcmp(e->path, "[vdso]") == 0) {
		kind = PROFILE_MAP_VDSO;
		pm->elf = symbolizer__vdso(r->sym);
	} else if (!e->path[0]) {
		name = "[anon]";
	}
	pm->mapping = intern_mapping(r, name, pm->elf ? symbolizer__build_id(pm->elf) : "", kind);
	return pm->mapping == PROFILE_NONE ? -ENOMEM : 0;
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

/* The perf-map region holding addr, loading (or, after a miss, reloading) the map at most once a second. */
static const struct perfmap_entry *jit_find(struct recorder *r, struct proc *pr, uint64_t addr)
{
	const struct perfmap_entry *je = pr->jit_tried ? perfmap__find(&pr->jit, addr) : NULL;
	char root[32], path[48], proc[32];
	struct stat st;
	int err;

	if (je || (pr->jit_tried && now_ns() - pr->jit_time < JIT_RELOAD_NS))
		return je;
	pr->jit_time = now_ns();
	snprintf(proc, sizeof(proc), "/proc/%u", pr->pid);
	snprintf(root, sizeof(root), "/proc/%u/root", pr->pid);
	snprintf(path, sizeof(path), "/tmp/perf-%u.map", own_ns_pid(pr->pid));
	if (stat(proc, &st) != 0)
		return NULL;
	err = perfmap__load(&pr->jit, root, path, st.st_uid);
	if (err == -EPERM && !pr->jit_tried)
		pr_warn("ignoring '%s' of pid %u: not owned by the process's user or root", path, pr->pid);
	else if (err && err != -ENOENT && !pr->jit_tried)
		pr_debug("cannot read '%s' of pid %u: %s", path, pr->pid, strerror(-err));
	pr->jit_tried = 1;
	if (err)
		return NULL;
	if (pr->jit.bad_lines)
		pr_debug("'%s' of pid %u: %zu malformed lines skipped", path, pr->pid, pr->jit.bad_lines);
	if (pr->jit_mapping == PROFILE_NONE)
		pr->jit_mapping = intern_mapping(r, path, "", PROFILE_MAP_JIT);
	return pr->jit_mapping == PROFILE_NONE ? NULL : perfmap__find(&pr->jit, addr);
}

/* The location of user address 'addr' (already adjusted to point into the call for callers). */
static uint32_t user_location(struct recorder *r, struct proc *pr, uint64_t addr, int *err)
{
	const struct procmaps_entry *e;
	const struct perfmap_entry *je = NULL;
	struct sym_frame sf[MAX_FRAMES];
	uint64_t v, rel;
	uint32_t mapping, loc, flags = 0;
	size_t i;
	int n = 0;

	*err = 0;
	if (u64map__get(&pr->addrs, addr, &v))
		return (uint32_t)v;
	e = procmaps__find(&pr->maps, addr);
	if (!e && now_ns() - pr->maps_time > MAPS_REFRESH_NS) {
		/* Perhaps mapped since we looked (dlopen): look again. */
		*err = proc_read_maps(r, pr);
		if (*err)
			return PROFILE_NONE;
		e = procmaps__find(&pr->maps, addr);
	}
	if (e) {
		i = (size_t)(e - pr->maps.entries);
		if (!pr->pm[i].resolved && (*err = resolve_map(r, pr, i)))
			return PROFILE_NONE;
		mapping = pr->pm[i].mapping;
		if (r->p->mappings[mapping].kind == PROFILE_MAP_FILE) {
			/* The ELF virtual address, or the file offset when the file is unreadable. */
			rel = addr - e->start + e->offset;
			if (pr->pm[i].elf && symbolizer__offset_to_vaddr(pr->pm[i].elf, rel, &v) == 0)
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
	/* Anonymous memory (or none): JIT code, when the process describes it in a perf map. */
	if (i == SIZE_MAX && (je = jit_find(r, pr, addr)) != NULL)
		mapping = pr->jit_mapping;
	loc = profile__find_location(r->p, mapping, rel);
	if (loc == PROFILE_NONE) {
		if (je) {
			memset(sf, 0, sizeof(sf[0]));
			sf[0].function = je->name;
			n = 1;
			r->jit_frames++;
		} else if (i != SIZE_MAX && pr->pm[i].elf && !flags) {
			v = rel;
			if (r->p->mappings[mapping].kind != PROFILE_MAP_VDSO ||
			    symbolizer__offset_to_vaddr(pr->pm[i].elf, rel, &v) == 0)
				n = symbolizer__lookup(r->sym, pr->pm[i].elf, v, sf, MAX_FRAMES);
		}
		loc = add_location(r, mapping, rel, flags, sf, n);
		if (loc == PROFILE_NONE)
			goto nomem;
	}
	if (u64map__set(&pr->addrs, addr, loc))
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

int recorder__add_sample(struct recorder *r, const struct recorder_sample *s)
{
	struct proc *pr = NULL;
	uint32_t depth = 0, i, comm, thread, stack;
	int err = 0;

	if (s->kstack_error)
		r->kstack_errors++;
	if (s->ustack_error)
		r->ustack_errors++;
	if (s->kstack_truncated || s->ustack_truncated)
		r->truncated++;

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
	if (!r->opts.no_user && s->nr_uips) {
		pr = get_proc(r, s->pid, &err);
		if (err)
			return err;
		for (i = 0; i < s->nr_uips && depth < MAX_DEPTH; i++) {
			/* The user leaf is a return address too when the sample hit the kernel. */
			uint64_t a = (i || s->nr_kips) && s->uips[i] ? s->uips[i] - 1 : s->uips[i];

			r->locs[depth] = user_location(r, pr, a, &err);
			if (err)
				return err;
			depth++;
		}
	}
	comm = profile__intern_str(r->p, s->comm, strnlen(s->comm, 16));
	if (comm == PROFILE_NONE)
		return -ENOMEM;
	thread = profile__intern_thread(r->p, s->pid, s->tid, comm);
	stack = profile__intern_stack(r->p, r->locs, depth);
	if (thread == PROFILE_NONE || stack == PROFILE_NONE)
		return -ENOMEM;
	if (profile__add_count(r->p, stack, thread, 1) == PROFILE_NONE)
		return -errno;
	return 0;
}

int recorder__store_counters(struct recorder *r)
{
	struct profile *p = r->p;

	if (profile__counter_set(p, "kernel_stack_errors", r->kstack_errors) ||
	    profile__counter_set(p, "user_stack_errors", r->ustack_errors) ||
	    profile__counter_set(p, "truncated_stacks", r->truncated) ||
	    profile__counter_set(p, "maps_unreadable", r->maps_errors) ||
	    profile__counter_set(p, "files_unreadable", r->elf_errors) ||
	    profile__counter_set(p, "jit_locations", r->jit_frames))
		return -ENOMEM;
	return 0;
}
