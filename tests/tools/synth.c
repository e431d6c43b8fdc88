// SPDX-License-Identifier: MIT
/*
 * synth - write a synthetic scorch profile through the real writer, for tests and benchmarks.
 *
 *   synth -o FILE [--stacks N] [--samples N] [--functions N] [--depth N] [--seed S] [--unfinished]
 *         [--shift PERCENT]
 *
 * Stacks are random call chains over N functions in a few modules, rooted at "main", so the profile
 * has the shape of a real one. --unfinished leaves out the final chunk (like a killed recorder).
 * --shift moves PERCENT of the samples (0-100) onto one extra stack "main;shifted", so two profiles
 * made with and without it differ by a known regression. Deterministic for a given seed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pfile.h"
#include "profile.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stacks", required_argument, NULL, 's' }, { "samples", required_argument, NULL, 'n' },
		{ "functions", required_argument, NULL, 'f' }, { "depth", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 'S' }, { "unfinished", no_argument, NULL, 'u' },
		{ "output", required_argument, NULL, 'o' }, { "shift", required_argument, NULL, 'x' }, { 0 },
	};
	unsigned long stacks = 100, samples = 10000, functions = 50, depth = 12, shift = 0, i;
	int unfinished = 0, c, fd;
	const char *out = NULL;
	struct profile p;
	struct pfile_writer *w;
	uint32_t *locs, *stack_ids, mappings[3], thread, shifted[2], shifted_stack = 0;
	char name[64];

	rng_state = 88172645463325252ULL;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 's': stacks = strtoul(optarg, NULL, 10); break;
		case 'n': samples = strtoul(optarg, NULL, 10); break;
		case 'f': functions = strtoul(optarg, NULL, 10); break;
		case 'd': depth = strtoul(optarg, NULL, 10); break;
		case 'S': rng_state ^= strtoull(optarg, NULL, 10) * 0x9e3779b97f4a7c15ULL; break;
		case 'u': unfinished = 1; break;
		case 'o': out = optarg; break;
		case 'x': shift = strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (!out || !stacks || !functions || depth < 2 || shift > 100) {
		fprintf(stderr, "usage: synth -o FILE [--stacks N] [--samples N] [--functions N] [--depth N] [--seed S] [--unfinished] [--shift PERCENT]\n");
		return 2;
	}
	profile__init(&p);
	profile__meta_set(&p, "command", "synthetic");
	profile__meta_set(&p, "event", "cpu-clock");
	profile__meta_set(&p, "frequency", "99");
	profile__meta_set(&p, "call_graph", "fp");
	profile__meta_set(&p, "duration_ns", "10000000000");
	mappings[0] = profile__intern_mapping(&p, profile__intern_cstr(&p, "/usr/bin/app"),
					      profile__intern_cstr(&p, "00112233"), PROFILE_MAP_FILE);
	mappings[1] = profile__intern_mapping(&p, profile__intern_cstr(&p, "/usr/lib/libfoo.so"), 0, PROFILE_MAP_FILE);
	mappings[2] = profile__intern_mapping(&p, profile__intern_cstr(&p, "[kernel.kallsyms]"), 0, PROFILE_MAP_KERNEL);
	for (i = 0; i <= functions; i++) {
		struct profile_frame f = { 0 };

		snprintf(name, sizeof(name), i ? "func_%lu" : "main", i);
		f.function = profile__intern_cstr(&p, name);
		if (profile__add_location(&p, mappings[i % 3], 0x1000 + i * 16, i % 3 == 2 ? PROFILE_LOC_KERNEL : 0,
					  &f, 1) == PROFILE_NONE)
			return 1;
	}
	if (shift) {
		struct profile_frame f = { 0 };

		f.function = profile__intern_cstr(&p, "shifted");
		shifted[0] = profile__add_location(&p, mappings[0], 0x1000 + (functions + 1) * 16, 0, &f, 1);
		shifted[1] = 0; /* main */
		if (shifted[0] == PROFILE_NONE || (shifted_stack = profile__intern_stack(&p, shifted, 2)) == PROFILE_NONE)
			return 1;
	}
	thread = profile__intern_thread(&p, 100, 100, profile__intern_cstr(&p, "app"));
	locs = calloc(depth, sizeof(*locs));
	stack_ids = calloc(stacks, sizeof(*stack_ids));
	if (!locs || !stack_ids)
		return 1;
	for (i = 0; i < stacks; i++) {
		unsigned long d, j;

		do {
			d = 2 + rnd() % (depth - 1);
			for (j = 0; j + 1 < d; j++)
				locs[j] = 1 + (uint32_t)(rnd() % functions);
			locs[d - 1] = 0; /* main is the root */
			stack_ids[i] = profile__intern_stack(&p, locs, (uint32_t)d);
		} while (i && stack_ids[i] < i); /* want 'stacks' distinct stacks */
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(out);
		return 1;
	}
	w = pfile__writer_new(fd, out);
	if (!w)
		return 1;
	for (i = 0; i < samples; i++) {
		/* A skewed choice: a few stacks are hot, as in real profiles. */
		uint64_t r = rnd() % stacks, s = (r * r) / stacks;

		if (shift && rnd() % 100 < shift)
			profile__add_count(&p, shifted_stack, thread, 1);
		else
			profile__add_count(&p, stack_ids[s], thread, 1);
		if (i % 100000 == 99999 && pfile__writer_flush(w, &p))
			return 1;
	}
	profile__counter_set(&p, "samples", p.total);
	profile__counter_set(&p, "lost", 0);
	if (unfinished ? pfile__writer_flush(w, &p) : pfile__writer_finish(w, &p))
		return 1;
	pfile__writer_free(w);
	if (close(fd))
		return 1;
	profile__release(&p);
	free(locs);
	free(stack_ids);
	return 0;
}
