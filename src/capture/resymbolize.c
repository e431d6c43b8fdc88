// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "log.h"
#include "perfmap.h"
#include "resymbolize.h"
#include "safeopen.h"
#include "sandbox.h"

#define MAX_FRAMES 32

static int is_build_id(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 4 || n > 128 || n % 2)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* The ELF to name mapping 'm' with: a debug file by build id, else the file itself if it matches. */
static struct sandbox_elf *find_elf(struct sandbox *s, const struct profile *p, uint32_t m,
				    const char *const *dirs, size_t nr_dirs)
{
	const char *path = profile__str(p, p->mappings[m].name);
	const char *bid = profile__str(p, p->mappings[m].build_id);
	char cand[PATH_MAX];
	struct sandbox_elf *e = NULL;
	size_t d;
	int fd;

	for (d = 0; d <= nr_dirs && !e; d++) {
		snprintf(cand, sizeof(cand), "%s/.build-id/%.2s/%s.debug",
			 d < nr_dirs ? dirs[d] : "/usr/lib/debug", bid, bid + 2);
		fd = safeopen__file(cand);
		if (fd < 0)
			continue;
		e = sandbox__open_fd(s, fd, path, NULL);
		close(fd);
		if (e && strcmp(sandbox__build_id(e), bid) != 0)
			e = NULL;
		if (e && !sandbox__has_dwarf(s, e))
			e = NULL;
	}
	if (e || path[0] != '/')
		return e;
	fd = safeopen__file(path);
	if (fd < 0)
		return NULL;
	e = sandbox__open_fd(s, fd, path, NULL);
	close(fd);
	if (e && strcmp(sandbox__build_id(e), bid) != 0) {
		pr_debug("'%s' has changed since the recording (build id): not used", path);
		e = NULL;
	}
	return e;
}

/*
 * The answers of the batched lookups, copied out of the sandbox (whose buffers the next call reuses)
 * so that the locations are renamed afterwards in their own order, interning the names as before.
 */
struct answers {
	uint32_t *first, *count; /* per location: its frames in f[first..first+count) */
	struct answer_frame {
		size_t function, file; /* offsets into strs, SIZE_MAX for none */
		uint32_t line;
		int inlined;
	} * f;
	size_t nr_f, cap_f;
	char *strs;
	size_t nr_strs, cap_strs;
};

static size_t keep_str(struct answers *a, const char *s)
{
	size_t l, at = a->nr_strs;

	if (!s)
		return SIZE_MAX;
	l = strlen(s) + 1;
	if (array__grow(&a->strs, &a->cap_strs, a->nr_strs + l, 1))
		return SIZE_MAX - 1;
	memcpy(a->strs + at, s, l);
	a->nr_strs += l;
	return at;
}

static int keep(struct answers *a, uint32_t loc, const struct sandbox_frames *r)
{
	int k;

	if (array__grow(&a->f, &a->cap_f, a->nr_f + (size_t)r->n, sizeof(*a->f)))
		return -ENOMEM;
	a->first[loc] = (uint32_t)a->nr_f;
	a->count[loc] = (uint32_t)r->n;
	for (k = 0; k < r->n; k++) {
		struct answer_frame *f = &a->f[a->nr_f++];

		f->function = keep_str(a, r->f[k].function);
		f->file = keep_str(a, r->f[k].file);
		if (f->function == SIZE_MAX - 1 || f->file == SIZE_MAX - 1)
			return -ENOMEM;
		f->line = r->f[k].line;
		f->inlined = r->f[k].inlined;
	}
	return 0;
}

/* Look up the locations todo[0..n) (all in one file), in batches; their answers into 'a'. */
static int lookup_all(struct sandbox *s, struct sandbox_elf *e, const struct profile *p, const uint32_t *todo,
		      size_t n, struct answers *a)
{
	static uint64_t vaddrs[SANDBOX_LOOKUP_BATCH];
	static struct sandbox_frames r[SANDBOX_LOOKUP_BATCH];
	size_t i, k, chunk;
	int err;

	for (i = 0; i < n; i += chunk) {
		chunk = n - i < SANDBOX_LOOKUP_BATCH ? n - i : SANDBOX_LOOKUP_BATCH;
		for (k = 0; k < chunk; k++)
			vaddrs[k] = p->locations[todo[i + k]].addr;
		if ((err = sandbox__lookup_many(s, e, vaddrs, chunk, MAX_FRAMES, r)))
			return err;
		for (k = 0; k < chunk; k++)
			if ((err = keep(a, todo[i + k], &r[k])))
				return err;
	}
	return 0;
}

