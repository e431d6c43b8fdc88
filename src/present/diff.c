// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "buf.h"
#include "diff.h"
#include "folded.h"
#include "json.h"
#include "stats.h"
#include "utf8.h"
#include "view.h"

#define NO_ROW UINT32_MAX

static uint32_t nr_runs_all(const struct diff *d)
{
	return d->nr_runs[0] + d->nr_runs[1];
}

int diff__init(struct diff *d, const struct diff_opts *opts, uint32_t runs_base, uint32_t runs_new)
{
	memset(d, 0, sizeof(*d));
	idxmap__init(&d->idx);
	if (!runs_base || !runs_new || !(opts->alpha > 0 && opts->alpha < 1) || !(opts->threshold >= 0) ||
	    !(opts->min_expected >= 0))
		return -EINVAL;
	d->opts = *opts;
	d->nr_runs[0] = runs_base;
	d->nr_runs[1] = runs_new;
	d->method = runs_base >= 2 && runs_new >= 2 ? DIFF_WELCH : DIFF_Z_TEST;
	d->inputs[0] = calloc(runs_base, sizeof(*d->inputs[0]));
	d->inputs[1] = calloc(runs_new, sizeof(*d->inputs[1]));
	if (!d->inputs[0] || !d->inputs[1])
		return -ENOMEM;
	return 0;
}

void diff__release(struct diff *d)
{
	size_t i;

	for (i = 0; i < d->nr_rows; i++) {
		free(d->rows[i].name);
		free(d->rows[i].module);
	}
	free(d->rows);
	free(d->runs_counts);
	free(d->stamp);
	free(d->name_lens);
	free(d->inputs[0]);
	free(d->inputs[1]);
	idxmap__release(&d->idx);
	memset(d, 0, sizeof(*d));
}

/* --- rows ---------------------------------------------------------------------------------------- */

struct row_key {
	const char *name, *module;
	size_t name_len;
};

static int row_eq(const void *key, uint32_t id, void *ctx)
{
	const struct row_key *k = key;
	const struct diff *d = ctx;

	return d->name_lens[id] == k->name_len && memcmp(d->rows[id].name, k->name, k->name_len) == 0 &&
	       (!*k->module || strcmp(d->rows[id].module, k->module) == 0);
}

/*
 * The row for (name, module), created when new. With use_modules off, 'module' only labels a new
 * row (the first module seen) and is not part of the key.
 */
static uint32_t row_for(struct diff *d, const char *name, size_t name_len, const char *module)
{
	const char *kmod = d->opts.use_modules || d->opts.by == DIFF_BY_MODULE ? module : "";
	struct row_key k = { name, kmod, name_len };
	uint64_t h = idxmap__hash_bytes(name, name_len, 11) ^ idxmap__hash_bytes(kmod, strlen(kmod), 13) * 31;
	size_t K2 = (size_t)nr_runs_all(d) * 2;
	uint32_t id = idxmap__find(&d->idx, h, &k, row_eq, d);
	struct diff_row *r;

	if (id != IDXMAP_NONE)
		return id;
	if (d->nr_rows == d->cap_rows) {
		/*
		 * Four arrays indexed by row share cap_rows: each grows from it to the same new capacity,
		 * which is stored once all four have (a row of runs_counts is K2 counts).
		 */
		size_t need = d->nr_rows + 1, c = d->cap_rows;

		if (array__grow(&d->rows, &c, need, sizeof(*d->rows)))
			return NO_ROW;
		c = d->cap_rows;
		if (array__grow(&d->runs_counts, &c, need, K2 * sizeof(*d->runs_counts)))
			return NO_ROW;
		c = d->cap_rows;
		if (array__grow(&d->stamp, &c, need, sizeof(*d->stamp)))
			return NO_ROW;
		c = d->cap_rows;
		if (array__grow(&d->name_lens, &c, need, sizeof(*d->name_lens)))
			return NO_ROW;
		d->cap_rows = c;
	}
	r = &d->rows[d->nr_rows];
	memset(r, 0, sizeof(*r));
	r->name = strndup(name, name_len);
	/* Not keyed by module: the label is still worth showing, unless rows merge modules anyway. */
	r->module = strdup(d->opts.by == DIFF_BY_STACK ? "" : module);
	if (!r->name || !r->module || idxmap__insert(&d->idx, h, (uint32_t)d->nr_rows)) {
		free(r->name);
		free(r->module);
		return NO_ROW;
	}
	memset(d->runs_counts + d->nr_rows * K2, 0, K2 * sizeof(*d->runs_counts));
	d->stamp[d->nr_rows] = 0;
	d->name_lens[d->nr_rows] = name_len;
	return (uint32_t)d->nr_rows++;
}

