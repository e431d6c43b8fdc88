// SPDX-License-Identifier: MIT
/*
 * synth - write a synthetic scorch profile through the real writer, for tests and benchmarks.
 *
 *   synth -o FILE [--stacks N] [--samples N] [--functions N] [--depth N] [--seed S] [--unfinished]
 *         [--shift PERCENT]
 *   synth -o FILE --fixture
 *   synth -o FILE --hostile
 *
 * Stacks are random call chains over N functions in a few modules, rooted at "main", so the profile
 * has the shape of a real one. --unfinished leaves out the final chunk (like a killed recorder).
 * --shift moves PERCENT of the samples (0-100) onto one extra stack "main;shifted", so two profiles
 * made with and without it differ by a known regression. Deterministic for a given seed.
 *
 * --fixture writes instead the small fixed profile of the report golden and interop tests: 100 samples
 * over three threads, with inlined frames, file/line, kernel and JIT frames, an unnamed address, and
 * names that need escaping (';', a newline, a trailing " 42", XML metacharacters). See fixture() below.
 *
 * --hostile writes a profile whose every target-controlled string (meta, comm, mapping paths, function
 * and file names) holds what a terminal acts on: ESC sequences, BEL, newline, carriage return, C1
 * controls raw (0x9b, CSI in 8-bit terminals) and UTF-8-encoded (U+009B), a bidi override, and bytes
 * that are not UTF-8; and names a markdown renderer would turn into images, links and mentions.
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


static uint32_t floc(struct profile *p, uint32_t mapping, uint64_t addr, uint32_t flags, const char *fn,
		     const char *file, uint32_t line, const char *inl, uint32_t inl_line)
{
	struct profile_frame fr[2] = { 0 };
	uint32_t n = 0;

	if (inl) {
		fr[n].function = profile__intern_cstr(p, inl);
		fr[n].file = profile__intern_cstr(p, file);
		fr[n].line = inl_line;
		fr[n].flags = PROFILE_FRAME_INLINE;
		n++;
	}
	if (fn) {
		fr[n].function = profile__intern_cstr(p, fn);
		fr[n].file = file ? profile__intern_cstr(p, file) : 0;
		fr[n].line = line;
		n++;
	}
	return profile__add_location(p, mapping, addr, flags, fr, n);
}

static void fsample(struct profile *p, uint32_t thread, uint64_t n, const uint32_t *locs, uint32_t depth)
{
	profile__add_count(p, profile__intern_stack(p, locs, depth), thread, n);
}

/*
 * The fixture, stacks root first (100 samples):
 *   app 100/100:    main;run;compute(inl);memcpy                       40
 *   worker 100/101: main;run;compute(inl)                              25
 *   app 100/100:    main;run;compute(inl);memcpy;do_syscall_64 (k)     10
 *   app 100/100:    main;parse_config                                   8
 *   worker 100/101: main;weird;name 42                                  5
 *   app 100/100:    main;parse_config;[libc.so.6+0x9abc]                4
 *   tool 200/200:   main;jitted_loop (JIT)                              6
 *   tool 200/200:   main;odd\nline<T&>                                  2
 */
static int fixture(const char *out)
{
	struct profile p;
	struct pfile_writer *w;
	uint32_t app, libc, kern, jit, t0, t1, t2, l_main, l_run, l_parse, l_weird, l_odd, l_memcpy, l_unnamed,
		l_sys, l_jit, l_main2;
	int fd;

	profile__init(&p);
	profile__meta_set(&p, "command", "app --fixture");
	profile__meta_set(&p, "event", "cpu-clock");
	profile__meta_set(&p, "frequency", "100");
	profile__meta_set(&p, "call_graph", "fp");
	profile__meta_set(&p, "duration_ns", "1000000000");
	app = profile__intern_mapping(&p, profile__intern_cstr(&p, "/usr/bin/app"), profile__intern_cstr(&p, "aabbccdd"),
				      PROFILE_MAP_FILE);
	libc = profile__intern_mapping(&p, profile__intern_cstr(&p, "/lib/x86_64-linux-gnu/libc.so.6"),
				       profile__intern_cstr(&p, "11223344"), PROFILE_MAP_FILE);
	kern = profile__intern_mapping(&p, profile__intern_cstr(&p, "[kernel.kallsyms]"), 0, PROFILE_MAP_KERNEL);
	jit = profile__intern_mapping(&p, profile__intern_cstr(&p, "/tmp/perf-200.map"), 0, PROFILE_MAP_JIT);
	l_main = floc(&p, app, 0x1100, 0, "main", "app.c", 10, NULL, 0);
	l_run = floc(&p, app, 0x1200, 0, "run", "app.c", 30, "compute", 20);
	l_parse = floc(&p, app, 0x1300, 0, "parse_config", "config.c", 40, NULL, 0);
	l_weird = floc(&p, app, 0x1400, 0, "weird;name 42", NULL, 0, NULL, 0);
	l_odd = floc(&p, app, 0x1500, 0, "odd\nline<T&>", NULL, 0, NULL, 0);
	l_memcpy = floc(&p, libc, 0x9000, 0, "memcpy", NULL, 0, NULL, 0);
	l_unnamed = floc(&p, libc, 0x9abc, 0, NULL, NULL, 0, NULL, 0);
	l_sys = floc(&p, kern, 0xffffffff81000100ULL, PROFILE_LOC_KERNEL, "do_syscall_64", NULL, 0, NULL, 0);
	l_jit = floc(&p, jit, 0x7f0000001000ULL, 0, "jitted_loop", NULL, 0, NULL, 0);
	l_main2 = floc(&p, app, 0x1104, 0, "main", "app.c", 11, NULL, 0);
	t0 = profile__intern_thread(&p, 100, 100, profile__intern_cstr(&p, "app"));
	t1 = profile__intern_thread(&p, 100, 101, profile__intern_cstr(&p, "worker"));
	t2 = profile__intern_thread(&p, 200, 200, profile__intern_cstr(&p, "tool"));
	fsample(&p, t0, 40, (uint32_t[]){ l_memcpy, l_run, l_main }, 3);
	fsample(&p, t1, 25, (uint32_t[]){ l_run, l_main }, 2);
	fsample(&p, t0, 10, (uint32_t[]){ l_sys, l_memcpy, l_run, l_main }, 4);
	fsample(&p, t0, 8, (uint32_t[]){ l_parse, l_main }, 2);
	fsample(&p, t1, 5, (uint32_t[]){ l_weird, l_main }, 2);
	fsample(&p, t0, 4, (uint32_t[]){ l_unnamed, l_parse, l_main }, 3);
	fsample(&p, t2, 6, (uint32_t[]){ l_jit, l_main2 }, 2);
	fsample(&p, t2, 2, (uint32_t[]){ l_odd, l_main2 }, 2);
	profile__counter_set(&p, "samples", p.total);
	profile__counter_set(&p, "lost", 0);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(out);
		return 1;
	}
	w = pfile__writer_new(fd, out);
	if (!w || pfile__writer_finish(w, &p))
		return 1;
	pfile__writer_free(w);
	profile__release(&p);
	return close(fd) ? 1 : 0;
}

