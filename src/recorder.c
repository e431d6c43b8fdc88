// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
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

/* Files larger than this are not read for their unwind tables. */
#define MAX_IMAGE (512u << 20)
/*
 * What the file images for unwinding may hold in all. Past it the least recently used are dropped,
 * never one used by the sample being unwound (the unwinder holds pointers into those).
 * SCORCH_TEST_IMAGES_BUDGET lowers it, for the tests only.
 */
#define IMAGES_BUDGET (256ull << 20)

/* A file's bytes for the unwinder, read once per (device, inode, size, mtime). */
struct image {
	uint64_t dev, ino, size, mtime;
	uint8_t *data;     /* owned; NULL when unreadable or evicted */
	int evicted;       /* dropped to stay within IMAGES_BUDGET: read again when needed */
	uint64_t last_use; /* the sample epoch that last used it */
	uint64_t id;       /* names the bytes in data for the unwinder's caches: new at every read */
};

/* What one maps entry of a process resolves to, filled on first use. */
struct proc_map {
	int image;            /* index + 1 into recorder images, -1 when unreadable, 0 when not tried */
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
	int jit_tried;
	uint64_t jit_time;    /* CLOCK_MONOTONIC ns of the last load attempt */
	uint32_t jit_mapping; /* profile mapping id, or PROFILE_NONE */
	uint32_t exec_seq;    /* the exec count its caches belong to */
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
	/* unwinding */
	struct unwinder *unw;             /* owned */
	struct image *images;             /* owned */
	size_t nr_images, cap_images;
	uint64_t images_bytes, images_evicted, epoch, images_budget, images_ids;
	uint64_t uips[MAX_DEPTH];
	uint64_t user_stacks, user_roots, unwind_truncated, unwind_depth;
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
	r->sym = sandbox__new(opts ? &opts->sym : NULL, opts ? !opts->no_sandbox : 1);
	r->unw = unwinder__new();
	if (!r->sym || !r->unw) {
		sandbox__free(r->sym);
		unwinder__free(r->unw);
		free(r);
		return NULL;
	}
	u64map__init(&r->proc_idx);
	u64map__init(&r->kaddrs);
	r->unknown_mapping = PROFILE_NONE;
	r->max_threads = MAX_THREADS;
	r->images_budget = IMAGES_BUDGET;
	if (getenv("SCORCH_TEST_IMAGES_BUDGET"))
		r->images_budget = strtoull(getenv("SCORCH_TEST_IMAGES_BUDGET"), NULL, 10);
	if (getenv("SCORCH_TEST_MAX_THREADS"))
		r->max_threads = (uint32_t)strtoul(getenv("SCORCH_TEST_MAX_THREADS"), NULL, 10);
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
	sandbox__free(r->sym);
	ksyms__free(r->ksyms);
	unwinder__free(r->unw);
	for (i = 0; i < r->nr_images; i++)
		free(r->images[i].data);
	free(r->images);
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
	unwinder__flush(r->unw, pr->pid);
	return 0;
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
	r->execs++;
	return proc_read_maps(r, pr);
}

size_t recorder__forget_exited(struct recorder *r)
{
	size_t i, n = 0, gone = 0;

	for (i = 0; i < r->nr_procs; i++) {
		struct proc *pr = r->procs[i];

		if (kill((pid_t)pr->pid, 0) && errno == ESRCH) {
			unwinder__flush(r->unw, pr->pid);
			proc_free(pr);
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

			for (j = i; j < r->nr_procs; j++) {
				unwinder__flush(r->unw, r->procs[j]->pid);
				proc_free(r->procs[j]);
			}
			r->nr_procs = i;
			break;
		}
	return gone;
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
			    sandbox__offset_to_vaddr(pr->pm[i].elf, rel, &v) == 0)
				n = sandbox__lookup(r->sym, pr->pm[i].elf, v, sf, MAX_FRAMES);
		}
		loc = add_location(r, mapping, rel, flags, sf, n);
		if (loc == PROFILE_NONE)
			goto nomem;
	}
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

