// SPDX-License-Identifier: MIT
/*
 * Unit tests for the profile file format (src/profile/pfile.h): round trips through the writer and the reader,
 * incremental chunks, truncated and corrupted files, and hand-built chunks that break one rule each.
 * This test compresses chunks itself, so it includes <zstd.h>.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "fileio.h"
#include "pfile.h"
#include "profile.h"

/* Record types, as in src/profile/pfile.c. */
enum {
	REC_META = 1,
	REC_STRING = 2,
	REC_MAPPING = 3,
	REC_LOCATION = 4,
	REC_STACK = 5,
	REC_THREAD = 6,
	REC_COUNT = 7,
	REC_COUNTER = 8,
	REC_END = 9,
	REC_WAIT = 11,
};

#define HEADER_SIZE 16

/* --- helpers --------------------------------------------------------------------------------- */

/*
 * The reader reports every error on stderr. The loops below read thousands of broken files, so
 * stderr goes to /dev/null for the duration of one read; assertions run after it is restored, so
 * cmocka's messages are not lost.
 */
static int quiet_fd = -1, saved_fd = -1;

static void stderr_off(void)
{
	fflush(stderr);
	if (quiet_fd < 0)
		quiet_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	saved_fd = dup(STDERR_FILENO);
	if (quiet_fd >= 0 && saved_fd >= 0)
		dup2(quiet_fd, STDERR_FILENO);
}

static void stderr_on(void)
{
	fflush(stderr);
	if (saved_fd >= 0) {
		dup2(saved_fd, STDERR_FILENO);
		close(saved_fd);
		saved_fd = -1;
	}
}

/* Read 'len' bytes into a new profile 'p' (released by the caller) without messages. */
static int read_quiet(const void *buf, size_t len, int allow_partial, size_t max_chunk, struct profile *p,
		      int *partial)
{
	struct pfile_read_opts opts = { .allow_partial = allow_partial, .max_chunk_bytes = max_chunk };
	int err;

	profile__init(p);
	*partial = -1;
	stderr_off();
	err = pfile__read_mem(buf, len, "test.prof", &opts, p, partial);
	stderr_on();
	return err;
}

/* Return a description of the first difference between two profiles, or NULL. */
static const char *profile_diff(const struct profile *a, const struct profile *b)
{
	static char msg[256];
	uint32_t i;

#define DIFF(...) do { snprintf(msg, sizeof(msg), __VA_ARGS__); return msg; } while (0)
	if (a->nr_strs != b->nr_strs)
		DIFF("nr_strs %u != %u", a->nr_strs, b->nr_strs);
	for (i = 0; i < a->nr_strs; i++)
		if (a->str_lens[i] != b->str_lens[i] || memcmp(a->strs[i], b->strs[i], a->str_lens[i]))
			DIFF("string %u: '%s' != '%s'", i, a->strs[i], b->strs[i]);
	if (a->nr_mappings != b->nr_mappings)
		DIFF("nr_mappings %u != %u", a->nr_mappings, b->nr_mappings);
	for (i = 0; i < a->nr_mappings; i++) {
		const struct profile_mapping *x = &a->mappings[i], *y = &b->mappings[i];

		if (x->name != y->name || x->build_id != y->build_id || x->kind != y->kind)
			DIFF("mapping %u differs", i);
	}
	if (a->nr_frames != b->nr_frames)
		DIFF("nr_frames %u != %u", a->nr_frames, b->nr_frames);
	for (i = 0; i < a->nr_frames; i++) {
		const struct profile_frame *x = &a->frames[i], *y = &b->frames[i];

		if (x->function != y->function || x->file != y->file || x->line != y->line || x->flags != y->flags)
			DIFF("frame %u differs", i);
	}
	if (a->nr_locations != b->nr_locations)
		DIFF("nr_locations %u != %u", a->nr_locations, b->nr_locations);
	for (i = 0; i < a->nr_locations; i++) {
		const struct profile_location *x = &a->locations[i], *y = &b->locations[i];

		if (x->mapping != y->mapping || x->flags != y->flags || x->addr != y->addr || x->frame != y->frame ||
		    x->nr_frames != y->nr_frames)
			DIFF("location %u differs", i);
	}
	if (a->nr_stacks != b->nr_stacks || a->nr_stack_locs != b->nr_stack_locs)
		DIFF("nr_stacks %u != %u", a->nr_stacks, b->nr_stacks);
	for (i = 0; i < a->nr_stacks; i++)
		if (a->stacks[i].first != b->stacks[i].first || a->stacks[i].depth != b->stacks[i].depth)
			DIFF("stack %u differs", i);
	for (i = 0; i < a->nr_stack_locs; i++)
		if (a->stack_locs[i] != b->stack_locs[i])
			DIFF("stack_locs[%u] differs", i);
	if (a->nr_threads != b->nr_threads)
		DIFF("nr_threads %u != %u", a->nr_threads, b->nr_threads);
	for (i = 0; i < a->nr_threads; i++) {
		const struct profile_thread *x = &a->threads[i], *y = &b->threads[i];

		if (x->pid != y->pid || x->tid != y->tid || x->comm != y->comm)
			DIFF("thread %u differs", i);
	}
	if (a->nr_counts != b->nr_counts)
		DIFF("nr_counts %u != %u", a->nr_counts, b->nr_counts);
	for (i = 0; i < a->nr_counts; i++) {
		const struct profile_count *x = &a->counts[i], *y = &b->counts[i];

		if (x->stack != y->stack || x->thread != y->thread || x->count != y->count)
			DIFF("count %u: %llu != %llu", i, (unsigned long long)x->count, (unsigned long long)y->count);
	}
	if (a->total != b->total)
		DIFF("total %llu != %llu", (unsigned long long)a->total, (unsigned long long)b->total);
	if (a->nr_meta != b->nr_meta)
		DIFF("nr_meta %u != %u", a->nr_meta, b->nr_meta);
	for (i = 0; i < a->nr_meta; i++)
		if (a->meta[i].key != b->meta[i].key || a->meta[i].value != b->meta[i].value)
			DIFF("meta %u ('%s') differs", i, profile__str(a, a->meta[i].key));
	if (a->nr_counters != b->nr_counters)
		DIFF("nr_counters %u != %u", a->nr_counters, b->nr_counters);
	for (i = 0; i < a->nr_counters; i++)
		if (a->counters[i].key != b->counters[i].key || a->counters[i].num != b->counters[i].num)
			DIFF("counter %u ('%s') differs", i, profile__str(a, a->counters[i].key));
#undef DIFF
	return NULL;
}

static void assert_profiles_equal(const struct profile *got, const struct profile *want)
{
	const char *d = profile_diff(got, want);

	if (d)
		fail_msg("profiles differ: %s", d);
}

