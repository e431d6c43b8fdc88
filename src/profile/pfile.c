// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "array.h"
#include "buf.h"
#include "log.h"
#include "pfile.h"

#define HEADER_SIZE 16
#define DEFAULT_MAX_CHUNK (256u << 20)

enum rec_type {
	REC_META = 1,    /* key sid, value sid */
	REC_STRING = 2,  /* bytes */
	REC_MAPPING = 3, /* name sid, build-id sid, kind */
	REC_LOCATION =
		4, /* mapping, flags, addr, nr_frames, nr_frames x (function sid, file sid, line, flags) */
	REC_STACK = 5,            /* depth, depth x location */
	REC_THREAD = 6,           /* pid, tid, comm sid */
	REC_COUNT = 7,            /* stack, thread, delta */
	REC_COUNTER = 8,          /* name sid, value */
	REC_END = 9,              /* total samples */
	REC_LOCATION_FRAMES = 10, /* (1.1) location, nr_frames, nr_frames x frame: a location named later */
	REC_WAIT = 11, /* (1.2) event, stack, thread, waits delta, nanoseconds delta: off-CPU time */
};

/* --- record encoding (into struct buf, buf.h: errors are sticky, checked once per chunk) --- */

static void put_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	buf__put(b, tmp, n);
}

/* Append a record: type, length, then the payload collected in 'rec'. */
static void put_record(struct buf *b, uint8_t type, struct buf *rec)
{
	if (rec->err) {
		b->err = rec->err;
		return;
	}
	buf__put(b, &type, 1);
	put_varint(b, rec->len);
	buf__put(b, rec->data, rec->len);
	buf__reset(rec);
}

/* --- writer --- */

struct pfile_writer {
	int fd;                 /* borrowed */
	char *name;             /* owned */
	ZSTD_CCtx *cctx;        /* owned */
	struct buf raw, rec, z; /* owned: the chunk encoded, the record being encoded, the chunk compressed */
	uint64_t bytes;
	int failed;
	int finished;
	/* How much of the profile the chunks so far hold. */
	uint32_t nr_strs, nr_mappings, nr_locations, nr_stacks, nr_threads;
	uint64_t *counts_written; /* owned; per count id */
	size_t cap_counts;
	uint64_t *loc_frame; /* owned; per written location, its frames as written: first id << 32 | count */
	size_t cap_loc_frame;
	struct profile_wait *waits_written; /* owned; per wait id, its waits and ns written */
	size_t cap_waits;
};

static int write_all(struct pfile_writer *w, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("cannot write '%s': %s", w->name, strerror(errno));
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		w->bytes += (uint64_t)n;
	}
	return 0;
}

struct pfile_writer *pfile__writer_new(int fd, const char *name)
{
	struct pfile_writer *w = calloc(1, sizeof(*w));
	uint8_t hdr[HEADER_SIZE] = { 0 };

	if (!w)
		return NULL;
	w->fd = fd;
	w->name = strdup(name);
	w->cctx = ZSTD_createCCtx();
	if (!w->name || !w->cctx)
		goto nomem;
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	memcpy(hdr, PFILE_MAGIC, 8);
	hdr[8] = PFILE_MAJOR & 0xff;
	hdr[9] = PFILE_MAJOR >> 8;
	hdr[10] = PFILE_MINOR & 0xff;
	hdr[11] = PFILE_MINOR >> 8;
	if (write_all(w, hdr, sizeof(hdr))) {
		pfile__writer_free(w);
		errno = EIO;
		return NULL;
	}
	return w;
nomem:
	pr_err("out of memory");
	pfile__writer_free(w);
	errno = ENOMEM;
	return NULL;
}

void pfile__writer_free(struct pfile_writer *w)
{
	if (!w)
		return;
	ZSTD_freeCCtx(w->cctx);
	buf__release(&w->raw);
	buf__release(&w->rec);
	buf__release(&w->z);
	free(w->counts_written);
	free(w->loc_frame);
	free(w->waits_written);
	free(w->name);
	free(w);
}

