// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "idxmap.h"
#include "log.h"
#include "procmaps.h"
#include "uwload.h"
#include "uwtable.h"

/*
 * One file's table: in slot 'slot' of the sink's tables, nr rows (nr 0: none, err says why). The vDSO
 * has no file: its entry is marked 'vdso' (device and inode 0, which no file mapping has: those
 * without an inode are skipped), one for every process.
 */
struct uw_file {
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	int vdso;
	char build_id[2 * 64 + 1];
	char *name; /* owned: the path as a process mapped it */
	uint64_t base;
	uint32_t slot, nr;
	uint32_t refs;     /* process entries that use it */
	uint64_t last_use; /* the loader's clock at the last entry written with it */
	uint64_t unknown;  /* rows the kernel walk cannot follow */
	int err;           /* why there is no table; 0 when there is one or it was evicted */
	int loaded;
	uint32_t need; /* rows it takes, once known (0: not built yet) */
	int no_room;   /* counted in tables_no_room */
	int keyed;     /* findable by its file in the BPF map (key, adj) */
	int key_bad;   /* never: two mappings needed two adjustments */
	struct scorch_uw_file_key key;
	int64_t adj;
};

/* What a process's entry was written from. */
struct uw_proc {
	uint32_t pid;
	uint64_t serial; /* proctab's: a new process under the same pid is another */
	uint32_t exec_seq;
	uint64_t maps_time;
	size_t maps_nr;
	uint32_t *files; /* owned: indexes into u->files it holds a reference on */
	size_t nr_files;
	int written;
};

struct uwload {
	struct sandbox *sb;
	struct uwload_sink sink;
	struct uw_file *files;
	size_t nr_files, cap_files;
	uint32_t *free_slots; /* slots of the sink's tables not in use */
	uint32_t nr_free;
	struct uw_proc *procs;
	size_t nr_procs, cap_procs;
	struct u64map proc_idx; /* pid -> index in procs + 1 (0: none) */
	uint64_t clock;
	struct uwload_stats st;
};

struct uwload *uwload__new(struct sandbox *sb, const struct uwload_sink *sink)
{
	struct uwload *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->sb = sb;
	u->sink = *sink;
	u64map__init(&u->proc_idx);
	u->free_slots = malloc(SCORCH_UW_TABLES * sizeof(*u->free_slots));
	if (!u->free_slots) {
		free(u);
		return NULL;
	}
	while (u->nr_free < SCORCH_UW_TABLES) /* slot 0 is taken first */
		u->free_slots[u->nr_free] = SCORCH_UW_TABLES - 1 - u->nr_free, u->nr_free++;
	return u;
}

void uwload__free(struct uwload *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->nr_files; i++)
		free(u->files[i].name);
	for (i = 0; i < u->nr_procs; i++)
		free(u->procs[i].files);
	free(u->files);
	free(u->free_slots);
	free(u->procs);
	u64map__release(&u->proc_idx);
	free(u);
}

/* Drop the least recently used table no process uses; 0 when there was none to drop. */
static int evict_one(struct uwload *u)
{
	struct uw_file *lru = NULL;
	size_t i;

	for (i = 0; i < u->nr_files; i++) {
		struct uw_file *f = &u->files[i];

		if (f->loaded && !f->refs && (!lru || f->last_use < lru->last_use))
			lru = f;
	}
	if (!lru)
		return 0;
	if (lru->keyed)
		u->sink.set_file(u->sink.ctx, &lru->key, NULL);
	lru->keyed = 0;
	u->sink.drop_table(u->sink.ctx, lru->slot);
	u->free_slots[u->nr_free++] = lru->slot;
	u->st.rows -= lru->nr;
	u->st.tables_evicted++;
	lru->loaded = 0;
	lru->nr = 0;
	return 1;
}

/* Whether nr more rows and a slot can be had: free, or freed by evicting tables no process uses. */
static int rows_reserve(struct uwload *u, uint32_t nr)
{
	while (u->st.rows + nr > u->sink.cap || !u->nr_free)
		if (!evict_one(u))
			return 0;
	return 1;
}

/* f's table does not fit, even after eviction: counted once per file. */
static void no_room(struct uwload *u, struct uw_file *f)
{
	if (!f->no_room) {
		u->st.tables_no_room++;
		u->st.rows_no_room += f->need;
	}
	f->no_room = 1;
}

/*
 * Build the table of file f (through the mapping's elf) and put its rows into the array. A table that
 * does not fit is not built again until enough rows could be had.
 */
