// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "fileio.h"
#include "ksyms.h"

#define MAX_KALLSYMS_BYTES (256u << 20)
#define MAX_LINE 1024

struct ksyms {
	struct ksym *syms; /* sorted by addr */
	size_t nr, cap;
	char *names; /* owned copy of the text, names point into it */
};

void ksyms__free(struct ksyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->names);
	free(k);
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Parse "ADDR TYPE NAME[\t[MODULE]]" lines in place: names are cut out of k->names. */
struct ksyms *ksyms__parse(const char *text, size_t len)
{
	struct ksyms *k = calloc(1, sizeof(*k));
	char *p, *end;
	int err = EINVAL;

	if (!k)
		return NULL;
	k->names = malloc(len + 1);
	if (!k->names) {
		err = ENOMEM;
		goto fail;
	}
	memcpy(k->names, text, len);
	k->names[len] = '\0';
	p = k->names;
	end = p + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		char *q = p, *name, *mod = NULL;
		uint64_t addr = 0;
		int digits = 0;
		char type;

		if (le - p > MAX_LINE || memchr(p, '\0', (size_t)(le - p)))
			goto fail;
		*le = '\0';
		if (le == p) {
			p = le + 1;
			continue;
		}
		while (q < le && digits <= 16) {
			char c = *q;
			int d = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10
						       : -1;

			if (d < 0)
				break;
			addr = addr << 4 | (uint64_t)d;
			q++;
			digits++;
		}
		if (digits == 0 || digits > 16 || le - q < 4 || q[0] != ' ' || q[2] != ' ')
			goto fail;
		type = q[1];
		name = q + 3;
		q = strchr(name, '\t');
		if (q) {
			*q++ = '\0';
			if (q[0] != '[' || le - q < 3 || le[-1] != ']')
				goto fail;
			le[-1] = '\0';
			mod = q + 1;
		}
		if (!name[0])
			goto fail;
		if (addr && (type == 't' || type == 'T' || type == 'w' || type == 'W')) {
			if (array__grow(&k->syms, &k->cap, k->nr + 1, sizeof(*k->syms))) {
				err = ENOMEM;
				goto fail;
			}
			k->syms[k->nr].addr = addr;
			k->syms[k->nr].name = name;
			k->syms[k->nr].module = mod;
			k->nr++;
		}
		p = le + 1;
	}
	if (k->nr)
		qsort(k->syms, k->nr, sizeof(*k->syms), cmp_ksym);
	return k;
fail:
	ksyms__free(k);
	errno = err;
	return NULL;
}

struct ksyms *ksyms__load(void)
{
	int fd = open("/proc/kallsyms", O_RDONLY | O_CLOEXEC), err;
	struct ksyms *k;
	char *buf;
	size_t len;

	if (fd < 0)
		return NULL;
	err = fileio__read_all(fd, MAX_KALLSYMS_BYTES, &buf, &len);
	close(fd);
	if (err) {
		errno = -err;
		return NULL;
	}
	k = ksyms__parse(buf, len);
	err = errno;
	free(buf);
	errno = err;
	return k;
}

const struct ksym *ksyms__find(const struct ksyms *k, uint64_t addr)
{
	/* The last symbol at or below addr. */
	size_t i =
		array__upper_bound_u64(k->syms, k->nr, sizeof(*k->syms), offsetof(struct ksym, addr), addr);

	return i ? &k->syms[i - 1] : NULL;
}

size_t ksyms__count(const struct ksyms *k)
{
	return k->nr;
}
