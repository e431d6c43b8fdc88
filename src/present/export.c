// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "export.h"
#include "idxmap.h"
#include "json.h"
#include "log.h"

/* --- protobuf encoding ------------------------------------------------------------------------------ */

void pbuf__varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	buf__put(b, tmp, n);
}

void pbuf__uint(struct buf *b, uint32_t field, uint64_t v)
{
	if (!v)
		return;
	pbuf__varint(b, (uint64_t)field << 3 | 0);
	pbuf__varint(b, v);
}

void pbuf__bytes(struct buf *b, uint32_t field, const void *data, size_t len)
{
	pbuf__varint(b, (uint64_t)field << 3 | 2);
	pbuf__varint(b, len);
	buf__put(b, data, len);
}

/* Append sub-message 'm' as field 'field' of 'b', and empty 'm' for reuse. */
static void pbuf_msg(struct buf *b, uint32_t field, struct buf *m)
{
	if (m->err && !b->err)
		b->err = m->err;
	pbuf__bytes(b, field, m->data, m->len);
	buf__reset(m);
}

int export__gzip(FILE *out, const void *data, size_t len)
{
	unsigned char buf[1 << 16];
	z_stream z;
	int rc, err = 0;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer around the deflate stream. */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (unsigned char *)data;
	do {
		size_t chunk = len > (1u << 30) ? 1u << 30 : len;

		z.next_in = (unsigned char *)data;
		z.avail_in = (uInt)chunk;
		data = (const char *)data + chunk;
		len -= chunk;
		do {
			z.next_out = buf;
			z.avail_out = sizeof(buf);
			rc = deflate(&z, len ? Z_NO_FLUSH : Z_FINISH);
			if (rc == Z_STREAM_ERROR) {
				err = -EIO;
				goto out;
			}
			if (fwrite(buf, 1, sizeof(buf) - z.avail_out, out) != sizeof(buf) - z.avail_out) {
				err = -EIO;
				goto out;
			}
		} while (z.avail_out == 0);
	} while (len);
	if (rc != Z_STREAM_END)
		err = -EIO;
out:
	deflateEnd(&z);
	return err;
}

/* --- pprof ------------------------------------------------------------------------------------------- */

/* profile.proto field numbers */
enum {
	PROF_SAMPLE_TYPE = 1,
	PROF_SAMPLE = 2,
	PROF_MAPPING = 3,
	PROF_LOCATION = 4,
	PROF_FUNCTION = 5,
	PROF_STRING_TABLE = 6,
	PROF_TIME_NANOS = 9,
	PROF_DURATION_NANOS = 10,
	PROF_PERIOD_TYPE = 11,
	PROF_PERIOD = 12,
	PROF_COMMENT = 13,
	PROF_DEFAULT_SAMPLE_TYPE = 14,
	VT_TYPE = 1,
	VT_UNIT = 2,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	SAMPLE_LABEL = 3,
	LABEL_KEY = 1,
	LABEL_STR = 2,
	LABEL_NUM = 3,
	MAP_ID = 1,
	MAP_FILENAME = 5,
	MAP_BUILD_ID = 6,
	MAP_HAS_FUNCTIONS = 7,
	MAP_HAS_FILENAMES = 8,
	MAP_HAS_LINE_NUMBERS = 9,
	MAP_HAS_INLINE_FRAMES = 10,
	LOC_ID = 1,
	LOC_MAPPING_ID = 2,
	LOC_ADDRESS = 3,
	LOC_LINE = 4,
	LINE_FUNCTION_ID = 1,
	LINE_LINE = 2,
	FUNC_ID = 1,
	FUNC_NAME = 2,
	FUNC_SYSTEM_NAME = 3,
	FUNC_FILENAME = 4,
};

/* Strings beyond the profile's own: the profile's string ids are used as pprof string indexes as they
 * are (both start with ""), and these follow them. */