static int load_file(struct uwload *u, struct uw_file *f, struct sandbox_elf *elf)
{
	struct uwtable t;
	int err;

	if (f->need && !rows_reserve(u, f->need)) {
		no_room(u, f);
		return 0;
	}
	memset(&t, 0, sizeof(t));
	/* Built whole even when larger than the room there is: how large it is gets counted and named. */
	err = sandbox__uw_table(u->sb, elf, UWTABLE_MAX_ROWS, &t);
	if (err == -ENOMEM)
		return err;
	if (err) {
		pr_debug("no unwind table for '%s': %s", f->name, strerror(-err));
		f->err = err;
		u->st.tables_failed++;
		return 0;
	}
	f->need = (uint32_t)t.nr;
	if (!rows_reserve(u, f->need) ||
	    (err = u->sink.set_table(u->sink.ctx, u->free_slots[u->nr_free - 1], t.rows, f->need))) {
		/* No room, or the kernel would not make the map (out of memory): the copy does. */
		if (err)
			pr_debug("cannot load the unwind table of '%s': %s", f->name, strerror(-err));
		no_room(u, f);
		uwtable__release(&t);
		return 0;
	}
	f->slot = u->free_slots[--u->nr_free];
	f->nr = (uint32_t)t.nr;
	f->base = t.base;
	f->unknown = t.st.unknown;
	f->loaded = 1;
	u->st.tables++;
	u->st.rows += t.nr;
	if (u->st.rows > u->st.rows_peak)
		u->st.rows_peak = u->st.rows;
	uwtable__release(&t);
	return 0;
}

/* The table entry of the file behind maps entry e (added when new), or NULL on ENOMEM. */
static struct uw_file *file_of(struct uwload *u, const struct procmaps_entry *e, int vdso,
			       const char *build_id, size_t *idx)
{
	struct uw_file *f;
	size_t i;

	for (i = 0; i < u->nr_files; i++) {
		f = &u->files[i];
		if (f->vdso == vdso && f->ino == e->inode && f->dev_major == e->dev_major &&
		    f->dev_minor == e->dev_minor && strcmp(f->build_id, build_id) == 0) {
			*idx = i;
			return f;
		}
	}
	if (array__grow((void **)&u->files, &u->cap_files, u->nr_files + 1, sizeof(*u->files)))
		return NULL;
	f = &u->files[u->nr_files];
	memset(f, 0, sizeof(*f));
	f->name = strdup(e->path);
	if (!f->name)
		return NULL;
	f->dev_major = e->dev_major;
	f->dev_minor = e->dev_minor;
	f->ino = e->inode;
	f->vdso = vdso;
	snprintf(f->build_id, sizeof(f->build_id), "%s", build_id);
	*idx = u->nr_files++;
	return f;
}

/*
 * Make f's loaded table findable by its file (opened for mapping pm, whose change time it took), mapped
 * with row pc = address - start + offset + adj. Best effort: without it, process entries alone find the
 * table.
 */
static void key_file(struct uwload *u, struct uw_file *f, const struct proctab_map *pm, int64_t adj)
{
	struct scorch_uw_file v = { adj, f->slot, f->nr };

	if (!u->sink.set_file || f->key_bad || (f->keyed && f->adj == adj) || !pm->ctime_sec)
		return;
	if (f->keyed) { /* another adjustment for another mapping: the entries tell them apart */
		u->sink.set_file(u->sink.ctx, &f->key, NULL);
		f->keyed = 0;
		f->key_bad = 1;
		return;
	}
	memset(&f->key, 0, sizeof(f->key));
	f->key.dev = f->dev_major << 20 | f->dev_minor; /* the kernel's MKDEV() */
	f->key.ino = f->ino;
	f->key.ctime_sec = pm->ctime_sec;
	f->key.ctime_nsec = pm->ctime_nsec;
	if (u->sink.set_file(u->sink.ctx, &f->key, &v) == 0) {
		f->keyed = 1;
		f->adj = adj;
		u->st.files_keyed++;
	}
}

/*
 * Which executable mappings get a table: a file's (a path, an inode), and the vDSO's. Every process
 * of this kernel maps the same vDSO as ours, which the sandbox holds (as proctab.c names it).
 */
enum { MAP_NONE, MAP_FILE, MAP_VDSO };
static int map_kind(const struct procmaps_entry *e)
{
	if (!(e->perms & PROCMAPS_X))
		return MAP_NONE;
	if (e->path[0] == '/')
		return e->inode ? MAP_FILE : MAP_NONE;
	return strcmp(e->path, "[vdso]") == 0 ? MAP_VDSO : MAP_NONE;
}

/* The entry of process 'pid', added when new; NULL on ENOMEM. */
static struct uw_proc *proc_of(struct uwload *u, uint32_t pid)
{
	uint64_t idx;

	if (u64map__get(&u->proc_idx, pid, &idx) && idx)
		return &u->procs[idx - 1];
	if (array__grow((void **)&u->procs, &u->cap_procs, u->nr_procs + 1, sizeof(*u->procs)) ||
	    u64map__set(&u->proc_idx, pid, u->nr_procs + 1))
		return NULL;
	memset(&u->procs[u->nr_procs], 0, sizeof(*u->procs));
	u->procs[u->nr_procs].pid = pid;
	return &u->procs[u->nr_procs++];
}

static void unref_files(struct uwload *u, struct uw_proc *up)
{
	size_t i;

	for (i = 0; i < up->nr_files; i++)
		u->files[up->files[i]].refs--;
	up->nr_files = 0;
}

