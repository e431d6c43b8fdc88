/* SPDX-License-Identifier: MIT */
/*
 * buf - a growable byte buffer: the one every encoder and string builder appends to.
 *
 * The data is always followed by a NUL byte (not counted in len), so a buffer of text is a C string.
 * Errors are sticky: the first append that cannot be done sets err (-ENOMEM, or -E2BIG when 'max' is
 * set and would be passed), and every later append does nothing, so an encoder appends freely and
 * checks err once at the end. The struct owns 'data'; buf__release() frees it. Embed it and
 * buf__init() it (or zero it: a zeroed buf is empty and unlimited).
 */
#ifndef SCORCH_BUF_H
#define SCORCH_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* 0, or the most bytes the buffer may hold, the NUL after the data included */
	int err;    /* 0, -ENOMEM or -E2BIG */
};

/* Empty, holding at most 'max' bytes with the NUL (0: unlimited). */
void buf__init(struct buf *b, size_t max);
void buf__release(struct buf *b);
/* Empty it, keeping its memory and its error. */
static inline void buf__reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}
/* Cut it back to its first 'len' bytes (len <= b->len), keeping its error. */
static inline void buf__truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}
/* Room for 'n' more bytes (and the NUL). Returns 0 or b->err. */
int buf__reserve(struct buf *b, size_t n);
/* Append 'n' bytes (none is fine, 'p' may then be NULL). Returns 0 or b->err. */
int buf__put(struct buf *b, const void *p, size_t n);
/* Append the string 's', without its NUL. Returns 0 or b->err. */
int buf__puts(struct buf *b, const char *s);
/* Append one byte. Returns 0 or b->err. */
int buf__putc(struct buf *b, uint8_t c);
/* The text appended so far: "" when none (borrowed, valid until the next append or release). */
const char *buf__str(const struct buf *b);

#endif