/* Whether every id in the profile refers to something that exists and the total adds up. */
static const char *profile_inconsistency(const struct profile *p)
{
	uint64_t sum = 0;
	uint32_t i, j;

	for (i = 0; i < p->nr_mappings; i++)
		if (p->mappings[i].name >= p->nr_strs || p->mappings[i].build_id >= p->nr_strs ||
		    p->mappings[i].kind >= PROFILE_MAP_KIND_MAX)
			return "mapping";
	for (i = 0; i < p->nr_locations; i++) {
		const struct profile_location *l = &p->locations[i];

		if (l->mapping >= p->nr_mappings || (uint64_t)l->frame + l->nr_frames > p->nr_frames)
			return "location";
		for (j = 0; j < l->nr_frames; j++) {
			const struct profile_frame *fr = &p->frames[l->frame + j];

			if (fr->function >= p->nr_strs || fr->file >= p->nr_strs)
				return "frame";
		}
	}
	for (i = 0; i < p->nr_stacks; i++) {
		if ((uint64_t)p->stacks[i].first + p->stacks[i].depth > p->nr_stack_locs)
			return "stack";
		for (j = 0; j < p->stacks[i].depth; j++)
			if (profile__stack_locs(p, i)[j] >= p->nr_locations)
				return "stack location";
	}
	for (i = 0; i < p->nr_threads; i++)
		if (p->threads[i].comm >= p->nr_strs)
			return "thread";
	for (i = 0; i < p->nr_counts; i++) {
		if (p->counts[i].stack >= p->nr_stacks || p->counts[i].thread >= p->nr_threads)
			return "count";
		sum += p->counts[i].count;
	}
	for (i = 0; i < p->nr_meta; i++)
		if (p->meta[i].key >= p->nr_strs || p->meta[i].value >= p->nr_strs)
			return "meta";
	for (i = 0; i < p->nr_counters; i++)
		if (p->counters[i].key >= p->nr_strs)
			return "counter";
	return sum == p->total ? NULL : "total";
}

/* A growable byte buffer for building files by hand. */
struct bytes {
	uint8_t *d;
	size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->d = realloc(b->d, b->cap);
		assert_non_null(b->d);
	}
	if (n)
		memcpy(b->d + b->len, p, n);
	b->len += n;
}

static void put_varint(struct bytes *b, uint64_t v)
{
	uint8_t c;

	do {
		c = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		put(b, &c, 1);
		v >>= 7;
	} while (v);
}

/* Read back everything written to fd. */
static void slurp(int fd, struct bytes *out)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	out->len = 0;
	if (out->cap < (size_t)st.st_size) {
		out->d = realloc(out->d, (size_t)st.st_size);
		assert_non_null(out->d);
		out->cap = (size_t)st.st_size;
	}
	assert_int_equal(pread(fd, out->d, (size_t)st.st_size, 0), st.st_size);
	out->len = (size_t)st.st_size;
}

/* --- a profile that grows in stages ----------------------------------------------------------- */

#define NR_STAGES 5 /* the last one goes into the final chunk */

static uint32_t stage_loc(struct profile *p, uint32_t mapping, uint64_t addr, const char *fn)
{
	struct profile_frame f = { 0, 0, 42, 0 };
	uint32_t id;

	f.file = profile__intern_cstr(p, "app.c");
	f.function = fn ? profile__intern_cstr(p, fn) : 0;
	id = profile__add_location(p, mapping, addr, 0, &f, fn ? 1 : 0);

	assert_int_not_equal(id, PROFILE_NONE);
	return id;
}

static uint32_t stack_of(struct profile *p, uint32_t depth, const uint32_t *locs)
{
	uint32_t id = profile__intern_stack(p, locs, depth);

	assert_int_not_equal(id, PROFILE_NONE);
	return id;
}

static void add(struct profile *p, uint32_t stack, uint32_t thread, uint64_t n)
{
	assert_int_not_equal(profile__add_count(p, stack, thread, n), PROFILE_NONE);
}

/*
 * Apply stage 'stage' (1..NR_STAGES) to p, which holds stages 1..stage-1. Later stages name what
 * stage 1 made by id: mapping 0 is the app, locations 0 main, 1 work (with an inlined frame), 2 in
 * the kernel; stacks 0 [work main], 1 [kernel work main]; thread 0. Stage 2 adds stack 2
 * [leaf work main], stack 3 (empty) and thread 1.
 */
static void grow_stage(struct profile *p, int stage)
{
	uint32_t app, kernel, main_, work, kern, leaf, t0, t1, s0, s1, s2, s3, name, bid;
	struct profile_frame inl[2];

	switch (stage) {
	case 1:
		assert_int_equal(profile__meta_set(p, "command", "./app --fast"), 0);
		assert_int_equal(profile__meta_set(p, "hostname", "box"), 0);
		name = profile__intern_cstr(p, "/usr/bin/app");
		bid = profile__intern_cstr(p, "abcdef0123");
		app = profile__intern_mapping(p, name, bid, PROFILE_MAP_FILE);
		name = profile__intern_cstr(p, "[kernel.kallsyms]");
		kernel = profile__intern_mapping(p, name, 0, PROFILE_MAP_KERNEL);
		main_ = stage_loc(p, app, 0x100, "main");
		inl[0] = (struct profile_frame){ profile__intern_cstr(p, "inner"), 0, 7, PROFILE_FRAME_INLINE };
		inl[1] = (struct profile_frame){ profile__intern_cstr(p, "work"), 0, 9, 0 };
		inl[1].file = profile__intern_cstr(p, "w.c"); /* after "work": the order of ids is fixed */
		work = profile__add_location(p, app, 0x200, 0, inl, 2);
		kern = profile__add_location(p, kernel, 0xffffffff81000010ULL, PROFILE_LOC_KERNEL, NULL, 0);
		s0 = stack_of(p, 2, (uint32_t[]){ work, main_ });
		s1 = stack_of(p, 3, (uint32_t[]){ kern, work, main_ });
		t0 = profile__intern_thread(p, 100, 100, profile__intern_cstr(p, "app"));
		add(p, s0, t0, 5);
		add(p, s1, t0, 2);
		assert_int_equal(profile__counter_set(p, "samples", 7), 0);
		break;
	case 2:
		assert_int_equal(profile__meta_set(p, "hostname", "box2"), 0);
		assert_int_equal(profile__meta_set(p, "event", "cpu-clock"), 0);
		leaf = stage_loc(p, 0, 0x300, "leaf");
		s2 = stack_of(p, 3, (uint32_t[]){ leaf, 1, 0 });
		s3 = stack_of(p, 0, NULL);
		t1 = profile__intern_thread(p, 100, 101, profile__intern_cstr(p, "worker"));
		add(p, 0, 0, 3);
		add(p, s2, t1, 4);
		add(p, s3, 0, 1);
		assert_int_equal(profile__counter_add(p, "samples", 8), 0);
		assert_int_equal(profile__counter_set(p, "lost", 1), 0);
		break;
	case 3:
		break; /* nothing new: the chunk still carries meta and counters */
	case 4:
		add(p, 1, 0, 10);
		add(p, 0, 1, 1);
		break;
	case 5:
		add(p, 2, 1, 2);
		assert_int_equal(profile__counter_add(p, "samples", 12), 0);
		assert_int_equal(profile__meta_set(p, "duration_ns", "1000"), 0);
		break;
	}
}

/* The profile as it is after stages 1..n. */
static void profile_at(struct profile *p, int n)
{
	int i;

	profile__init(p);
	for (i = 1; i <= n; i++)
		grow_stage(p, i);
}

/*
 * Write the staged profile to 'fd': a flush after each stage but the last, then finish. ends[i] is
 * the file size after chunk i (ends[0] is the header).
 */
