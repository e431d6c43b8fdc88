// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the report writers: the input is decoded into a profile through the profile
 * API (names of arbitrary bytes, mappings of every kind, locations with inlined frames, stacks,
 * threads, counts), which then goes through report (table, JSON, callers/callees, every --by and sort,
 * filters), folded (annotations, prefixes), flamegraph (plain, icicle, differential) and both exporters.
 * Checks: folded output is lines of "STACK COUNT" whose counts add up to the samples; the SVG and JSON
 * are valid UTF-8 without raw control characters in names; nothing crashes or leaks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "flamegraph.h"
#include "folded.h"
#include "log.h"
#include "profile.h"
#include "report.h"
#include "view.h"

static FILE *report_to;

static void check_failed(const char *what, int line)
{
	fprintf(report_to, "fuzz_reports: check failed: %s (line %d)\n", what, line);
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

struct in {
	const uint8_t *d;
	size_t n, i;
};

static uint8_t byte(struct in *in)
{
	return in->i < in->n ? in->d[in->i++] : 0;
}

/* Valid UTF-8 throughout, and no control characters other than newline. */
static void check_text(const char *s, size_t n, int allow_newline)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;

		CHECK(len && i + len <= n);
		if (c < 0x20)
			CHECK((c == '\n' && allow_newline) || c == '\t');
		for (size_t k = 1; k < len; k++)
			CHECK(((unsigned char)s[i + k] & 0xc0) == 0x80);
		i += len;
	}
}

static void check_folded(const char *s, size_t n, uint64_t total)
{
	uint64_t sum = 0;
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i), *sp;

		CHECK(nl);
		sp = nl;
		while (sp > s + i && sp[-1] >= '0' && sp[-1] <= '9')
			sp--;
		CHECK(sp < nl && sp > s + i && sp[-1] == ' ');
		sum += strtoull(sp, NULL, 10);
		i = (size_t)(nl - s) + 1;
	}
	CHECK(sum == total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size, 0 };
	struct profile p;
	uint32_t names[16], maps[5], locs[24], threads[4], nr_names, nr_locs, i, k;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	profile__init(&p);
	nr_names = 1 + byte(&in) % 16;
	for (i = 0; i < nr_names; i++) {
		uint32_t l = byte(&in) % 12;
		char buf[16];

		for (k = 0; k < l; k++)
			buf[k] = (char)byte(&in);
		names[i] = profile__intern_str(&p, buf, l);
	}
	for (i = 0; i < 5; i++)
		maps[i] = profile__intern_mapping(&p, names[byte(&in) % nr_names], names[byte(&in) % nr_names], i);
	nr_locs = 1 + byte(&in) % 24;
	for (i = 0; i < nr_locs; i++) {
		struct profile_frame fr[3];
		uint32_t nf = byte(&in) % 4;

		for (k = 0; k < nf; k++) {
			fr[k].function = names[byte(&in) % nr_names];
			fr[k].file = names[byte(&in) % nr_names];
			fr[k].line = byte(&in);
			fr[k].flags = k + 1 < nf ? PROFILE_FRAME_INLINE : 0;
		}
		locs[i] = profile__add_location(&p, maps[byte(&in) % 5], i * 16, byte(&in) & 1 ? PROFILE_LOC_KERNEL : 0, fr, nf);
		CHECK(locs[i] != PROFILE_NONE);
	}
	for (i = 0; i < 4; i++)
		threads[i] = profile__intern_thread(&p, 1 + i / 2, 1 + i, names[byte(&in) % nr_names]);
	while (in.i < in.n) {
		uint32_t st[20], d = byte(&in) % 20, s;

		for (k = 0; k < d; k++)
			st[k] = locs[byte(&in) % nr_locs];
		s = profile__intern_stack(&p, st, d);
		CHECK(s != PROFILE_NONE);
		profile__add_count(&p, s, threads[byte(&in) % 4], 1 + byte(&in) % 5);
	}

	f = open_memstream(&out, &len);
	CHECK(f);
	for (i = 0; i < 3; i++) {
		struct view_opts vo = { .by = i, .no_inline = data[0] & 1, .no_kernel = data[0] & 2 };
		struct report_opts ro = { .sort = i, .json = i == 1, .view = &vo, .percent_limit = i };
		struct folded_opts fo = { .annotate = 1, .pid_prefix = i == 1, .tid_prefix = i == 2, .view = &vo };
		const char *name = profile__str(&p, names[size % nr_names]);

		CHECK(report__print(f, &p, &ro, "fuzz") == 0);
		if (*name) {
			ro.callers = name;
			ro.callees = name;
			report__print(f, &p, &ro, "fuzz"); /* -ENOENT when the name has no frame */
		}
		rewind(f);
		fflush(f);
		len = 0;
		CHECK(folded__write(f, &p, &fo) == 0);
		fflush(f);
		check_folded(out, len, p.total); /* filters drop frames, never samples */
		rewind(f);
		fflush(f);
		len = 0;
		CHECK(export__speedscope(f, &p, &vo, "fuzz") == 0);
		fflush(f);
		check_text(out, len, 1);
		rewind(f);
		CHECK(export__pprof(f, &p, &vo) == 0);
	}
	for (i = 0; i < 2; i++) {
		struct flamegraph_opts fo = { .icicle = i, .differential = i, .min_width = 0, .colors = i };
		struct flamegraph *fg = flamegraph__new(&fo);
		struct view_opts vo = { 0 };
		struct view v;

		CHECK(fg);
		CHECK(view__build(&v, &p, &vo) == 0);
		for (k = 0; k < v.nr_stacks; k++) {
			struct flamegraph_frame fr[64];
			uint32_t d = v.stacks[k].depth < 64 ? v.stacks[k].depth : 64, j;

			for (j = 0; j < d; j++) {
				fr[j].name = v.funcs[view__stack_funcs(&v, k)[j]].name;
				fr[j].module = profile__str(&p, names[j % nr_names]);
				fr[j].kind = v.funcs[view__stack_funcs(&v, k)[j]].kind;
			}
			CHECK(flamegraph__add(fg, fr, d, v.stacks[k].count, k & 1 ? v.stacks[k].count : 0) == 0);
		}
		view__release(&v);
		rewind(f);
		fflush(f);
		len = 0;
		CHECK(flamegraph__write(fg, f) == 0);
		fflush(f);
		check_text(out, len, 1);
		flamegraph__free(fg);
	}
	fclose(f);
	free(out);
	profile__release(&p);
	return 0;
}