/* Whether 'name' is a perf map path "/tmp/perf-PID.map", PID in decimal. */
static int is_perfmap_path(const char *name)
{
	const char *d = name + 10;

	if (strncmp(name, "/tmp/perf-", 10) != 0 || *d < '1' || *d > '9')
		return 0;
	while (*d >= '0' && *d <= '9')
		d++;
	return strcmp(d, ".map") == 0 && d - (name + 10) <= 10;
}

/*
 * Name the unnamed locations of JIT mappings from the perf map they are named after, read now (the
 * JIT may have written it at exit, after the recording). As perf report does, the file must belong to
 * us or to root. Returns the number of locations named, or -ENOMEM.
 */
static int name_jit(struct profile *p)
{
	uint32_t *head = NULL, *next = NULL, m, i;
	int named = 0, err = 0;

	head = malloc((p->nr_mappings ? p->nr_mappings : 1) * sizeof(*head));
	next = malloc((p->nr_locations ? p->nr_locations : 1) * sizeof(*next));
	if (!head || !next) {
		err = -ENOMEM;
		goto out;
	}
	/* The unnamed locations of each JIT mapping, chained in order. */
	memset(head, 0xff, (p->nr_mappings ? p->nr_mappings : 1) * sizeof(*head));
	for (i = p->nr_locations; i-- > 0;) {
		const struct profile_location *l = &p->locations[i];

		if (p->mappings[l->mapping].kind != PROFILE_MAP_JIT || l->nr_frames)
			continue;
		next[i] = head[l->mapping];
		head[l->mapping] = i;
	}
	for (m = 0; m < p->nr_mappings; m++) {
		const char *path = profile__str(p, p->mappings[m].name);
		struct perfmap pm;
		int r;

		if (head[m] == UINT32_MAX || !is_perfmap_path(path))
			continue;
		perfmap__init(&pm);
		r = perfmap__load(&pm, NULL, path, geteuid());
		if (r == -EPERM)
			pr_warn("ignoring '%s': not owned by you or root (run report as its owner)", path);
		else if (r == -EFBIG)
			pr_warn("ignoring '%s': larger than %u MiB", path, PERFMAP_MAX_SIZE >> 20);
		else if (r == -ENOENT)
			pr_debug("no '%s' (any more): its JIT code stays unnamed", path);
		else if (r)
			pr_debug("cannot read '%s': %s", path, strerror(-r));
		if (r == -ENOMEM)
			err = r;
		for (i = head[m]; !r && i != UINT32_MAX; i = next[i]) {
			const struct perfmap_entry *je = perfmap__find(&pm, p->locations[i].addr);
			struct profile_frame f = { 0 };

			if (!je)
				continue;
			f.function = profile__intern_cstr(p, je->name);
			if (f.function == PROFILE_NONE || profile__set_location_frames(p, i, &f, 1)) {
				err = -ENOMEM;
				break;
			}
			named++;
		}
		perfmap__release(&pm);
		if (err)
			break;
	}
out:
	free(head);
	free(next);
	return err ? err : named;
}