/*
 * The vDSO has no file, but it is the same in every process of a kernel: unwind through a copy of our
 * own (its ELF image starts at AT_SYSINFO_EHDR and fills its mapping).
 */
static const struct image *vdso_image(struct recorder *r, struct proc_map *pm)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR);
	const struct procmaps_entry *e;
	struct procmaps self;
	struct image img = { 0 };
	size_t k;

	for (k = 0; k < r->nr_images; k++) {
		if (r->images[k].dev == 0 && r->images[k].ino == 0) {
			pm->image = (int)k + 1;
			return r->images[k].data ? &r->images[k] : NULL;
		}
	}
	if (r->nr_images == r->cap_images) {
		size_t ncap = r->cap_images ? r->cap_images * 2 : 16;
		struct image *n = realloc(r->images, ncap * sizeof(*n));

		if (!n)
			return NULL;
		r->images = n;
		r->cap_images = ncap;
	}
	procmaps__init(&self);
	if (base && procmaps__read(&self, getpid()) == 0 && (e = procmaps__find(&self, base)) && e->start == base &&
	    (img.data = malloc(e->end - e->start))) {
		memcpy(img.data, (const void *)(uintptr_t)base, e->end - e->start);
		img.size = e->end - e->start;
		img.id = ++r->images_ids;
	}
	procmaps__release(&self);
	r->images[r->nr_images++] = img; /* dev 0, inode 0: the vDSO, even when it could not be copied */
	pm->image = (int)r->nr_images;
	return img.data ? &r->images[r->nr_images - 1] : NULL;
}

/* Drop least recently used images until 'need' more bytes fit the budget. */
static void images_make_room(struct recorder *r, uint64_t need)
{
	while (r->images_bytes + need > r->images_budget) {
		size_t k, victim = SIZE_MAX;

		for (k = 0; k < r->nr_images; k++) {
			const struct image *c = &r->images[k];

			/* Not the vDSO (inode 0), not an image the current sample uses. */
			if (!c->data || !c->ino || c->last_use == r->epoch)
				continue;
			if (victim == SIZE_MAX || c->last_use < r->images[victim].last_use)
				victim = k;
		}
		if (victim == SIZE_MAX)
			return;
		free(r->images[victim].data);
		r->images[victim].data = NULL;
		r->images[victim].evicted = 1;
		r->images_bytes -= r->images[victim].size;
		r->images_evicted++;
	}
}

