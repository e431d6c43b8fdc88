// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "profile.h"

#define GROW(p, field, capfield, need) array__grow(&(p)->field, &(p)->capfield, (need), sizeof(*(p)->field))

static uint32_t fail(int err)
{
	errno = err;
	return PROFILE_NONE;
}

void profile__init(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	idxmap__init(&p->str_idx);
	idxmap__init(&p->mapping_idx);
	idxmap__init(&p->location_idx);
	idxmap__init(&p->stack_idx);
	idxmap__init(&p->thread_idx);
	idxmap__init(&p->count_idx);
	idxmap__init(&p->meta_idx);
	idxmap__init(&p->counter_idx);
	idxmap__init(&p->wait_idx);
	/* String 0 is "" so that 0 can mean "unknown" in every string field. */
	if (profile__intern_str(p, "", 0) != 0)
		p->nr_strs = 0; /* out of memory: the next intern retries */
}

void profile__release(struct profile *p)
{
	uint32_t i;

	for (i = 0; i < p->nr_strs; i++)
		free(p->strs[i]);
	free(p->strs);
	free(p->str_lens);
	free(p->mappings);
	free(p->frames);
	free(p->locations);
	free(p->stacks);
	free(p->stack_locs);
	free(p->threads);
	free(p->counts);
	free(p->meta);
	free(p->counters);
	idxmap__release(&p->str_idx);
	idxmap__release(&p->mapping_idx);
	idxmap__release(&p->location_idx);
	idxmap__release(&p->stack_idx);
	idxmap__release(&p->thread_idx);
	idxmap__release(&p->count_idx);
	idxmap__release(&p->meta_idx);
	idxmap__release(&p->counter_idx);
	free(p->waits);
	idxmap__release(&p->wait_idx);
	memset(p, 0, sizeof(*p));
}

/* --- strings --- */

struct str_key {
	const char *s;
	size_t len;
};

static int str_eq(const void *key, uint32_t id, void *ctx)
{
	const struct str_key *k = key;
	const struct profile *p = ctx;

	return p->str_lens[id] == k->len && memcmp(p->strs[id], k->s, k->len) == 0;
}

/* The id of string (s, len), or PROFILE_NONE when the profile has none. */
static uint32_t find_str(const struct profile *p, const char *s, size_t len)
{
	struct str_key k = { s, len };

	return idxmap__find(&p->str_idx, idxmap__hash_bytes(s, len, 1), &k, str_eq, (void *)p);
}

uint32_t profile__intern_str(struct profile *p, const char *s, size_t len)
{
	struct str_key k = { s, len };
	uint64_t h = idxmap__hash_bytes(s, len, 1);
	uint32_t id;
	char *copy;

	if (p->nr_strs == 0 && len != 0 && profile__intern_str(p, "", 0) != 0)
		return fail(ENOMEM);
	id = idxmap__find(&p->str_idx, h, &k, str_eq, p);
	if (id != IDXMAP_NONE)
		return id;
	if (len >= UINT32_MAX || p->nr_strs == PROFILE_NONE - 1)
		return fail(ENOMEM);
	if (GROW(p, strs, cap_strs, p->nr_strs + 1) || GROW(p, str_lens, cap_str_lens, p->nr_strs + 1))
		return fail(ENOMEM);
	copy = malloc(len + 1);
	if (!copy)
		return fail(ENOMEM);
	memcpy(copy, s, len);
	copy[len] = '\0';
	id = p->nr_strs;
	if (idxmap__insert(&p->str_idx, h, id)) {
		free(copy);
		return fail(ENOMEM);
	}
	p->strs[id] = copy;
	p->str_lens[id] = (uint32_t)len;
	p->nr_strs++;
	return id;
}

const char *profile__str(const struct profile *p, uint32_t id)
{
	return id < p->nr_strs ? p->strs[id] : "";
}

/* --- mappings --- */

static uint64_t mapping_hash(uint32_t name, uint32_t build_id, uint32_t kind)
{
	return idxmap__hash_u64(((uint64_t)name << 32 | build_id) ^ ((uint64_t)kind << 56));
}

static int mapping_eq(const void *key, uint32_t id, void *ctx)
{
	const struct profile_mapping *k = key;
	const struct profile *p = ctx;
	const struct profile_mapping *m = &p->mappings[id];

	return m->name == k->name && m->build_id == k->build_id && m->kind == k->kind;
}