static void write_staged(int fd, size_t ends[NR_STAGES + 1], int finish)
{
	struct pfile_writer *w = pfile__writer_new(fd, "test.prof");
	struct profile p;
	int i;

	assert_non_null(w);
	profile__init(&p);
	ends[0] = pfile__writer_bytes(w);
	assert_int_equal(ends[0], HEADER_SIZE);
	for (i = 1; i <= NR_STAGES; i++) {
		grow_stage(&p, i);
		if (i < NR_STAGES || !finish)
			assert_int_equal(pfile__writer_flush(w, &p), 0);
		else
			assert_int_equal(pfile__writer_finish(w, &p), 0);
		ends[i] = pfile__writer_bytes(w);
		assert_true(ends[i] > ends[i - 1]);
	}
	pfile__writer_free(w);
	profile__release(&p);
}

struct staged_file {
	struct bytes data;
	size_t ends[NR_STAGES + 1];
	struct profile at[NR_STAGES + 1]; /* at[i]: the profile after stage i */
};

static int setup_staged(void **state)
{
	struct staged_file *f = calloc(1, sizeof(*f));
	int fd = memfd_create("test.prof", MFD_CLOEXEC), i;

	if (!f || fd < 0)
		return -1;
	write_staged(fd, f->ends, 1);
	slurp(fd, &f->data);
	close(fd);
	for (i = 0; i <= NR_STAGES; i++)
		profile_at(&f->at[i], i);
	*state = f;
	return 0;
}

static int teardown_staged(void **state)
{
	struct staged_file *f = *state;
	int i;

	for (i = 0; i <= NR_STAGES; i++)
		profile__release(&f->at[i]);
	free(f->data.d);
	free(f);
	return 0;
}

/* --- round trips ------------------------------------------------------------------------------ */

/* A location written unnamed and named since (JIT code named by a perf map read later): a LOCATION_FRAMES
 * record in a later chunk carries its frames, and a reader gets the named location. */
static void test_location_named_later(void **state)
{
	char path[] = "/tmp/scorch-pfile-late.XXXXXX";
	struct pfile_read_opts opts = { 0 };
	struct profile p, q;
	struct profile_frame f = { 0 };
	struct pfile_writer *w;
	struct bytes file = { 0 };
	uint32_t m, loc, other, st, t;
	int fd = mkstemp(path), partial = -1;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	profile__init(&p);
	m = profile__intern_mapping(&p, profile__intern_cstr(&p, "/tmp/perf-7.map"), 0, PROFILE_MAP_JIT);
	loc = profile__add_location(&p, m, 0x7f0000001000, 0, NULL, 0);
	other = profile__add_location(&p, m, 0x7f0000002000, 0, NULL, 0);
	assert_int_not_equal(other, PROFILE_NONE);
	st = stack_of(&p, 1, &loc);
	t = profile__intern_thread(&p, 7, 7, profile__intern_cstr(&p, "jit"));
	add(&p, st, t, 3);
	w = pfile__writer_new(fd, "late.prof");
	assert_non_null(w);
	assert_int_equal(pfile__writer_flush(w, &p), 0);
	f.function = profile__intern_cstr(&p, "Jit::named_later");
	assert_int_equal(profile__set_location_frames(&p, loc, &f, 1), 0);
	add(&p, st, t, 2);
	assert_int_equal(pfile__writer_finish(w, &p), 0);
	pfile__writer_free(w);
	slurp(fd, &file);
	close(fd);
	profile__init(&q);
	assert_int_equal(pfile__read_mem(file.d, file.len, "late.prof", &opts, &q, &partial), 0);
	assert_int_equal(q.locations[loc].nr_frames, 1);
	assert_string_equal(profile__str(&q, q.frames[q.locations[loc].frame].function), "Jit::named_later");
	assert_int_equal(q.locations[other].nr_frames, 0);
	assert_int_equal(q.total, 5);
	profile__release(&q);
	profile__release(&p);
	free(file.d);
}

static void test_round_trip(void **state)
{
	struct staged_file *f = *state;
	struct pfile_read_opts opts = { 0 };
	struct profile p;
	int partial = -1;

	assert_int_equal(f->data.len, f->ends[NR_STAGES]);
	assert_true(pfile__is_profile(f->data.d, f->data.len));
	profile__init(&p);
	assert_int_equal(pfile__read_mem(f->data.d, f->data.len, "test.prof", &opts, &p, &partial), 0);
	assert_int_equal(partial, 0);
	assert_profiles_equal(&p, &f->at[NR_STAGES]);
	/* Spot checks that the comparison itself looks at the right things. */
	assert_int_equal(p.total, 28);
	assert_string_equal(profile__meta_get(&p, "hostname"), "box2");
	assert_string_equal(profile__meta_get(&p, "duration_ns"), "1000");
	assert_int_equal(profile__counter_get(&p, "samples"), 27);
	assert_int_equal(profile__counter_get(&p, "lost"), 1);
	assert_int_equal(p.nr_counts, 5);
	assert_int_equal(p.counts[0].count, 8);
	assert_int_equal(p.counts[1].count, 12);
	assert_int_equal(p.stacks[3].depth, 0);
	assert_int_equal(p.frames[p.locations[1].frame].flags, PROFILE_FRAME_INLINE);
	assert_int_equal(p.locations[2].flags, PROFILE_LOC_KERNEL);
	assert_string_equal(profile__str(&p, p.mappings[0].build_id), "abcdef0123");
	profile__release(&p);
}

static void test_read_file_and_pipe(void **state)
{
	struct staged_file *f = *state;
	char path[] = "/tmp/test_pfile.XXXXXX";
	struct pfile_read_opts opts = { 0 };
	size_t ends[NR_STAGES + 1];
	struct bytes piped = { 0 };
	struct profile p;
	int fd, pfd[2], partial = -1;
	ssize_t n;
	uint8_t buf[4096];
	char *file;
	size_t file_len;

	/* A real file, read as the commands read it (fileio__load, then the bytes). */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f->data.d, f->data.len), (ssize_t)f->data.len);
	close(fd);
	profile__init(&p);
	assert_int_equal(fileio__load(path, &file, &file_len), 0);
	assert_int_equal(pfile__read_mem(file, file_len, path, &opts, &p, &partial), 0);
	free(file);
	assert_profiles_equal(&p, &f->at[NR_STAGES]);
	profile__release(&p);
	unlink(path);
	stderr_off();
	n = fileio__load(path, &file, &file_len);
	stderr_on();
	assert_int_equal(n, -ENOENT);
	assert_null(file);

	/* The writer writes sequentially: a pipe gives the same bytes as a file. */
	assert_int_equal(pipe(pfd), 0);
	write_staged(pfd[1], ends, 1);
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
		put(&piped, buf, (size_t)n);
	close(pfd[0]);
	assert_int_equal(piped.len, f->data.len);
	assert_memory_equal(piped.d, f->data.d, f->data.len);
	free(piped.d);
}

/*
 * Decompress chunk 'idx' (0 = the first after the header) of a file written by the writer and return
 * how many records of 'type' it holds; for REC_COUNT, *count_sum is the sum of their deltas.
 */