/* The view to read rows from: every frame, grouped as the rows are. */
static enum view_by view_by(enum diff_by by)
{
	return by == DIFF_BY_LINE ? VIEW_BY_LINE : by == DIFF_BY_MODULE ? VIEW_BY_MODULE : VIEW_BY_FUNCTION;
}

/* The row of view func 'id' under the current key. */
static uint32_t func_row(struct diff *d, const struct view *v, uint32_t id)
{
	const struct view_func *f = &v->funcs[id];
	const char *module = profile__mapping_short_name(v->p, f->mapping);
	char buf[4200];

	/* The view says "function file:line"; a diff row has always said "function (file:line)". */
	if (d->opts.by == DIFF_BY_LINE && f->file && f->line) {
		int n = snprintf(buf, sizeof(buf), "%.*s (%s:%u)", (int)f->label_len, f->name,
				 profile__str(v->p, f->file), f->line);

		return row_for(d, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1, module);
	}
	return row_for(d, f->name, f->label_len, module);
}

/* Append 's' to the folded stack in 'b', after a ';' when 'sep'. 0 or -ENOMEM. */
static int sb_add(struct buf *b, const char *s, int sep)
{
	if (sep)
		buf__putc(b, ';');
	return buf__puts(b, s);
}

/*
 * The folded form of path 'path', root first, names made safe as 'scorch folded' does (but without
 * its kind suffixes). clean[] caches each func's safe name.
 */
static int stack_string(const struct view *v, uint32_t path, struct buf *b, char **clean)
{
	const uint32_t *fs = view__path_funcs(v, path);
	uint32_t i, depth = v->paths[path].depth;
	char safe[4096];

	buf__reset(b);
	if (!depth)
		return sb_add(b, "[no stack]", 0);
	for (i = 0; i < depth; i++) {
		if (!clean[fs[i]]) {
			folded__sanitize(v->funcs[fs[i]].name, safe, sizeof(safe));
			clean[fs[i]] = strdup(safe);
			if (!clean[fs[i]])
				return -ENOMEM;
		}
		if (sb_add(b, clean[fs[i]], i > 0))
			return -ENOMEM;
	}
	return 0;
}

/* Add 'n' samples to metric 'm' of row 'r' in run 'run'. */
static void count(struct diff *d, uint32_t r, uint32_t run, enum diff_metric m, uint64_t n)
{
	d->runs_counts[(size_t)r * nr_runs_all(d) * 2 + run * 2 + m] += n;
}

int diff__add(struct diff *d, int side, const struct profile *p, const char *name)
{
	struct view_opts vo = { .by = view_by(d->opts.by) };
	uint32_t run, *row_of = NULL, s, i, r;
	char **clean = NULL;
	struct buf sb = { 0 };
	struct view v;
	int err;

	if (side < 0 || side > 1 || d->added[side] >= d->nr_runs[side] || d->finished)
		return -EINVAL;
	if (!p->total)
		return -ENODATA;
	err = view__build(&v, p, &vo);
	if (err)
		return err;
	err = -ENOMEM;
	run = side ? d->nr_runs[0] + d->added[1] : d->added[0];
	d->inputs[side][d->added[side]].name = name;
	d->inputs[side][d->added[side]].samples = p->total;
	/* The row of each view func, made when a sampled path first holds it. */
	row_of = malloc((v.nr_funcs ? v.nr_funcs : 1) * sizeof(*row_of));
	if (d->opts.by == DIFF_BY_STACK)
		clean = calloc(v.nr_funcs ? v.nr_funcs : 1, sizeof(*clean));
	if (!row_of || (d->opts.by == DIFF_BY_STACK && !clean))
		goto out;
	for (i = 0; i < v.nr_funcs; i++)
		row_of[i] = NO_ROW;
	for (s = 0; s < v.nr_paths; s++) {
		const uint32_t *fs = view__path_funcs(&v, s);
		uint32_t depth = v.paths[s].depth;
		uint64_t n = v.paths[s].count, stamp = ++d->next_stamp;

		if (d->opts.by == DIFF_BY_STACK) {
			if (stack_string(&v, s, &sb, clean))
				goto out;
			if ((err = view__charge(&v, sb.len)))
				goto out;
			err = -ENOMEM;
			r = row_for(d, buf__str(&sb), sb.len, "");
			if (r == NO_ROW)
				goto out;
			count(d, r, run, DIFF_SELF, n);
			count(d, r, run, DIFF_TOTAL, n);
			continue;
		}
		/* Leaf first, as rows were always made: with use_modules off, a row's first module labels it.
		 */
		for (i = depth; i--;) {
			if (row_of[fs[i]] == NO_ROW && (row_of[fs[i]] = func_row(d, &v, fs[i])) == NO_ROW)
				goto out;
			r = row_of[fs[i]];
			if (i == depth - 1)
				count(d, r, run, DIFF_SELF, n);
			if (d->stamp[r] != stamp) {
				d->stamp[r] = stamp;
				count(d, r, run, DIFF_TOTAL, n);
			}
		}
	}
	d->n[side] += p->total;
	d->added[side]++;
	err = 0;
out:
	if (clean)
		for (i = 0; i < v.nr_funcs; i++)
			free(clean[i]);
	free(clean);
	buf__release(&sb);
	free(row_of);
	view__release(&v);
	return err;
}