uint64_t pfile__writer_bytes(const struct pfile_writer *w)
{
	return w->bytes;
}

static void put_frames(struct buf *r, const struct profile *p, const struct profile_location *l)
{
	uint32_t j;

	put_varint(r, l->nr_frames);
	for (j = 0; j < l->nr_frames; j++) {
		const struct profile_frame *f = &p->frames[l->frame + j];

		put_varint(r, f->function);
		put_varint(r, f->file);
		put_varint(r, f->line);
		put_varint(r, f->flags);
	}
}

/* The waits' growth since the previous chunk (after the stacks and threads they name). */
static void encode_waits(struct pfile_writer *w, const struct profile *p)
{
	struct buf *b = &w->raw, *r = &w->rec;
	uint32_t i;

	for (i = 0; i < p->nr_waits; i++) {
		const struct profile_wait *x = &p->waits[i],
					  *done = i < w->cap_waits ? &w->waits_written[i] : NULL;
		uint64_t dw = x->waits - (done ? done->waits : 0), dns = x->ns - (done ? done->ns : 0);

		if (!dw && !dns)
			continue;
		put_varint(r, x->event);
		put_varint(r, x->stack);
		put_varint(r, x->thread);
		put_varint(r, dw);
		put_varint(r, dns);
		put_record(b, REC_WAIT, r);
	}
}

static void encode_delta(struct pfile_writer *w, const struct profile *p)
{
	struct buf *b = &w->raw, *r = &w->rec;
	uint32_t i, j;

	for (i = w->nr_strs; i < p->nr_strs; i++) {
		buf__put(r, p->strs[i], p->str_lens[i]);
		put_record(b, REC_STRING, r);
	}
	for (i = 0; i < p->nr_meta; i++) {
		put_varint(r, p->meta[i].key);
		put_varint(r, p->meta[i].value);
		put_record(b, REC_META, r);
	}
	for (i = w->nr_mappings; i < p->nr_mappings; i++) {
		put_varint(r, p->mappings[i].name);
		put_varint(r, p->mappings[i].build_id);
		put_varint(r, p->mappings[i].kind);
		put_record(b, REC_MAPPING, r);
	}
	for (i = w->nr_locations; i < p->nr_locations; i++) {
		const struct profile_location *l = &p->locations[i];

		put_varint(r, l->mapping);
		put_varint(r, l->flags);
		put_varint(r, l->addr);
		put_frames(r, p, l);
		put_record(b, REC_LOCATION, r);
	}
	/* Locations written before and named since (JIT code named by a perf map read later). */
	for (i = 0; i < w->nr_locations; i++) {
		const struct profile_location *l = &p->locations[i];

		if (((uint64_t)l->frame << 32 | l->nr_frames) == w->loc_frame[i])
			continue;
		put_varint(r, i);
		put_frames(r, p, l);
		put_record(b, REC_LOCATION_FRAMES, r);
	}
	for (i = w->nr_stacks; i < p->nr_stacks; i++) {
		const uint32_t *locs = profile__stack_locs(p, i);

		put_varint(r, p->stacks[i].depth);
		for (j = 0; j < p->stacks[i].depth; j++)
			put_varint(r, locs[j]);
		put_record(b, REC_STACK, r);
	}
	for (i = w->nr_threads; i < p->nr_threads; i++) {
		put_varint(r, p->threads[i].pid);
		put_varint(r, p->threads[i].tid);
		put_varint(r, p->threads[i].comm);
		put_record(b, REC_THREAD, r);
	}
	for (i = 0; i < p->nr_counts; i++) {
		uint64_t done = i < w->cap_counts ? w->counts_written[i] : 0;

		if (p->counts[i].count == done)
			continue;
		put_varint(r, p->counts[i].stack);
		put_varint(r, p->counts[i].thread);
		put_varint(r, p->counts[i].count - done);
		put_record(b, REC_COUNT, r);
	}
	encode_waits(w, p);
	for (i = 0; i < p->nr_counters; i++) {
		put_varint(r, p->counters[i].key);
		put_varint(r, p->counters[i].num);
		put_record(b, REC_COUNTER, r);
	}
}

