// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "log.h"
#include "view.h"

#define SLOT_TODO UINT32_MAX       /* cache slot not computed yet */
#define SLOT_SKIP (UINT32_MAX - 1) /* frame left out (kernel, inline folded) */

const char *view__kind_suffix(uint32_t kind)
{
	switch (kind) {
	case VIEW_KIND_KERNEL:
		return "_[k]";
	case VIEW_KIND_INLINE:
		return "_[i]";
	case VIEW_KIND_JIT:
		return "_[j]";
	case VIEW_KIND_PYTHON:
		return "_[py]";
	default:
		return "";
	}
}

int view__thread_selected(const struct profile *p, uint32_t thread, const struct view_opts *o)
{
	const struct profile_thread *t = &p->threads[thread];
	uint32_t i;
	int ok;

	if (o->nr_pids) {
		for (ok = 0, i = 0; i < o->nr_pids; i++)
			ok |= t->pid == o->pids[i];
		if (!ok)
			return 0;
	}
	if (o->nr_tids) {
		for (ok = 0, i = 0; i < o->nr_tids; i++)
			ok |= t->tid == o->tids[i];
		if (!ok)
			return 0;
	}
	if (o->nr_comms) {
		for (ok = 0, i = 0; i < o->nr_comms; i++)
			ok |= strcmp(profile__str(p, t->comm), o->comms[i]) == 0;
		if (!ok)
			return 0;
	}
	return 1;
}

struct fkey {
	const char *name;
	uint32_t mapping, kind; /* kind UINT32_MAX: the base key (any kind) */
};

static int func_eq(const void *k, uint32_t id, void *ctx)
{
	const struct fkey *key = k;
	const struct view *v = ctx;
	const struct view_func *f = &v->funcs[id];

	return f->mapping == key->mapping && (key->kind == UINT32_MAX || f->kind == key->kind) &&
	       strcmp(f->name, key->name) == 0;
}

static uint64_t fkey_hash(const struct fkey *k, int with_kind)
{
	uint64_t h = idxmap__hash_bytes(k->name, strlen(k->name), k->mapping);

	return with_kind ? idxmap__hash_u64(h ^ (k->kind + 1)) : h;
}

/*
 * The id of the func named like 'tmpl' (its name borrowed), made from 'tmpl' when new, or PROFILE_NONE
 * (out of memory or budget).
 */
static uint32_t intern_func(struct view *v, const struct view_func *tmpl)
{
	struct fkey k = { tmpl->name, tmpl->mapping, tmpl->kind },
		    kb = { tmpl->name, tmpl->mapping, UINT32_MAX };
	uint64_t h = fkey_hash(&k, 1), hb = fkey_hash(&kb, 0);
	uint32_t id = idxmap__find(&v->func_idx, h, &k, func_eq, v), base;
	struct view_func *f;

	if (id != IDXMAP_NONE)
		return id;
	if (array__grow(&v->funcs, &v->cap_funcs, (size_t)v->nr_funcs + 1, sizeof(*v->funcs)))
		return PROFILE_NONE;
	if (view__charge(v, sizeof(*f) + strlen(tmpl->name) + 1))
		return PROFILE_NONE;
	f = &v->funcs[v->nr_funcs];
	*f = *tmpl;
	f->name = strdup(tmpl->name);
	if (!f->name)
		return PROFILE_NONE;
	base = idxmap__find(&v->base_idx, hb, &kb, func_eq, v);
	if (base == IDXMAP_NONE) {
		base = v->nr_funcs;
		if (idxmap__insert(&v->base_idx, hb, base))
			goto nomem;
	}
	f->base = base;
	if (idxmap__insert(&v->func_idx, h, v->nr_funcs))
		goto nomem;
	return v->nr_funcs++;
nomem:
	free(f->name);
	return PROFILE_NONE;
}