/* --- statistics ---------------------------------------------------------------------------------- */

static int verdict_rank(enum diff_verdict v)
{
	return (int)v;
}

static enum diff_metric sort_metric;

static int cmp_rows(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;
	const struct diff_cell *cx = &x->m[sort_metric], *cy = &y->m[sort_metric];
	double dx = fabs(cx->delta), dy = fabs(cy->delta);
	int c = verdict_rank(cx->verdict) - verdict_rank(cy->verdict);

	if (c)
		return c;
	if (dx != dy)
		return dx > dy ? -1 : 1;
	c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->module, y->module);
}

static int test_metric(struct diff *d, enum diff_metric m, double *shares_a, double *shares_b)
{
	size_t K2 = (size_t)nr_runs_all(d) * 2, i, nt = 0;
	uint32_t K0 = d->nr_runs[0], K1 = d->nr_runs[1], k;
	double *p = malloc((d->nr_rows ? d->nr_rows : 1) * sizeof(*p));
	double *q = malloc((d->nr_rows ? d->nr_rows : 1) * sizeof(*q));
	size_t *which = malloc((d->nr_rows ? d->nr_rows : 1) * sizeof(*which));
	double zsum = stats__norm_quantile(1 - d->opts.alpha / 2) + stats__norm_quantile(DIFF_POWER);
	int err = -ENOMEM;

	if (!p || !q || !which)
		goto out;
	for (i = 0; i < d->nr_rows; i++) {
		struct diff_cell *c = &d->rows[i].m[m];
		const uint64_t *rc = d->runs_counts + i * K2;
		double pooled, n0 = (double)d->n[0], n1 = (double)d->n[1], p0;

		c->count[0] = c->count[1] = 0;
		for (k = 0; k < K0 + K1; k++)
			c->count[k >= K0] += rc[k * 2 + m];
		c->stat = c->p = c->q = NAN;
		if (d->method == DIFF_WELCH) {
			double sa = 0, sb = 0;

			for (k = 0; k < K0; k++)
				sa += shares_a[k] =
					100.0 * (double)rc[k * 2 + m] / (double)d->inputs[0][k].samples;
			for (k = 0; k < K1; k++)
				sb += shares_b[k] = 100.0 * (double)rc[(K0 + k) * 2 + m] /
						    (double)d->inputs[1][k].samples;
			c->share[0] = sa / K0;
			c->share[1] = sb / K1;
		} else {
			c->share[0] = 100.0 * (double)c->count[0] / n0;
			c->share[1] = 100.0 * (double)c->count[1] / n1;
		}
		c->delta = c->share[1] - c->share[0];
		/* Binomial MDE from the baseline share, kept one sample away from 0 and 1 (never 0). */
		p0 = c->share[0] / 100;
		if (p0 < 1 / n0)
			p0 = 1 / n0;
		if (p0 > 1 - 1 / n0)
			p0 = 1 - 1 / n0;
		c->mde = 100 * zsum * sqrt(p0 * (1 - p0) * (1 / n0 + 1 / n1));
		pooled = ((double)c->count[0] + (double)c->count[1]) / (n0 + n1);
		if (n0 * pooled < d->opts.min_expected && n1 * pooled < d->opts.min_expected) {
			c->verdict = DIFF_TOO_FEW;
			continue;
		}
		if (d->method == DIFF_WELCH) {
			struct stats_test t = stats__welch(shares_a, K0, shares_b, K1);

			c->stat = t.stat;
			c->p = t.p;
			if (t.se > 0)
				c->mde = (stats__t_quantile(1 - d->opts.alpha / 2, t.df) +
					  stats__t_quantile(DIFF_POWER, t.df)) *
					 t.se;
		} else {
			struct stats_test t = stats__two_prop(c->count[0], d->n[0], c->count[1], d->n[1]);

			c->stat = t.stat;
			c->p = t.p;
		}
		p[nt] = c->p;
		which[nt++] = i;
	}
	if (stats__bh(p, nt, q))
		goto out;
	for (i = 0; i < nt; i++)
		d->rows[which[i]].m[m].q = q[i];
	for (i = 0; i < d->nr_rows; i++) {
		struct diff_cell *c = &d->rows[i].m[m];

		if (c->verdict == DIFF_TOO_FEW)
			;
		else if (c->q <= d->opts.alpha && c->delta >= d->opts.threshold && c->delta > 0)
			c->verdict = DIFF_REGRESSED;
		else if (c->q <= d->opts.alpha && -c->delta >= d->opts.threshold && c->delta < 0)
			c->verdict = DIFF_IMPROVED;
		else
			c->verdict = DIFF_UNCHANGED;
		d->nr_verdict[m][c->verdict]++;
	}
	err = 0;
out:
	free(p);
	free(q);
	free(which);
	return err;
}