uint32_t profile__intern_mapping(struct profile *p, uint32_t name, uint32_t build_id, uint32_t kind)
{
	struct profile_mapping k = { name, build_id, kind };
	uint64_t h = mapping_hash(name, build_id, kind);
	uint32_t id;

	if (name >= p->nr_strs || build_id >= p->nr_strs || kind >= PROFILE_MAP_KIND_MAX)
		return fail(EINVAL);
	id = idxmap__find(&p->mapping_idx, h, &k, mapping_eq, p);
	if (id != IDXMAP_NONE)
		return id;
	if (GROW(p, mappings, cap_mappings, p->nr_mappings + 1))
		return fail(ENOMEM);
	id = p->nr_mappings;
	if (idxmap__insert(&p->mapping_idx, h, id))
		return fail(ENOMEM);
	p->mappings[id] = k;
	p->nr_mappings++;
	return id;
}

/* --- locations --- */

struct loc_key {
	uint32_t mapping;
	uint64_t addr;
};

static uint64_t loc_hash(uint32_t mapping, uint64_t addr)
{
	return idxmap__hash_u64(addr * 31 + mapping);
}

static int loc_eq(const void *key, uint32_t id, void *ctx)
{
	const struct loc_key *k = key;
	const struct profile *p = ctx;

	return p->locations[id].mapping == k->mapping && p->locations[id].addr == k->addr;
}

uint32_t profile__find_location(const struct profile *p, uint32_t mapping, uint64_t addr)
{
	struct loc_key k = { mapping, addr };

	return idxmap__find(&p->location_idx, loc_hash(mapping, addr), &k, loc_eq, (void *)p);
}

uint32_t profile__add_location(struct profile *p, uint32_t mapping, uint64_t addr, uint32_t flags,
			       const struct profile_frame *frames, uint32_t nr_frames)
{
	struct profile_location *l;
	uint32_t i, id;

	if (mapping >= p->nr_mappings)
		return fail(EINVAL);
	for (i = 0; i < nr_frames; i++)
		if (frames[i].function >= p->nr_strs || frames[i].file >= p->nr_strs)
			return fail(EINVAL);
	if (profile__find_location(p, mapping, addr) != PROFILE_NONE)
		return fail(EEXIST);
	if ((uint64_t)p->nr_frames + nr_frames >= PROFILE_NONE)
		return fail(ENOMEM);
	if (GROW(p, locations, cap_locations, p->nr_locations + 1) ||
	    GROW(p, frames, cap_frames, (size_t)p->nr_frames + nr_frames))
		return fail(ENOMEM);
	id = p->nr_locations;
	if (idxmap__insert(&p->location_idx, loc_hash(mapping, addr), id))
		return fail(ENOMEM);
	l = &p->locations[id];
	l->mapping = mapping;
	l->flags = flags;
	l->addr = addr;
	l->frame = p->nr_frames;
	l->nr_frames = nr_frames;
	if (nr_frames)
		memcpy(p->frames + p->nr_frames, frames, nr_frames * sizeof(*frames));
	p->nr_frames += nr_frames;
	p->nr_locations++;
	return id;
}

int profile__set_location_frames(struct profile *p, uint32_t loc, const struct profile_frame *frames,
				 uint32_t nr_frames)
{
	struct profile_location *l;
	uint32_t i;

	if (loc >= p->nr_locations)
		return -EINVAL;
	for (i = 0; i < nr_frames; i++)
		if (frames[i].function >= p->nr_strs || frames[i].file >= p->nr_strs)
			return -EINVAL;
	if ((uint64_t)p->nr_frames + nr_frames >= PROFILE_NONE ||
	    GROW(p, frames, cap_frames, (size_t)p->nr_frames + nr_frames))
		return -ENOMEM;
	l = &p->locations[loc];
	l->frame = p->nr_frames;
	l->nr_frames = nr_frames;
	if (nr_frames)
		memcpy(p->frames + p->nr_frames, frames, nr_frames * sizeof(*frames));
	p->nr_frames += nr_frames;
	return 0;
}

/* --- stacks --- */

struct stack_key {
	const uint32_t *locs;
	uint32_t depth;
};

static int stack_eq(const void *key, uint32_t id, void *ctx)
{
	const struct stack_key *k = key;
	const struct profile *p = ctx;
	const struct profile_stack *s = &p->stacks[id];

	return s->depth == k->depth &&
	       (!k->depth || memcmp(p->stack_locs + s->first, k->locs, k->depth * sizeof(uint32_t)) == 0);
}

