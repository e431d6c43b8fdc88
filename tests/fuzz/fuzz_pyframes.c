// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the CPython frame decoders (src/symbol/pyframes.h), all fed from one input:
 * its first bytes choose a version and a line-table format, the rest is both a line table and the
 * target's "memory" (at a fixed address) from which a code object, its strings and its table are read,
 * and a _Py_DebugOffsets. A line is never negative; a name is valid UTF-8, NUL-terminated, within its
 * buffer; nothing is read outside the input (ASan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyframes.h"

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_pyframes: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

#define BASE 0x100000ULL

struct mem {
	const uint8_t *p;
	size_t len;
};

static int read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct mem *m = ctx;

	if (addr < BASE || addr - BASE > m->len || len > m->len - (addr - BASE))
		return -14;
	memcpy(buf, m->p + (addr - BASE), len);
	return 0;
}

/* Valid UTF-8, as the encoder writes it (shortest forms, no surrogates, at most U+10FFFF). */
static int valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80             ? 0
			: (*p & 0xe0) == 0xc0 ? 1
			: (*p & 0xf0) == 0xe0 ? 2
			: (*p & 0xf8) == 0xf0 ? 3
					      : -1;
		int i;

		if (n < 0 || (n == 1 && *p < 0xc2) || (n == 3 && *p > 0xf4))
			return 0;
		for (i = 1; i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		p += n + 1;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pyframes_layout l;
	struct pyframes_code c;
	struct mem m;
	uint64_t off, code;
	int first, line, n;
	char out[64];

	if (size < 16)
		return 0;
	if (pyframes__layout(3, 8 + data[0] % 6, &l))
		abort();
	memcpy(&off, data + 1, 8);
	memcpy(&first, data + 9, 4);
	off %= 1 << 16;
	m.p = data + 16;
	m.len = size - 16;
	line = pyframes__line((enum pyframes_lines)(1 + data[13] % 3), m.p, m.len, first, off);
	CHECK(line >= 0);
	/* A code object anywhere in the input, its type the input's first word (as a pointer). */
	code = BASE + (data[14] | (size_t)data[15] << 8) % (m.len + 1);
	if (m.len >= 8) {
		uint64_t type;

		memcpy(&type, m.p, 8);
		if (pyframes__read_code(&l, read_mem, &m, type, code, &c) == 0) {
			CHECK(strlen(c.name) <= PYFRAMES_STR_MAX && valid_utf8(c.name));
			CHECK(strlen(c.filename) <= PYFRAMES_STR_MAX && valid_utf8(c.filename));
			CHECK(!c.table == !c.table_len && c.table_len <= PYFRAMES_TABLE_MAX);
			CHECK(pyframes__line(l.lines, c.table, c.table_len, c.firstlineno, off) >= 0);
		}
		pyframes__code_release(&c);
	}
	n = pyframes__str(&l, read_mem, &m, code, out, sizeof(out));
	if (n >= 0)
		CHECK((size_t)n == strlen(out) && (size_t)n < sizeof(out) && valid_utf8(out));
	if (pyframes__layout_debug(data, size, &l) == 0)
		CHECK(l.major == 3 && l.minor == 13 && l.tstate_frame <= 0xffff && l.frame_instr <= 0xffff);
	return 0;
}