/* Read the whole file into image k; a failure is kept (data NULL) so the file is not read again. */
static void image_read(struct recorder *r, size_t k, int fd)
{
	struct image *img;
	size_t got = 0;

	images_make_room(r, r->images[k].size);
	img = &r->images[k];
	img->evicted = 0;
	img->data = malloc(img->size);
	while (img->data && got < img->size) {
		ssize_t n = pread(fd, img->data + got, img->size - got, (off_t)got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < img->size) {
		free(img->data);
		img->data = NULL;
		return;
	}
	img->id = ++r->images_ids;
	r->images_bytes += img->size;
}

/*
 * The bytes of the file behind maps entry i, for the unwinder: read (not mmapped: a target that
 * truncates its file would turn our reads into SIGBUS) once per file and shared across processes,
 * within IMAGES_BUDGET.
 */
static const struct image *proc_map_image(struct recorder *r, struct proc *pr, size_t i)
{
	const struct procmaps_entry *e = &pr->maps.entries[i];
	struct proc_map *pm = &pr->pm[i];
	struct image img = { 0 };
	struct stat st;
	size_t k;
	int fd;

	if (pm->image > 0 && !r->images[pm->image - 1].evicted) {
		struct image *c = &r->images[pm->image - 1];

		c->last_use = r->epoch;
		return c->data ? c : NULL;
	}
	if (pm->image < 0)
		return NULL;
	if (!pm->image && strcmp(e->path, "[vdso]") == 0) {
		pm->image = -1;
		return vdso_image(r, pm);
	}
	/* Not tried yet, or evicted: (re)open the mapped file and find or add its image. */
	pm->image = -1;
	if (e->path[0] != '/' || !e->inode)
		return NULL;
	fd = safeopen__mapping(pr->pid, e->start, e->end, e->path, e->dev_major, e->dev_minor, e->inode);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size <= 0 || (uint64_t)st.st_size > MAX_IMAGE)
		goto out;
	img.dev = st.st_dev;
	img.ino = st.st_ino;
	img.size = (uint64_t)st.st_size;
	img.mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec;
	for (k = 0; k < r->nr_images; k++) {
		struct image *c = &r->images[k];

		if (c->ino && c->dev == img.dev && c->ino == img.ino && c->size == img.size && c->mtime == img.mtime) {
			pm->image = (int)k + 1;
			c->last_use = r->epoch;
			if (c->evicted)
				image_read(r, k, fd);
			goto out;
		}
	}
	if (r->nr_images == r->cap_images) {
		size_t ncap = r->cap_images ? r->cap_images * 2 : 16;
		struct image *n = realloc(r->images, ncap * sizeof(*n));

		if (!n)
			goto out;
		r->images = n;
		r->cap_images = ncap;
	}
	img.last_use = r->epoch;
	r->images[r->nr_images++] = img;
	pm->image = (int)r->nr_images;
	image_read(r, r->nr_images - 1, fd);
out:
	close(fd);
	return pm->image > 0 && r->images[pm->image - 1].data ? &r->images[pm->image - 1] : NULL;
}

struct find_map_ctx {
	struct recorder *r;
	struct proc *pr;
};

