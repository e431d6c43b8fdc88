// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the profile loader (src/profile/input.h): input__load_mem() on arbitrary bytes, which
 * are taken as folded stacks unless they start with the scorch magic. A load that succeeds must give a
 * consistent profile whose total is the sum of its counts and within the cap; a failed one must have
 * returned a negative errno. Small limits keep each input fast.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "input.h"
#include "log.h"
#include "profile.h"

static FILE *report_to;

static void check_failed(const char *what, int line)
{
	fprintf(report_to, "fuzz_folded: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log__set_level(LOG_QUIET);
	report_to = stderr;
	stderr = fopen("/dev/null", "w");
	if (!stderr)
		stderr = report_to;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input_opts o = { .max_line = 4096, .max_total = 1000000 };
	enum input_format fmt;
	struct profile p;
	uint64_t sum = 0;
	uint32_t i, j;
	int err;

	profile__init(&p);
	err = input__load_mem(data, size, "fuzz", &o, &p, &fmt);
	CHECK(err <= 0);
	if (err == 0) {
		for (i = 0; i < p.nr_counts; i++) {
			CHECK(p.counts[i].stack < p.nr_stacks && p.counts[i].thread < p.nr_threads);
			CHECK(p.counts[i].count > 0 || fmt == INPUT_SCORCH);
			sum += p.counts[i].count;
		}
		CHECK(sum == p.total);
		if (fmt == INPUT_FOLDED) {
			CHECK(p.total <= o.max_total);
			for (i = 0; i < p.nr_stacks; i++) {
				CHECK(p.stacks[i].depth >= 1);
				for (j = 0; j < p.stacks[i].depth; j++) {
					const struct profile_location *l = &p.locations[profile__stack_locs(&p, i)[j]];

					CHECK(l->nr_frames == 1 && l->mapping < p.nr_mappings);
					CHECK(p.str_lens[p.frames[l->frame].function] > 0);
				}
			}
		}
	}
	profile__release(&p);
	return 0;
}
