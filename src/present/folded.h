/* SPDX-License-Identifier: MIT */
/*
 * folded - Brendan Gregg's folded stacks: "root;caller;...;leaf COUNT" per line, one line per distinct
 * stack of names, sorted, count = samples. Names are made safe for line-oriented consumers
 * (flamegraph.pl, inferno, speedscope): ';' becomes ':', what a terminal could act on and bytes that are
 * not UTF-8 become '?' (utf8__printable()), and a name
 * that ends in " <digits>" gets its last space replaced by '_' so the digits are not read as a count.
 */
#ifndef SCORCH_FOLDED_H
#define SCORCH_FOLDED_H

#include <stddef.h>
#include <stdio.h>

#include "profile.h"
#include "view.h"

struct folded_opts {
	int pid_prefix;               /* root frame "comm-PID" (as stackcollapse-perf.pl --pid) */
	int tid_prefix;               /* root frame "comm-PID/TID" (as stackcollapse-perf.pl --tid) */
	int annotate;                 /* suffix kernel frames "_[k]", inlined "_[i]", JIT "_[j]" */
	const struct view_opts *view; /* filters and grouping; NULL: by function, no filters */
};

/* Write the profile's stacks to 'out'. Returns 0, -ENOMEM or -EINVAL (bad filter expression). */
int folded__write(FILE *out, const struct profile *p, const struct folded_opts *opts);

/* Copy 'name' into 'buf' (NUL-terminated, truncated to size) with the replacements above. */
void folded__sanitize(const char *name, char *buf, size_t size);

#endif
