// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the perf map parser. After a parse, the regions must be sorted, non-empty,
 * not overlapping and not wrapping, with names free of control characters; perfmap__find() must
 * return the region that holds the address, or NULL only when none does.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfmap.h"

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_perfmap: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perfmap m;
	size_t i;

	perfmap__init(&m);
	if (perfmap__parse(&m, (const char *)data, size)) {
		CHECK(m.nr == 0);
		return 0;
	}
	CHECK(m.nr <= size / 6 + 1);
	for (i = 0; i < m.nr; i++) {
		const struct perfmap_entry *e = &m.entries[i];
		const char *c;

		CHECK(e->size > 0);
		CHECK(e->start + e->size > e->start);
		CHECK(i == 0 || m.entries[i - 1].start + m.entries[i - 1].size <= e->start);
		CHECK(e->name && e->name[0]);
		for (c = e->name; *c; c++)
			CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
		CHECK(perfmap__find(&m, e->start) == e);
		CHECK(perfmap__find(&m, e->start + e->size - 1) == e);
		if (i == 0 || m.entries[i - 1].start + m.entries[i - 1].size < e->start)
			CHECK(perfmap__find(&m, e->start - 1) == NULL);
	}
	perfmap__release(&m);
	return 0;
}
