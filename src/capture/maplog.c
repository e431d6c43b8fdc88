// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "idxmap.h"
#include "maplog.h"
#include "scorch_abi.h"

/*
 * Both tables are rings indexed by a generation number g (1, 2, ...; slot g % size), so the oldest entry
 * is the one overwritten and an index entry that names an overwritten g is recognised as stale.
 */
struct map_ent {
	uint64_t g;      /* 0: empty */
	uint64_t prev_g; /* the previous entry of the same pid, or 0 */
	uint32_t pid, exec_seq;
	uint32_t dev_major, dev_minor;
	uint32_t perms; /* PROCMAPS_* */
	uint64_t start, end, offset, ino;
};

struct path_ent {
	uint64_t g;
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	char *path; /* owned */
	size_t len;
};

struct maplog {
	struct map_ent *maps; /* owned, maps_cap (grown up to MAPLOG_MAX_MAPS) */
	size_t maps_cap;
	uint64_t maps_next;     /* the last g given */
	struct u64map by_pid;   /* pid + 1 -> g of its newest entry */
	struct path_ent *paths; /* owned, paths_cap (grown up to MAPLOG_MAX_PATHS) */
	size_t paths_cap;
	uint64_t paths_next, paths_tail; /* g of the newest and the oldest live path */
	size_t path_bytes;
	struct u64map by_file; /* hash(dev, ino) -> g */
	struct maplog_stats st;
};

struct maplog *maplog__new(void)
{
	struct maplog *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	u64map__init(&l->by_pid);
	u64map__init(&l->by_file);
	l->paths_tail = 1;
	return l;
}

void maplog__free(struct maplog *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->paths_cap; i++)
		free(l->paths[i].path);
	free(l->maps);
	free(l->paths);
	u64map__release(&l->by_pid);
	u64map__release(&l->by_file);
	free(l);
}

static const struct map_ent *map_at(const struct maplog *l, uint64_t g)
{
	const struct map_ent *e;

	if (!g || !l->maps_cap)
		return NULL;
	e = &l->maps[g % l->maps_cap];
	return e->g == g ? e : NULL;
}

/*
 * The rings start small and double up to their bound: a recording of one process does not pay for a
 * fork-heavy one. The live generations keep distinct slots in the larger ring. Both kinds of entry
 * start with their generation 'g' (0: empty).
 */
static int grow_ring(void *ringp, size_t *cap, size_t first_cap, size_t size)
{
	void **ring = ringp;
	size_t ncap = *cap ? 2 * *cap : first_cap, i;
	char *n = calloc(ncap, size), *old = *ring;
	uint64_t g;

	if (!n)
		return -ENOMEM;
	for (i = 0; i < *cap; i++) {
		memcpy(&g, old + i * size, sizeof(g));
		if (g)
			memcpy(n + (g % ncap) * size, old + i * size, size);
	}
	free(*ring);
	*ring = n;
	*cap = ncap;
	return 0;
}

static int grow_maps(struct maplog *l)
{
	_Static_assert(offsetof(struct map_ent, g) == 0, "grow_ring() reads g first");
	return grow_ring(&l->maps, &l->maps_cap, 256, sizeof(*l->maps));
}

static int grow_paths(struct maplog *l)
{
	_Static_assert(offsetof(struct path_ent, g) == 0, "grow_ring() reads g first");
	return grow_ring(&l->paths, &l->paths_cap, 64, sizeof(*l->paths));
}

/* The pid index only grows: past a bound, build it again from the live entries. */
static int reindex_pids(struct maplog *l)
{
	uint64_t g = l->maps_next > l->maps_cap ? l->maps_next - l->maps_cap + 1 : 1;

	u64map__release(&l->by_pid);
	u64map__init(&l->by_pid);
	for (; g <= l->maps_next; g++) {
		const struct map_ent *e = map_at(l, g);

		if (e && u64map__set(&l->by_pid, (uint64_t)e->pid + 1, g))
			return -ENOMEM;
	}
	return 0;
}

int maplog__add_mmap(struct maplog *l, uint32_t pid, uint32_t exec_seq, uint64_t start, uint64_t end,
		     uint64_t offset, uint32_t dev_major, uint32_t dev_minor, uint64_t ino, uint32_t perms)
{
	uint64_t g = l->maps_next + 1, prev = 0;
	struct map_ent *e;
	int err;

	if (start >= end)
		return -EINVAL;
	if (l->maps_next >= l->maps_cap && l->maps_cap < MAPLOG_MAX_MAPS && (err = grow_maps(l)))
		return err;
	e = &l->maps[g % l->maps_cap];
	if (l->by_pid.len >= 2 * MAPLOG_MAX_MAPS && (err = reindex_pids(l)))
		return err;
	u64map__get(&l->by_pid, (uint64_t)pid + 1, &prev);
	if ((err = u64map__set(&l->by_pid, (uint64_t)pid + 1, g)))
		return err;
	if (e->g)
		l->st.maps_dropped++;
	*e = (struct map_ent){
		.g = g,
		.prev_g = prev,
		.pid = pid,
		.exec_seq = exec_seq,
		.dev_major = dev_major,
		.dev_minor = dev_minor,
		.start = start,
		.end = end,
		.offset = offset,
		.ino = ino,
		.perms = perms & (PROCMAPS_R | PROCMAPS_W | PROCMAPS_X | PROCMAPS_SHARED | MAPLOG_VDSO),
	};
	l->maps_next = g;
	l->st.mmaps++;
	return 0;
}

