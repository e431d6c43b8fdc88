// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "idxmap.h"
#include "json.h"
#include "log.h"
#include "report.h"
#include "utf8.h"

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static const struct view *sort_view;

static int cmp_name(const struct report_row *x, const struct report_row *y)
{
	const struct view_func *a = &sort_view->funcs[x->func], *b = &sort_view->funcs[y->func];
	const struct profile *p = sort_view->p;
	int c = strcmp(x->function ? profile__str(p, x->function) : a->name,
		       y->function ? profile__str(p, y->function) : b->name);

	if (!c && (x->function || y->function))
		c = strcmp(a->name, b->name);
	if (c)
		return c;
	c = strcmp(profile__mapping_short_name(p, x->mapping), profile__mapping_short_name(p, y->mapping));
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

static int cmp_by_name(const void *a, const void *b)
{
	return cmp_name(a, b);
}

struct report_row *report__aggregate_view(const struct view *v, enum report_sort sort, size_t *nr)
{
	/* Rows are per base func (same name and module, any kind); row_of maps a base to its row. */
	uint32_t *row_of = malloc((v->nr_funcs ? v->nr_funcs : 1) * sizeof(*row_of));
	uint32_t *last_stack = NULL, s, i;
	struct report_row *rows = NULL;
	size_t n = 0;

	*nr = 0;
	if (!row_of)
		return NULL;
	for (i = 0; i < v->nr_funcs; i++)
		row_of[i] = UINT32_MAX;
	for (i = 0; i < v->nr_funcs; i++)
		if (row_of[v->funcs[i].base] == UINT32_MAX)
			row_of[v->funcs[i].base] = (uint32_t)n++;
	rows = calloc(n ? n : 1, sizeof(*rows));
	last_stack = malloc((n ? n : 1) * sizeof(*last_stack));
	if (!rows || !last_stack)
		goto nomem;
	for (i = 0; i < v->nr_funcs; i++) {
		const struct view_func *f = &v->funcs[i];
		struct report_row *r = &rows[row_of[f->base]];

		if (f->base != i)
			continue;
		r->func = i;
		r->function = f->function;
		r->mapping = f->mapping;
		r->loc = f->function ? PROFILE_NONE : f->loc;
		r->frame = f->function ? 0 : f->frame_idx;
		last_stack[row_of[i]] = UINT32_MAX;
	}
	/* Paths, not stacks: a stack sampled in many threads is one path, walked once. */
	for (s = 0; s < v->nr_paths; s++) {
		const uint32_t *fs = view__path_funcs(v, s);
		uint32_t d = v->paths[s].depth;
		uint64_t c = v->paths[s].count;

		if (d)
			rows[row_of[v->funcs[fs[d - 1]].base]].self += c;
		for (i = 0; i < d; i++) {
			uint32_t r = row_of[v->funcs[fs[i]].base];

			if (last_stack[r] != s) {
				last_stack[r] = s;
				rows[r].total += c;
			}
		}
	}
	/* Funcs seen only in stacks that the filters dropped have no samples: leave them out. */
	for (i = 0, s = 0; i < n; i++)
		if (rows[i].total)
			rows[s++] = rows[i];
	n = s;
	sort_view = v;
	if (n)
		qsort(rows, n, sizeof(*rows),
		      sort == REPORT_SORT_TOTAL  ? cmp_total
		      : sort == REPORT_SORT_NAME ? cmp_by_name
						 : cmp_self);
	free(row_of);
	free(last_stack);
	*nr = n;
	if (!n) {
		free(rows);
		errno = 0;
		return NULL;
	}
	return rows;
nomem:
	free(row_of);
	free(rows);
	free(last_stack);
	errno = ENOMEM;
	return NULL;
}

struct report_row *report__aggregate(const struct profile *p, enum report_sort sort, size_t *nr)
{
	struct view_opts vo = { 0 };
	struct report_row *rows;
	struct view v;
	int err = view__build(&v, p, &vo);

	*nr = 0;
	if (err) {
		errno = -err;
		return NULL;
	}
	rows = report__aggregate_view(&v, sort, nr);
	err = errno;
	view__release(&v);
	errno = err;
	return rows;
}

static double pct(uint64_t n, uint64_t total)
{
	return total ? 100.0 * (double)n / (double)total : 0.0;
}

/*
 * The header of a profile whose counts are time (report --event off-cpu, wall...): which event, the
 * unit, the off-CPU time per state, and what was only counted: waits below the threshold, waits
 * dropped (stacks-per-second bound, ring buffer full), CPU samples lost.
 */
static void print_event_header(FILE *out, const struct profile *p)
{
	static const char *const states[] = { "", "sleeping", "uninterruptible", "runnable (run queue)" };
	uint64_t off = 0, waits = 0;
	uint32_t i, mask = p->count_events;

	for (i = PROFILE_EV_OFF_SLEEP; i < PROFILE_EV_MAX; i++)
		if (mask & PROFILE_EV_MASK(i))
			off += p->wait_ns[i];
	for (i = 0; i < p->nr_waits; i++)
		if (mask & PROFILE_EV_MASK(p->waits[i].event))
			waits += p->waits[i].waits;
	fprintf(out, "# event:    %s, time in ms (%s)\n", profile__events_name(mask),
		mask & PROFILE_EV_MASK(PROFILE_EV_CPU)
			? "CPU time estimated from the samples, plus the time off CPU"
			: "time off CPU, where the threads blocked");
	fprintf(out, "# time:     %.1f ms", (double)p->total / 1e3);
	if (mask & PROFILE_EV_MASK(PROFILE_EV_CPU))
		fprintf(out, ": on CPU %.1f ms (%" PRIu64 " samples), off CPU %.1f ms",
			(double)(p->total - off / 1000) / 1e3, profile__counter_get(p, "samples"),
			(double)off / 1e6);
	fputc('\n', out);
	fprintf(out, "# off-cpu:  %" PRIu64 " waits", waits);
	for (i = PROFILE_EV_OFF_SLEEP; i < PROFILE_EV_MAX; i++)
		if (mask & PROFILE_EV_MASK(i))
			fprintf(out, ", %s %.1f%%", states[i], pct(p->wait_ns[i], off));
	fputc('\n', out);
	fprintf(out,
		"# not shown: %" PRIu64 " waits below %.3f ms (%.1f ms), %" PRIu64
		" dropped (%.1f ms), %" PRIu64 " CPU samples lost\n",
		profile__counter_get(p, "off_cpu_below_min"),
		strtod(profile__meta_get(p, "off_cpu_min_ns") ?: "0", NULL) / 1e6,
		(double)profile__counter_get(p, "off_cpu_below_min_ns") / 1e6,
		profile__counter_get(p, "off_cpu_dropped"),
		(double)profile__counter_get(p, "off_cpu_dropped_ns") / 1e6, profile__counter_get(p, "lost"));
}

/* Meta strings are the target's: utf8__fputs() keeps a terminal from acting on them. */
void report__print_header(FILE *out, const struct profile *p, const char *input)
{
	const char *v;
	uint64_t lost = profile__counter_get(p, "lost");
	double dur = 0;

	fputs("# profile:  ", out), utf8__fputs(input, out), fputc('\n', out);
	if ((v = profile__meta_get(p, "command")) && *v)
		fputs("# command:  ", out), utf8__fputs(v, out), fputc('\n', out);
	if ((v = profile__meta_get(p, "targets")) && *v)
		fputs("# targets:  ", out), utf8__fputs(v, out), fputc('\n', out);
	if ((v = profile__meta_get(p, "hostname"))) {
		fputs("# host:     ", out), utf8__fputs(v, out);
		fputs(" (Linux ", out), utf8__fputs(profile__meta_get(p, "kernel") ?: "?", out);
		fputs(", ", out), utf8__fputs(profile__meta_get(p, "cpus") ?: "?", out);
		fputs(" CPUs)\n", out);
	}
	if ((v = profile__meta_get(p, "start_time")))
		fputs("# started:  ", out), utf8__fputs(v, out), fputc('\n', out);
	if ((v = profile__meta_get(p, "duration_ns")))
		dur = strtod(v, NULL) / 1e9;
	if ((v = profile__meta_get(p, "event"))) {
		fputs("# sampling: ", out), utf8__fputs(v, out);
		fputs(" at ", out), utf8__fputs(profile__meta_get(p, "frequency") ?: "?", out);
		fputs(" Hz, call graph ", out), utf8__fputs(profile__meta_get(p, "call_graph") ?: "?", out);
		fprintf(out, ", for %.2f s\n", dur);
	}
	if (profile__counts_are_us(p)) {
		print_event_header(out, p);
		return;
	}
	fprintf(out, "# samples:  %" PRIu64 ", lost %" PRIu64 " (%.2f%%)", p->total, lost,
		pct(lost, p->total + lost));
	if (profile__counter_get(p, "truncated_stacks"))
		fprintf(out, ", truncated stacks %" PRIu64, profile__counter_get(p, "truncated_stacks"));
	fputc('\n', out);
}

static const char *by_name(const struct report_opts *o)
{
	static const char *names[] = { "function", "line", "module", "process" };

	return names[o->view ? o->view->by : VIEW_BY_FUNCTION];
}

static const char *sort_name(enum report_sort s)
{
	return s == REPORT_SORT_TOTAL ? "total" : s == REPORT_SORT_NAME ? "name" : "self";
}

static const char *row_module(const struct view *v, const struct report_row *r)
{
	if (r->mapping == PROFILE_NONE) /* --by process */
		return "-";
	return profile__mapping_short_name(v->p, r->mapping);
}

/* The percentage a row is measured by for --percent-limit. */
static double row_key_pct(const struct report_row *r, enum report_sort sort, uint64_t total)
{
	return pct(sort == REPORT_SORT_SELF ? r->self : r->total, total);
}

static void print_filter_line(FILE *out, const struct view *v)
{
	if (v->total != v->p->total && profile__counts_are_us(v->p))
		fprintf(out, "# shown:    %.1f ms after filters (%.2f%% of all); shares below are of these\n",
			(double)v->total / 1e3, pct(v->total, v->p->total));
	else if (v->total != v->p->total)
		fprintf(out,
			"# shown:    %" PRIu64
			" samples after filters (%.2f%% of all); shares below are of these\n",
			v->total, pct(v->total, v->p->total));
}

/*
 * An inlined function is a row of its own, with its own self time (malloc's time split over
 * _int_malloc, tcache_put...): say so, and how to fold them, when the rows shown hold one.
 */
static void print_inline_line(FILE *out, const struct view *v)
{
	size_t i;

	for (i = 0; i < v->nr_funcs_of; i++)
		if (v->funcs[v->funcs_of[i]].kind == VIEW_KIND_INLINE) {
			fprintf(out,
				"# inlined:  inlined functions are shown as their own frames; --no-inline folds them "
				"into their callers\n");
			return;
		}
}

static int print_table(FILE *out, const struct view *v, const struct report_opts *opts, const char *input)
{
	size_t nr, i, shown = 0, limit;
	struct report_row *rows = report__aggregate_view(v, opts->sort, &nr);
	int us = profile__counts_are_us(v->p); /* the counts are microseconds (report --event) */
	const char *what = by_name(opts);
	char buf[4096], mod[4096];
	struct json j;

	if (!rows && nr == 0 && errno == ENOMEM)
		return -ENOMEM;
	limit = opts->top && opts->top < nr ? opts->top : nr;
	if (opts->json) {
		json__init(&j, out, 1);
		json__obj(&j);
		json__key(&j, "profile"), json__str(&j, input);
		json__key(&j, "samples"), json__u64(&j, v->p->total);
		json__key(&j, "shown_samples"), json__u64(&j, v->total);
		json__key(&j, "lost"), json__u64(&j, profile__counter_get(v->p, "lost"));
		if (us) { /* "samples", "self" and "total" are microseconds */
			json__key(&j, "event"), json__str(&j, profile__events_name(v->p->count_events));
			json__key(&j, "unit"), json__str(&j, "us");
		}
		json__key(&j, "by"), json__str(&j, what);
		json__key(&j, "sort"), json__str(&j, sort_name(opts->sort));
		json__key(&j, "rows");
		json__arr(&j);
		for (i = 0; i < limit; i++) {
			const struct report_row *r = &rows[i];
			const struct view_func *f = &v->funcs[r->func];

			if (row_key_pct(r, opts->sort, v->total) < opts->percent_limit)
				continue;
			json__obj(&j);
			json__key(&j, "name"), json__str(&j, f->name);
			json__key(&j, "module"), json__str(&j, row_module(v, r));
			if (f->file) {
				json__key(&j, "file"), json__str(&j, profile__str(v->p, f->file));
				if (f->line)
					json__key(&j, "line"), json__u64(&j, f->line);
			}
			json__key(&j, "self"), json__u64(&j, r->self);
			json__key(&j, "total"), json__u64(&j, r->total);
			json__key(&j, "self_percent"), json__double(&j, pct(r->self, v->total), 4);
			json__key(&j, "total_percent"), json__double(&j, pct(r->total, v->total), 4);
			json__end(&j);
			shown++;
		}
		json__end(&j);
		json__key(&j, "rows_left_out"), json__u64(&j, nr - shown);
		json__end(&j);
		free(rows);
		return 0;
	}
	if (!opts->no_header) {
		report__print_header(out, v->p, input);
		print_filter_line(out, v);
		print_inline_line(out, v);
		fprintf(out, "#\n");
	}
	if (!nr) {
		fprintf(out, "# no samples\n");
		return 0;
	}
	fprintf(out, "%7s %7s %9s %9s  %-40s %s\n", "Self%", "Total%", us ? "Self ms" : "Self",
		us ? "Total ms" : "Total",
		!strcmp(what, "line")      ? "Line"
		: !strcmp(what, "module")  ? "Module"
		: !strcmp(what, "process") ? "Process"
					   : "Function",
		"Module");
	for (i = 0; i < limit; i++) {
		const struct report_row *r = &rows[i];

		if (row_key_pct(r, opts->sort, v->total) < opts->percent_limit)
			continue;
		if (us)
			fprintf(out, "%6.2f%% %6.2f%% %9.1f %9.1f  %-40s %s\n", pct(r->self, v->total),
				pct(r->total, v->total), (double)r->self / 1e3, (double)r->total / 1e3,
				utf8__printable(v->funcs[r->func].name, buf, sizeof(buf)),
				utf8__printable(row_module(v, r), mod, sizeof(mod)));
		else
			fprintf(out, "%6.2f%% %6.2f%% %9" PRIu64 " %9" PRIu64 "  %-40s %s\n",
				pct(r->self, v->total), pct(r->total, v->total), r->self, r->total,
				utf8__printable(v->funcs[r->func].name, buf, sizeof(buf)),
				utf8__printable(row_module(v, r), mod, sizeof(mod)));
		shown++;
	}
	if (shown < nr) {
		if (limit < nr)
			fprintf(out, "# %zu more %s below the top %zu (-n 0 shows all)", nr - limit,
				!strcmp(what, "process")  ? "processes"
				: !strcmp(what, "line")   ? "lines"
				: !strcmp(what, "module") ? "modules"
							  : "functions",
				limit);
		else
			fprintf(out, "#");
		if (limit - shown)
			fprintf(out, "%s %zu below --percent-limit %g%%", limit < nr ? ";" : "",
				limit - shown, opts->percent_limit);
		fputc('\n', out);
	}
	free(rows);
	return 0;
}

struct edge {
	uint32_t base; /* UINT32_MAX: the pseudo row "[root]" or "[self]" */
	uint64_t samples;
};

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;
	int c = cmp_u64_desc(x->samples, y->samples);

	if (c)
		return c;
	if (x->base == UINT32_MAX || y->base == UINT32_MAX)
		return (x->base == UINT32_MAX) - (y->base == UINT32_MAX);
	return strcmp(sort_view->funcs[x->base].name, sort_view->funcs[y->base].name);
}