int diff__finish(struct diff *d)
{
	double *sa, *sb;
	int err;

	if (d->finished || d->added[0] != d->nr_runs[0] || d->added[1] != d->nr_runs[1])
		return -EINVAL;
	sa = calloc(d->nr_runs[0], sizeof(*sa));
	sb = calloc(d->nr_runs[1], sizeof(*sb));
	err = sa && sb ? 0 : -ENOMEM;
	if (!err)
		err = test_metric(d, DIFF_SELF, sa, sb);
	if (!err)
		err = test_metric(d, DIFF_TOTAL, sa, sb);
	free(sa);
	free(sb);
	if (err)
		return err;
	sort_metric = d->opts.metric;
	if (d->nr_rows)
		qsort(d->rows, d->nr_rows, sizeof(*d->rows), cmp_rows);
	d->finished = 1;
	return 0;
}

/* --- output -------------------------------------------------------------------------------------- */

const char *diff__verdict_name(enum diff_verdict v)
{
	switch (v) {
	case DIFF_REGRESSED:
		return "regressed";
	case DIFF_IMPROVED:
		return "improved";
	case DIFF_UNCHANGED:
		return "unchanged";
	case DIFF_TOO_FEW:
		return "too few samples";
	}
	return "?";
}

static const char *by_name(enum diff_by by)
{
	static const char *const names[] = { "function", "line", "module", "stack" };

	return names[by];
}

static const char *metric_name(enum diff_metric m)
{
	return m == DIFF_SELF ? "self" : "total";
}

static const char *method_name(const struct diff *d)
{
	return d->method == DIFF_WELCH ? "Welch t-test on per-run shares" : "two-proportion z-test";
}

static void print_p(FILE *out, double p)
{
	if (isnan(p))
		fprintf(out, "%8s", "-");
	else if (p < 1e-99)
		fprintf(out, "%8s", "<1e-99");
	else if (p < 0.001)
		fprintf(out, "%8.1e", p);
	else
		fprintf(out, "%8.3f", p);
}

static void print_side(FILE *out, const struct diff *d, int side, const char *label)
{
	uint32_t i;

	fprintf(out, "# %s", label);
	for (i = 0; i < d->nr_runs[side]; i++) {
		fputs(i ? ", " : " ", out);
		utf8__fputs(d->inputs[side][i].name, out);
	}
	fprintf(out, " (%u run%s, %" PRIu64 " samples)\n", d->nr_runs[side], d->nr_runs[side] == 1 ? "" : "s",
		d->n[side]);
}

/* Rows with samples of the metric on either side: the others are left out of tables. */
static int row_shown(const struct diff *d, const struct diff_row *r)
{
	return r->m[d->opts.metric].count[0] || r->m[d->opts.metric].count[1];
}