static uint64_t file_key(uint32_t dev_major, uint32_t dev_minor, uint64_t ino)
{
	return idxmap__hash_u64(ino ^ idxmap__hash_u64(((uint64_t)dev_major << 32) | dev_minor)) | 1;
}

static void drop_oldest_path(struct maplog *l)
{
	struct path_ent *p = &l->paths[l->paths_tail % l->paths_cap];

	if (p->g == l->paths_tail && p->path) {
		l->path_bytes -= p->len + 1;
		free(p->path);
		memset(p, 0, sizeof(*p));
		l->st.paths_dropped++;
	}
	l->paths_tail++;
}

static int reindex_files(struct maplog *l)
{
	uint64_t g;

	u64map__release(&l->by_file);
	u64map__init(&l->by_file);
	for (g = l->paths_tail; g <= l->paths_next; g++) {
		const struct path_ent *p = &l->paths[g % l->paths_cap];

		if (p->g == g && u64map__set(&l->by_file, file_key(p->dev_major, p->dev_minor, p->ino), g))
			return -ENOMEM;
	}
	return 0;
}

int maplog__add_path(struct maplog *l, uint32_t dev_major, uint32_t dev_minor, uint64_t ino, const char *path,
		     size_t len)
{
	uint64_t g = l->paths_next + 1;
	struct path_ent *p;
	char *copy;
	int err;

	if (len > MAPLOG_MAX_PATH_BYTES / 2)
		return -EINVAL;
	if (g - l->paths_tail >= l->paths_cap && l->paths_cap < MAPLOG_MAX_PATHS && (err = grow_paths(l)))
		return err;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, path, len);
	copy[len] = '\0';
	if (l->by_file.len >= 2 * MAPLOG_MAX_PATHS && (err = reindex_files(l))) {
		free(copy);
		return err;
	}
	if ((err = u64map__set(&l->by_file, file_key(dev_major, dev_minor, ino), g))) {
		free(copy);
		return err;
	}
	while (g - l->paths_tail >= MAPLOG_MAX_PATHS ||
	       (l->paths_tail < g && l->path_bytes + len + 1 > MAPLOG_MAX_PATH_BYTES))
		drop_oldest_path(l);
	p = &l->paths[g % l->paths_cap];
	*p = (struct path_ent){
		.g = g, .dev_major = dev_major, .dev_minor = dev_minor, .ino = ino, .path = copy, .len = len
	};
	l->path_bytes += len + 1;
	l->paths_next = g;
	l->st.paths++;
	return 0;
}

const char *maplog__path(const struct maplog *l, uint32_t dev_major, uint32_t dev_minor, uint64_t ino)
{
	const struct path_ent *p;
	uint64_t g;

	if (!u64map__get(&l->by_file, file_key(dev_major, dev_minor, ino), &g) || !l->paths_cap)
		return NULL;
	p = &l->paths[g % l->paths_cap];
	if (p->g != g || !p->path || p->dev_major != dev_major || p->dev_minor != dev_minor || p->ino != ino)
		return NULL;
	return p->path;
}

int maplog__decode_path(const char *names, size_t len, char *out, size_t out_size)
{
	size_t end = len, pos = 0;

	/* Names leaf first, each NUL-terminated: walk them from the last (the one below the root). */
	if (!len || names[len - 1] != '\0' || out_size < len + 1)
		return -EINVAL;
	while (end > 0) {
		size_t start = end - 1, n;

		while (start > 0 && names[start - 1] != '\0')
			start--;
		n = end - 1 - start;
		if (!n || memchr(names + start, '/', n) || (n == 1 && names[start] == '.') ||
		    (n == 2 && names[start] == '.' && names[start + 1] == '.'))
			return -EINVAL;
		out[pos++] = '/';
		memcpy(out + pos, names + start, n);
		pos += n;
		end = start;
	}
	out[pos] = '\0';
	return (int)pos;
}

static uint32_t prot_to_perms(uint32_t prot)
{
	return (prot & SCORCH_PROT_READ ? PROCMAPS_R : 0) | (prot & SCORCH_PROT_WRITE ? PROCMAPS_W : 0) |
	       (prot & SCORCH_PROT_EXEC ? PROCMAPS_X : 0) |
	       (prot & SCORCH_PROT_SHARED ? PROCMAPS_SHARED : 0) |
	       (prot & SCORCH_PROT_VDSO ? MAPLOG_VDSO : 0);
}

