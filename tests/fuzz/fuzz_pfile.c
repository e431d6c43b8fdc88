// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the profile file reader: pfile__read_mem() with and without allow_partial.
 * A profile that reads must be consistent (every id in range, the total the sum of the counts) and must
 * survive a round trip through the writer unchanged.
 *
 * Chunks carry checksums, so mutated files rarely get past zstd. An input that does not start with the
 * magic is therefore taken as the records of one chunk, which the harness compresses behind a valid
 * header: that is how the fuzzer reaches the record parser (hence <zstd.h> here, as in test_pfile.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "log.h"
#include "pfile.h"
#include "profile.h"

static FILE *report_to; /* the real stderr, for the harness's own findings */
static int out_fd = -1; /* memfd for round trips */
static uint8_t *out_buf;
static size_t out_cap;
static uint8_t *file_buf; /* header + compressed records */
static size_t file_cap;

static void check_failed(const char *what, int line)
{
	fprintf(report_to, "fuzz_pfile: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log__set_level(LOG_QUIET);
	/*
	 * pr_err() still prints at LOG_QUIET, once or twice per input. Point the stdio stream that the
	 * modules write to at /dev/null: libFuzzer keeps the FILE it took at startup and the sanitizers
	 * write to file descriptor 2, so their reports still show.
	 */
	report_to = stderr;
	stderr = fopen("/dev/null", "w");
	if (!stderr)
		stderr = report_to;
	out_fd = memfd_create("fuzz_pfile", MFD_CLOEXEC);
	CHECK(out_fd >= 0);
	return 0;
}

static void check_consistent(const struct profile *p)
{
	uint64_t sum = 0;
	uint32_t i, j;

	CHECK(p->nr_strs >= 1 && p->str_lens[0] == 0);
	for (i = 0; i < p->nr_mappings; i++)
		CHECK(p->mappings[i].name < p->nr_strs && p->mappings[i].build_id < p->nr_strs &&
		      p->mappings[i].kind < PROFILE_MAP_KIND_MAX);
	for (i = 0; i < p->nr_locations; i++) {
		const struct profile_location *l = &p->locations[i];

		CHECK(l->mapping < p->nr_mappings);
		CHECK((uint64_t)l->frame + l->nr_frames <= p->nr_frames);
		for (j = 0; j < l->nr_frames; j++) {
			const struct profile_frame *f = &p->frames[l->frame + j];

			CHECK(f->function < p->nr_strs && f->file < p->nr_strs);
		}
		CHECK(profile__find_location(p, l->mapping, l->addr) == i);
	}
	for (i = 0; i < p->nr_stacks; i++) {
		CHECK((uint64_t)p->stacks[i].first + p->stacks[i].depth <= p->nr_stack_locs);
		for (j = 0; j < p->stacks[i].depth; j++)
			CHECK(profile__stack_locs(p, i)[j] < p->nr_locations);
	}
	for (i = 0; i < p->nr_threads; i++)
		CHECK(p->threads[i].comm < p->nr_strs);
	for (i = 0; i < p->nr_counts; i++) {
		CHECK(p->counts[i].stack < p->nr_stacks && p->counts[i].thread < p->nr_threads);
		sum += p->counts[i].count;
	}
	CHECK(sum == p->total);
	for (i = 0; i < p->nr_meta; i++)
		CHECK(p->meta[i].key < p->nr_strs && p->meta[i].value < p->nr_strs);
	for (i = 0; i < p->nr_counters; i++)
		CHECK(p->counters[i].key < p->nr_strs);
	for (i = 0; i < p->nr_waits; i++)
		CHECK(p->waits[i].stack < p->nr_stacks && p->waits[i].thread < p->nr_threads &&
		      p->waits[i].event > PROFILE_EV_CPU && p->waits[i].event < PROFILE_EV_MAX);
}

/* The off-CPU views of a profile that reads: their counts add up, or they are refused cleanly. */
static void check_events(const struct profile *p, const uint8_t *data, size_t size)
{
	static const uint32_t masks[] = { PROFILE_EV_OFF_CPU, PROFILE_EV_WALL };
	struct pfile_read_opts opts = { 0 };
	struct profile q;
	int partial, err;
	size_t k;

	if (!p->nr_waits)
		return;
	for (k = 0; k < sizeof(masks) / sizeof(masks[0]); k++) {
		profile__init(&q);
		CHECK(pfile__read_mem(data, size, "fuzz.prof", &opts, &q, &partial) == 0);
		err = profile__select_event(&q, masks[k]);
		CHECK(err == 0 || err == -EINVAL || err == -EOVERFLOW);
		if (!err) {
			check_consistent(&q);
			CHECK(profile__counts_are_us(&q));
		}
		profile__release(&q);
	}
}

/* Write p as a finished file, read it back, and compare. */
static void round_trip(const struct profile *p)
{
	struct pfile_read_opts opts = { 0 };
	struct pfile_writer *w;
	struct profile q;
	struct stat st;
	uint32_t i;
	int partial = -1;

	CHECK(ftruncate(out_fd, 0) == 0 && lseek(out_fd, 0, SEEK_SET) == 0);
	w = pfile__writer_new(out_fd, "round-trip");
	CHECK(w);
	CHECK(pfile__writer_finish(w, p) == 0);
	pfile__writer_free(w);
	CHECK(fstat(out_fd, &st) == 0);
	if ((size_t)st.st_size > out_cap) {
		out_cap = (size_t)st.st_size;
		out_buf = realloc(out_buf, out_cap);
		CHECK(out_buf);
	}
	CHECK(pread(out_fd, out_buf, (size_t)st.st_size, 0) == st.st_size);

	profile__init(&q);
	CHECK(pfile__read_mem(out_buf, (size_t)st.st_size, "round-trip", &opts, &q, &partial) == 0);
	CHECK(partial == 0);
	CHECK(q.nr_strs == p->nr_strs);
	for (i = 0; i < p->nr_strs; i++)
		CHECK(q.str_lens[i] == p->str_lens[i] && memcmp(q.strs[i], p->strs[i], p->str_lens[i]) == 0);
	CHECK(q.nr_mappings == p->nr_mappings);
	CHECK(q.nr_locations == p->nr_locations && q.nr_frames == p->nr_frames);
	CHECK(q.nr_stacks == p->nr_stacks && q.nr_stack_locs == p->nr_stack_locs);
	CHECK(q.nr_threads == p->nr_threads);
	CHECK(q.total == p->total);
	CHECK(q.nr_meta == p->nr_meta && q.nr_counters == p->nr_counters);
	for (i = 0; i < p->nr_meta; i++)
		CHECK(q.meta[i].key == p->meta[i].key && q.meta[i].value == p->meta[i].value);
	for (i = 0; i < p->nr_counters; i++)
		CHECK(q.counters[i].key == p->counters[i].key && q.counters[i].num == p->counters[i].num);
	profile__release(&q);
}

/* Wrap raw records in a header and one chunk. Returns the file's size. */
static size_t wrap_records(const uint8_t *data, size_t size)
{
	static const uint8_t header[16] = { 'S', 'C', 'O', 'R', 'C', 'H', 'P', 'F',
					    PFILE_MAJOR, 0, PFILE_MINOR, 0 };
	size_t need = sizeof(header) + ZSTD_compressBound(size), n;

	if (need > file_cap) {
		file_cap = need;
		file_buf = realloc(file_buf, file_cap);
		CHECK(file_buf);
	}
	memcpy(file_buf, header, sizeof(header));
	n = ZSTD_compress(file_buf + sizeof(header), file_cap - sizeof(header), data, size, 1);
	CHECK(!ZSTD_isError(n));
	return sizeof(header) + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A smaller chunk limit than the default keeps each input fast; the check is the same. */
	struct pfile_read_opts opts = { .max_chunk_bytes = 4u << 20 };
	struct profile p;
	int allow, partial, err;

	if (!pfile__is_profile(data, size)) {
		size = wrap_records(data, size);
		data = file_buf;
	}
	for (allow = 0; allow <= 1; allow++) {
		opts.allow_partial = allow;
		partial = -1;
		profile__init(&p);
		err = pfile__read_mem(data, size, "fuzz.prof", &opts, &p, &partial);
		CHECK(err <= 0);
		if (err == 0) {
			CHECK(partial == 0 || (allow && partial == 1));
			check_consistent(&p);
			round_trip(&p);
			if (!allow)
				check_events(&p, data, size);
		}
		profile__release(&p);
	}
	return 0;
}