static size_t nr_shown(const struct diff *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->nr_rows; i++)
		n += row_shown(d, &d->rows[i]);
	return n;
}

typedef void row_printer(FILE *out, const struct diff *d, const struct diff_row *r);

/*
 * Print with 'row' the rows of a table, in order: those row_shown(), the first 'top' of them (0: all).
 * Returns how many of them were left out.
 */
static size_t print_rows(FILE *out, const struct diff *d, size_t top, row_printer *row)
{
	size_t i, shown = 0, left = 0;

	for (i = 0; i < d->nr_rows; i++) {
		if (!row_shown(d, &d->rows[i]))
			continue;
		if (top && shown == top) {
			left++;
			continue;
		}
		row(out, d, &d->rows[i]);
		shown++;
	}
	return left;
}

/* A name in a table column, padded to 'width': what a terminal could act on becomes '?'. */
static void print_name(FILE *out, const char *s, int width)
{
	char buf[4096];

	if (width)
		fprintf(out, "%-*s", width, utf8__printable(s, buf, sizeof(buf)));
	else
		utf8__fputs(s, out); /* a whole stack may be longer than any buffer */
}

static void table_row(FILE *out, const struct diff *d, const struct diff_row *r)
{
	const struct diff_cell *c = &r->m[d->opts.metric];

	fprintf(out, "%6.2f%% %6.2f%% %+7.2f %9" PRIu64 " %9" PRIu64 " ", c->share[0], c->share[1], c->delta,
		c->count[0], c->count[1]);
	print_p(out, c->q);
	fprintf(out, " %6.2f  %-15s  ", c->mde, diff__verdict_name(c->verdict));
	if (d->opts.by >= DIFF_BY_MODULE) {
		print_name(out, r->name, 0);
	} else {
		print_name(out, r->name, 40);
		fputc(' ', out);
		print_name(out, r->module, 0);
	}
	fputc('\n', out);
}

static void print_table(FILE *out, const struct diff *d, size_t top)
{
	enum diff_metric m = d->opts.metric;
	const size_t *v = d->nr_verdict[m];
	size_t left;

	print_side(out, d, 0, "base:");
	print_side(out, d, 1, "new: ");
	fprintf(out,
		"# test: %s shares by %s, %s, Benjamini-Hochberg at alpha %g; regression = significant and +%.2f points or more\n",
		metric_name(m), by_name(d->opts.by), method_name(d), d->opts.alpha, d->opts.threshold);
	fprintf(out, "# verdict: %zu regressed, %zu improved, %zu unchanged, %zu with too few samples\n",
		v[DIFF_REGRESSED], v[DIFF_IMPROVED], v[DIFF_UNCHANGED], v[DIFF_TOO_FEW]);
	fprintf(out, "#\n");
	if (!nr_shown(d)) {
		fprintf(out, "# no rows\n");
		return;
	}
	fprintf(out, "%7s %7s %7s %9s %9s %8s %6s  %-15s  ", "Base%", "New%", "Delta", "Base", "New",
		"p(adj)", "MDE", "Verdict");
	if (d->opts.by >= DIFF_BY_MODULE)
		fprintf(out, "%s\n", d->opts.by == DIFF_BY_STACK ? "Stack" : "Module");
	else
		fprintf(out, "%-40s %s\n", "Function", "Module");
	left = print_rows(out, d, top, table_row);
	if (left)
		fprintf(out, "# %zu more rows below the top %zu (-n 0 shows all)\n", left, top);
}

/*
 * Markdown table cells hold names the target chose: nothing in them may become markup. Every ASCII
 * punctuation character that starts a construct is backslash-escaped ('|' would end the cell; '!' '['
 * ']' '(' ')' make images and links; '`' '*' '_' '~' '#' '\\' code, emphasis, headings, escapes);
 * '<' '>' '&' become entities (HTML); '@' is followed by an empty HTML comment, which keeps a
 * renderer from reading a mention ("@team") as GitHub and GitLab do; the ':' of "://" and the '.' of
 * "www." are escaped so that no URL is linked; what a terminal could act on, and bytes that are not
 * UTF-8, become '?'.
 */