static int emit_chunk(struct pfile_writer *w, const struct profile *p, int final)
{
	size_t zlen;
	uint32_t i;

	if (w->failed)
		return -EIO;
	if (w->finished)
		return -EINVAL;
	if (array__grow(&w->counts_written, &w->cap_counts, p->nr_counts, sizeof(*w->counts_written)) ||
	    array__grow(&w->loc_frame, &w->cap_loc_frame, p->nr_locations, sizeof(*w->loc_frame)) ||
	    array__grow(&w->waits_written, &w->cap_waits, p->nr_waits, sizeof(*w->waits_written)))
		goto nomem;
	buf__reset(&w->raw);
	encode_delta(w, p);
	if (final) {
		put_varint(&w->rec, p->total);
		put_record(&w->raw, REC_END, &w->rec);
	}
	if (w->raw.err)
		goto nomem;
	buf__reset(&w->z);
	if (buf__reserve(&w->z, ZSTD_compressBound(w->raw.len)))
		goto nomem;
	zlen = ZSTD_compress2(w->cctx, w->z.data, w->z.cap, w->raw.data, w->raw.len);
	if (ZSTD_isError(zlen)) {
		pr_err("cannot compress a chunk of '%s': %s", w->name, ZSTD_getErrorName(zlen));
		w->failed = 1;
		return -EIO;
	}
	if (write_all(w, w->z.data, zlen)) {
		w->failed = 1;
		return -EIO;
	}
	w->nr_strs = p->nr_strs;
	w->nr_mappings = p->nr_mappings;
	w->nr_locations = p->nr_locations;
	for (i = 0; i < p->nr_locations; i++)
		w->loc_frame[i] = (uint64_t)p->locations[i].frame << 32 | p->locations[i].nr_frames;
	w->nr_stacks = p->nr_stacks;
	w->nr_threads = p->nr_threads;
	for (i = 0; i < p->nr_counts; i++)
		w->counts_written[i] = p->counts[i].count;
	if (p->nr_waits)
		memcpy(w->waits_written, p->waits, p->nr_waits * sizeof(*p->waits));
	w->finished = final;
	return 0;
nomem:
	pr_err("out of memory writing '%s'", w->name);
	w->failed = 1;
	return -ENOMEM;
}

int pfile__writer_flush(struct pfile_writer *w, const struct profile *p)
{
	return emit_chunk(w, p, 0);
}

int pfile__writer_finish(struct pfile_writer *w, const struct profile *p)
{
	return emit_chunk(w, p, 1);
}

/* --- reader --- */

struct reader {
	const char *name;
	const uint8_t *p, *end; /* the record being parsed */
	int bad;
};

static uint64_t get_varint(struct reader *r)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (!r->bad) {
		uint8_t c;

		if (r->p >= r->end || shift > 63) {
			r->bad = 1;
			break;
		}
		c = *r->p++;
		if (shift == 63 && (c & 0x7e)) {
			r->bad = 1;
			break;
		}
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
		shift += 7;
	}
	return 0;
}

static uint32_t get_u32(struct reader *r)
{
	uint64_t v = get_varint(r);

	if (v > UINT32_MAX)
		r->bad = 1;
	return (uint32_t)v;
}

struct read_state {
	const char *name;
	struct profile *p;
	uint32_t nr_strs; /* STRING records seen; string ids are their order */
	int ended;
	struct profile_frame *frames; /* scratch */
	size_t cap_frames;
};

static int corrupt(const struct read_state *s, const char *what, size_t chunk)
{
	pr_err("'%s' is corrupt: %s in chunk %zu", s->name, what, chunk);
	return -EINVAL;
}

static int too_many_keys(const struct read_state *s, const char *what)
{
	pr_err("'%s' has more than %d %s: refusing to read it (see LIMITS in scorch-format(5))", s->name,
	       PROFILE_MAX_KEYS, what);
	return -E2BIG;
}