/*
 * Who calls (dir = -1) or is called by (dir = +1) the funcs named 'name'. Each stack counts once per
 * neighbour, and once towards the function's own total.
 */
static int print_neighbours(FILE *out, const struct view *v, const struct report_opts *opts, const char *name,
			    int dir, struct json *j)
{
	uint32_t *stamp = malloc((v->nr_funcs + 1) * sizeof(*stamp)), s, i, nr_edges = 0;
	uint64_t *sum = calloc(v->nr_funcs + 1, sizeof(*sum)), total = 0;
	uint8_t *target = calloc(v->nr_funcs ? v->nr_funcs : 1, 1);
	struct edge *edges = NULL;
	const char *pseudo = dir < 0 ? "[root]" : "[self]";
	char buf[4096], mbuf[4096];
	int found = 0, err = -ENOMEM;

	if (!stamp || !sum || !target)
		goto out;
	for (i = 0; i < v->nr_funcs; i++) {
		if (!strcmp(v->funcs[i].name, name) ||
		    (v->funcs[i].function && !strcmp(profile__str(v->p, v->funcs[i].function), name)))
			target[v->funcs[i].base] = 1, found = 1;
		stamp[i] = UINT32_MAX;
	}
	stamp[v->nr_funcs] = UINT32_MAX;
	if (!found) {
		pr_err("no function '%s' in the profile%s", name,
		       v->total != v->p->total ? " after the filters" : "");
		err = -ENOENT;
		goto out;
	}
	for (s = 0; s < v->nr_paths; s++) {
		const uint32_t *fs = view__path_funcs(v, s);
		uint32_t d = v->paths[s].depth;
		int seen = 0;

		for (i = 0; i < d; i++) {
			uint32_t nb, k;

			if (!target[v->funcs[fs[i]].base])
				continue;
			seen = 1;
			k = dir < 0 ? (i ? i - 1 : UINT32_MAX) : (i + 1 < d ? i + 1 : UINT32_MAX);
			nb = k == UINT32_MAX ? v->nr_funcs : v->funcs[fs[k]].base;
			if (stamp[nb] != s) {
				stamp[nb] = s;
				sum[nb] += v->paths[s].count;
			}
		}
		if (seen)
			total += v->paths[s].count;
	}
	edges = malloc((v->nr_funcs + 1) * sizeof(*edges));
	if (!edges)
		goto out;
	for (i = 0; i <= v->nr_funcs; i++)
		if (sum[i])
			edges[nr_edges++] = (struct edge){ i == v->nr_funcs ? UINT32_MAX : i, sum[i] };
	sort_view = v;
	qsort(edges, nr_edges, sizeof(*edges), cmp_edge);
	if (j) {
		json__obj(j);
		json__key(j, "function"), json__str(j, name);
		json__key(j, "samples"), json__u64(j, total);
		json__key(j, "percent"), json__double(j, pct(total, v->total), 4);
		json__key(j, dir < 0 ? "callers" : "callees");
		json__arr(j);
	} else {
		fprintf(out, "# %s of '%s': %" PRIu64 " samples, %.2f%% of %s\n",
			dir < 0 ? "callers" : "callees", utf8__printable(name, buf, sizeof(buf)), total,
			pct(total, v->total), v->total != v->p->total ? "those shown" : "all");
		fprintf(out, "%7s %9s  %-40s %s\n", "Share", "Samples", dir < 0 ? "Caller" : "Callee",
			"Module");
	}
	for (i = 0; i < nr_edges; i++) {
		const struct edge *e = &edges[i];
		const char *ename = e->base == UINT32_MAX ? pseudo : v->funcs[e->base].name;
		const char *mod = e->base == UINT32_MAX
					  ? ""
					  : profile__mapping_short_name(v->p, v->funcs[e->base].mapping);

		if (opts->top && i >= opts->top)
			break;
		if (pct(e->samples, total) < opts->percent_limit)
			continue;
		if (j) {
			json__obj(j);
			json__key(j, "name"), json__str(j, ename);
			json__key(j, "module"), json__str(j, mod);
			json__key(j, "samples"), json__u64(j, e->samples);
			json__key(j, "share_percent"), json__double(j, pct(e->samples, total), 4);
			json__end(j);
		} else {
			fprintf(out, "%6.2f%% %9" PRIu64 "  %-40s %s\n", pct(e->samples, total), e->samples,
				utf8__printable(ename, buf, sizeof(buf)),
				utf8__printable(mod, mbuf, sizeof(mbuf)));
		}
	}
	if (j) {
		json__end(j);
		json__end(j);
	}
	err = 0;
out:
	free(stamp);
	free(sum);
	free(target);
	free(edges);
	return err;
}