#define PPROF_VALUE_MAX ((uint64_t)INT64_MAX)

enum { S_SAMPLES, S_COUNT, S_CPU, S_NANOSECONDS, S_PID, S_TID, S_COMM, S_COMMENT, NR_EXTRA };

/*
 * The main binary: the file mapping of the recorded command's executable ("targets" meta,
 * "PID (PATH), ..."), else the first file mapping that is not a shared object, else the first file
 * mapping. PROFILE_NONE when there is no file mapping.
 */
static uint32_t main_mapping(const struct profile *p)
{
	const char *t = profile__meta_get(p, "targets"), *open, *close;
	uint32_t i, first = PROFILE_NONE, exe = PROFILE_NONE;

	if (t && (open = strchr(t, '(')) && (close = strchr(open, ')'))) {
		for (i = 0; i < p->nr_mappings; i++) {
			const char *n = profile__str(p, p->mappings[i].name);

			if (p->mappings[i].kind == PROFILE_MAP_FILE &&
			    strlen(n) == (size_t)(close - open - 1) &&
			    !strncmp(n, open + 1, (size_t)(close - open - 1)))
				return i;
		}
	}
	for (i = 0; i < p->nr_mappings; i++) {
		if (p->mappings[i].kind != PROFILE_MAP_FILE)
			continue;
		if (first == PROFILE_NONE)
			first = i;
		if (exe == PROFILE_NONE && !strstr(profile__mapping_short_name(p, i), ".so"))
			exe = i;
	}
	return exe != PROFILE_NONE ? exe : first;
}

static void value_type(struct buf *b, struct buf *m, uint32_t field, uint64_t type, uint64_t unit)
{
	pbuf__uint(m, VT_TYPE, type);
	pbuf__uint(m, VT_UNIT, unit);
	pbuf_msg(b, field, m);
}

static void label(struct buf *s, struct buf *m, uint64_t key, uint64_t str, uint64_t num)
{
	pbuf__uint(m, LABEL_KEY, key);
	pbuf__uint(m, LABEL_STR, str);
	pbuf__uint(m, LABEL_NUM, num);
	pbuf_msg(s, SAMPLE_LABEL, m);
}

/* The sample types of the off-CPU states, after the CPU ones, in the order of enum profile_event. */
#define NR_OFF_TYPES 3
static const char *const off_types[NR_OFF_TYPES] = { "off_cpu_sleep", "off_cpu_disk", "off_cpu_runq" };

/* Where the samples go, and what they may still cost (the profile's expand_limit). */
struct pprof_samples {
	const struct profile *p;
	struct buf *b, *m, *sub, *packed;
	uint64_t x; /* the first of our strings */
	uint64_t *budget;
};

/* One Sample: the locations of 'stack' leaf first, 'nr' values, the thread's labels. 0 or -E2BIG. */
static int put_sample(struct pprof_samples *ps, uint32_t stack, uint32_t thread, const uint64_t *vals,
		      uint32_t nr)
{
	const struct profile *p = ps->p;
	const struct profile_thread *t = &p->threads[thread];
	const uint32_t *locs = profile__stack_locs(p, stack);
	uint64_t cost = 32 + (uint64_t)p->stacks[stack].depth * 4;
	uint32_t k;

	if (cost > *ps->budget)
		return view__budget_error(p);
	*ps->budget -= cost;
	for (k = 0; k < p->stacks[stack].depth; k++)
		pbuf__varint(ps->packed, locs[k] + 1);
	pbuf_msg(ps->m, SAMPLE_LOCATION_ID, ps->packed);
	for (k = 0; k < nr; k++)
		pbuf__varint(ps->packed, vals[k]);
	pbuf_msg(ps->m, SAMPLE_VALUE, ps->packed);
	label(ps->m, ps->sub, ps->x + S_PID, 0, t->pid);
	label(ps->m, ps->sub, ps->x + S_TID, 0, t->tid);
	label(ps->m, ps->sub, ps->x + S_COMM, t->comm, 0);
	pbuf_msg(ps->b, PROF_SAMPLE, ps->m);
	return 0;
}

