/* SPDX-License-Identifier: MIT */
/*
 * report - the hotspot table: self and total (inclusive) samples per function (or source line, or
 * module), sorted, top N, under a header that says what was recorded and how well (duration, samples,
 * lost); and the callers/callees of a function, with each one's share of that function's samples.
 *
 * Functions are keyed by (name, module); an address that could not be named is its own row,
 * "[module+0xaddr]". A function that appears several times in one stack (recursion) counts once
 * towards its total. Shares are of the samples that pass the view's filters (all samples without
 * filters). Reads the profile; writes to 'out'; returns 0, -ENOMEM, -EINVAL (bad filter expression) or
 * -ENOENT (--callers/--callees of a function the profile does not have; logged).
 */
#ifndef SCORCH_REPORT_H
#define SCORCH_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "profile.h"
#include "view.h"

enum report_sort {
	REPORT_SORT_SELF,
	REPORT_SORT_TOTAL,
	REPORT_SORT_NAME,
};

struct report_opts {
	uint32_t top; /* rows to print; 0 = all */
	enum report_sort sort;
	int no_header;
	int json;                     /* one JSON object instead of the table */
	double percent_limit;         /* leave out rows whose sort value (total for name) is below this % */
	const char *callers;          /* print who calls this function instead of the table (borrowed) */
	const char *callees;          /* print what this function calls instead of the table (borrowed) */
	const struct view_opts *view; /* filters and grouping; NULL: by function, no filters */
};

struct report_row {
	uint32_t func;     /* view func id (see view.h) */
	uint32_t function; /* string id in the profile, or 0 for an unnamed location */
	uint32_t mapping;  /* mapping id */
	uint32_t loc;      /* for unnamed rows: the location; else PROFILE_NONE */
	uint32_t frame;    /* for unnamed rows: the frame index within the location */
	uint64_t self, total;
};

/*
 * Aggregate a view per function into a new array (owned by the caller, free()) of *nr rows, sorted as
 * asked. Returns NULL with errno set on failure (or when there are no rows, with *nr = 0).
 */
struct report_row *report__aggregate_view(const struct view *v, enum report_sort sort, size_t *nr);
/* The same on the whole profile, by function. */
struct report_row *report__aggregate(const struct profile *p, enum report_sort sort, size_t *nr);

int report__print(FILE *out, const struct profile *p, const struct report_opts *opts, const char *input);

/* The header lines ("# ...") describing the profile, shared with 'info'. */
void report__print_header(FILE *out, const struct profile *p, const char *input);

#endif