static void md_text(FILE *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, len;
	uint32_t cp;

	while (i < n) {
		len = utf8__seq(u + i, n - i, &cp);
		if (!len || utf8__cp_unsafe(cp)) {
			fputc('?', out);
			i += len ? len : 1;
			continue;
		}
		switch (u[i]) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '@':
			fputs("@<!-- -->", out);
			break;
		case ':':
		case '.':
			if ((u[i] == ':' && !strncmp(s + i + 1, "//", 2)) ||
			    (u[i] == '.' && i >= 3 && !strncasecmp(s + i - 3, "www", 3)))
				fputc('\\', out);
			fputc(u[i], out);
			break;
		case '|':
		case '\\':
		case '`':
		case '*':
		case '_':
		case '~':
		case '#':
		case '[':
		case ']':
		case '(':
		case ')':
		case '!':
			fputc('\\', out);
			fputc(u[i], out);
			break;
		default:
			fwrite(u + i, 1, len, out);
		}
		i += len;
	}
}

static void markdown_row(FILE *out, const struct diff *d, const struct diff_row *r)
{
	const struct diff_cell *c = &r->m[d->opts.metric];

	fprintf(out, "| %s%s%s | ", c->verdict == DIFF_REGRESSED ? "**" : "", diff__verdict_name(c->verdict),
		c->verdict == DIFF_REGRESSED ? "**" : "");
	md_text(out, r->name);
	if (*r->module && d->opts.by < DIFF_BY_MODULE) {
		fputs(" (", out);
		md_text(out, r->module);
		fputc(')', out);
	}
	fprintf(out, " | %.2f | %.2f | %+.2f | ", c->share[0], c->share[1], c->delta);
	if (isnan(c->q))
		fputs("-", out);
	else if (c->q < 1e-99)
		fputs("&lt;1e-99", out);
	else
		fprintf(out, c->q < 0.001 ? "%.1e" : "%.3f", c->q);
	fprintf(out, " | %.2f |\n", c->mde);
}

static void print_markdown(FILE *out, const struct diff *d, size_t top)
{
	enum diff_metric m = d->opts.metric;
	const size_t *v = d->nr_verdict[m];
	size_t left;

	if (v[DIFF_REGRESSED])
		fprintf(out, "### scorch diff: %zu regression%s\n\n", v[DIFF_REGRESSED],
			v[DIFF_REGRESSED] == 1 ? "" : "s");
	else
		fprintf(out, "### scorch diff: no regression\n\n");
	fprintf(out, "%zu regressed, %zu improved, %zu unchanged, %zu with too few samples. ",
		v[DIFF_REGRESSED], v[DIFF_IMPROVED], v[DIFF_UNCHANGED], v[DIFF_TOO_FEW]);
	fprintf(out, "Base: %u run%s, %" PRIu64 " samples; new: %u run%s, %" PRIu64 " samples. ",
		d->nr_runs[0], d->nr_runs[0] == 1 ? "" : "s", d->n[0], d->nr_runs[1],
		d->nr_runs[1] == 1 ? "" : "s", d->n[1]);
	fprintf(out, "%s shares by %s, %s, Benjamini-Hochberg at alpha %g, threshold %.2f points.\n\n",
		m == DIFF_SELF ? "Self" : "Total", by_name(d->opts.by), method_name(d), d->opts.alpha,
		d->opts.threshold);
	if (!nr_shown(d))
		return;
	fprintf(out, "| Verdict | %s | Base %% | New %% | Delta | p (adj.) | MDE |\n",
		d->opts.by == DIFF_BY_STACK    ? "Stack"
		: d->opts.by == DIFF_BY_MODULE ? "Module"
					       : "Function");
	fprintf(out, "|---|---|--:|--:|--:|--:|--:|\n");
	left = print_rows(out, d, top, markdown_row);
	if (left)
		fprintf(out, "\n%zu more rows not shown.\n", left);
}

static void json_cell(struct json *j, const struct diff_cell *c)
{
	json__obj(j);
	json__key(j, "base_count"), json__u64(j, c->count[0]);
	json__key(j, "new_count"), json__u64(j, c->count[1]);
	json__key(j, "base_share"), json__g(j, c->share[0]);
	json__key(j, "new_share"), json__g(j, c->share[1]);
	json__key(j, "delta"), json__g(j, c->delta);
	json__key(j, "statistic"), json__g(j, c->stat);
	json__key(j, "p"), json__g(j, c->p);
	json__key(j, "p_adjusted"), json__g(j, c->q);
	json__key(j, "mde"), json__g(j, c->mde);
	json__key(j, "verdict"),
		json__str(j, c->verdict == DIFF_TOO_FEW ? "too_few" : diff__verdict_name(c->verdict));
	json__end(j);
}