static size_t chunk_records(const struct bytes *file, size_t idx, uint8_t type, uint64_t *count_sum)
{
	size_t pos = HEADER_SIZE, fsz, nr = 0, i;
	unsigned long long csz;
	uint8_t *out;
	const uint8_t *p, *end;

	for (i = 0; i < idx; i++) {
		fsz = ZSTD_findFrameCompressedSize(file->d + pos, file->len - pos);
		assert_false(ZSTD_isError(fsz));
		pos += fsz;
	}
	fsz = ZSTD_findFrameCompressedSize(file->d + pos, file->len - pos);
	assert_false(ZSTD_isError(fsz));
	csz = ZSTD_getFrameContentSize(file->d + pos, fsz);
	assert_true(csz < 1 << 20);
	out = malloc(csz + 1);
	assert_non_null(out);
	assert_int_equal(ZSTD_decompress(out, csz, file->d + pos, fsz), csz);
	*count_sum = 0;
	for (p = out, end = out + csz; p < end;) {
		uint8_t t = *p++;
		uint64_t len = 0, v;
		unsigned shift = 0;

		do {
			len |= (uint64_t)(*p & 0x7f) << shift;
			shift += 7;
		} while (*p++ & 0x80);
		if (t == type) {
			nr++;
			if (t == REC_COUNT) {
				/* stack, thread, delta: skip two varints, read the third. */
				const uint8_t *q = p;
				int k;

				for (k = 0; k < 2; k++)
					while (*q++ & 0x80)
						;
				v = 0;
				shift = 0;
				do {
					v |= (uint64_t)(*q & 0x7f) << shift;
					shift += 7;
				} while (*q++ & 0x80);
				*count_sum += v;
			}
		}
		p += len;
	}
	free(out);
	return nr;
}

static void test_chunks_hold_deltas(void **state)
{
	struct staged_file *f = *state;
	uint64_t sum;
	int i;

	for (i = 1; i <= NR_STAGES; i++) {
		const struct profile *before = &f->at[i - 1], *after = &f->at[i];

		/*
		 * Each chunk holds the new strings (the first one also string 0, ""), mappings, locations,
		 * stacks and threads only...
		 */
		assert_int_equal(chunk_records(&f->data, i - 1, REC_STRING, &sum),
				 after->nr_strs - (i == 1 ? 0 : before->nr_strs));
		assert_int_equal(chunk_records(&f->data, i - 1, REC_MAPPING, &sum),
				 after->nr_mappings - before->nr_mappings);
		assert_int_equal(chunk_records(&f->data, i - 1, REC_LOCATION, &sum),
				 after->nr_locations - before->nr_locations);
		assert_int_equal(chunk_records(&f->data, i - 1, REC_STACK, &sum),
				 after->nr_stacks - before->nr_stacks);
		assert_int_equal(chunk_records(&f->data, i - 1, REC_THREAD, &sum),
				 after->nr_threads - before->nr_threads);
		/* ...the count increments since the previous chunk... */
		chunk_records(&f->data, i - 1, REC_COUNT, &sum);
		assert_int_equal(sum, after->total - before->total);
		/* ...and all the meta and counters. */
		assert_int_equal(chunk_records(&f->data, i - 1, REC_META, &sum), after->nr_meta);
		assert_int_equal(chunk_records(&f->data, i - 1, REC_COUNTER, &sum), after->nr_counters);
		assert_int_equal(chunk_records(&f->data, i - 1, REC_END, &sum), i == NR_STAGES);
	}
	/* The stage without changes writes no count record at all. */
	assert_int_equal(chunk_records(&f->data, 2, REC_COUNT, &sum), 0);
}

/* The largest i with ends[i] <= cut. */
static int whole_chunks(const size_t ends[NR_STAGES + 1], size_t cut)
{
	int i = 0;

	while (i < NR_STAGES && ends[i + 1] <= cut)
		i++;
	return i;
}

static void test_truncated_everywhere(void **state)
{
	struct staged_file *f = *state;
	struct profile p;
	size_t cut;
	int partial, err;

	for (cut = 0; cut < f->data.len; cut++) {
		int want = cut < HEADER_SIZE ? -EINVAL : -ENODATA;

		err = read_quiet(f->data.d, cut, 0, 0, &p, &partial);
		profile__release(&p);
		if (err != want)
			fail_msg("file cut at %zu of %zu: got %d, expected %d", cut, f->data.len, err, want);

		err = read_quiet(f->data.d, cut, 1, 0, &p, &partial);
		if (cut < HEADER_SIZE) {
			if (err != -EINVAL)
				fail_msg("file cut at %zu (in the header), partial allowed: got %d", cut, err);
		} else {
			const struct profile *want_p = &f->at[whole_chunks(f->ends, cut)];
			const char *d = err ? "read failed" : profile_diff(&p, want_p);

			if (d || partial != 1)
				fail_msg("file cut at %zu of %zu, partial allowed: err %d partial %d: %s", cut,
					 f->data.len, err, partial, d ? d : "");
			assert_true(p.total <= f->at[NR_STAGES].total);
		}
		profile__release(&p);
	}
}

static void test_unfinished_file(void **state)
{
	int fd = memfd_create("test.prof", MFD_CLOEXEC), partial;
	size_t ends[NR_STAGES + 1];
	struct bytes data = { 0 };
	struct profile p, want;

	(void)state;
	assert_true(fd >= 0);
	write_staged(fd, ends, 0);
	slurp(fd, &data);
	close(fd);
	assert_int_equal(read_quiet(data.d, data.len, 0, 0, &p, &partial), -ENODATA);
	profile__release(&p);
	assert_int_equal(read_quiet(data.d, data.len, 1, 0, &p, &partial), 0);
	assert_int_equal(partial, 1);
	profile_at(&want, NR_STAGES);
	assert_profiles_equal(&p, &want);
	profile__release(&p);
	profile__release(&want);
	free(data.d);
}

static void test_corrupted_bytes(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x10, 0x80, 0xff };
	struct staged_file *f = *state;
	const struct profile *full = &f->at[NR_STAGES];
	uint8_t *copy = malloc(f->data.len);
	struct profile p;
	size_t i, m, nr_ok = 0;
	int allow, partial, err;

	assert_non_null(copy);
	for (i = 0; i < f->data.len; i++) {
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(copy, f->data.d, f->data.len);
			copy[i] ^= masks[m];
			for (allow = 0; allow <= 1; allow++) {
				const char *bad = NULL;

				err = read_quiet(copy, f->data.len, allow, 0, &p, &partial);
				if (err == 0) {
					nr_ok++;
					bad = profile_inconsistency(&p);
					/* Chunks carry checksums: a whole file that reads reads right. */
					if (!bad && !partial)
						bad = profile_diff(&p, full);
					if (!bad && p.total > full->total)
						bad = "total";
				} else if (err != -EINVAL && err != -EPROTONOSUPPORT && err != -ENODATA) {
					bad = "unexpected error";
				}
				profile__release(&p);
				if (bad)
					fail_msg("byte %zu ^ 0x%02x (partial %d): err %d: %s", i, masks[m], allow,
						 err, bad);
			}
		}
	}
	/* The minor version and the reserved bytes are not checked: at least those flips read. */
	assert_true(nr_ok >= 6 * sizeof(masks) * 2);
	free(copy);
}

