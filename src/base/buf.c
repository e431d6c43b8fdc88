// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define BUF_MIN_CAP 256

void buf__init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf__release(struct buf *b)
{
	free(b->data);
	buf__init(b, b->max);
}

int buf__reserve(struct buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *nd;

	if (b->err)
		return b->err;
	if (n > SIZE_MAX - b->len - 1)
		return b->err = -ENOMEM;
	need = b->len + n + 1;
	if (b->max && need > b->max)
		return b->err = -E2BIG;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : BUF_MIN_CAP;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	if (b->max && ncap > b->max)
		ncap = b->max;
	nd = realloc(b->data, ncap);
	if (!nd)
		return b->err = -ENOMEM;
	b->data = nd;
	b->cap = ncap;
	return 0;
}

int buf__put(struct buf *b, const void *p, size_t n)
{
	if (buf__reserve(b, n))
		return b->err;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf__puts(struct buf *b, const char *s)
{
	return buf__put(b, s, strlen(s));
}

int buf__putc(struct buf *b, uint8_t c)
{
	return buf__put(b, &c, 1);
}

const char *buf__str(const struct buf *b)
{
	return b->data ? (const char *)b->data : "";
}