#define EVIL "\x1b]0;owned\x07\x1b[2J\n\r\x9b" "31m\xc2\x9b" "32m\xe2\x80\xae\xff"

static int hostile(const char *out)
{
	struct profile p;
	struct pfile_writer *w;
	uint32_t app, lib, t, l_main, l_evil, l_md, l_lib;
	int fd;

	profile__init(&p);
	profile__meta_set(&p, "command", "app " EVIL " --arg");
	profile__meta_set(&p, "targets", "pid " EVIL);
	profile__meta_set(&p, "hostname", "host" EVIL);
	profile__meta_set(&p, "kernel", "6.1" EVIL);
	profile__meta_set(&p, "cpus", "2" EVIL);
	profile__meta_set(&p, "start_time", "2026" EVIL);
	profile__meta_set(&p, "event", "cpu-clock" EVIL);
	profile__meta_set(&p, "frequency", "99" EVIL);
	profile__meta_set(&p, "call_graph", "fp" EVIL);
	profile__meta_set(&p, "duration_ns", "1000000000");
	profile__meta_set(&p, "key" EVIL, "value" EVIL);
	app = profile__intern_mapping(&p, profile__intern_cstr(&p, "/tmp/ap\np" EVIL), profile__intern_cstr(&p, "aa" EVIL),
				      PROFILE_MAP_FILE);
	lib = profile__intern_mapping(&p, profile__intern_cstr(&p, "/tmp/lib" EVIL ".so"), 0, PROFILE_MAP_FILE);
	l_main = floc(&p, app, 0x1100, 0, "main", "app.c", 10, NULL, 0);
	l_evil = floc(&p, app, 0x1200, 0, "evil" EVIL "fn", "src" EVIL ".c", 20, "inl" EVIL, 21);
	l_md = floc(&p, app, 0x1300, 0, "![x](http://e.example/a.png) [y](http://e.example) @team `b` \\ *s* _u_ <b>|c|",
		    "md.c", 30, NULL, 0);
	l_lib = floc(&p, lib, 0x2000, 0, "lib_fn" EVIL, NULL, 0, NULL, 0);
	t = profile__intern_thread(&p, 100, 100, profile__intern_cstr(&p, "co" EVIL));
	fsample(&p, t, 50, (uint32_t[]){ l_evil, l_main }, 2);
	fsample(&p, t, 30, (uint32_t[]){ l_md, l_main }, 2);
	fsample(&p, t, 20, (uint32_t[]){ l_lib, l_evil, l_main }, 3);
	profile__counter_set(&p, "samples", p.total);
	profile__counter_set(&p, "lost", 0);
	profile__counter_set(&p, "count" EVIL, 1);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(out);
		return 1;
	}
	w = pfile__writer_new(fd, out);
	if (!w || pfile__writer_finish(w, &p))
		return 1;
	pfile__writer_free(w);
	profile__release(&p);
	return close(fd) ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stacks", required_argument, NULL, 's' }, { "samples", required_argument, NULL, 'n' },
		{ "functions", required_argument, NULL, 'f' }, { "depth", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 'S' }, { "unfinished", no_argument, NULL, 'u' },
		{ "output", required_argument, NULL, 'o' }, { "shift", required_argument, NULL, 'x' },
		{ "fixture", no_argument, NULL, 'F' }, { "hostile", no_argument, NULL, 'H' }, { 0 },
	};
	unsigned long stacks = 100, samples = 10000, functions = 50, depth = 12, shift = 0, i;
	int unfinished = 0, want_fixture = 0, want_hostile = 0, c, fd;
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
		case 'F': want_fixture = 1; break;
		case 'H': want_hostile = 1; break;
		default: return 2;
		}
	}
	if (out && want_fixture)
		return fixture(out);
	if (out && want_hostile)
		return hostile(out);
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