/* The func id of frame 'fi' of location 'loc' under the options, or SLOT_SKIP. */
static uint32_t frame_func(struct view *v, uint32_t loc, uint32_t fi, const struct view_opts *o)
{
	const struct profile *p = v->p;
	const struct profile_location *l = &p->locations[loc];
	const struct profile_mapping *m = &p->mappings[l->mapping];
	const struct profile_frame *fr = fi < l->nr_frames ? &p->frames[l->frame + fi] : NULL;
	struct view_func f = {
		.mapping = l->mapping,
		.kind = VIEW_KIND_USER,
		.file = fr ? fr->file : 0,
		.line = fr ? fr->line : 0,
		.function = fr ? fr->function : 0,
		.loc = loc,
		.frame_idx = fi,
	};
	char label[4096], name[4608];

	if ((l->flags & PROFILE_LOC_KERNEL) || m->kind == PROFILE_MAP_KERNEL)
		f.kind = VIEW_KIND_KERNEL;
	else if (m->kind == PROFILE_MAP_JIT)
		f.kind = VIEW_KIND_JIT;
	else if (m->kind == PROFILE_MAP_PYTHON)
		f.kind = VIEW_KIND_PYTHON;
	if (f.kind == VIEW_KIND_KERNEL && o->no_kernel)
		return SLOT_SKIP;
	if (f.kind != VIEW_KIND_PYTHON && o->python_only)
		return SLOT_SKIP;
	if (fr && (fr->flags & PROFILE_FRAME_INLINE)) {
		if (o->no_inline)
			return SLOT_SKIP;
		if (f.kind == VIEW_KIND_USER)
			f.kind = VIEW_KIND_INLINE;
	}
	profile__frame_label(p, loc, fi, label, sizeof(label));
	switch (o->by) {
	case VIEW_BY_LINE:
		if (f.file)
			snprintf(name, sizeof(name), "%s %s:%u", label, profile__str(p, f.file), f.line);
		else
			snprintf(name, sizeof(name), "%s", label);
		break;
	case VIEW_BY_MODULE:
		snprintf(name, sizeof(name), "%s", profile__mapping_short_name(p, l->mapping));
		f.file = f.line = f.function = 0;
		if (f.kind == VIEW_KIND_INLINE)
			f.kind = VIEW_KIND_USER;
		break;
	default:
		snprintf(name, sizeof(name), "%s", label);
		f.line = 0;
		break;
	}
	/* The label is all of the name but under --by line, where it comes first and the line after. */
	f.label_len = (uint32_t)(o->by == VIEW_BY_MODULE ? strlen(name) : strlen(label));
	f.name = name;
	return intern_func(v, &f);
}

/* The one func of a stack under --by process: "comm (pid)". */
struct pid_thread {
	uint32_t pid, thread;
};

static int by_pid(const void *a, const void *b)
{
	const struct pid_thread *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->thread < y->thread ? -1 : x->thread > y->thread;
}

/*
 * One name per process: name_of[t] is the thread whose comm names thread t's process. A process has
 * a thread entry per (tid, comm), so its main thread can have several (it execs, or renames itself):
 * the one with the most samples names the process; without a sampled main thread, each thread its own.
 */
static int name_processes(const struct profile *p, uint32_t *name_of)
{
	uint64_t *n = calloc(p->nr_threads ? p->nr_threads : 1, sizeof(*n));
	struct pid_thread *order = malloc((p->nr_threads ? p->nr_threads : 1) * sizeof(*order));
	uint32_t i, j, k, best;

	if (!n || !order) {
		free(n);
		free(order);
		return -ENOMEM;
	}
	for (i = 0; i < p->nr_counts; i++)
		n[p->counts[i].thread] += p->counts[i].count;
	for (i = 0; i < p->nr_threads; i++) {
		order[i] = (struct pid_thread){ p->threads[i].pid, i };
		name_of[i] = i;
	}
	qsort(order, p->nr_threads, sizeof(*order), by_pid);
	for (i = 0; i < p->nr_threads; i = j) {
		best = UINT32_MAX;
		for (j = i; j < p->nr_threads && order[j].pid == order[i].pid; j++) {
			const struct profile_thread *t = &p->threads[order[j].thread];

			if (t->tid == t->pid && (best == UINT32_MAX || n[order[j].thread] > n[best]))
				best = order[j].thread;
		}
		for (k = i; best != UINT32_MAX && k < j; k++)
			name_of[order[k].thread] = best;
	}
	free(n);
	free(order);
	return 0;
}

