// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "idxmap.h"
#include "report.h"

struct agg {
	struct u64map idx; /* row key -> row index */
	struct report_row *rows;
	uint32_t *last_stack; /* per row: last stack that added to its total (recursion counts once) */
	size_t nr, cap;
};

static struct report_row *row_for(struct agg *a, const struct profile *p, uint32_t loc, uint32_t fidx)
{
	const struct profile_location *l = &p->locations[loc];
	uint32_t fn = fidx < l->nr_frames ? p->frames[l->frame + fidx].function : 0;
	/* Named frames merge by (function, module); an unnamed one is its own row. */
	uint64_t key = fn ? (uint64_t)fn << 32 | l->mapping : 1ULL << 63 | (uint64_t)loc << 16 | (fidx & 0xffff), v;
	struct report_row *r;

	if (u64map__get(&a->idx, key, &v))
		return &a->rows[v];
	if (a->nr == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 256;
		struct report_row *nr = realloc(a->rows, ncap * sizeof(*nr));
		uint32_t *nl;

		if (!nr)
			return NULL;
		a->rows = nr;
		nl = realloc(a->last_stack, ncap * sizeof(*nl));
		if (!nl)
			return NULL;
		a->last_stack = nl;
		a->cap = ncap;
	}
	if (u64map__set(&a->idx, key, a->nr))
		return NULL;
	r = &a->rows[a->nr];
	r->function = fn;
	r->mapping = l->mapping;
	r->loc = fn ? PROFILE_NONE : loc;
	r->frame = fn ? 0 : fidx;
	r->self = r->total = 0;
	a->last_stack[a->nr] = PROFILE_NONE;
	a->nr++;
	return r;
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static const struct profile *sort_profile;

static int cmp_name(const struct report_row *x, const struct report_row *y)
{
	int c = strcmp(profile__str(sort_profile, x->function), profile__str(sort_profile, y->function));

	if (c)
		return c;
	c = strcmp(profile__mapping_short_name(sort_profile, x->mapping),
		   profile__mapping_short_name(sort_profile, y->mapping));
	if (c)
		return c;
	if (x->loc != y->loc)
		return x->loc < y->loc ? -1 : 1;
	return (x->frame > y->frame) - (x->frame < y->frame);
}

static int cmp_self(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;
	int c = cmp_u64_desc(x->self, y->self);

	if (!c)
		c = cmp_u64_desc(x->total, y->total);
	return c ? c : cmp_name(x, y);
}

static int cmp_total(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;
	int c = cmp_u64_desc(x->total, y->total);

	if (!c)
		c = cmp_u64_desc(x->self, y->self);
	return c ? c : cmp_name(x, y);
}

struct report_row *report__aggregate(const struct profile *p, enum report_sort sort, size_t *nr)
{
	struct agg a = { 0 };
	uint64_t *per_stack = calloc(p->nr_stacks ? p->nr_stacks : 1, sizeof(*per_stack));
	uint32_t s, i, f;

	*nr = 0;
	if (!per_stack)
		return NULL;
	u64map__init(&a.idx);
	for (i = 0; i < p->nr_counts; i++)
		per_stack[p->counts[i].stack] += p->counts[i].count;
	for (s = 0; s < p->nr_stacks; s++) {
		const uint32_t *locs = profile__stack_locs(p, s);
		int leaf = 1;

		if (!per_stack[s])
			continue;
		for (i = 0; i < p->stacks[s].depth; i++) {
			uint32_t nf = p->locations[locs[i]].nr_frames;

			for (f = 0; f < (nf ? nf : 1); f++) {
				struct report_row *r = row_for(&a, p, locs[i], f);

				if (!r)
					goto nomem;
				if (leaf)
					r->self += per_stack[s];
				leaf = 0;
				if (a.last_stack[r - a.rows] != s) {
					a.last_stack[r - a.rows] = s;
					r->total += per_stack[s];
				}
			}
		}
	}
	sort_profile = p;
	if (a.nr)
		qsort(a.rows, a.nr, sizeof(*a.rows), sort == REPORT_SORT_TOTAL ? cmp_total : cmp_self);
	free(per_stack);
	free(a.last_stack);
	u64map__release(&a.idx);
	*nr = a.nr;
	if (!a.nr) {
		free(a.rows);
		errno = 0;
		return NULL;
	}
	return a.rows;
nomem:
	free(per_stack);
	free(a.rows);
	free(a.last_stack);
	u64map__release(&a.idx);
	errno = ENOMEM;
	return NULL;
}

static double pct(uint64_t n, uint64_t total)
{
	return total ? 100.0 * (double)n / (double)total : 0.0;
}

void report__print_header(FILE *out, const struct profile *p, const char *input)
{
	const char *v;
	uint64_t lost = profile__counter_get(p, "lost");
	double dur = 0;

	fprintf(out, "# profile:  %s\n", input);
	if ((v = profile__meta_get(p, "command")) && *v)
		fprintf(out, "# command:  %s\n", v);
	if ((v = profile__meta_get(p, "targets")) && *v)
		fprintf(out, "# targets:  %s\n", v);
	if ((v = profile__meta_get(p, "hostname")))
		fprintf(out, "# host:     %s (Linux %s, %s CPUs)\n", v, profile__meta_get(p, "kernel") ?: "?",
			profile__meta_get(p, "cpus") ?: "?");
	if ((v = profile__meta_get(p, "start_time")))
		fprintf(out, "# started:  %s\n", v);
	if ((v = profile__meta_get(p, "duration_ns")))
		dur = strtod(v, NULL) / 1e9;
	if ((v = profile__meta_get(p, "event")))
		fprintf(out, "# sampling: %s at %s Hz, call graph %s, for %.2f s\n", v,
			profile__meta_get(p, "frequency") ?: "?", profile__meta_get(p, "call_graph") ?: "?", dur);
	fprintf(out, "# samples:  %" PRIu64 ", lost %" PRIu64 " (%.2f%%)", p->total, lost, pct(lost, p->total + lost));
	if (profile__counter_get(p, "truncated_stacks"))
		fprintf(out, ", truncated stacks %" PRIu64, profile__counter_get(p, "truncated_stacks"));
	fputc('\n', out);
}

int report__print(FILE *out, const struct profile *p, const struct report_opts *opts, const char *input)
{
	size_t nr, i, n;
	struct report_row *rows = report__aggregate(p, opts->sort, &nr);
	char label[4096];

	if (!rows && nr == 0 && errno == ENOMEM)
		return -ENOMEM;
	if (!opts->no_header) {
		report__print_header(out, p, input);
		fprintf(out, "#\n");
	}
	if (!nr) {
		fprintf(out, "# no samples\n");
		return 0;
	}
	fprintf(out, "%7s %7s %9s %9s  %-40s %s\n", "Self%", "Total%", "Self", "Total", "Function", "Module");
	n = opts->top && opts->top < nr ? opts->top : nr;
	for (i = 0; i < n; i++) {
		const struct report_row *r = &rows[i];
		const char *name = r->function ? profile__str(p, r->function) :
						 profile__frame_label(p, r->loc, r->frame, label, sizeof(label));

		fprintf(out, "%6.2f%% %6.2f%% %9" PRIu64 " %9" PRIu64 "  %-40s %s\n", pct(r->self, p->total),
			pct(r->total, p->total), r->self, r->total, name, profile__mapping_short_name(p, r->mapping));
	}
	if (n < nr)
		fprintf(out, "# %zu more functions below the top %zu (-n 0 shows all)\n", nr - n, n);
	free(rows);
	return 0;
}