int uwload__proc(struct uwload *u, struct proctab *pt, struct proctab_proc *pr)
{
	struct scorch_uw_proc *bp;
	struct uw_proc *up;
	uint32_t *held;
	size_t i, nh = 0, nfiles = 0;
	int err = 0;

	if (!u->sink.cap || !pr->maps_ok)
		return 0;
	up = proc_of(u, pr->pid);
	if (!up)
		return -ENOMEM;
	if (up->written && up->serial == pr->serial && up->exec_seq == pr->exec_seq &&
	    up->maps_time == pr->maps_time && up->maps_nr == pr->maps.nr)
		return 0;
	bp = calloc(1, sizeof(*bp));
	held = malloc(SCORCH_UW_MAPS * sizeof(*held));
	if (!bp || !held) {
		free(bp);
		free(held);
		return -ENOMEM;
	}
	u->clock++;
	/* The old entry's files stay held until the new entry is written: none of them is evicted. */
	for (i = 0; i < pr->maps.nr && bp->nr < SCORCH_UW_MAPS; i++) {
		const struct procmaps_entry *e = &pr->maps.entries[i];
		struct scorch_uw_map *m;
		struct uw_file *f;
		uint64_t vaddr;
		size_t idx;
		int kind = map_kind(e);

		if (kind == MAP_NONE)
			continue;
		if ((err = proctab__resolve(pt, pr, i)))
			break;
		if (!pr->pm[i].elf || sandbox__offset_to_vaddr(pr->pm[i].elf, e->offset, &vaddr))
			continue;
		f = file_of(u, e, kind == MAP_VDSO, sandbox__build_id(pr->pm[i].elf), &idx);
		if (!f) {
			err = -ENOMEM;
			break;
		}
		if (!f->loaded && !f->err && (err = load_file(u, f, pr->pm[i].elf)))
			break;
		if (!f->loaded)
			continue;
		f->refs++;
		f->last_use = u->clock;
		held[nh++] = (uint32_t)idx;
		nfiles += kind == MAP_FILE;
		m = &bp->maps[bp->nr++];
		m->start = e->start;
		m->end = e->end;
		/* address - (start - vaddr(offset)) is the ELF virtual address; rows count from base. */
		m->bias = e->start - vaddr + f->base;
		m->table = f->slot;
		m->nr = f->nr;
		if (kind == MAP_FILE)
			key_file(u, f, &pr->pm[i], (int64_t)(vaddr - e->offset - f->base));
	}
	for (; !err && i < pr->maps.nr; i++)
		if (map_kind(&pr->maps.entries[i]) != MAP_NONE)
			u->st.maps_left_out++;
	/*
	 * Our vDSO is the one of 64-bit processes: a process none of whose files has a table (a 32-bit
	 * one: the builder takes x86-64 files only) maps another, and gets no entry.
	 */
	if (!err && !nfiles) {
		for (i = 0; i < nh; i++)
			u->files[held[i]].refs--;
		nh = 0;
		bp->nr = 0;
	}
	if (!err) {
		bp->exec_seq = pr->exec_seq;
		if (u->sink.set_proc(u->sink.ctx, pr->pid, bp) == 0)
			u->st.procs++;
		unref_files(u, up);
		free(up->files);
		up->files = held;
		up->nr_files = nh;
		held = NULL;
		up->serial = pr->serial;
		up->exec_seq = pr->exec_seq;
		up->maps_time = pr->maps_time;
		up->maps_nr = pr->maps.nr;
		up->written = 1;
	} else {
		for (i = 0; i < nh; i++)
			u->files[held[i]].refs--;
	}
	free(held);
	free(bp);
	return err;
}

void uwload__prune(struct uwload *u, struct proctab *pt)
{
	static const struct scorch_uw_proc none;
	size_t i = 0;

	while (i < u->nr_procs) {
		struct uw_proc *up = &u->procs[i];
		struct proctab_proc *pr = proctab__find(pt, up->pid);

		if (pr && pr->serial == up->serial) {
			i++;
			continue;
		}
		u->sink.set_proc(u->sink.ctx, up->pid, &none);
		unref_files(u, up);
		free(up->files);
		/* Removed from the index (0), the last entry moved into its place. Cannot fail: both
		 * keys are in the index already. */
		u64map__set(&u->proc_idx, up->pid, 0);
		u->procs[i] = u->procs[--u->nr_procs];
		if (i < u->nr_procs)
			u64map__set(&u->proc_idx, u->procs[i].pid, i + 1);
	}
}

void uwload__stats(const struct uwload *u, struct uwload_stats *st)
{
	*st = u->st;
}

int uwload__each_file(const struct uwload *u,
		      int (*fn)(void *ctx, const char *name, uint64_t unknown, int err), void *ctx)
{
	size_t i;
	int ret;

	for (i = 0; i < u->nr_files; i++) {
		const struct uw_file *f = &u->files[i];

		if ((f->err || f->unknown) && (ret = fn(ctx, f->name, f->unknown, f->err)))
			return ret;
	}
	return 0;
}