int export__pprof(FILE *out, const struct profile *p, const struct view_opts *view)
{
	struct buf b = { 0 }, m = { 0 }, sub = { 0 }, packed = { 0 };
	uint32_t *map_id = calloc(p->nr_mappings + 1, sizeof(*map_id)), *func_of = NULL, i, k, next_map = 1;
	uint32_t *addr_fn = NULL; /* per location: its own function for an unnamed address, 0 for none */
	char **labels = NULL, label_buf[4096];
	uint32_t nr_labels = 0;
	uint64_t next_fn, budget = p->expand_limit ? p->expand_limit : UINT64_MAX;
	uint64_t x = p->nr_strs, period = 10000000; /* 100 Hz unless the profile says otherwise */
	struct u64map funcs;
	const char *v;
	uint8_t *map_named = calloc(p->nr_mappings + 1, 1);
	static const char *extra[NR_EXTRA] = {
		"samples", "count", "cpu",  "nanoseconds",
		"pid",     "tid",   "comm", "written by scorch " SCORCH_VERSION
	};
	int err = -ENOMEM, off = p->nr_waits > 0;
	struct pprof_samples ps = { p, &b, &m, &sub, &packed, x, &budget };

	u64map__init(&funcs);
	func_of = malloc((p->nr_frames + 1) * sizeof(*func_of));
	addr_fn = calloc(p->nr_locations + 1, sizeof(*addr_fn));
	labels = malloc((p->nr_locations + 1) * sizeof(*labels));
	if (!map_id || !map_named || !func_of || !addr_fn || !labels)
		goto out;
	if ((v = profile__meta_get(p, "frequency")) && strtoull(v, NULL, 10))
		period = 1000000000ULL / strtoull(v, NULL, 10);
	if (!period) /* a frequency above 1 GHz (a hostile file) */
		period = 1;

	value_type(&b, &m, PROF_SAMPLE_TYPE, x + S_SAMPLES, x + S_COUNT);
	value_type(&b, &m, PROF_SAMPLE_TYPE, x + S_CPU, x + S_NANOSECONDS);

	/* Mappings: the main binary first, as pprof takes mapping 1 for it. */
	for (i = 0; i < p->nr_locations; i++)
		if (p->locations[i].nr_frames)
			map_named[p->locations[i].mapping] = 1;
	k = main_mapping(p);
	if (k != PROFILE_NONE)
		map_id[k] = next_map++;
	for (i = 0; i < p->nr_mappings; i++)
		if (!map_id[i])
			map_id[i] = next_map++;
	for (k = 1; k < next_map; k++) {
		for (i = 0; i < p->nr_mappings; i++) {
			const struct profile_mapping *pm = &p->mappings[i];

			if (map_id[i] != k)
				continue;
			pbuf__uint(&m, MAP_ID, map_id[i]);
			pbuf__uint(&m, MAP_FILENAME, pm->name);
			pbuf__uint(&m, MAP_BUILD_ID, pm->build_id);
			pbuf__uint(&m, MAP_HAS_FUNCTIONS, map_named[i]);
			pbuf__uint(&m, MAP_HAS_FILENAMES, map_named[i]);
			pbuf__uint(&m, MAP_HAS_LINE_NUMBERS, map_named[i]);
			pbuf__uint(&m, MAP_HAS_INLINE_FRAMES, map_named[i]);
			pbuf_msg(&b, PROF_MAPPING, &m);
		}
	}

	/* Functions: one per (name, file). */
	for (i = 0; i < p->nr_frames; i++) {
		const struct profile_frame *f = &p->frames[i];
		uint64_t key = ((uint64_t)f->function << 32 | f->file) + 1, id;

		func_of[i] = 0;
		if (!f->function)
			continue;
		if (!u64map__get(&funcs, key, &id)) {
			id = funcs.len + 1;
			if (u64map__set(&funcs, key, id))
				goto out;
			pbuf__uint(&m, FUNC_ID, id);
			pbuf__uint(&m, FUNC_NAME, f->function);
			pbuf__uint(&m, FUNC_SYSTEM_NAME, f->function);
			pbuf__uint(&m, FUNC_FILENAME, f->file);
			pbuf_msg(&b, PROF_FUNCTION, &m);
		}
		func_of[i] = (uint32_t)id;
	}

	/*
	 * Unnamed addresses: a function of their own each, named as report names them
	 * ("[postgres+0x58ad9e]"), so that pprof neither merges every unnamed address of a module into one
	 * function nor shows them as a root. Their names follow the extra strings in the string table.
	 */
	next_fn = funcs.len + 1;
	for (i = 0; i < p->nr_locations; i++) {
		const struct profile_location *l = &p->locations[i];
		int unnamed = !l->nr_frames;

		for (k = 0; k < l->nr_frames; k++)
			unnamed |= !func_of[l->frame + k];
		if (!unnamed)
			continue;
		profile__frame_label(p, i, l->nr_frames, label_buf, sizeof(label_buf));
		labels[nr_labels] = strdup(label_buf);
		if (!labels[nr_labels])
			goto out;
		addr_fn[i] = (uint32_t)next_fn++;
		pbuf__uint(&m, FUNC_ID, addr_fn[i]);
		pbuf__uint(&m, FUNC_NAME, x + NR_EXTRA + nr_labels);
		pbuf__uint(&m, FUNC_SYSTEM_NAME, x + NR_EXTRA + nr_labels);
		pbuf_msg(&b, PROF_FUNCTION, &m);
		nr_labels++;
	}

	/* Locations: ids are profile location ids + 1; frames innermost first, as pprof's Lines. */
	for (i = 0; i < p->nr_locations; i++) {
		const struct profile_location *l = &p->locations[i];

		pbuf__uint(&m, LOC_ID, i + 1);
		pbuf__uint(&m, LOC_MAPPING_ID, map_id[l->mapping]);
		pbuf__uint(&m, LOC_ADDRESS, l->addr);
		for (k = 0; k < l->nr_frames; k++) {
			uint32_t fi = l->frame + k;

			pbuf__uint(&sub, LINE_FUNCTION_ID, func_of[fi] ? func_of[fi] : addr_fn[i]);
			pbuf__uint(&sub, LINE_LINE, p->frames[fi].line);
			pbuf_msg(&m, LOC_LINE, &sub);
		}
		if (!l->nr_frames) {
			pbuf__uint(&sub, LINE_FUNCTION_ID, addr_fn[i]);
			pbuf_msg(&m, LOC_LINE, &sub);
		}
		pbuf_msg(&b, PROF_LOCATION, &m);
	}

	/*
	 * Samples: one per (stack, thread), locations leaf first. They repeat a stack in every thread
	 * that sampled it, so they are charged to the profile's expand_limit, as the view charges its
	 * readers: a deep stack in many threads must not grow the buffer to gigabytes.
	 */
	for (i = 0; i < p->nr_counts; i++) {
		const struct profile_count *c = &p->counts[i];
		/* pprof's values are int64: saturate, so that a huge count never wraps to a negative value.
		 */
		uint64_t vals[2 + NR_OFF_TYPES] = {
			c->count > PPROF_VALUE_MAX ? PPROF_VALUE_MAX : c->count,
			c->count > PPROF_VALUE_MAX / period ? PPROF_VALUE_MAX : c->count * period,
		};

		if (!c->count || (view && !view__thread_selected(p, c->thread, view)))
			continue;
		if ((err = put_sample(&ps, c->stack, c->thread, vals, off ? 2 + NR_OFF_TYPES : 2)))
			goto out;
	}
	/* Off-CPU time: a sample type per state, nanoseconds, each wait a sample of its own. */
	for (i = 0; off && i < p->nr_waits; i++) {
		const struct profile_wait *w = &p->waits[i];
		uint64_t vals[2 + NR_OFF_TYPES] = { 0 };

		if (!w->ns || (view && !view__thread_selected(p, w->thread, view)))
			continue;
		vals[2 + w->event - PROFILE_EV_OFF_SLEEP] = w->ns > PPROF_VALUE_MAX ? PPROF_VALUE_MAX : w->ns;
		if ((err = put_sample(&ps, w->stack, w->thread, vals, 2 + NR_OFF_TYPES)))
			goto out;
	}
	err = -ENOMEM;
	for (i = 0; off && i < NR_OFF_TYPES; i++)
		value_type(&b, &m, PROF_SAMPLE_TYPE, x + NR_EXTRA + nr_labels + i, x + S_NANOSECONDS);

	/* The string table: the profile's strings, then ours. */
	for (i = 0; i < p->nr_strs; i++)
		pbuf__bytes(&b, PROF_STRING_TABLE, p->strs[i], p->str_lens[i]);
	for (i = 0; i < NR_EXTRA; i++)
		pbuf__bytes(&b, PROF_STRING_TABLE, extra[i], strlen(extra[i]));
	for (i = 0; i < nr_labels; i++)
		pbuf__bytes(&b, PROF_STRING_TABLE, labels[i], strlen(labels[i]));
	for (i = 0; off && i < NR_OFF_TYPES; i++)
		pbuf__bytes(&b, PROF_STRING_TABLE, off_types[i], strlen(off_types[i]));

	if ((v = profile__meta_get(p, "duration_ns")))
		pbuf__uint(&b, PROF_DURATION_NANOS, strtoull(v, NULL, 10));
	value_type(&b, &m, PROF_PERIOD_TYPE, x + S_CPU, x + S_NANOSECONDS);
	pbuf__uint(&b, PROF_PERIOD, period);
	pbuf__varint(&b, PROF_COMMENT << 3 | 0);
	pbuf__varint(&b, x + S_COMMENT);
	pbuf__uint(&b, PROF_DEFAULT_SAMPLE_TYPE, x + S_CPU);
	if (b.err || m.err || sub.err || packed.err)
		goto out;
	err = export__gzip(out, b.data, b.len);
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
out:
	buf__release(&b);
	buf__release(&m);
	buf__release(&sub);
	buf__release(&packed);
	free(map_id);
	free(map_named);
	free(func_of);
	free(addr_fn);
	for (i = 0; i < nr_labels; i++)
		free(labels[i]);
	free(labels);
	u64map__release(&funcs);
	return err;
}