int resymbolize__profile(struct profile *p, const struct resymbolize_opts *o)
{
	const char *const *debug_dirs = o->debug_dirs;
	size_t nr_dirs = o->nr_debug_dirs;
	struct symbolizer_opts so = { .debug_dirs = debug_dirs, .nr_debug_dirs = nr_dirs };
	struct sandbox *s = sandbox__new(&so, !o->no_sandbox);
	struct sandbox_stats st;
	struct sandbox_elf **elfs = NULL;
	struct answers a = { 0 };
	uint8_t *tried = NULL;
	uint32_t i, nr_maps = p->nr_mappings, nr_locs = p->nr_locations, *todo = NULL, *by_map = NULL;
	uint32_t *next = NULL;
	char why[192];
	int changed = 0, err = 0;

	if (!s)
		return -ENOMEM;
	changed = name_jit(p);
	if (changed < 0) {
		sandbox__free(s);
		return changed;
	}
	/* Each batch of locations is a round trip to the child: cheapest on one CPU. */
	err = sandbox__share_cpu(s);
	if (err)
		pr_debug("cannot keep the symbolizer child on this CPU: %s", strerror(-err));
	/* A sandbox that cannot start would leave every location as it was, silently. */
	err = sandbox__start(s, why, sizeof(why));
	if (err) {
		pr_err("cannot start the symbolizer sandbox: %s (--no-sandbox parses in this process)", why);
		sandbox__free(s);
		return err;
	}
	elfs = calloc(nr_maps ? nr_maps : 1, sizeof(*elfs));
	tried = calloc(nr_maps ? nr_maps : 1, 1);
	todo = malloc((nr_locs ? nr_locs : 1) * sizeof(*todo));
	next = malloc((nr_locs ? nr_locs : 1) * sizeof(*next));
	by_map = malloc((nr_maps ? nr_maps : 1) * sizeof(*by_map));
	a.first = calloc(nr_locs ? nr_locs : 1, sizeof(*a.first));
	a.count = calloc(nr_locs ? nr_locs : 1, sizeof(*a.count));
	if (!elfs || !tried || !todo || !next || !by_map || !a.first || !a.count) {
		err = -ENOMEM;
		goto out;
	}
	/* Files are opened in the order of the locations, as the lookups used to; locations are chained by
	 * mapping. */
	memset(by_map, 0xff, (nr_maps ? nr_maps : 1) * sizeof(*by_map));
	for (i = nr_locs; i-- > 0;) {
		const struct profile_location *l = &p->locations[i];
		const struct profile_mapping *m = &p->mappings[l->mapping];

		next[i] = UINT32_MAX;
		if (m->kind != PROFILE_MAP_FILE || (l->flags & PROFILE_LOC_FILE_OFFSET) ||
		    !is_build_id(profile__str(p, m->build_id)))
			continue;
		next[i] = by_map[l->mapping];
		by_map[l->mapping] = i;
	}
	for (i = 0; i < nr_locs; i++) {
		const struct profile_location *l = &p->locations[i];
		const struct profile_mapping *m = &p->mappings[l->mapping];
		size_t n = 0;
		uint32_t j;

		if (by_map[l->mapping] != i || tried[l->mapping])
			continue;
		tried[l->mapping] = 1;
		elfs[l->mapping] = find_elf(s, p, l->mapping, debug_dirs, nr_dirs);
		if (!elfs[l->mapping]) {
			pr_debug("no file or debuginfo for '%s' (build id %s)", profile__str(p, m->name),
				 profile__str(p, m->build_id));
			continue;
		}
		for (j = i; j != UINT32_MAX; j = next[j])
			todo[n++] = j;
		if ((err = lookup_all(s, elfs[l->mapping], p, todo, n, &a)))
			goto out;
	}
	for (i = 0; i < nr_locs; i++) {
		struct profile_frame pf[MAX_FRAMES];
		uint32_t k, n = a.count[i];

		if (!n)
			continue;
		for (k = 0; k < n; k++) {
			const struct answer_frame *f = &a.f[a.first[i] + k];

			pf[k].function =
				f->function != SIZE_MAX ? profile__intern_cstr(p, a.strs + f->function) : 0;
			pf[k].file = f->file != SIZE_MAX ? profile__intern_cstr(p, a.strs + f->file) : 0;
			pf[k].line = f->line;
			pf[k].flags = f->inlined ? PROFILE_FRAME_INLINE : 0;
			if (pf[k].function == PROFILE_NONE || pf[k].file == PROFILE_NONE) {
				err = -ENOMEM;
				goto out;
			}
		}
		err = profile__set_location_frames(p, i, pf, n);
		if (err)
			goto out;
		changed++;
	}
out:
	sandbox__stats(s, &st);
	if (!o->no_sandbox)
		pr_debug("symbolizer sandbox: %" PRIu64 " requests, %" PRIu64 " restarts, %" PRIu64
			 " timeouts, %" PRIu64 " files skipped, %" PRIu64 " opens brokered, %" PRIu64
			 " refused, %" PRIu64 " addresses looked up",
			 st.requests, st.restarts, st.timeouts, st.bad_files, st.opens_brokered,
			 st.opens_refused, st.lookups);
	if (st.bad_files)
		pr_warn("the symbolizer child failed on %" PRIu64
			" file%s: %s locations keep the names they had",
			st.bad_files, st.bad_files == 1 ? "" : "s", st.bad_files == 1 ? "its" : "their");
	free(elfs);
	free(tried);
	free(todo);
	free(next);
	free(by_map);
	free(a.first);
	free(a.count);
	free(a.f);
	free(a.strs);
	sandbox__free(s);
	return err ? err : changed;
}