static void test_header_errors(void **state)
{
	struct staged_file *f = *state;
	uint8_t *copy = malloc(f->data.len);
	struct profile p;
	int partial;

	assert_non_null(copy);
	assert_int_equal(read_quiet("", 0, 1, 0, &p, &partial), -EINVAL);
	profile__release(&p);
	assert_int_equal(read_quiet("SCORCHPF", 8, 1, 0, &p, &partial), -EINVAL);
	profile__release(&p);
	assert_int_equal(read_quiet("not a profile at all", 20, 1, 0, &p, &partial), -EINVAL);
	profile__release(&p);
	assert_false(pfile__is_profile("SCORCHP", 7));
	assert_false(pfile__is_profile("scorchpf........", 16));

	memcpy(copy, f->data.d, f->data.len);
	copy[0] = 's';
	assert_int_equal(read_quiet(copy, f->data.len, 1, 0, &p, &partial), -EINVAL);
	profile__release(&p);

	memcpy(copy, f->data.d, f->data.len);
	copy[8] = 2;
	assert_int_equal(read_quiet(copy, f->data.len, 1, 0, &p, &partial), -EPROTONOSUPPORT);
	profile__release(&p);
	copy[8] = 0;
	assert_int_equal(read_quiet(copy, f->data.len, 1, 0, &p, &partial), -EPROTONOSUPPORT);
	profile__release(&p);
	copy[8] = 1;
	copy[9] = 1; /* major 257 */
	assert_int_equal(read_quiet(copy, f->data.len, 1, 0, &p, &partial), -EPROTONOSUPPORT);
	profile__release(&p);

	/* A newer minor version is readable. */
	memcpy(copy, f->data.d, f->data.len);
	copy[10] = 9;
	copy[11] = 1;
	assert_int_equal(read_quiet(copy, f->data.len, 0, 0, &p, &partial), 0);
	assert_profiles_equal(&p, &f->at[NR_STAGES]);
	profile__release(&p);

	/* Bytes after the last chunk. */
	copy = realloc(copy, f->data.len + 1);
	assert_non_null(copy);
	memcpy(copy, f->data.d, f->data.len);
	copy[f->data.len] = 0;
	assert_int_equal(read_quiet(copy, f->data.len + 1, 1, 0, &p, &partial), -EINVAL);
	profile__release(&p);
	free(copy);
}

static void test_writer_errors(void **state)
{
	struct profile p;
	struct pfile_writer *w;
	int fd;

	(void)state;
	profile_at(&p, 2);
	/* The header cannot be written. */
	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	stderr_off();
	errno = 0;
	w = pfile__writer_new(fd, "/dev/full");
	stderr_on();
	assert_null(w);
	assert_int_equal(errno, EIO);
	close(fd);

	/* A chunk cannot be written: the writer fails from then on. */
	fd = memfd_create("test.prof", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	w = pfile__writer_new(fd, "sealed.prof");
	assert_non_null(w);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	stderr_off();
	assert_int_equal(pfile__writer_flush(w, &p), -EIO);
	assert_int_equal(pfile__writer_flush(w, &p), -EIO);
	assert_int_equal(pfile__writer_finish(w, &p), -EIO);
	stderr_on();
	pfile__writer_free(w);
	close(fd);

	/* Nothing after finish. */
	fd = memfd_create("test.prof", MFD_CLOEXEC);
	assert_true(fd >= 0);
	w = pfile__writer_new(fd, "test.prof");
	assert_non_null(w);
	assert_int_equal(pfile__writer_finish(w, &p), 0);
	assert_int_equal(pfile__writer_flush(w, &p), -EINVAL);
	assert_int_equal(pfile__writer_finish(w, &p), -EINVAL);
	pfile__writer_free(w);
	pfile__writer_free(NULL);
	close(fd);
	profile__release(&p);
}

/* --- hand-built files -------------------------------------------------------------------------- */

static void put_header(struct bytes *file, unsigned major, unsigned minor)
{
	uint8_t h[HEADER_SIZE] = "SCORCHPF";

	h[8] = major & 0xff;
	h[9] = major >> 8;
	h[10] = minor & 0xff;
	h[11] = minor >> 8;
	file->len = 0;
	put(file, h, sizeof(h));
}

/* Append a record whose payload is the varints v[0..n). */
static void put_rec(struct bytes *chunk, uint8_t type, const uint64_t *v, size_t n)
{
	struct bytes payload = { 0 };
	size_t i;

	for (i = 0; i < n; i++)
		put_varint(&payload, v[i]);
	put(chunk, &type, 1);
	put_varint(chunk, payload.len);
	put(chunk, payload.d, payload.len);
	free(payload.d);
}

#define REC(chunk, type, ...)                                  \
	put_rec(chunk, type, (const uint64_t[]){ __VA_ARGS__ }, \
		sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t))

static void put_str(struct bytes *chunk, const char *s)
{
	uint8_t type = REC_STRING;

	put(chunk, &type, 1);
	put_varint(chunk, strlen(s));
	put(chunk, s, strlen(s));
}

/* Compress 'chunk' as one frame onto the end of 'file' and empty it. */
static void put_chunk(struct bytes *file, struct bytes *chunk)
{
	size_t bound = ZSTD_compressBound(chunk->len), n;

	if (file->cap < file->len + bound) {
		file->cap = file->len + bound;
		file->d = realloc(file->d, file->cap);
		assert_non_null(file->d);
	}
	n = ZSTD_compress(file->d + file->len, bound, chunk->d, chunk->len, 3);
	assert_false(ZSTD_isError(n));
	file->len += n;
	chunk->len = 0;
}

/*
 * Strings 0 "" 1 "app" 2 "main" 3 "command" 4 "x", meta command=x, mapping 0, location 0 (main),
 * stack 0 [0], thread 0.
 */
static void put_base(struct bytes *c)
{
	put_str(c, "");
	put_str(c, "app");
	put_str(c, "main");
	put_str(c, "command");
	put_str(c, "x");
	REC(c, REC_META, 3, 4);
	REC(c, REC_MAPPING, 1, 0, PROFILE_MAP_FILE);
	REC(c, REC_LOCATION, 0, 0, 0x1000, 1, 2, 1, 12, 0);
	REC(c, REC_STACK, 1, 0);
	REC(c, REC_THREAD, 7, 8, 1);
}

struct hand {
	struct bytes file, chunk;
};

static int setup_hand(void **state)
{
	struct hand *h = calloc(1, sizeof(*h));

	if (!h)
		return -1;
	put_header(&h->file, PFILE_MAJOR, PFILE_MINOR);
	put_base(&h->chunk);
	*state = h;
	return 0;
}

static int teardown_hand(void **state)
{
	struct hand *h = *state;

	free(h->file.d);
	free(h->chunk.d);
	free(h);
	return 0;
}

/* Finish the pending chunk and read the file; the profile is released. */
static int read_hand(struct hand *h, int allow_partial)
{
	struct profile p;
	int err, partial;

	if (h->chunk.len)
		put_chunk(&h->file, &h->chunk);
	err = read_quiet(h->file.d, h->file.len, allow_partial, 0, &p, &partial);
	if (!err) {
		const char *bad = profile_inconsistency(&p);

		if (bad)
			fail_msg("inconsistent profile read: %s", bad);
	}
	profile__release(&p);
	return err;
}