static int unwind_find_map(void *ctx, uint64_t addr, struct unwinder_map *out)
{
	struct find_map_ctx *fc = ctx;
	const struct procmaps_entry *e = procmaps__find(&fc->pr->maps, addr);
	const struct image *img;

	if (!e && now_ns() - fc->pr->maps_time > MAPS_REFRESH_NS) {
		/* Perhaps mapped since we looked (exec, dlopen): look again. */
		if (proc_read_maps(fc->r, fc->pr))
			return -ENOENT;
		e = procmaps__find(&fc->pr->maps, addr);
	}
	if (!e)
		return -ENOENT;
	img = proc_map_image(fc->r, fc->pr, (size_t)(e - fc->pr->maps.entries));
	out->start = e->start;
	out->end = e->end;
	out->offset = e->offset;
	out->image = img ? img->data : NULL;
	out->image_size = img && img->data ? img->size : 0;
	out->image_id = img && img->data ? img->id : 0;
	return 0;
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

/*
 * The user IPs of a sample, leaf first, according to the call-graph mode: the frame-pointer walk as
 * given (with the leaf's caller put back from the CFI when the leaf had not pushed its frame), or the
 * DWARF unwind of the stack copy. Points *ips at s->uips or at r->uips.
 */
static int user_ips(struct recorder *r, struct proc *pr, const struct recorder_sample *s, const uint64_t **ips,
		    uint32_t *nr, int *root)
{
	struct find_map_ctx fc = { r, pr };
	struct unwinder_input in = {
		.regs = s->uregs,
		.stack = s->ustack_bytes,
		.stack_size = s->ustack_size,
		.find_map = unwind_find_map,
		.ctx = &fc,
		.fp_fallback = r->opts.call_graph == RECORDER_CG_AUTO,
	};
	struct unwinder_result res;
	int err;

	*ips = s->uips;
	*nr = s->nr_uips;
	*root = 0;
	if (!s->uregs)
		return 0;
	if (r->opts.call_graph == RECORDER_CG_FP) {
		/* Only the leaf's caller is needed: the walk from RBP has the rest, perhaps without it. */
		if (s->nr_uips < 1 || s->nr_uips >= MAX_DEPTH || s->uips[0] != s->uregs[SCORCH_REG_RIP])
			return 0;
		err = unwinder__unwind(r->unw, pr->pid, &in, r->uips, 2, &res);
		if (err)
			return err == -ENOMEM ? err : 0;
		if (res.nr == 2 && (s->nr_uips < 2 || s->uips[1] != r->uips[1])) {
			memcpy(r->uips + 2, s->uips + 1, (s->nr_uips - 1) * sizeof(*s->uips));
			*ips = r->uips;
			*nr = s->nr_uips + 1;
		}
		return 0;
	}
	err = unwinder__unwind(r->unw, pr->pid, &in, r->uips, MAX_DEPTH / 2, &res);
	if (err)
		return err == -ENOMEM ? err : 0;
	if (res.status == UNWINDER_TRUNCATED)
		r->unwind_truncated++;
	else if (res.status == UNWINDER_DEPTH)
		r->unwind_depth++;
	if (res.status >= UNWINDER_NO_INFO && (err = count_unwind_failure(r, pr, res.fail_ip)))
		return err;
	/* auto: where neither CFI nor the frame pointer could go on, a longer kernel walk is the better guess. */
	if (r->opts.call_graph == RECORDER_CG_AUTO && res.status >= UNWINDER_NO_INFO && s->nr_uips > res.nr)
		return 0;
	*ips = r->uips;
	*nr = res.nr;
	*root = res.status == UNWINDER_ROOT;
	return 0;
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

int recorder__add_sample(struct recorder *r, const struct recorder_sample *s)
{
	struct proc *pr = NULL;
	uint32_t depth = 0, i, comm, thread, stack;
	int err = 0;

	r->epoch++; /* the file images this sample uses are not evicted while it is unwound */
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
	if (!r->opts.no_user && (s->nr_uips || s->uregs)) {
		const uint64_t *uips;
		uint32_t nr_uips, first = depth;
		int root;

		pr = get_proc(r, s->pid, &err);
		if (err)
			return err;
		if (s->exec_seq != pr->exec_seq) {
			err = proc_exec(r, pr, s->exec_seq);
			if (err)
				return err;
		}
		err = user_ips(r, pr, s, &uips, &nr_uips, &root);
		if (err)
			return err;
		for (i = 0; i < nr_uips && depth < MAX_DEPTH; i++) {
			/* The user leaf is a return address too when the sample hit the kernel. */
			uint64_t a = (i || s->nr_kips) && uips[i] ? uips[i] - 1 : uips[i];

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

int recorder__store_counters(struct recorder *r)
{
	struct profile *p = r->p;
	struct sandbox_stats ss;

	sandbox__stats(r->sym, &ss);
	if (profile__counter_set(p, "symbolizer_restarts", ss.restarts) ||
	    profile__counter_set(p, "symbolizer_timeouts", ss.timeouts))
		return -ENOMEM;

	if (profile__counter_set(p, "kernel_stack_errors", r->kstack_errors) ||
	    profile__counter_set(p, "user_stack_errors", r->ustack_errors) ||
	    profile__counter_set(p, "truncated_stacks", r->truncated) ||
	    profile__counter_set(p, "maps_unreadable", r->maps_errors) ||
	    profile__counter_set(p, "files_unreadable", r->elf_errors) ||
	    profile__counter_set(p, "jit_locations", r->jit_frames) ||
	    profile__counter_set(p, "execs", r->execs) ||
	    profile__counter_set(p, "threads_merged", r->threads_merged) ||
	    profile__counter_set(p, "unwind_images_evicted", r->images_evicted) ||
	    profile__counter_set(p, "user_stacks", r->user_stacks) ||
	    profile__counter_set(p, "user_stacks_root", r->user_roots) ||
	    profile__counter_set(p, "unwind_truncated", r->unwind_truncated) ||
	    profile__counter_set(p, "unwind_depth_cap", r->unwind_depth) ||
	    profile__meta_setf(p, "unwind_root_share", "%.1f%%",
			       r->user_stacks ? 100.0 * (double)r->user_roots / (double)r->user_stacks : 0.0))
		return -ENOMEM;
	return 0;
}