/* The frame list of a LOCATION or LOCATION_FRAMES record into s->frames; -EINVAL or -ENOMEM. */
static int get_frames(struct read_state *s, struct reader *r, uint32_t *nr)
{
	uint32_t n = get_u32(r), i;

	/* Each frame takes at least 4 bytes: a count larger than the record is a lie. */
	if (r->bad || n > (uint64_t)(r->end - r->p) / 4)
		return -EINVAL;
	if (array__grow(&s->frames, &s->cap_frames, n, sizeof(*s->frames)))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		s->frames[i].function = get_u32(r);
		s->frames[i].file = get_u32(r);
		s->frames[i].line = get_u32(r);
		s->frames[i].flags = get_u32(r);
		if (s->frames[i].function >= s->nr_strs || s->frames[i].file >= s->nr_strs)
			r->bad = 1;
	}
	*nr = n;
	return r->bad ? -EINVAL : 0;
}

/* Parse one decompressed chunk. */
static int parse_chunk(struct read_state *s, const uint8_t *d, size_t len, size_t chunk)
{
	struct profile *p = s->p;
	const uint8_t *end = d + len;

	while (d < end) {
		struct reader r = { .name = s->name, .p = d + 1, .end = end };
		uint8_t type = d[0];
		uint64_t rlen = get_varint(&r);
		uint32_t id, a, b, c, n, i;
		uint64_t v;
		int err;

		if (r.bad || rlen > (uint64_t)(end - r.p))
			return corrupt(s, "truncated record", chunk);
		if (s->ended)
			return corrupt(s, "data after the end record", chunk);
		d = r.p + rlen;
		r.end = d;
		errno = 0;
		switch (type) {
		case REC_STRING:
			id = profile__intern_str(p, (const char *)r.p, (size_t)rlen);
			r.p = r.end;
			if (id == PROFILE_NONE && errno == ENOMEM)
				return -ENOMEM;
			if (id != s->nr_strs)
				return corrupt(s, "duplicate or misplaced string", chunk);
			s->nr_strs++;
			break;
		case REC_META:
			a = get_u32(&r);
			b = get_u32(&r);
			if (r.bad || a >= s->nr_strs || b >= s->nr_strs)
				return corrupt(s, "bad meta record", chunk);
			err = profile__meta_set(p, profile__str(p, a), profile__str(p, b));
			if (err == -E2BIG)
				return too_many_keys(s, "meta keys");
			if (err)
				return err;
			break;
		case REC_MAPPING:
			a = get_u32(&r);
			b = get_u32(&r);
			c = get_u32(&r);
			if (r.bad || a >= s->nr_strs || b >= s->nr_strs || c >= PROFILE_MAP_KIND_MAX)
				return corrupt(s, "bad mapping record", chunk);
			n = p->nr_mappings;
			id = profile__intern_mapping(p, a, b, c);
			if (id == PROFILE_NONE && errno == ENOMEM)
				return -ENOMEM;
			if (id != n)
				return corrupt(s, "duplicate mapping", chunk);
			break;
		case REC_LOCATION: {
			uint32_t mapping = get_u32(&r), flags = get_u32(&r);
			uint64_t addr = get_varint(&r);

			if (r.bad || mapping >= p->nr_mappings || (err = get_frames(s, &r, &n)) == -EINVAL)
				return corrupt(s, "bad location record", chunk);
			if (err)
				return err;
			id = profile__add_location(p, mapping, addr, flags, s->frames, n);
			if (id == PROFILE_NONE)
				return errno == ENOMEM ? -ENOMEM : corrupt(s, "duplicate location", chunk);
			break;
		}
		case REC_LOCATION_FRAMES:
			a = get_u32(&r);
			if (r.bad || a >= p->nr_locations || (err = get_frames(s, &r, &n)) == -EINVAL)
				return corrupt(s, "bad location frames record", chunk);
			if (err || (err = profile__set_location_frames(p, a, s->frames, n)))
				return err;
			break;
		case REC_STACK: {
			uint32_t *locs;

			n = get_u32(&r);
			if (r.bad || n > (uint64_t)(r.end - r.p))
				return corrupt(s, "bad stack record", chunk);
			locs = malloc((n ? n : 1) * sizeof(*locs));
			if (!locs)
				return -ENOMEM;
			for (i = 0; i < n; i++) {
				locs[i] = get_u32(&r);
				if (locs[i] >= p->nr_locations)
					r.bad = 1;
			}
			c = p->nr_stacks;
			id = r.bad ? PROFILE_NONE : profile__intern_stack(p, locs, n);
			free(locs);
			if (id == PROFILE_NONE && !r.bad && errno == ENOMEM)
				return -ENOMEM;
			if (r.bad || id != c)
				return corrupt(s, "bad or duplicate stack record", chunk);
			break;
		}
		case REC_THREAD:
			a = get_u32(&r);
			b = get_u32(&r);
			c = get_u32(&r);
			if (r.bad || c >= s->nr_strs)
				return corrupt(s, "bad thread record", chunk);
			n = p->nr_threads;
			id = profile__intern_thread(p, a, b, c);
			if (id == PROFILE_NONE && errno == ENOMEM)
				return -ENOMEM;
			if (id != n)
				return corrupt(s, "duplicate thread", chunk);
			break;
		case REC_COUNT:
			a = get_u32(&r);
			b = get_u32(&r);
			v = get_varint(&r);
			if (r.bad || a >= p->nr_stacks || b >= p->nr_threads)
				return corrupt(s, "bad count record", chunk);
			if (profile__add_count(p, a, b, v) == PROFILE_NONE)
				return errno == ENOMEM ? -ENOMEM : corrupt(s, "count overflow", chunk);
			break;
		case REC_WAIT: {
			uint64_t nw;

			c = get_u32(&r);
			a = get_u32(&r);
			b = get_u32(&r);
			nw = get_varint(&r);
			v = get_varint(&r);
			if (r.bad || c == PROFILE_EV_CPU || c >= PROFILE_EV_MAX || a >= p->nr_stacks ||
			    b >= p->nr_threads)
				return corrupt(s, "bad wait record", chunk);
			if (profile__add_wait(p, c, a, b, nw, v) == PROFILE_NONE)
				return errno == ENOMEM ? -ENOMEM : corrupt(s, "wait overflow", chunk);
			break;
		}
		case REC_COUNTER:
			a = get_u32(&r);
			v = get_varint(&r);
			if (r.bad || a >= s->nr_strs)
				return corrupt(s, "bad counter record", chunk);
			err = profile__counter_set(p, profile__str(p, a), v);
			if (err == -E2BIG)
				return too_many_keys(s, "counters");
			if (err)
				return err;
			break;
		case REC_END:
			v = get_varint(&r);
			if (r.bad)
				return corrupt(s, "bad end record", chunk);
			if (v != p->total)
				return corrupt(s, "sample total does not match the end record", chunk);
			s->ended = 1;
			break;
		default:
			/* A record type from a newer minor version: skip it. */
			r.p = r.end;
			break;
		}
		if (r.bad || r.p != r.end)
			return corrupt(s, "malformed record", chunk);
	}
	return 0;
}

