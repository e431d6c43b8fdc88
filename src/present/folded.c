// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "folded.h"
#include "idxmap.h"
#include "utf8.h"

void folded__sanitize(const char *name, char *buf, size_t size)
{
	size_t i, n, last_space = SIZE_MAX;
	int digits_after_space = 0;

	if (!size)
		return;
	utf8__printable(name, buf, size);
	for (i = 0, n = 0; buf[i]; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == ';')
			c = ':';
		if (c == ' ') {
			last_space = n;
			digits_after_space = 0;
		} else if (c >= '0' && c <= '9') {
			digits_after_space++;
		} else {
			last_space = SIZE_MAX;
		}
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	/* "foo 123" would be read as the frame "foo" with 123 samples. */
	if (last_space != SIZE_MAX && digits_after_space && last_space + 1 + (size_t)digits_after_space == n)
		buf[last_space] = '_';
}

struct line {
	char *text; /* owned */
	size_t len;
	uint64_t count;
};

struct lines {
	struct line *v;
	size_t nr, cap;
	struct idxmap idx;
};

struct key {
	const char *s;
	size_t len;
};

static int line_eq(const void *k, uint32_t id, void *ctx)
{
	const struct key *key = k;
	const struct lines *l = ctx;

	return l->v[id].len == key->len && memcmp(l->v[id].text, key->s, key->len) == 0;
}

static int add_line(struct lines *l, const char *s, size_t len, uint64_t count)
{
	struct key k = { s, len };
	uint64_t h = idxmap__hash_bytes(s, len, 7);
	uint32_t id = idxmap__find(&l->idx, h, &k, line_eq, l);

	if (id != IDXMAP_NONE) {
		l->v[id].count += count;
		return 0;
	}
	if (array__grow(&l->v, &l->cap, l->nr + 1, sizeof(*l->v)))
		return -ENOMEM;
	l->v[l->nr].text = strndup(s, len);
	if (!l->v[l->nr].text || idxmap__insert(&l->idx, h, (uint32_t)l->nr)) {
		free(l->v[l->nr].text);
		return -ENOMEM;
	}
	l->v[l->nr].len = len;
	l->v[l->nr].count = count;
	l->nr++;
	return 0;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

/* Append 'name', sanitized, to the growing line buffer. */
static int append(char **buf, size_t *len, size_t *cap, const char *name, int sep, const char *suffix)
{
	char clean[4096];
	size_t n;

	folded__sanitize(name, clean, sizeof(clean) - 8);
	strcat(clean, suffix);
	n = strlen(clean);
	if (array__grow(buf, cap, *len + n + 2, 1))
		return -ENOMEM;
	if (sep)
		(*buf)[(*len)++] = ';';
	memcpy(*buf + *len, clean, n);
	*len += n;
	return 0;
}

/* One line to write before merging: a path, under a thread prefix or none. */
struct row {
	uint32_t pid, tid, comm, path; /* pid, tid, comm 0 when not in the prefix */
	uint64_t count;
};

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->comm != y->comm)
		return x->comm < y->comm ? -1 : 1;
	return (x->path > y->path) - (x->path < y->path);
}

/*
 * The rows: one per path without a prefix; with one, one per (prefix, path), the counts of the
 * threads that share a prefix merged first, so that each line's text is made once.
 */
static struct row *make_rows(const struct view *v, const struct folded_opts *opts, size_t *nr)
{
	const struct profile *p = v->p;
	int prefix = opts->pid_prefix || opts->tid_prefix;
	size_t n = prefix ? v->nr_stacks : v->nr_paths, i, k;
	struct row *rows = malloc((n ? n : 1) * sizeof(*rows));

	if (!rows)
		return NULL;
	for (i = 0; i < n; i++) {
		if (prefix) {
			const struct view_stack *s = &v->stacks[i];
			const struct profile_thread *t = &p->threads[s->thread];

			rows[i] = (struct row){ t->pid, opts->tid_prefix ? t->tid : 0, t->comm, s->path,
						s->count };
		} else {
			rows[i] = (struct row){ 0, 0, 0, (uint32_t)i, v->paths[i].count };
		}
	}
	if (prefix && n) {
		qsort(rows, n, sizeof(*rows), cmp_row);
		for (i = 0, k = 0; i < n; i++) {
			if (k && !cmp_row(&rows[k - 1], &rows[i]))
				rows[k - 1].count += rows[i].count;
			else
				rows[k++] = rows[i];
		}
		n = k;
	}
	*nr = n;
	return rows;
}

int folded__write(FILE *out, const struct profile *p, const struct folded_opts *opts)
{
	static const struct view_opts defaults = { 0 };
	struct lines l = { 0 };
	char *buf = NULL, label[4096];
	size_t len, cap = 0, i, nr_rows = 0, r;
	struct row *rows = NULL;
	struct view v;
	uint32_t k;
	int err = view__build(&v, p, opts->view ? opts->view : &defaults);

	if (err)
		return err;
	err = -ENOMEM;
	idxmap__init(&l.idx);
	rows = make_rows(&v, opts, &nr_rows);
	if (!rows)
		goto out;
	for (r = 0; r < nr_rows; r++) {
		const uint32_t *fs = view__path_funcs(&v, rows[r].path);
		uint32_t d = v.paths[rows[r].path].depth;
		int first = 1;

		len = 0;
		if (opts->pid_prefix || opts->tid_prefix) {
			if (opts->tid_prefix)
				snprintf(label, sizeof(label), "%s-%u/%u", profile__str(p, rows[r].comm),
					 rows[r].pid, rows[r].tid);
			else
				snprintf(label, sizeof(label), "%s-%u", profile__str(p, rows[r].comm),
					 rows[r].pid);
			if (append(&buf, &len, &cap, label, 0, ""))
				goto out;
			first = 0;
		}
		if (d == 0 && append(&buf, &len, &cap, "[no stack]", !first, ""))
			goto out;
		for (k = 0; k < d; k++) {
			const struct view_func *f = &v.funcs[fs[k]];

			/* Charged as the line grows: one deep path of long names is already too much. */
			if ((err = view__charge(&v, strlen(f->name) + 6)))
				goto out;
			err = -ENOMEM;
			if (append(&buf, &len, &cap, f->name, !first,
				   opts->annotate ? view__kind_suffix(f->kind) : ""))
				goto out;
			first = 0;
		}
		/* The text of every line is kept until the lines are sorted. */
		if ((err = view__charge(&v, len + 1 + sizeof(struct line))))
			goto out;
		err = -ENOMEM;
		if (add_line(&l, buf, len, rows[r].count))
			goto out;
	}
	if (l.nr)
		qsort(l.v, l.nr, sizeof(*l.v), cmp_line);
	for (i = 0; i < l.nr; i++)
		fprintf(out, "%s %" PRIu64 "\n", l.v[i].text, l.v[i].count);
	err = 0;
out:
	for (i = 0; i < l.nr; i++)
		free(l.v[i].text);
	free(l.v);
	free(rows);
	idxmap__release(&l.idx);
	free(buf);
	view__release(&v);
	return err;
}