uint32_t profile__intern_stack(struct profile *p, const uint32_t *locs, uint32_t depth)
{
	struct stack_key k = { locs, depth };
	uint64_t h = idxmap__hash_bytes(locs, depth * sizeof(*locs), 2);
	uint32_t i, id;

	for (i = 0; i < depth; i++)
		if (locs[i] >= p->nr_locations)
			return fail(EINVAL);
	id = idxmap__find(&p->stack_idx, h, &k, stack_eq, p);
	if (id != IDXMAP_NONE)
		return id;
	if (GROW(p, stacks, cap_stacks, p->nr_stacks + 1) ||
	    GROW(p, stack_locs, cap_stack_locs, p->nr_stack_locs + depth))
		return fail(ENOMEM);
	id = p->nr_stacks;
	if (idxmap__insert(&p->stack_idx, h, id))
		return fail(ENOMEM);
	p->stacks[id].first = (uint32_t)p->nr_stack_locs;
	p->stacks[id].depth = depth;
	if (depth)
		memcpy(p->stack_locs + p->nr_stack_locs, locs, depth * sizeof(*locs));
	p->nr_stack_locs += depth;
	p->nr_stacks++;
	return id;
}

/* --- threads --- */

static int thread_eq(const void *key, uint32_t id, void *ctx)
{
	const struct profile_thread *k = key;
	const struct profile *p = ctx;
	const struct profile_thread *t = &p->threads[id];

	return t->pid == k->pid && t->tid == k->tid && t->comm == k->comm;
}

static uint64_t thread_hash(uint32_t pid, uint32_t tid, uint32_t comm)
{
	return idxmap__hash_u64(((uint64_t)pid << 32 | tid) ^ ((uint64_t)comm * 0x9e3779b97f4a7c15ULL));
}

uint32_t profile__find_thread(const struct profile *p, uint32_t pid, uint32_t tid, uint32_t comm)
{
	struct profile_thread k = { pid, tid, comm };

	return idxmap__find(&p->thread_idx, thread_hash(pid, tid, comm), &k, thread_eq, (void *)p);
}

uint32_t profile__intern_thread(struct profile *p, uint32_t pid, uint32_t tid, uint32_t comm)
{
	struct profile_thread k = { pid, tid, comm };
	uint64_t h = thread_hash(pid, tid, comm);
	uint32_t id;

	if (comm >= p->nr_strs)
		return fail(EINVAL);
	id = idxmap__find(&p->thread_idx, h, &k, thread_eq, p);
	if (id != IDXMAP_NONE)
		return id;
	if (GROW(p, threads, cap_threads, p->nr_threads + 1))
		return fail(ENOMEM);
	id = p->nr_threads;
	if (idxmap__insert(&p->thread_idx, h, id))
		return fail(ENOMEM);
	p->threads[id] = k;
	p->nr_threads++;
	return id;
}

/* --- counts --- */

static int count_eq(const void *key, uint32_t id, void *ctx)
{
	const struct profile_count *k = key;
	const struct profile *p = ctx;

	return p->counts[id].stack == k->stack && p->counts[id].thread == k->thread;
}

uint32_t profile__add_count(struct profile *p, uint32_t stack, uint32_t thread, uint64_t n)
{
	struct profile_count k = { stack, thread, 0 };
	uint64_t h = idxmap__hash_u64((uint64_t)stack << 32 | thread);
	uint32_t id;

	if (stack >= p->nr_stacks || thread >= p->nr_threads)
		return fail(EINVAL);
	if (p->total + n < p->total)
		return fail(EOVERFLOW);
	id = idxmap__find(&p->count_idx, h, &k, count_eq, p);
	if (id == IDXMAP_NONE) {
		if (GROW(p, counts, cap_counts, p->nr_counts + 1))
			return fail(ENOMEM);
		id = p->nr_counts;
		if (idxmap__insert(&p->count_idx, h, id))
			return fail(ENOMEM);
		p->counts[id] = k;
		p->nr_counts++;
	}
	p->counts[id].count += n;
	p->total += n;
	return id;
}

/* --- waits (off-CPU time) --- */

static int wait_eq(const void *key, uint32_t id, void *ctx)
{
	const struct profile_wait *k = key;
	const struct profile *p = ctx;

	return p->waits[id].stack == k->stack && p->waits[id].thread == k->thread &&
	       p->waits[id].event == k->event;
}