/* --- speedscope -------------------------------------------------------------------------------------- */

struct thread_sum {
	uint32_t thread;
	uint64_t samples;
};

static int cmp_thread_sum(const void *a, const void *b)
{
	const struct thread_sum *x = a, *y = b;

	if (x->samples != y->samples)
		return x->samples < y->samples ? 1 : -1;
	return (x->thread > y->thread) - (x->thread < y->thread);
}

int export__speedscope(FILE *out, const struct profile *p, const struct view_opts *vo, const char *name)
{
	static const struct view_opts defaults = { 0 };
	struct thread_sum *threads = NULL;
	uint32_t *order = NULL, *start = NULL, nr_threads = 0, i, s, k;
	struct json j;
	struct view v;
	int err = view__build(&v, p, vo ? vo : &defaults);

	if (err)
		return err;
	err = -ENOMEM;
	threads = calloc(p->nr_threads + 1, sizeof(*threads));
	order = malloc((v.nr_stacks + 1) * sizeof(*order));
	start = calloc(p->nr_threads + 2, sizeof(*start));
	if (!threads || !order || !start)
		goto out;
	for (i = 0; i < p->nr_threads; i++)
		threads[i].thread = i;
	/*
	 * The view's stacks grouped by thread (a counting sort, in view order within a thread), so that
	 * writing every thread's samples is linear in threads + stacks, not threads x stacks.
	 */
	for (s = 0; s < v.nr_stacks; s++) {
		threads[v.stacks[s].thread].samples += v.stacks[s].count;
		start[v.stacks[s].thread + 1]++;
	}
	for (i = 0; i < p->nr_threads; i++)
		start[i + 1] += start[i];
	for (s = 0; s < v.nr_stacks; s++)
		order[start[v.stacks[s].thread]++] = s;
	for (i = p->nr_threads; i > 0; i--)
		start[i] = start[i - 1];
	start[0] = 0;
	qsort(threads, p->nr_threads, sizeof(*threads), cmp_thread_sum);
	while (nr_threads < p->nr_threads && threads[nr_threads].samples)
		nr_threads++;
	/* Every sample is written with all its frames: charge them before writing anything. */
	for (s = 0; s < v.nr_stacks; s++)
		if ((err = view__charge(&v, 8 + (uint64_t)v.stacks[s].depth * 4)))
			goto out;
	err = -ENOMEM;

	json__init(&j, out, 0);
	json__obj(&j);
	json__key(&j, "$schema"), json__str(&j, "https://www.speedscope.app/file-format-schema.json");
	json__key(&j, "name"), json__str(&j, name);
	json__key(&j, "exporter"), json__str(&j, "scorch " SCORCH_VERSION);
	json__key(&j, "activeProfileIndex"), json__u64(&j, 0);
	json__key(&j, "shared");
	json__obj(&j);
	json__key(&j, "frames");
	json__arr(&j);
	for (i = 0; i < v.nr_funcs; i++) {
		const struct view_func *f = &v.funcs[i];

		fputc('\n', out);
		json__obj(&j);
		json__key(&j, "name"), json__str(&j, f->name);
		if (f->file)
			json__key(&j, "file"), json__str(&j, profile__str(p, f->file));
		if (f->line)
			json__key(&j, "line"), json__u64(&j, f->line);
		json__end(&j);
	}
	json__end(&j);
	json__end(&j);
	json__key(&j, "profiles");
	json__arr(&j);
	for (i = 0; i < nr_threads; i++) {
		uint32_t th = threads[i].thread;
		const struct profile_thread *t = &p->threads[th];
		const uint32_t *mine = order + start[th];
		uint32_t n = start[th + 1] - start[th];
		char pname[512];

		snprintf(pname, sizeof(pname), "%s (%u/%u)", profile__str(p, t->comm), t->pid, t->tid);
		fputc('\n', out);
		json__obj(&j);
		json__key(&j, "type"), json__str(&j, "sampled");
		json__key(&j, "name"), json__str(&j, pname);
		json__key(&j, "unit"), json__str(&j, "none");
		json__key(&j, "startValue"), json__u64(&j, 0);
		json__key(&j, "endValue"), json__u64(&j, threads[i].samples);
		json__key(&j, "samples");
		json__arr(&j);
		for (s = 0; s < n; s++) {
			const uint32_t *fs = view__stack_funcs(&v, mine[s]);

			json__arr(&j);
			for (k = 0; k < v.stacks[mine[s]].depth; k++)
				json__u64(&j, fs[k]);
			json__end(&j);
		}
		json__end(&j);
		json__key(&j, "weights");
		json__arr(&j);
		for (s = 0; s < n; s++)
			json__u64(&j, v.stacks[mine[s]].count);
		json__end(&j);
		json__end(&j);
	}
	json__end(&j);
	json__end(&j);
	fputc('\n', out);
	err = fflush(out) || ferror(out) ? -EIO : 0;
out:
	free(threads);
	free(order);
	free(start);
	view__release(&v);
	return err;
}