/* Whether the view has a function called 'name' (see print_neighbours); logs when not. */
static int has_function(const struct view *v, const char *name)
{
	size_t i;

	/* Only frames of the stacks kept count: a filtered-out stack's frames are in funcs, not in funcs_of.
	 */
	for (i = 0; i < v->nr_funcs_of; i++) {
		const struct view_func *f = &v->funcs[v->funcs_of[i]];

		if (!strcmp(f->name, name) || (f->function && !strcmp(profile__str(v->p, f->function), name)))
			return 1;
	}
	pr_err("no function '%s' in the profile%s", name,
	       v->total != v->p->total ? " after the filters" : "");
	return 0;
}

int report__print(FILE *out, const struct profile *p, const struct report_opts *opts, const char *input)
{
	static const struct view_opts defaults = { 0 };
	struct view v;
	struct json j;
	int err = view__build(&v, p, opts->view ? opts->view : &defaults);

	if (err)
		return err;
	if (!opts->callers && !opts->callees) {
		err = print_table(out, &v, opts, input);
		view__release(&v);
		return err;
	}
	/* Check the names first, so that a bad one prints nothing on standard output. */
	if ((opts->callers && !has_function(&v, opts->callers)) ||
	    (opts->callees && !has_function(&v, opts->callees))) {
		view__release(&v);
		return -ENOENT;
	}
	if (opts->json) {
		json__init(&j, out, 1);
		json__obj(&j);
		json__key(&j, "profile"), json__str(&j, input);
		json__key(&j, "samples"), json__u64(&j, p->total);
		json__key(&j, "shown_samples"), json__u64(&j, v.total);
		json__key(&j, "by"), json__str(&j, by_name(opts));
	} else if (!opts->no_header) {
		report__print_header(out, p, input);
		print_filter_line(out, &v);
		print_inline_line(out, &v);
		fprintf(out, "#\n");
	}
	if (opts->callers) {
		if (opts->json)
			json__key(&j, "callers_of");
		err = print_neighbours(out, &v, opts, opts->callers, -1, opts->json ? &j : NULL);
	}
	if (!err && opts->callees) {
		if (opts->json)
			json__key(&j, "callees_of");
		else if (opts->callers)
			fputc('\n', out);
		err = print_neighbours(out, &v, opts, opts->callees, +1, opts->json ? &j : NULL);
	}
	if (opts->json && !err)
		json__end(&j);
	view__release(&v);
	return err;
}
