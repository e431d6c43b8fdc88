// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the /proc/PID/maps parser. Parsed maps must be sorted, with non-empty ranges,
 * known permission bits and paths shorter than a line, and procmaps__find() must return an entry that
 * contains the address asked for. A failed parse must leave the maps empty and name a line of the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_procmaps: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

/* 'disjoint': no two entries overlap (always so in real maps, not in made-up input). */
static void check_find(const struct procmaps *m, uint64_t addr, int disjoint)
{
	const struct procmaps_entry *e = procmaps__find(m, addr);
	size_t i;

	if (e) {
		CHECK(e >= m->entries && e < m->entries + m->nr);
		CHECK(e->start <= addr && addr < e->end);
	} else if (disjoint) {
		for (i = 0; i < m->nr; i++)
			CHECK(addr < m->entries[i].start || addr >= m->entries[i].end);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procmaps m;
	size_t bad_line = 0, lines = 1, i;
	int err, disjoint = 1;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	procmaps__init(&m);
	err = procmaps__parse(&m, (const char *)data, size, &bad_line);
	if (err) {
		CHECK(err < 0);
		CHECK(m.nr == 0 && m.entries == NULL);
		CHECK(bad_line >= 1 && bad_line <= lines);
		return 0;
	}
	CHECK(m.nr <= lines);
	for (i = 1; i < m.nr; i++) {
		CHECK(m.entries[i - 1].start <= m.entries[i].start);
		if (m.entries[i].start < m.entries[i - 1].end)
			disjoint = 0;
	}
	for (i = 0; i < m.nr; i++) {
		const struct procmaps_entry *e = &m.entries[i];

		CHECK(e->start < e->end);
		CHECK((e->perms & ~(unsigned)(PROCMAPS_R | PROCMAPS_W | PROCMAPS_X | PROCMAPS_SHARED)) == 0);
		CHECK(e->path != NULL);
		CHECK(e->deleted == 0 || e->deleted == 1);
		CHECK(strlen(e->path) < PROCMAPS_MAX_LINE);
		check_find(&m, e->start, disjoint);
		check_find(&m, e->end - 1, disjoint);
		check_find(&m, e->end, disjoint);
		if (e->start)
			check_find(&m, e->start - 1, disjoint);
	}
	check_find(&m, 0, disjoint);
	check_find(&m, UINT64_MAX, disjoint);
	procmaps__release(&m);
	CHECK(m.nr == 0 && m.entries == NULL);
	return 0;
}