int maplog__add_event(struct maplog *l, const void *data, size_t size)
{
	struct scorch_event_hdr h;
	int err = -EINVAL;

	if (size < sizeof(h))
		goto bad;
	memcpy(&h, data, sizeof(h));
	if (h.type == SCORCH_EV_MMAP) {
		struct scorch_mmap_event e;

		if (size < sizeof(e))
			goto bad;
		memcpy(&e, data, sizeof(e));
		err = maplog__add_mmap(l, e.h.pid, e.exec_seq, e.start, e.end, e.pgoff, e.dev_major,
				       e.dev_minor, e.ino, prot_to_perms(e.prot));
	} else if (h.type == SCORCH_EV_PATH) {
		size_t hdr = offsetof(struct scorch_path_event, path);
		uint32_t len, dmaj, dmin;
		uint64_t ino;
		char path[SCORCH_PATH_MAX];

		if (size < hdr)
			goto bad;
		memcpy(&len, (const char *)data + offsetof(struct scorch_path_event, path_len), sizeof(len));
		memcpy(&dmaj, (const char *)data + offsetof(struct scorch_path_event, dev_major),
		       sizeof(dmaj));
		memcpy(&dmin, (const char *)data + offsetof(struct scorch_path_event, dev_minor),
		       sizeof(dmin));
		memcpy(&ino, (const char *)data + offsetof(struct scorch_path_event, ino), sizeof(ino));
		if (len > SCORCH_PATH_MAX || len > size - hdr ||
		    maplog__decode_path((const char *)data + hdr, len, path, sizeof(path)) < 0)
			goto bad;
		err = maplog__add_path(l, dmaj, dmin, ino, path, strlen(path));
	}
	if (err != -EINVAL)
		return err;
bad:
	l->st.bad++;
	return -EINVAL;
}

static int cmp_start(const void *a, const void *b)
{
	const struct procmaps_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Keep the mappings of files that have code mapped (their other segments hold the unwind tables). */
static void drop_unexecuted(struct procmaps *m)
{
	size_t i, j, k = 0;

	for (i = 0; i < m->nr; i++) {
		struct procmaps_entry *e = &m->entries[i];
		int keep = 0;

		for (j = 0; j < m->nr && !keep; j++)
			keep = (m->entries[j].perms & PROCMAPS_X) && m->entries[j].inode == e->inode &&
			       m->entries[j].dev_major == e->dev_major &&
			       m->entries[j].dev_minor == e->dev_minor;
		if (keep)
			m->entries[k++] = *e;
		else
			free(e->path);
	}
	m->nr = k;
}

/*
 * The path as /proc/PID/maps shows it: a newline in a name is written "\012" there. A raw one would
 * split a line of text output, and give a file two names in one profile (events and /proc).
 */
static char *proc_style_dup(const char *path)
{
	size_t n = 0, i;
	char *s, *o;

	for (i = 0; path[i]; i++)
		n += path[i] == '\n' ? 4 : 1;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	for (o = s, i = 0; path[i]; i++) {
		if (path[i] == '\n')
			memcpy(o, "\\012", 4), o += 4;
		else
			*o++ = path[i];
	}
	*o = '\0';
	return s;
}

int maplog__build(const struct maplog *l, uint32_t pid, uint32_t exec_seq, struct procmaps *m)
{
	const struct map_ent *e;
	uint64_t g = 0;
	uint32_t seen = 0;
	size_t cap = 0, i;

	if (!u64map__get(&l->by_pid, (uint64_t)pid + 1, &g))
		return 0;
	for (e = map_at(l, g); e && e->pid == pid && seen < MAPLOG_MAX_PER_PROC;
	     e = map_at(l, e->prev_g), seen++) {
		const char *path;
		struct procmaps_entry *n;

		if (e->exec_seq != exec_seq)
			continue;
		path = e->perms & MAPLOG_VDSO ? "[vdso]"
					      : maplog__path(l, e->dev_major, e->dev_minor, e->ino);
		if (!path)
			continue;
		/* Newest first: a mapping an older one overlaps replaced it. */
		for (i = 0; i < m->nr; i++)
			if (e->start < m->entries[i].end && m->entries[i].start < e->end)
				break;
		if (i < m->nr)
			continue;
		if (array__grow(&m->entries, &cap, m->nr + 1, sizeof(*m->entries)))
			return -ENOMEM;
		n = &m->entries[m->nr];
		memset(n, 0, sizeof(*n));
		n->path = proc_style_dup(path);
		if (!n->path)
			return -ENOMEM;
		n->start = e->start;
		n->end = e->end;
		n->offset = e->offset;
		n->dev_major = e->dev_major;
		n->dev_minor = e->dev_minor;
		n->inode = e->perms & MAPLOG_VDSO ? 0 : e->ino;
		n->perms = e->perms & ~MAPLOG_VDSO;
		m->nr++;
	}
	drop_unexecuted(m);
	if (m->nr)
		qsort(m->entries, m->nr, sizeof(*m->entries), cmp_start);
	return (int)m->nr;
}

uint64_t maplog__generation(const struct maplog *l)
{
	return l->maps_next;
}

void maplog__stats(const struct maplog *l, struct maplog_stats *out)
{
	*out = l->st;
}