static void json_side(struct json *j, const struct diff *d, int side)
{
	uint32_t i;

	json__obj(j);
	json__key(j, "runs"), json__u64(j, d->nr_runs[side]);
	json__key(j, "samples"), json__u64(j, d->n[side]);
	json__key(j, "inputs");
	json__arr(j);
	for (i = 0; i < d->nr_runs[side]; i++) {
		json__obj(j);
		json__key(j, "name"), json__str(j, d->inputs[side][i].name);
		json__key(j, "samples"), json__u64(j, d->inputs[side][i].samples);
		json__end(j);
	}
	json__end(j);
	json__end(j);
}

/* Names are the target's bytes: json.c writes them as valid JSON whatever they hold. */
static void print_json(FILE *out, const struct diff *d)
{
	enum diff_metric m = d->opts.metric;
	const size_t *v = d->nr_verdict[m];
	struct json j;
	size_t i;

	json__init(&j, out, 1);
	json__obj(&j);
	json__key(&j, "base"), json_side(&j, d, 0);
	json__key(&j, "new"), json_side(&j, d, 1);
	json__key(&j, "by"), json__str(&j, by_name(d->opts.by));
	json__key(&j, "metric"), json__str(&j, metric_name(m));
	json__key(&j, "method"), json__str(&j, d->method == DIFF_WELCH ? "welch" : "z");
	json__key(&j, "alpha"), json__g(&j, d->opts.alpha);
	json__key(&j, "threshold"), json__g(&j, d->opts.threshold);
	json__key(&j, "min_expected"), json__g(&j, d->opts.min_expected);
	json__key(&j, "power"), json__g(&j, DIFF_POWER);
	json__key(&j, "summary");
	json__obj(&j);
	json__key(&j, "regressed"), json__u64(&j, v[DIFF_REGRESSED]);
	json__key(&j, "improved"), json__u64(&j, v[DIFF_IMPROVED]);
	json__key(&j, "unchanged"), json__u64(&j, v[DIFF_UNCHANGED]);
	json__key(&j, "too_few"), json__u64(&j, v[DIFF_TOO_FEW]);
	json__end(&j);
	json__key(&j, "rows");
	json__arr(&j);
	for (i = 0; i < d->nr_rows; i++) {
		const struct diff_row *r = &d->rows[i];

		json__obj(&j);
		json__key(&j, "name"), json__str(&j, r->name);
		json__key(&j, "module"), json__str(&j, r->module);
		json__key(&j, "self"), json_cell(&j, &r->m[DIFF_SELF]);
		json__key(&j, "total"), json_cell(&j, &r->m[DIFF_TOTAL]);
		json__end(&j);
	}
	json__end(&j);
	json__end(&j);
}

static int cmp_name_only(const void *a, const void *b)
{
	return strcmp((*(const struct diff_row *const *)a)->name, (*(const struct diff_row *const *)b)->name);
}

/* difffolded.pl's output: "stack BEFORE AFTER", raw counts summed over each side's runs. */
static int print_folded(FILE *out, const struct diff *d)
{
	const struct diff_row **v = malloc((d->nr_rows ? d->nr_rows : 1) * sizeof(*v));
	size_t i;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < d->nr_rows; i++)
		v[i] = &d->rows[i];
	if (d->nr_rows)
		qsort(v, d->nr_rows, sizeof(*v), cmp_name_only);
	for (i = 0; i < d->nr_rows; i++)
		fprintf(out, "%s %" PRIu64 " %" PRIu64 "\n", v[i]->name, v[i]->m[DIFF_SELF].count[0],
			v[i]->m[DIFF_SELF].count[1]);
	free(v);
	return 0;
}

int diff__print(FILE *out, const struct diff *d, enum diff_format fmt, size_t top)
{
	int err = 0;

	if (!d->finished)
		return -EINVAL;
	switch (fmt) {
	case DIFF_FMT_TABLE:
		print_table(out, d, top);
		break;
	case DIFF_FMT_MARKDOWN:
		print_markdown(out, d, top);
		break;
	case DIFF_FMT_JSON:
		print_json(out, d);
		break;
	case DIFF_FMT_FOLDED:
		if (d->opts.by != DIFF_BY_STACK)
			return -EINVAL;
		err = print_folded(out, d);
		break;
	}
	if (!err && ferror(out))
		err = -EIO;
	return err;
}