/* The row of thread 'thread's process: "comm (pid)". cache[] starts as name_processes() made it. */
static uint32_t process_func(struct view *v, uint32_t *cache, uint8_t *done, uint32_t thread, uint32_t loc)
{
	const struct profile *p = v->p;
	const struct profile_thread *t = &p->threads[thread];
	char name[256];
	struct view_func f = { .name = name, .mapping = PROFILE_NONE, .kind = VIEW_KIND_USER, .loc = loc };

	if (done[thread])
		return cache[thread];
	snprintf(name, sizeof(name), "%s (%u)", profile__str(p, p->threads[cache[thread]].comm), t->pid);
	f.label_len = (uint32_t)strlen(name);
	cache[thread] = intern_func(v, &f);
	done[thread] = cache[thread] != PROFILE_NONE;
	return cache[thread];
}

int view__charge(struct view *v, uint64_t bytes)
{
	if (bytes <= v->budget) {
		v->budget -= bytes;
		return 0;
	}
	v->budget = 0;
	if (!v->over_budget)
		view__budget_error(v->p);
	v->over_budget = 1;
	return -E2BIG;
}

int view__budget_error(const struct profile *p)
{
	pr_err("the profile expands past %.1f MiB of stacks, names and output, the limit for a file of its "
	       "size: refusing to go on (see LIMITS in scorch-format(5))",
	       (double)p->expand_limit / (1 << 20));
	return -E2BIG;
}

static int push_func(struct view *v, uint32_t id)
{
	if (view__charge(v, sizeof(*v->funcs_of)))
		return -E2BIG;
	if (array__grow(&v->funcs_of, &v->cap_funcs_of, (size_t)v->nr_funcs_of + 1, sizeof(*v->funcs_of)))
		return -ENOMEM;
	v->funcs_of[v->nr_funcs_of++] = id;
	return 0;
}

static int compile(regex_t *re, const char *pattern, const char *opt)
{
	char msg[256];
	int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);

	if (rc) {
		regerror(rc, re, msg, sizeof(msg));
		pr_err("bad regular expression '%s' for %s: %s", pattern, opt, msg);
		return -EINVAL;
	}
	return 0;
}

/* Per func: bit 0 = matches --focus, bit 1 = matches --ignore; computed once per func. */
static int match_flags(uint8_t **flags, size_t *nflags, const struct view *v, uint32_t id, regex_t *focus,
		       regex_t *ignore)
{
	if (id >= *nflags) {
		size_t n = *nflags ? *nflags : 256, i;
		uint8_t *nf;

		while (n <= id)
			n *= 2;
		nf = realloc(*flags, n);
		if (!nf)
			return -ENOMEM;
		for (i = *nflags; i < n; i++)
			nf[i] = 0xff;
		*flags = nf;
		*nflags = n;
	}
	if ((*flags)[id] == 0xff)
		(*flags)[id] = (focus && !regexec(focus, v->funcs[id].name, 0, NULL, 0)) |
			       (ignore && !regexec(ignore, v->funcs[id].name, 0, NULL, 0)) << 1;
	return (*flags)[id];
}

#define PATH_TODO UINT32_MAX       /* stack not expanded yet */
#define PATH_DROP (UINT32_MAX - 1) /* stack dropped by --focus/--ignore */
#define PATH_KEEP (UINT32_MAX - 2) /* --by process: stack kept, its path depends on the thread */

