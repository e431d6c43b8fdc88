// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
	if (l->nr == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		struct line *n = realloc(l->v, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->v = n;
		l->cap = ncap;
	}
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
	if (*len + n + 2 > *cap) {
		size_t ncap = (*cap ? *cap : 1024);
		char *nb;

		while (*len + n + 2 > ncap)
			ncap *= 2;
		nb = realloc(*buf, ncap);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = ncap;
	}
	if (sep)
		(*buf)[(*len)++] = ';';
	memcpy(*buf + *len, clean, n);
	*len += n;
	return 0;
}

int folded__write(FILE *out, const struct profile *p, const struct folded_opts *opts)
{
	static const struct view_opts defaults = { 0 };
	struct lines l = { 0 };
	char *buf = NULL, label[4096];
	size_t len, cap = 0, i;
	struct view v;
	uint32_t s, k;
	int err = view__build(&v, p, opts->view ? opts->view : &defaults);

	if (err)
		return err;
	err = -ENOMEM;
	idxmap__init(&l.idx);
	for (s = 0; s < v.nr_stacks; s++) {
		const uint32_t *fs = view__stack_funcs(&v, s);
		uint32_t d = v.stacks[s].depth;
		int first = 1;

		len = 0;
		if (opts->pid_prefix || opts->tid_prefix) {
			const struct profile_thread *t = &p->threads[v.stacks[s].thread];

			if (opts->tid_prefix)
				snprintf(label, sizeof(label), "%s-%u/%u", profile__str(p, t->comm), t->pid, t->tid);
			else
				snprintf(label, sizeof(label), "%s-%u", profile__str(p, t->comm), t->pid);
			if (append(&buf, &len, &cap, label, 0, ""))
				goto out;
			first = 0;
		}
		if (d == 0 && append(&buf, &len, &cap, "[no stack]", !first, ""))
			goto out;
		for (k = 0; k < d; k++) {
			const struct view_func *f = &v.funcs[fs[k]];

			if (append(&buf, &len, &cap, f->name, !first, opts->annotate ? view__kind_suffix(f->kind) : ""))
				goto out;
			first = 0;
		}
		if (add_line(&l, buf, len, v.stacks[s].count))
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
	idxmap__release(&l.idx);
	free(buf);
	view__release(&v);
	return err;
}