static void test_hand_valid(void **state)
{
	struct hand *h = *state;
	struct profile p;
	int partial;

	REC(&h->chunk, REC_COUNT, 0, 0, 5);
	REC(&h->chunk, REC_COUNTER, 4, 9);
	REC(&h->chunk, 200, 1, 2, 3); /* unknown types are skipped */
	put_rec(&h->chunk, 0, NULL, 0);
	REC(&h->chunk, REC_END, 5);
	put_chunk(&h->file, &h->chunk);
	assert_int_equal(read_quiet(h->file.d, h->file.len, 0, 0, &p, &partial), 0);
	assert_int_equal(partial, 0);
	assert_int_equal(p.nr_strs, 5);
	assert_string_equal(profile__meta_get(&p, "command"), "x");
	assert_int_equal(profile__counter_get(&p, "x"), 9);
	assert_int_equal(p.nr_locations, 1);
	assert_true(p.locations[0].addr == 0x1000);
	assert_int_equal(p.locations[0].nr_frames, 1);
	assert_string_equal(profile__str(&p, p.frames[0].function), "main");
	assert_string_equal(profile__str(&p, p.frames[0].file), "app");
	assert_int_equal(p.frames[0].line, 12);
	assert_int_equal(p.threads[0].pid, 7);
	assert_int_equal(p.threads[0].tid, 8);
	assert_int_equal(p.total, 5);
	profile__release(&p);
}

static void test_hand_several_chunks(void **state)
{
	struct hand *h = *state;

	/* Ids run on across chunks; an empty chunk is fine. */
	put_chunk(&h->file, &h->chunk);
	put_chunk(&h->file, &h->chunk);
	put_str(&h->chunk, "leaf");
	REC(&h->chunk, REC_LOCATION, 0, 0, 0x2000, 1, 5, 0, 0, 0);
	REC(&h->chunk, REC_STACK, 2, 1, 0);
	REC(&h->chunk, REC_COUNT, 1, 0, 2);
	put_chunk(&h->file, &h->chunk);
	REC(&h->chunk, REC_COUNT, 1, 0, 3);
	REC(&h->chunk, REC_COUNT, 0, 0, 1);
	REC(&h->chunk, REC_END, 6);
	assert_int_equal(read_hand(h, 0), 0);
}

static void test_hand_wrong_end_total(void **state)
{
	struct hand *h = *state;

	REC(&h->chunk, REC_COUNT, 0, 0, 5);
	REC(&h->chunk, REC_END, 4);
	assert_int_equal(read_hand(h, 0), -EINVAL);
	assert_int_equal(read_hand(h, 1), -EINVAL);
}

static void test_hand_end_total_too_high(void **state)
{
	struct hand *h = *state;

	REC(&h->chunk, REC_COUNT, 0, 0, 5);
	REC(&h->chunk, REC_END, 6);
	assert_int_equal(read_hand(h, 0), -EINVAL);
}

/* Each case: the base chunk, then one record that breaks a rule, then END 0. */
struct bad_case {
	const char *what;
	uint8_t type;
	uint64_t v[8];
	size_t n;
};

static void run_bad_cases(const struct bad_case *cases, size_t nr)
{
	struct hand *h;
	size_t i;

	for (i = 0; i < nr; i++) {
		int err;

		assert_int_equal(setup_hand((void **)&h), 0);
		put_rec(&h->chunk, cases[i].type, cases[i].v, cases[i].n);
		REC(&h->chunk, REC_END, 0);
		err = read_hand(h, 1);
		teardown_hand((void **)&h);
		if (err != -EINVAL)
			fail_msg("%s: got %d, expected -EINVAL", cases[i].what, err);
	}
}

static void test_hand_out_of_range_ids(void **state)
{
	static const struct bad_case cases[] = {
		{ "meta key", REC_META, { 5, 4 }, 2 },
		{ "meta value", REC_META, { 3, 5 }, 2 },
		{ "mapping name", REC_MAPPING, { 5, 0, 0 }, 3 },
		{ "mapping build id", REC_MAPPING, { 2, 5, 0 }, 3 },
		{ "mapping kind", REC_MAPPING, { 2, 0, PROFILE_MAP_KIND_MAX }, 3 },
		{ "location mapping", REC_LOCATION, { 1, 0, 0x2000, 0 }, 4 },
		{ "frame function", REC_LOCATION, { 0, 0, 0x2000, 1, 5, 0, 0, 0 }, 8 },
		{ "frame file", REC_LOCATION, { 0, 0, 0x2000, 1, 2, 5, 0, 0 }, 8 },
		{ "stack location", REC_STACK, { 2, 0, 1 }, 3 },
		{ "thread comm", REC_THREAD, { 1, 1, 5 }, 3 },
		{ "count stack", REC_COUNT, { 1, 0, 1 }, 3 },
		{ "count thread", REC_COUNT, { 0, 1, 1 }, 3 },
		{ "counter name", REC_COUNTER, { 5, 1 }, 2 },
		{ "id above 32 bits", REC_MAPPING, { 1ULL << 32 | 1, 0, 0 }, 3 },
	};

	(void)state;
	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_hand_duplicates(void **state)
{
	static const struct bad_case cases[] = {
		{ "duplicate mapping", REC_MAPPING, { 1, 0, PROFILE_MAP_FILE }, 3 },
		{ "duplicate location", REC_LOCATION, { 0, 0, 0x1000, 0 }, 4 },
		{ "duplicate stack", REC_STACK, { 1, 0 }, 2 },
		{ "duplicate thread", REC_THREAD, { 7, 8, 1 }, 3 },
	};
	struct hand *h;

	(void)state;
	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));

	assert_int_equal(setup_hand((void **)&h), 0);
	put_str(&h->chunk, "app");
	REC(&h->chunk, REC_END, 0);
	assert_int_equal(read_hand(h, 1), -EINVAL);
	teardown_hand((void **)&h);

	/* The first string must be "" (id 0). */
	assert_int_equal(setup_hand((void **)&h), 0);
	h->chunk.len = 0;
	put_str(&h->chunk, "app");
	REC(&h->chunk, REC_END, 0);
	assert_int_equal(read_hand(h, 1), -EINVAL);
	teardown_hand((void **)&h);
}

static void test_hand_malformed_records(void **state)
{
	static const struct bad_case cases[] = {
		{ "extra payload", REC_MAPPING, { 2, 0, 0, 0 }, 4 },
		{ "short payload", REC_THREAD, { 1, 1 }, 2 },
		{ "frame count larger than the record", REC_LOCATION, { 0, 0, 0x2000, 1000, 1 }, 5 },
		{ "stack depth larger than the record", REC_STACK, { 1000, 0 }, 2 },
		{ "empty end", REC_END, { 0 }, 0 },
	};
	/* Counter 1 with an 11-byte value, and with a 10-byte one that has more than 64 bits. */
	static const uint8_t overlong[] = { REC_COUNTER, 12, 1, 0xff, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0x80, 0x01 };
	static const uint8_t too_big[] = { REC_COUNTER, 11, 1, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0x7f };
	static const uint8_t cut_record[] = { REC_COUNTER, 10, 1, 1 };
	struct hand *h;

	(void)state;
	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));

	assert_int_equal(setup_hand((void **)&h), 0);
	put(&h->chunk, overlong, sizeof(overlong));
	REC(&h->chunk, REC_END, 0);
	assert_int_equal(read_hand(h, 1), -EINVAL);
	teardown_hand((void **)&h);
	assert_int_equal(setup_hand((void **)&h), 0);
	put(&h->chunk, too_big, sizeof(too_big));
	REC(&h->chunk, REC_END, 0);
	assert_int_equal(read_hand(h, 1), -EINVAL);
	teardown_hand((void **)&h);

	/* A record longer than what is left of the chunk. */
	assert_int_equal(setup_hand((void **)&h), 0);
	put(&h->chunk, cut_record, sizeof(cut_record));
	assert_int_equal(read_hand(h, 1), -EINVAL);
	teardown_hand((void **)&h);

	/* Counts that overflow 64 bits. */
	assert_int_equal(setup_hand((void **)&h), 0);
	REC(&h->chunk, REC_COUNT, 0, 0, UINT64_MAX - 1);
	REC(&h->chunk, REC_COUNT, 0, 0, 5);
	REC(&h->chunk, REC_END, 3);
	assert_int_equal(read_hand(h, 1), -EINVAL);
	teardown_hand((void **)&h);
}