struct build {
	const struct view_opts *o;
	regex_t focus, ignore;
	int have_focus, have_ignore;
	size_t *loc_base; /* per location: first slot in slots */
	uint32_t *slots;  /* per (location, frame): func id, SLOT_TODO or SLOT_SKIP */
	uint8_t *flags;   /* per func: match_flags() */
	size_t nflags;
};

static int new_path(struct view *v, size_t first, uint32_t depth, uint32_t *id)
{
	if (array__grow(&v->paths, &v->cap_paths, (size_t)v->nr_paths + 1, sizeof(*v->paths)))
		return -ENOMEM;
	v->paths[v->nr_paths] = (struct view_path){ first, depth, 0 };
	*id = v->nr_paths++;
	return 0;
}

/*
 * Expand profile stack 'st' once: push its frames to funcs_of and make its path (*path), or
 * PATH_DROP when the filters drop it. Under --by process the frames only serve the filters: they are
 * taken back, *path is PATH_KEEP and *root the location of the root frame.
 */
static int expand_stack(struct view *v, struct build *b, uint32_t st, uint32_t *path, uint32_t *root)
{
	const struct profile *p = v->p;
	const struct view_opts *o = b->o;
	const uint32_t *locs = profile__stack_locs(p, st);
	uint32_t d = p->stacks[st].depth, prev = PROFILE_NONE, depth = 0;
	size_t first = v->nr_funcs_of;
	int focused = !b->have_focus, ignored = 0, err;

	while (d--) {
		uint32_t loc = locs[d], nf = p->locations[loc].nr_frames, f = nf ? nf : 1;

		while (f--) {
			uint32_t *slot = &b->slots[b->loc_base[loc] + f], id;
			int m;

			if (*slot == SLOT_TODO) {
				*slot = frame_func(v, loc, f, o);
				if (*slot == PROFILE_NONE) {
					*slot = SLOT_TODO;
					return v->over_budget ? -E2BIG : -ENOMEM;
				}
			}
			id = *slot;
			if (id == SLOT_SKIP)
				continue;
			if (o->by == VIEW_BY_MODULE && prev != PROFILE_NONE &&
			    v->funcs[prev].mapping == v->funcs[id].mapping)
				continue;
			if (b->have_focus || b->have_ignore) {
				m = match_flags(&b->flags, &b->nflags, v, id,
						b->have_focus ? &b->focus : NULL,
						b->have_ignore ? &b->ignore : NULL);
				if (m < 0)
					return m;
				focused |= m & 1;
				ignored |= m >> 1;
			}
			if ((err = push_func(v, id)))
				return err;
			prev = id;
			depth++;
		}
	}
	if (!focused || ignored) {
		v->nr_funcs_of = first;
		*path = PATH_DROP;
		return 0;
	}
	if (o->by == VIEW_BY_PROCESS) {
		*root = depth ? v->funcs[v->funcs_of[first]].loc : 0;
		v->nr_funcs_of = first;
		*path = PATH_KEEP;
		return 0;
	}
	return new_path(v, first, depth, path);
}