uint32_t profile__add_wait(struct profile *p, uint32_t event, uint32_t stack, uint32_t thread, uint64_t waits,
			   uint64_t ns)
{
	struct profile_wait k = { .stack = stack, .thread = thread, .event = event };
	uint64_t h = idxmap__hash_u64(((uint64_t)stack << 32 | thread) ^ ((uint64_t)event << 62));
	uint32_t id;

	if (stack >= p->nr_stacks || thread >= p->nr_threads || event == PROFILE_EV_CPU ||
	    event >= PROFILE_EV_MAX)
		return fail(EINVAL);
	if (p->wait_ns[event] + ns < p->wait_ns[event])
		return fail(EOVERFLOW);
	id = idxmap__find(&p->wait_idx, h, &k, wait_eq, p);
	if (id == IDXMAP_NONE) {
		if (GROW(p, waits, cap_waits, p->nr_waits + 1))
			return fail(ENOMEM);
		id = p->nr_waits;
		if (idxmap__insert(&p->wait_idx, h, id))
			return fail(ENOMEM);
		p->waits[id] = k;
		p->nr_waits++;
	}
	if (p->waits[id].waits + waits < waits)
		return fail(EOVERFLOW);
	p->waits[id].waits += waits;
	p->waits[id].ns += ns;
	p->wait_ns[event] += ns;
	return id;
}

int profile__has_off_cpu(const struct profile *p)
{
	const char *v = profile__meta_get(p, "off_cpu");

	return p->nr_waits || (v && !strcmp(v, "yes"));
}

const char *profile__events_name(uint32_t mask)
{
	switch (mask) {
	case 0:
	case PROFILE_EV_MASK(PROFILE_EV_CPU):
		return "cpu";
	case PROFILE_EV_OFF_CPU:
		return "off-cpu";
	case PROFILE_EV_WALL:
		return "wall";
	case PROFILE_EV_MASK(PROFILE_EV_OFF_SLEEP):
		return "off-cpu:sleep";
	case PROFILE_EV_MASK(PROFILE_EV_OFF_DISK):
		return "off-cpu:disk";
	case PROFILE_EV_MASK(PROFILE_EV_OFF_RUNQ):
		return "off-cpu:runq";
	default:
		return "events";
	}
}

/* Add 'ns' to the count of (stack, thread); 0 or -errno. */
static int add_ns(struct profile *p, uint32_t stack, uint32_t thread, uint64_t ns)
{
	return ns && profile__add_count(p, stack, thread, ns) == PROFILE_NONE ? -errno : 0;
}

void profile__scale_counts(struct profile *p, uint64_t div)
{
	uint32_t i;

	p->total = 0;
	for (i = 0; i < p->nr_counts; i++) {
		p->counts[i].count = p->counts[i].count / div + (p->counts[i].count % div != 0);
		p->total += p->counts[i].count;
	}
}

int profile__select_event(struct profile *p, uint32_t mask)
{
	struct profile_count *old = p->counts;
	uint32_t nr_old = p->nr_counts, i;
	double period_ns = 0;
	const char *f;
	int err = 0;

	if (!mask || mask == PROFILE_EV_MASK(PROFILE_EV_CPU))
		return 0;
	if (mask & PROFILE_EV_MASK(PROFILE_EV_CPU)) {
		f = profile__meta_get(p, "frequency");
		period_ns = f ? 1e9 / strtod(f, NULL) : 0;
		if (!(period_ns >= 1 && period_ns <= 1e12))
			return -EINVAL;
	}
	/* The counts are built again, in nanoseconds first. */
	p->counts = NULL;
	p->nr_counts = 0;
	p->cap_counts = 0;
	p->total = 0;
	idxmap__release(&p->count_idx);
	idxmap__init(&p->count_idx);
	for (i = 0; !err && period_ns && i < nr_old; i++) {
		double ns = (double)old[i].count * period_ns + 0.5;

		/* 2^64 as a double: a hostile file's count would not fit, and the cast would be undefined */
		err = ns >= 18446744073709551616.0 ? -EOVERFLOW
						   : add_ns(p, old[i].stack, old[i].thread, (uint64_t)ns);
	}
	for (i = 0; !err && i < p->nr_waits; i++)
		if (mask & PROFILE_EV_MASK(p->waits[i].event))
			err = add_ns(p, p->waits[i].stack, p->waits[i].thread, p->waits[i].ns);
	free(old);
	if (err)
		return err;
	profile__scale_counts(p, 1000);
	p->count_events = mask;
	return 0;
}

/* --- meta and counters --- */

/*
 * Meta and counters: an array in order of first appearance, and an index from the key's string id to
 * the array slot, so that a file of many META or COUNTER records is read in linear time.
 */