static void test_hand_data_after_end(void **state)
{
	struct hand *h = *state;

	/* In the same chunk. */
	REC(&h->chunk, REC_END, 0);
	REC(&h->chunk, REC_COUNTER, 4, 1);
	assert_int_equal(read_hand(h, 1), -EINVAL);

	/* In a chunk of its own. */
	teardown_hand(state);
	setup_hand(state);
	h = *state;
	REC(&h->chunk, REC_END, 0);
	put_chunk(&h->file, &h->chunk);
	REC(&h->chunk, REC_COUNTER, 4, 1);
	assert_int_equal(read_hand(h, 1), -EINVAL);

	/* Two END records in two chunks. */
	teardown_hand(state);
	setup_hand(state);
	h = *state;
	REC(&h->chunk, REC_END, 0);
	put_chunk(&h->file, &h->chunk);
	REC(&h->chunk, REC_END, 0);
	assert_int_equal(read_hand(h, 1), -EINVAL);
}

static void test_hand_bad_chunks(void **state)
{
	struct hand *h = *state;
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t n, bound;

	/* A chunk that is not a zstd frame. */
	put(&h->file, "garbage garbage garbage", 23);
	assert_int_equal(read_hand(h, 1), -EINVAL);

	/* A frame that does not record its decompressed size. */
	put_header(&h->file, PFILE_MAJOR, PFILE_MINOR);
	REC(&h->chunk, REC_END, 0);
	bound = ZSTD_compressBound(h->chunk.len);
	h->file.d = realloc(h->file.d, h->file.len + bound);
	assert_non_null(h->file.d);
	h->file.cap = h->file.len + bound;
	assert_non_null(cctx);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
	{
		ZSTD_outBuffer out = { h->file.d + h->file.len, bound, 0 };
		ZSTD_inBuffer in = { h->chunk.d, h->chunk.len, 0 };

		n = ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end);
		assert_int_equal(n, 0);
		h->file.len += out.pos;
	}
	h->chunk.len = 0;
	assert_int_equal(ZSTD_getFrameContentSize(h->file.d + HEADER_SIZE, h->file.len - HEADER_SIZE),
			 ZSTD_CONTENTSIZE_UNKNOWN);
	assert_int_equal(read_hand(h, 1), -EINVAL);
	ZSTD_freeCCtx(cctx);
}

static void test_hand_chunk_size_limit(void **state)
{
	struct hand *h = *state;
	struct profile p;
	size_t raw;
	int partial;

	REC(&h->chunk, REC_END, 0);
	raw = h->chunk.len;
	put_chunk(&h->file, &h->chunk);
	assert_int_equal(read_quiet(h->file.d, h->file.len, 0, raw, &p, &partial), 0);
	profile__release(&p);
	assert_int_equal(read_quiet(h->file.d, h->file.len, 0, raw - 1, &p, &partial), -EINVAL);
	profile__release(&p);
}

/*
 * A decompression bomb: three chunks of 32 MiB of zero bytes (empty records of the unknown type 0),
 * a few kilobytes compressed. The file's decompressed total may not pass max(64 MiB, 64 x its size):
 * refused (-E2BIG) by the frame sizes, before the third chunk is decompressed.
 */
static void test_hand_decompression_total(void **state)
{
	struct hand *h = *state;
	struct pfile_read_opts opts = { 0 };
	struct profile p;
	int i, err, partial;

	put_chunk(&h->file, &h->chunk);
	for (i = 0; i < 3; i++) {
		while (h->chunk.len < ((size_t)32 << 20)) {
			static const uint8_t zeros[65536];

			put(&h->chunk, zeros, sizeof(zeros));
		}
		put_chunk(&h->file, &h->chunk);
	}
	REC(&h->chunk, REC_END, 0);
	put_chunk(&h->file, &h->chunk);
	assert_true(h->file.len < 64 << 10);
	assert_int_equal(read_quiet(h->file.d, h->file.len, 0, 0, &p, &partial), -E2BIG);
	profile__release(&p);
	/* With a larger total allowed, the file is valid. */
	opts.max_total_bytes = (uint64_t)128 << 20;
	profile__init(&p);
	stderr_off();
	err = pfile__read_mem(h->file.d, h->file.len, "bomb.prof", &opts, &p, &partial);
	stderr_on();
	assert_int_equal(err, 0);
	/* The readers' budget comes with the profile: the floor for a small file. */
	assert_true(p.expand_limit == PFILE_EXPAND_FLOOR);
	profile__release(&p);
	assert_true(pfile__default_limit(1000, PFILE_TOTAL_FLOOR) == PFILE_TOTAL_FLOOR);
	assert_true(pfile__default_limit((size_t)10 << 20, PFILE_TOTAL_FLOOR) == (uint64_t)640 << 20);
	assert_true(pfile__default_limit(SIZE_MAX, PFILE_TOTAL_FLOOR) == UINT64_MAX);
}

/*
 * META and COUNTER records: repeating a key is linear (the last value wins, one entry), and a file
 * with more than PROFILE_MAX_KEYS distinct keys is refused with -E2BIG.
 */
static void test_hand_many_keys(void **state)
{
	struct hand *h = *state;
	struct profile p;
	char key[32];
	int i, partial;

	for (i = 0; i < 100000; i++) {
		REC(&h->chunk, REC_META, 3, 4);
		REC(&h->chunk, REC_COUNTER, 1, (uint64_t)i);
	}
	REC(&h->chunk, REC_END, 0);
	put_chunk(&h->file, &h->chunk);
	assert_int_equal(read_quiet(h->file.d, h->file.len, 0, 0, &p, &partial), 0);
	assert_int_equal(p.nr_meta, 1);
	assert_int_equal(p.nr_counters, 1);
	assert_int_equal(profile__counter_get(&p, "app"), 99999);
	profile__release(&p);

	put_header(&h->file, PFILE_MAJOR, PFILE_MINOR);
	put_base(&h->chunk);
	for (i = 0; i <= PROFILE_MAX_KEYS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		put_str(&h->chunk, key);
		REC(&h->chunk, REC_META, 5 + (uint64_t)i, 4);
	}
	REC(&h->chunk, REC_END, 0);
	put_chunk(&h->file, &h->chunk);
	assert_int_equal(read_quiet(h->file.d, h->file.len, 0, 0, &p, &partial), -E2BIG);
	profile__release(&p);
}