int view__build(struct view *v, const struct profile *p, const struct view_opts *o)
{
	struct build b = { .o = o };
	int err = -ENOMEM;
	size_t nslots = 0;
	uint32_t *path_of = NULL, *root_of = NULL, *proc_of = NULL, i, c;
	uint8_t *proc_done = NULL;
	struct u64map proc_path; /* --by process: the path of each process func */

	memset(v, 0, sizeof(*v));
	v->p = p;
	v->budget = p->expand_limit ? p->expand_limit : UINT64_MAX;
	idxmap__init(&v->func_idx);
	idxmap__init(&v->base_idx);
	u64map__init(&proc_path);
	if (o->focus && *o->focus) {
		if (compile(&b.focus, o->focus, "--focus"))
			return -EINVAL;
		b.have_focus = 1;
	}
	if (o->ignore && *o->ignore) {
		if (compile(&b.ignore, o->ignore, "--ignore")) {
			err = -EINVAL;
			goto out;
		}
		b.have_ignore = 1;
	}
	/* A cache of func ids per (location, frame), so each name is made once. */
	b.loc_base = malloc((p->nr_locations + 1) * sizeof(*b.loc_base));
	if (!b.loc_base)
		goto out;
	for (i = 0; i < p->nr_locations; i++) {
		b.loc_base[i] = nslots;
		nslots += p->locations[i].nr_frames ? p->locations[i].nr_frames : 1;
	}
	b.loc_base[i] = nslots;
	b.slots = malloc((nslots ? nslots : 1) * sizeof(*b.slots));
	/* The path of each profile stack, made when a count first refers to it. */
	path_of = malloc((p->nr_stacks ? p->nr_stacks : 1) * sizeof(*path_of));
	if (!b.slots || !path_of)
		goto out;
	for (i = 0; i < nslots; i++)
		b.slots[i] = SLOT_TODO;
	for (i = 0; i < p->nr_stacks; i++)
		path_of[i] = PATH_TODO;
	if (o->by == VIEW_BY_PROCESS) {
		proc_of = malloc((p->nr_threads ? p->nr_threads : 1) * sizeof(*proc_of));
		proc_done = calloc(p->nr_threads ? p->nr_threads : 1, 1);
		root_of = malloc((p->nr_stacks ? p->nr_stacks : 1) * sizeof(*root_of));
		if (!proc_of || !proc_done || !root_of || name_processes(p, proc_of))
			goto out;
	}

	for (c = 0; c < p->nr_counts; c++) {
		const struct profile_count *pc = &p->counts[c];
		uint32_t path;

		if (!pc->count || !view__thread_selected(p, pc->thread, o))
			continue;
		if (path_of[pc->stack] == PATH_TODO &&
		    (err = expand_stack(v, &b, pc->stack, &path_of[pc->stack],
					root_of ? &root_of[pc->stack] : NULL)))
			goto out;
		err = -ENOMEM;
		path = path_of[pc->stack];
		if (path == PATH_DROP)
			continue;
		if (path == PATH_KEEP) {
			uint32_t id = process_func(v, proc_of, proc_done, pc->thread, root_of[pc->stack]);
			uint64_t pid;

			if (id == PROFILE_NONE) {
				err = v->over_budget ? -E2BIG : -ENOMEM;
				goto out;
			}
			if (u64map__get(&proc_path, id, &pid)) {
				path = (uint32_t)pid;
			} else {
				if ((err = new_path(v, v->nr_funcs_of, 1, &path)) || (err = push_func(v, id)))
					goto out;
				err = -ENOMEM;
				if (u64map__set(&proc_path, id, path))
					goto out;
			}
		}
		if (array__grow(&v->stacks, &v->cap_stacks, (size_t)v->nr_stacks + 1, sizeof(*v->stacks)))
			goto out;
		v->stacks[v->nr_stacks++] = (struct view_stack){ v->paths[path].first, v->paths[path].depth,
								 pc->thread, pc->count, path };
		v->paths[path].count += pc->count;
		v->total += pc->count;
	}
	err = 0;
out:
	if (b.have_focus)
		regfree(&b.focus);
	if (b.have_ignore)
		regfree(&b.ignore);
	free(b.loc_base);
	free(b.slots);
	free(b.flags);
	free(path_of);
	free(root_of);
	free(proc_of);
	free(proc_done);
	u64map__release(&proc_path);
	if (err)
		view__release(v);
	return err;
}

void view__release(struct view *v)
{
	uint32_t i;

	for (i = 0; i < v->nr_funcs; i++)
		free(v->funcs[i].name);
	free(v->funcs);
	free(v->stacks);
	free(v->paths);
	free(v->funcs_of);
	idxmap__release(&v->func_idx);
	idxmap__release(&v->base_idx);
	memset(v, 0, sizeof(*v));
}