int pfile__is_profile(const void *buf, size_t len)
{
	return len >= 8 && memcmp(buf, PFILE_MAGIC, 8) == 0;
}

uint64_t pfile__default_limit(size_t len, uint64_t floor)
{
	uint64_t l = (uint64_t)len > UINT64_MAX / PFILE_LIMIT_RATIO ? UINT64_MAX
								    : (uint64_t)len * PFILE_LIMIT_RATIO;

	return l > floor ? l : floor;
}

int pfile__read_mem(const void *data, size_t len, const char *name, const struct pfile_read_opts *opts,
		    struct profile *p, int *partial)
{
	const uint8_t *d = data;
	size_t max_chunk = opts && opts->max_chunk_bytes ? opts->max_chunk_bytes : DEFAULT_MAX_CHUNK;
	uint64_t max_total = opts && opts->max_total_bytes ? opts->max_total_bytes
							   : pfile__default_limit(len, PFILE_TOTAL_FLOOR);
	uint64_t total = 0; /* decompressed bytes so far */
	struct read_state s = { .name = name, .p = p };
	ZSTD_DCtx *dctx = NULL;
	uint8_t *out = NULL;
	size_t pos = HEADER_SIZE, chunk = 0, out_cap = 0;
	int err = 0, cut = 0;
	unsigned major;

