// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "fileio.h"
#include "procmaps.h"

#define MAX_MAPS_BYTES (64u << 20)

void procmaps__init(struct procmaps *m)
{
	m->entries = NULL;
	m->nr = 0;
}

void procmaps__release(struct procmaps *m)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		free(m->entries[i].path);
	free(m->entries);
	procmaps__init(m);
}

/* Parse a hex number of at most 16 digits; advance *p. */
static int parse_hex(const char **p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (*p < end && n < 17) {
		char c = **p;
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		v = v << 4 | (uint64_t)d;
		(*p)++;
		n++;
	}
	if (n == 0 || n > 16)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_dec(const char **p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (*p < end && **p >= '0' && **p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(**p - '0');
		(*p)++;
		n++;
	}
	if (n == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

static void skip_spaces(const char **p, const char *end)
{
	while (*p < end && **p == ' ')
		(*p)++;
}

static int parse_line(const char *p, const char *end, struct procmaps_entry *e)
{
	static const char deleted[] = " (deleted)";
	uint64_t major, minor;
	size_t plen;
	char perms[4];

	memset(e, 0, sizeof(*e));
	if (parse_hex(&p, end, &e->start) || expect(&p, end, '-') || parse_hex(&p, end, &e->end) ||
	    expect(&p, end, ' '))
		return -EINVAL;
	if (e->end <= e->start || end - p < 5)
		return -EINVAL;
	memcpy(perms, p, 4);
	p += 4;
	if ((perms[0] != 'r' && perms[0] != '-') || (perms[1] != 'w' && perms[1] != '-') ||
	    (perms[2] != 'x' && perms[2] != '-') || (perms[3] != 'p' && perms[3] != 's'))
		return -EINVAL;
	e->perms = (perms[0] == 'r' ? PROCMAPS_R : 0) | (perms[1] == 'w' ? PROCMAPS_W : 0) |
		   (perms[2] == 'x' ? PROCMAPS_X : 0) | (perms[3] == 's' ? PROCMAPS_SHARED : 0);
	if (expect(&p, end, ' ') || parse_hex(&p, end, &e->offset) || expect(&p, end, ' ') ||
	    parse_hex(&p, end, &major) || expect(&p, end, ':') || parse_hex(&p, end, &minor) ||
	    expect(&p, end, ' ') || parse_dec(&p, end, &e->inode))
		return -EINVAL;
	if (major > UINT32_MAX || minor > UINT32_MAX)
		return -EINVAL;
	e->dev_major = (uint32_t)major;
	e->dev_minor = (uint32_t)minor;
	if (p < end && *p != ' ')
		return -EINVAL;
	skip_spaces(&p, end);
	plen = (size_t)(end - p);
	if (plen >= sizeof(deleted) - 1 &&
	    memcmp(end - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1) == 0) {
		e->deleted = 1;
		plen -= sizeof(deleted) - 1;
	}
	if (memchr(p, '\0', plen))
		return -EINVAL;
	e->path = strndup(p, plen);
	return e->path ? 0 : -ENOMEM;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct procmaps_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int procmaps__parse(struct procmaps *m, const char *text, size_t len, size_t *bad_line)
{
	const char *p = text, *end = text + len;
	size_t line = 0, cap = m->nr; /* parsing appends to what 'm' holds */
	int err;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct procmaps_entry e;

		line++;
		if (le - p > PROCMAPS_MAX_LINE) {
			err = -EINVAL;
			goto fail;
		}
		if (le > p) {
			err = parse_line(p, le, &e);
			if (err)
				goto fail;
			if (array__grow(&m->entries, &cap, m->nr + 1, sizeof(*m->entries))) {
				free(e.path);
				err = -ENOMEM;
				goto fail;
			}
			m->entries[m->nr++] = e;
		}
		p = nl ? nl + 1 : end;
	}
	if (m->nr)
		qsort(m->entries, m->nr, sizeof(*m->entries), cmp_entry);
	return 0;
fail:
	if (bad_line)
		*bad_line = line;
	procmaps__release(m);
	return err;
}

int procmaps__read(struct procmaps *m, pid_t pid)
{
	char path[64], *buf;
	size_t len;
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	err = fileio__read_all(fd, MAX_MAPS_BYTES, &buf, &len);
	close(fd);
	if (err)
		return err;
	err = procmaps__parse(m, buf, len, NULL);
	free(buf);
	return err;
}

const struct procmaps_entry *procmaps__find(const struct procmaps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct procmaps_entry *e = &m->entries[mid];

		if (addr < e->start)
			hi = mid;
		else if (addr >= e->end)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}