static int kv_eq(const void *key, uint32_t id, void *ctx)
{
	const struct profile_kv *kv = ctx;

	return kv[id].key == *(const uint32_t *)key;
}

static struct profile_kv *kv_find(struct profile_kv *kv, const struct idxmap *idx, const struct profile *p,
				  const char *key)
{
	uint32_t k = find_str(p, key, strlen(key)), id;

	if (k == PROFILE_NONE)
		return NULL;
	id = idxmap__find(idx, idxmap__hash_u64(k), &k, kv_eq, kv);
	return id == IDXMAP_NONE ? NULL : &kv[id];
}

/* Append a slot for 'key' to (*kv, *n), indexed in 'idx'. NULL with *err set (-ENOMEM or -E2BIG). */
static struct profile_kv *kv_add(struct profile *p, struct profile_kv **kv, uint32_t *n, size_t *cap,
				 struct idxmap *idx, const char *key, int *err)
{
	uint32_t k;

	*err = -E2BIG;
	if (*n >= PROFILE_MAX_KEYS)
		return NULL;
	*err = -ENOMEM;
	k = profile__intern_cstr(p, key);
	if (k == PROFILE_NONE || array__grow(kv, cap, (size_t)*n + 1, sizeof(**kv)) ||
	    idxmap__insert(idx, idxmap__hash_u64(k), *n))
		return NULL;
	(*kv)[*n] = (struct profile_kv){ .key = k };
	return &(*kv)[(*n)++];
}

int profile__meta_set(struct profile *p, const char *key, const char *value)
{
	struct profile_kv *kv = kv_find(p->meta, &p->meta_idx, p, key);
	uint32_t v = profile__intern_cstr(p, value);
	int err;

	if (v == PROFILE_NONE)
		return -ENOMEM;
	if (!kv && !(kv = kv_add(p, &p->meta, &p->nr_meta, &p->cap_meta, &p->meta_idx, key, &err)))
		return err;
	kv->value = v;
	return 0;
}

int profile__meta_setf(struct profile *p, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int ret;

	va_start(ap, fmt);
	ret = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (ret < 0)
		return -ENOMEM;
	ret = profile__meta_set(p, key, s);
	free(s);
	return ret;
}

const char *profile__meta_get(const struct profile *p, const char *key)
{
	struct profile_kv *kv = kv_find(p->meta, &p->meta_idx, p, key);

	return kv ? profile__str(p, kv->value) : NULL;
}

int profile__counter_set(struct profile *p, const char *name, uint64_t value)
{
	struct profile_kv *kv = kv_find(p->counters, &p->counter_idx, p, name);
	int err;

	if (!kv &&
	    !(kv = kv_add(p, &p->counters, &p->nr_counters, &p->cap_counters, &p->counter_idx, name, &err)))
		return err;
	kv->num = value;
	return 0;
}

int profile__counter_add(struct profile *p, const char *name, uint64_t delta)
{
	return profile__counter_set(p, name, profile__counter_get(p, name) + delta);
}

uint64_t profile__counter_get(const struct profile *p, const char *name)
{
	struct profile_kv *kv = kv_find(p->counters, &p->counter_idx, p, name);

	return kv ? kv->num : 0;
}

/* --- display helpers --- */

const char *profile__mapping_short_name(const struct profile *p, uint32_t mapping)
{
	const char *name, *slash;

	if (mapping >= p->nr_mappings)
		return "[unknown]";
	name = profile__str(p, p->mappings[mapping].name);
	if (name[0] == '[')
		return name;
	slash = strrchr(name, '/');
	return slash && slash[1] ? slash + 1 : name;
}

const char *profile__frame_label(const struct profile *p, uint32_t loc, uint32_t frame_idx, char *buf,
				 size_t size)
{
	const struct profile_location *l;
	const char *mod;

	if (loc >= p->nr_locations) {
		snprintf(buf, size, "[unknown]");
		return buf;
	}
	l = &p->locations[loc];
	if (frame_idx < l->nr_frames && p->frames[l->frame + frame_idx].function) {
		snprintf(buf, size, "%s", profile__str(p, p->frames[l->frame + frame_idx].function));
		return buf;
	}
	mod = profile__mapping_short_name(p, l->mapping);
	if (mod[0] == '[' && mod[strlen(mod) - 1] == ']')
		snprintf(buf, size, "[%.*s+0x%" PRIx64 "]", (int)strlen(mod) - 2, mod + 1, l->addr);
	else
		snprintf(buf, size, "[%s+0x%" PRIx64 "]", mod, l->addr);
	return buf;
}