	if (partial)
		*partial = 0;
	if (len == 0) {
		pr_err("'%s' is empty: not a scorch profile", name);
		return -EINVAL;
	}
	if (!pfile__is_profile(d, len)) {
		pr_err("'%s' is not a scorch profile", name);
		return -EINVAL;
	}
	if (len < HEADER_SIZE) {
		pr_err("'%s' is truncated: its header is incomplete", name);
		return -EINVAL;
	}
	major = d[8] | (unsigned)d[9] << 8;
	if (major != PFILE_MAJOR) {
		pr_err("'%s' has format version %u, this scorch reads version %u", name, major, PFILE_MAJOR);
		return -EPROTONOSUPPORT;
	}
	dctx = ZSTD_createDCtx();
	if (!dctx) {
		err = -ENOMEM;
		goto out;
	}
	while (pos < len && !s.ended) {
		size_t fsz = ZSTD_findFrameCompressedSize(d + pos, len - pos);
		unsigned long long csz;
		size_t got;

		if (ZSTD_isError(fsz)) {
			if (ZSTD_getErrorCode(fsz) == ZSTD_error_srcSize_wrong) {
				cut = 1; /* the file ends inside this chunk */
				break;
			}
			err = corrupt(&s, ZSTD_getErrorName(fsz), chunk);
			goto out;
		}
		csz = ZSTD_getFrameContentSize(d + pos, fsz);
		if (csz == ZSTD_CONTENTSIZE_ERROR || csz == ZSTD_CONTENTSIZE_UNKNOWN || csz > max_chunk) {
			err = corrupt(&s, "bad chunk size", chunk);
			goto out;
		}
		/* Checked before decompressing: a few kilobytes of zstd can claim gigabytes. */
		if (csz > max_total - total) {
			pr_err("'%s' decompresses to more than %" PRIu64
			       " MiB, the limit for a file of %zu bytes "
			       "(chunk %zu): refusing to read it (see LIMITS in scorch-format(5))",
			       name, max_total >> 20, len, chunk);
			err = -E2BIG;
			goto out;
		}
		total += csz;
		if (csz > out_cap || !out) {
			uint8_t *n = realloc(out, csz ? csz : 1);

			if (!n) {
				err = -ENOMEM;
				goto out;
			}
			out = n;
			out_cap = csz;
		}
		got = ZSTD_decompressDCtx(dctx, out, csz, d + pos, fsz);
		if (ZSTD_isError(got) || got != csz) {
			err = corrupt(&s, ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short chunk", chunk);
			goto out;
		}
		err = parse_chunk(&s, out, got, chunk);
		if (err)
			goto out;
		pos += fsz;
		chunk++;
	}
	p->expand_limit = opts && opts->max_expand_bytes ? opts->max_expand_bytes
							 : pfile__default_limit(len, PFILE_EXPAND_FLOOR);
	if (s.ended && pos < len) {
		err = corrupt(&s, "data after the end record", chunk);
		goto out;
	}
	if (!s.ended) {
		if (!opts || !opts->allow_partial) {
			pr_err("'%s' is incomplete: its recording did not finish (%zu whole chunks%s); "
			       "read them with --partial",
			       name, chunk, cut ? " and a cut one" : "");
			err = -ENODATA;
			goto out;
		}
		pr_warn("'%s' is incomplete: reading its %zu whole chunks", name, chunk);
		if (partial)
			*partial = 1;
	}
out:
	if (err == -ENOMEM)
		pr_err("out of memory reading '%s'", name);
	free(out);
	free(s.frames);
	ZSTD_freeDCtx(dctx);
	return err;
}