/* Off-CPU waits: written as deltas chunk by chunk, read back whole, their totals per event kept. */
static void test_waits_round_trip(void **state)
{
	struct profile w, r;
	struct bytes file = { 0 };
	uint32_t m, l, st, th;
	FILE *tmp = tmpfile();
	int partial;
	struct pfile_writer *pw;

	(void)state;
	profile__init(&w);
	m = profile__intern_mapping_cstr(&w, "/bin/app", "", PROFILE_MAP_FILE);
	l = profile__add_location(&w, m, 0x10, 0, NULL, 0);
	st = profile__intern_stack(&w, &l, 1);
	th = profile__intern_thread(&w, 1, 2, 0);
	assert_int_equal(profile__add_count(&w, st, th, 3), 0);
	assert_int_equal(profile__add_wait(&w, PROFILE_EV_OFF_SLEEP, st, th, 1, 5000000), 0);
	assert_non_null(tmp);
	pw = pfile__writer_new(fileno(tmp), "waits");
	assert_non_null(pw);
	assert_int_equal(pfile__writer_flush(pw, &w), 0);
	/* A chunk holds only what grew since the previous one. */
	assert_int_equal(profile__add_wait(&w, PROFILE_EV_OFF_SLEEP, st, th, 2, 7000000), 0);
	assert_int_equal(profile__add_wait(&w, PROFILE_EV_OFF_DISK, st, th, 1, 1000), 1);
	assert_int_equal(pfile__writer_finish(pw, &w), 0);
	pfile__writer_free(pw);
	slurp(fileno(tmp), &file);
	fclose(tmp);
	profile__init(&r);
	assert_int_equal(read_quiet(file.d, file.len, 0, 0, &r, &partial), 0);
	assert_profiles_equal(&r, &w);
	assert_int_equal(r.nr_waits, 2);
	assert_int_equal(r.waits[0].waits, 3);
	assert_int_equal(r.waits[0].ns, 12000000);
	assert_int_equal(r.waits[1].event, PROFILE_EV_OFF_DISK);
	assert_int_equal(r.wait_ns[PROFILE_EV_OFF_SLEEP], 12000000);
	assert_int_equal(r.wait_ns[PROFILE_EV_OFF_DISK], 1000);
	assert_int_equal(r.total, 3);
	profile__release(&r);
	profile__release(&w);
	free(file.d);
}

static void test_hand_waits(void **state)
{
	static const struct bad_case cases[] = {
		{ "wait of the CPU event", REC_WAIT, { PROFILE_EV_CPU, 0, 0, 1, 5 }, 5 },
		{ "wait of an unknown event", REC_WAIT, { PROFILE_EV_MAX, 0, 0, 1, 5 }, 5 },
		{ "wait stack", REC_WAIT, { PROFILE_EV_OFF_SLEEP, 1, 0, 1, 5 }, 5 },
		{ "wait thread", REC_WAIT, { PROFILE_EV_OFF_SLEEP, 0, 1, 1, 5 }, 5 },
		{ "wait cut short", REC_WAIT, { PROFILE_EV_OFF_SLEEP, 0, 0, 1 }, 4 },
		{ "wait event above 32 bits", REC_WAIT, { 1ULL << 32 | 1, 0, 0, 1, 5 }, 5 },
	};
	struct hand *h = *state;
	struct profile p;
	int partial;

	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
	/* Valid waits add up; their time overflowing is refused, not wrapped. */
	REC(&h->chunk, REC_WAIT, PROFILE_EV_OFF_RUNQ, 0, 0, 2, 3000);
	REC(&h->chunk, REC_WAIT, PROFILE_EV_OFF_RUNQ, 0, 0, 1, 1000);
	REC(&h->chunk, REC_END, 0);
	put_chunk(&h->file, &h->chunk);
	assert_int_equal(read_quiet(h->file.d, h->file.len, 0, 0, &p, &partial), 0);
	assert_int_equal(p.nr_waits, 1);
	assert_int_equal(p.waits[0].waits, 3);
	assert_int_equal(p.waits[0].ns, 4000);
	assert_int_equal(p.total, 0);
	profile__release(&p);
	put_header(&h->file, PFILE_MAJOR, PFILE_MINOR);
	put_base(&h->chunk);
	REC(&h->chunk, REC_WAIT, PROFILE_EV_OFF_RUNQ, 0, 0, 1, UINT64_MAX);
	REC(&h->chunk, REC_WAIT, PROFILE_EV_OFF_RUNQ, 0, 0, 1, 1);
	REC(&h->chunk, REC_END, 0);
	assert_int_equal(read_hand(h, 0), -EINVAL);
}

/* A 1.1 file (no waits) reads as it always did: CPU counts only. */
static void test_hand_minor_1_1(void **state)
{
	struct hand *h = *state;
	struct profile p;
	int partial;

	put_header(&h->file, 1, 1);
	REC(&h->chunk, REC_COUNT, 0, 0, 5);
	REC(&h->chunk, REC_END, 5);
	put_chunk(&h->file, &h->chunk);
	assert_int_equal(read_quiet(h->file.d, h->file.len, 0, 0, &p, &partial), 0);
	assert_int_equal(p.total, 5);
	assert_int_equal(p.nr_waits, 0);
	assert_false(profile__has_off_cpu(&p));
	profile__release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hand_decompression_total, setup_hand, teardown_hand),
		cmocka_unit_test_setup_teardown(test_hand_many_keys, setup_hand, teardown_hand),
		cmocka_unit_test_setup_teardown(test_round_trip, setup_staged, teardown_staged),
		cmocka_unit_test_setup_teardown(test_read_file_and_pipe, setup_staged, teardown_staged),
		cmocka_unit_test_setup_teardown(test_chunks_hold_deltas, setup_staged, teardown_staged),
		cmocka_unit_test_setup_teardown(test_truncated_everywhere, setup_staged, teardown_staged),
		cmocka_unit_test(test_unfinished_file),
		cmocka_unit_test_setup_teardown(test_corrupted_bytes, setup_staged, teardown_staged),
		cmocka_unit_test_setup_teardown(test_header_errors, setup_staged, teardown_staged),
		cmocka_unit_test(test_writer_errors),
		cmocka_unit_test_setup_teardown(test_hand_valid, setup_hand, teardown_hand),
		cmocka_unit_test_setup_teardown(test_hand_several_chunks, setup_hand, teardown_hand),
		cmocka_unit_test_setup_teardown(test_hand_wrong_end_total, setup_hand, teardown_hand),
		cmocka_unit_test_setup_teardown(test_hand_end_total_too_high, setup_hand, teardown_hand),
		cmocka_unit_test(test_hand_out_of_range_ids),
		cmocka_unit_test(test_hand_duplicates),
		cmocka_unit_test(test_hand_malformed_records),
		cmocka_unit_test_setup_teardown(test_hand_data_after_end, setup_hand, teardown_hand),
		cmocka_unit_test_setup_teardown(test_hand_bad_chunks, setup_hand, teardown_hand),
		cmocka_unit_test_setup_teardown(test_hand_chunk_size_limit, setup_hand, teardown_hand),
		cmocka_unit_test(test_location_named_later),
		cmocka_unit_test(test_waits_round_trip),
		cmocka_unit_test_setup_teardown(test_hand_waits, setup_hand, teardown_hand),
		cmocka_unit_test_setup_teardown(test_hand_minor_1_1, setup_hand, teardown_hand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
