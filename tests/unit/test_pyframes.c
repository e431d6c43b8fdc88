// SPDX-License-Identifier: MIT
/*
 * Unit tests for the CPython frame decoders (src/symbol/pyframes.h): line tables of each format
 * against what the interpreters themselves say (co_lines(), dis.findlinestarts()), str objects in their
 * four compact forms and bad ones, code objects from fake memory, and _Py_DebugOffsets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pyframes.h"

/*
 * The line tables of one function,
 *
 *   def f(x):
 *       y = 0
 *       for i in range(x):
 *           if i % 3:
 *               y += i
 *
 *           else:
 *               y -= 1
 *       return [
 *           y,
 *           x]
 *
 * compiled by CPython 3.8.18, 3.10.13, 3.11.7, 3.12.1 and 3.13.0, with the line of every instruction
 * (byte offset) as dis.findlinestarts() (3.8) or co_lines() (3.10+; None given as 0) says.
 */
/* CPython 3.8: co_lnotab */
static const uint8_t tab_38[] = { 0x00, 0x01, 0x04, 0x01, 0x0c, 0x01, 0x08, 0x01,
				  0x0a, 0x03, 0x0a, 0x02, 0x02, 0x01, 0x02, 0xfe };
static const int lines_38[][2] = { { 0, 3 },   { 2, 3 },  { 4, 4 },  { 6, 4 },  { 8, 4 },   { 10, 4 },
				   { 12, 4 },  { 14, 4 }, { 16, 5 }, { 18, 5 }, { 20, 5 },  { 22, 5 },
				   { 24, 6 },  { 26, 6 }, { 28, 6 }, { 30, 6 }, { 32, 6 },  { 34, 9 },
				   { 36, 9 },  { 38, 9 }, { 40, 9 }, { 42, 9 }, { 44, 11 }, { 46, 12 },
				   { 48, 10 }, { 50, 10 } };
#define FIRST_38 2
/* CPython 3.10: co_linetable */
static const uint8_t tab_310[] = { 0x04, 0x01, 0x0c, 0x01, 0x08, 0x01, 0x0a, 0x01,
				   0x0a, 0x03, 0x02, 0x02, 0x02, 0x01, 0x04, 0xfe };
static const int lines_310[][2] = { { 0, 3 },   { 2, 3 },  { 4, 4 },  { 6, 4 },  { 8, 4 },   { 10, 4 },
				    { 12, 4 },  { 14, 4 }, { 16, 5 }, { 18, 5 }, { 20, 5 },  { 22, 5 },
				    { 24, 6 },  { 26, 6 }, { 28, 6 }, { 30, 6 }, { 32, 6 },  { 34, 9 },
				    { 36, 9 },  { 38, 9 }, { 40, 9 }, { 42, 9 }, { 44, 11 }, { 46, 12 },
				    { 48, 10 }, { 50, 10 } };
#define FIRST_310 2
/* CPython 3.11: co_linetable */
static const uint8_t tab_311[] = { 0x80, 0x00, 0xd8, 0x08, 0x09, 0x80, 0x41, 0xdd, 0x0d, 0x12, 0x90, 0x31,
				   0x89, 0x58, 0x8c, 0x58, 0xf0, 0x00, 0x05, 0x05, 0x13, 0xf0, 0x00, 0x05,
				   0x05, 0x13, 0x88, 0x01, 0xd8, 0x0b, 0x0c, 0x88, 0x71, 0x89, 0x35, 0xf0,
				   0x00, 0x04, 0x09, 0x13, 0xd8, 0x0c, 0x0d, 0x90, 0x11, 0x89, 0x46, 0x88,
				   0x41, 0x88, 0x41, 0xf0, 0x06, 0x00, 0x0d, 0x0e, 0x90, 0x11, 0x89, 0x46,
				   0x88, 0x41, 0x88, 0x41, 0xe0, 0x08, 0x09, 0xd8, 0x08, 0x09, 0xf0, 0x05,
				   0x02, 0x0c, 0x0b, 0xf0, 0x00, 0x02, 0x05, 0x0b };
static const int lines_311[][2] = { { 0, 2 },  { 2, 3 },   { 4, 3 },   { 6, 4 },   { 8, 4 },  { 10, 4 },
				    { 12, 4 }, { 14, 4 },  { 16, 4 },  { 18, 4 },  { 20, 4 }, { 22, 4 },
				    { 24, 4 }, { 26, 4 },  { 28, 4 },  { 30, 4 },  { 32, 4 }, { 34, 4 },
				    { 36, 4 }, { 38, 4 },  { 40, 5 },  { 42, 5 },  { 44, 5 }, { 46, 5 },
				    { 48, 5 }, { 50, 6 },  { 52, 6 },  { 54, 6 },  { 56, 6 }, { 58, 6 },
				    { 60, 6 }, { 62, 9 },  { 64, 9 },  { 66, 9 },  { 68, 9 }, { 70, 9 },
				    { 72, 9 }, { 74, 11 }, { 76, 12 }, { 78, 10 }, { 80, 10 } };
#define FIRST_311 2
/* CPython 3.12: co_linetable */
static const uint8_t tab_312[] = { 0x80, 0x00, 0xd8, 0x08, 0x09, 0x80, 0x41, 0xdc, 0x0d, 0x12, 0x90, 0x31,
				   0x8b, 0x58, 0xf2, 0x00, 0x05, 0x05, 0x13, 0x88, 0x01, 0xd8, 0x0b, 0x0c,
				   0x88, 0x71, 0x8a, 0x35, 0xd8, 0x0c, 0x0d, 0x90, 0x11, 0x89, 0x46, 0x89,
				   0x41, 0xf0, 0x06, 0x00, 0x0d, 0x0e, 0x90, 0x11, 0x89, 0x46, 0x89, 0x41,
				   0xf0, 0x0b, 0x05, 0x05, 0x13, 0xf0, 0x0e, 0x00, 0x09, 0x0a, 0xd8, 0x08,
				   0x09, 0xf0, 0x05, 0x02, 0x0c, 0x0b, 0xf0, 0x00, 0x02, 0x05, 0x0b };
static const int lines_312[][2] = { { 0, 2 },   { 2, 3 },   { 4, 3 },  { 6, 4 },  { 8, 4 },  { 10, 4 },
				    { 12, 4 },  { 14, 4 },  { 16, 4 }, { 18, 4 }, { 20, 4 }, { 22, 4 },
				    { 24, 4 },  { 26, 4 },  { 28, 4 }, { 30, 4 }, { 32, 4 }, { 34, 5 },
				    { 36, 5 },  { 38, 5 },  { 40, 5 }, { 42, 5 }, { 44, 6 }, { 46, 6 },
				    { 48, 6 },  { 50, 6 },  { 52, 6 }, { 54, 6 }, { 56, 9 }, { 58, 9 },
				    { 60, 9 },  { 62, 9 },  { 64, 9 }, { 66, 9 }, { 68, 4 }, { 70, 11 },
				    { 72, 12 }, { 74, 10 }, { 76, 10 } };
#define FIRST_312 2
/* CPython 3.13: co_linetable */
static const uint8_t tab_313[] = { 0x80, 0x00, 0xd8, 0x08, 0x09, 0x80, 0x41, 0xdc, 0x0d, 0x12, 0x90,
				   0x31, 0x8e, 0x58, 0x88, 0x01, 0xd8, 0x0b, 0x0c, 0x88, 0x71, 0x8f,
				   0x35, 0xd8, 0x0c, 0x0d, 0x89, 0x46, 0x8a, 0x41, 0xf0, 0x06, 0x00,
				   0x0d, 0x0e, 0x90, 0x11, 0x89, 0x46, 0x8a, 0x41, 0xf1, 0x0b, 0x00,
				   0x0e, 0x16, 0xf0, 0x0e, 0x00, 0x09, 0x0a, 0xd8, 0x08, 0x09, 0xf0,
				   0x05, 0x02, 0x0c, 0x0b, 0xf0, 0x00, 0x02, 0x05, 0x0b };
static const int lines_313[][2] = { { 0, 2 },   { 2, 3 },   { 4, 3 },   { 6, 4 },  { 8, 4 },  { 10, 4 },
				    { 12, 4 },  { 14, 4 },  { 16, 4 },  { 18, 4 }, { 20, 4 }, { 22, 4 },
				    { 24, 4 },  { 26, 4 },  { 28, 4 },  { 30, 4 }, { 32, 4 }, { 34, 5 },
				    { 36, 5 },  { 38, 5 },  { 40, 5 },  { 42, 5 }, { 44, 5 }, { 46, 5 },
				    { 48, 5 },  { 50, 5 },  { 52, 5 },  { 54, 6 }, { 56, 6 }, { 58, 6 },
				    { 60, 6 },  { 62, 6 },  { 64, 6 },  { 66, 9 }, { 68, 9 }, { 70, 9 },
				    { 72, 9 },  { 74, 9 },  { 76, 9 },  { 78, 9 }, { 80, 4 }, { 82, 4 },
				    { 84, 11 }, { 86, 12 }, { 88, 10 }, { 90, 10 } };
#define FIRST_313 2

/* The first 584 bytes of _PyRuntime of CPython 3.13.0 (pyenv build): its _Py_DebugOffsets. */
static const uint8_t debug_offsets_313[] = {
	0x78, 0x64, 0x65, 0x62, 0x75, 0x67, 0x70, 0x79, 0xf0, 0x00, 0x0d, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb8, 0x52, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x78, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x98, 0xf9, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x1c, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xb0, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe8, 0x1c, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0xe8, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd8, 0x1d, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xe0, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x48, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x58, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x48, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x48, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x70, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x78,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x88, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xc8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x58, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0xa8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc8, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void check_lines(enum pyframes_lines fmt, const uint8_t *tab, size_t len, int first,
			const int (*want)[2], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int got = pyframes__line(fmt, tab, len, first, (uint64_t)want[i][0]);

		if (got != want[i][1])
			fail_msg("offset %d: line %d, want %d", want[i][0], got, want[i][1]);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_lnotab(void **state)
{
	(void)state;
	check_lines(PYFRAMES_LNOTAB, tab_38, sizeof(tab_38), FIRST_38, lines_38, N(lines_38));
}

static void test_linetable_310(void **state)
{
	(void)state;
	check_lines(PYFRAMES_LINETABLE, tab_310, sizeof(tab_310), FIRST_310, lines_310, N(lines_310));
	/* Past the end: no line. */
	assert_int_equal(pyframes__line(PYFRAMES_LINETABLE, tab_310, sizeof(tab_310), FIRST_310, 10000), 0);
}

static void test_loctable(void **state)
{
	(void)state;
	check_lines(PYFRAMES_LOCTABLE, tab_311, sizeof(tab_311), FIRST_311, lines_311, N(lines_311));
	check_lines(PYFRAMES_LOCTABLE, tab_312, sizeof(tab_312), FIRST_312, lines_312, N(lines_312));
	check_lines(PYFRAMES_LOCTABLE, tab_313, sizeof(tab_313), FIRST_313, lines_313, N(lines_313));
}

static void test_bad_tables(void **state)
{
	static const uint8_t not_entry[] = { 0x05, 0x01 };  /* no start bit */
	static const uint8_t cut_varint[] = { 0xf0, 0x41 }; /* long form, varint cut short */
	static const uint8_t huge[] = {
		0xe8, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x3f
	};
	uint8_t cut[sizeof(tab_311)];
	size_t i;

	(void)state;
	assert_int_equal(pyframes__line(PYFRAMES_LOCTABLE, not_entry, sizeof(not_entry), 5, 0), 0);
	assert_int_equal(pyframes__line(PYFRAMES_LOCTABLE, cut_varint, sizeof(cut_varint), 5, 0), 0);
	assert_int_equal(pyframes__line(PYFRAMES_LOCTABLE, huge, sizeof(huge), 5, 0), 0);
	assert_int_equal(pyframes__line(PYFRAMES_LOCTABLE, NULL, 10, 5, 0), 0);
	assert_int_equal(pyframes__line(PYFRAMES_LNOTAB, NULL, 0, 7, 0), 7); /* no table: the first line */
	assert_int_equal(pyframes__line(99, tab_311, sizeof(tab_311), 5, 0), 0);
	/* Every prefix of a table decodes without reading past it (ASan sees to that). */
	for (i = 0; i <= sizeof(tab_311); i++) {
		memcpy(cut, tab_311, i);
		pyframes__line(PYFRAMES_LOCTABLE, i ? cut : NULL, i, FIRST_311, 40);
	}
}

/* Fake target memory: a buffer at a fixed address. */
#define BASE 0x10000ULL
static uint8_t mem[8192];

static int read_fake(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < BASE || addr - BASE > sizeof(mem) || len > sizeof(mem) - (addr - BASE))
		return -EFAULT;
	memcpy(buf, mem + (addr - BASE), len);
	return 0;
}

static void put64(uint64_t addr, uint64_t v)
{
	memcpy(mem + (addr - BASE), &v, 8);
}

static void put32(uint64_t addr, uint32_t v)
{
	memcpy(mem + (addr - BASE), &v, 4);
}

/* A compact str of 'n' characters of 'kind' bytes each at 'addr' (ascii: PyASCIIObject only). */
static void put_str(const struct pyframes_layout *l, uint64_t addr, const void *chars, uint64_t n, int kind,
		    int ascii)
{
	uint32_t state = (uint32_t)kind << 2 | 1u << 5 | (ascii ? 1u << 6 : 0);

	put64(addr + l->str_length, n);
	put32(addr + l->str_state, state);
	memcpy(mem + (addr - BASE) + (ascii ? l->str_ascii_size : l->str_compact_size), chars, n * kind);
}

static void test_strings(void **state)
{
	static const uint16_t ucs2[] = { 0x44a, 0x20ac, 'x' };
	static const uint32_t ucs4[] = { 0x1f600, 'a', 0xd800, 0x110000 };
	struct pyframes_layout l;
	char out[PYFRAMES_STR_MAX + 1];

	(void)state;
	assert_int_equal(pyframes__layout(3, 12, &l), 0);
	memset(mem, 0, sizeof(mem));
	put_str(&l, BASE, "main", 4, 1, 1);
	assert_int_equal(pyframes__str(&l, read_fake, NULL, BASE, out, sizeof(out)), 4);
	assert_string_equal(out, "main");
	put_str(&l, BASE + 256, "caf\xe9", 4, 1, 0); /* Latin-1 */
	assert_int_equal(pyframes__str(&l, read_fake, NULL, BASE + 256, out, sizeof(out)), 5);
	assert_string_equal(out, "caf\xc3\xa9");
	put_str(&l, BASE + 512, ucs2, 3, 2, 0);
	assert_int_equal(pyframes__str(&l, read_fake, NULL, BASE + 512, out, sizeof(out)), 6);
	assert_string_equal(out, "\xd1\x8a\xe2\x82\xac"
				 "x");
	put_str(&l, BASE + 768, ucs4, 4, 4, 0); /* a surrogate and one out of range: U+FFFD */
	assert_int_equal(pyframes__str(&l, read_fake, NULL, BASE + 768, out, sizeof(out)), 11);
	assert_string_equal(out, "\xf0\x9f\x98\x80"
				 "a\xef\xbf\xbd\xef\xbf\xbd");
	/* A NUL inside: the name goes on (found by fuzz_pyframes). */
	put_str(&l, BASE + 2048, "a\0b", 3, 1, 1);
	assert_int_equal(pyframes__str(&l, read_fake, NULL, BASE + 2048, out, sizeof(out)), 5);
	assert_string_equal(out, "a\xef\xbf\xbd"
				 "b");
	/* Cut to the room given, on a character boundary. */
	assert_int_equal(pyframes__str(&l, read_fake, NULL, BASE + 512, out, 4), 2);
	assert_string_equal(out, "\xd1\x8a");
	/* Bad ones: "ASCII" with a high byte, kind 3, not compact, a huge length, unreadable. */
	put_str(&l, BASE + 1024, "\xff", 1, 1, 1);
	assert_int_equal(pyframes__str(&l, read_fake, NULL, BASE + 1024, out, sizeof(out)), -EINVAL);
	put_str(&l, BASE + 1280, "abc", 1, 3, 0);
	assert_int_equal(pyframes__str(&l, read_fake, NULL, BASE + 1280, out, sizeof(out)), -EINVAL);
	put_str(&l, BASE + 1536, "abc", 3, 1, 1);
	put32(BASE + 1536 + l.str_state, 1u << 2 | 1u << 6); /* not compact */
	assert_int_equal(pyframes__str(&l, read_fake, NULL, BASE + 1536, out, sizeof(out)), -EINVAL);
	put_str(&l, BASE + 1792, "abc", 3, 1, 1);
	put64(BASE + 1792 + l.str_length, 1ULL << 50);
	assert_int_equal(pyframes__str(&l, read_fake, NULL, BASE + 1792, out, sizeof(out)), -EINVAL);
	/* Long, at the end of memory: only PYFRAMES_STR_MAX characters are read, and they are not there. */
	put_str(&l, BASE + sizeof(mem) - 64, "abc", 3, 1, 1);
	put64(BASE + sizeof(mem) - 64 + l.str_length, 5000);
	assert_int_equal(pyframes__str(&l, read_fake, NULL, BASE + sizeof(mem) - 64, out, sizeof(out)),
			 -EFAULT);
	assert_int_equal(pyframes__str(&l, read_fake, NULL, 0, out, sizeof(out)), -EINVAL);
	assert_int_equal(pyframes__str(&l, read_fake, NULL, 0x1, out, sizeof(out)), -EFAULT);
}

static void test_read_code(void **state)
{
	const uint64_t code = BASE + 2048, type = BASE + 64, name = BASE + 3072, file = BASE + 3328,
		       table = BASE + 3584;
	struct pyframes_layout l;
	struct pyframes_code c;

	(void)state;
	assert_int_equal(pyframes__layout(3, 11, &l), 0);
	memset(mem, 0, sizeof(mem));
	put64(code + l.ob_type, type);
	put64(code + l.co_qualname, name);
	put64(code + l.co_name, name + 128);
	put64(code + l.co_filename, file);
	put32(code + l.co_firstlineno, FIRST_311);
	put64(code + l.co_linetable, table);
	put_str(&l, name, "Cls.method", 10, 1, 1);
	put_str(&l, file, "/srv/app.py", 11, 1, 1);
	put64(table + l.bytes_size, sizeof(tab_311));
	memcpy(mem + (table - BASE) + l.bytes_data, tab_311, sizeof(tab_311));
	assert_int_equal(pyframes__read_code(&l, read_fake, NULL, type, code, &c), 0);
	assert_string_equal(c.name, "Cls.method");
	assert_string_equal(c.filename, "/srv/app.py");
	assert_int_equal(c.firstlineno, FIRST_311);
	assert_int_equal(c.table_len, sizeof(tab_311));
	assert_int_equal(pyframes__line(l.lines, c.table, c.table_len, c.firstlineno, 40),
			 pyframes__line(l.lines, tab_311, sizeof(tab_311), FIRST_311, 40));
	pyframes__code_release(&c);
	/* Not a code object. */
	assert_int_equal(pyframes__read_code(&l, read_fake, NULL, type + 8, code, &c), -EINVAL);
	pyframes__code_release(&c);
	/* A line table that is too long: named, without lines. */
	put64(table + l.bytes_size, PYFRAMES_TABLE_MAX + 1);
	assert_int_equal(pyframes__read_code(&l, read_fake, NULL, type, code, &c), 0);
	assert_null(c.table);
	pyframes__code_release(&c);
	/* A name that cannot be read. */
	put64(code + l.co_qualname, 8);
	assert_int_equal(pyframes__read_code(&l, read_fake, NULL, type, code, &c), -EFAULT);
	pyframes__code_release(&c);
	assert_int_equal(pyframes__read_code(&l, read_fake, NULL, type, 0, &c), -EINVAL);
}

static void test_layout(void **state)
{
	struct pyframes_layout l;
	unsigned v;

	(void)state;
	for (v = 8; v <= 13; v++) {
		assert_int_equal(pyframes__layout(3, v, &l), 0);
		assert_int_equal(l.minor, v);
		assert_true(l.lines == (v < 10    ? PYFRAMES_LNOTAB
					: v == 10 ? PYFRAMES_LINETABLE
						  : PYFRAMES_LOCTABLE));
	}
	assert_int_equal(pyframes__layout(3, 7, &l), -ENOTSUP);
	assert_int_equal(pyframes__layout(3, 14, &l), -ENOTSUP);
	assert_int_equal(pyframes__layout(2, 7, &l), -ENOTSUP);
}

static void test_debug_offsets(void **state)
{
	struct pyframes_layout d, t;
	uint8_t b[sizeof(debug_offsets_313)];
	uint64_t v;

	(void)state;
	/* The interpreter's own offsets agree with the table's. */
	assert_int_equal(pyframes__layout_debug(debug_offsets_313, sizeof(debug_offsets_313), &d), 0);
	assert_int_equal(pyframes__layout(3, 13, &t), 0);
	assert_memory_equal(&d, &t, sizeof(d));
	/* Refused: short, no cookie, 3.14, free-threaded, an offset out of reason. */
	assert_int_equal(pyframes__layout_debug(debug_offsets_313, sizeof(debug_offsets_313) - 1, &d),
			 -EINVAL);
	memcpy(b, debug_offsets_313, sizeof(b));
	b[0] = 'X';
	assert_int_equal(pyframes__layout_debug(b, sizeof(b), &d), -EINVAL);
	memcpy(b, debug_offsets_313, sizeof(b));
	v = 0x030e00a0;
	memcpy(b + 8, &v, 8);
	assert_int_equal(pyframes__layout_debug(b, sizeof(b), &d), -ENOTSUP);
	memcpy(b, debug_offsets_313, sizeof(b));
	v = 1;
	memcpy(b + 16, &v, 8);
	assert_int_equal(pyframes__layout_debug(b, sizeof(b), &d), -EINVAL);
	memcpy(b, debug_offsets_313, sizeof(b));
	v = 1ULL << 40;
	memcpy(b + 184, &v, 8); /* thread_state.current_frame */
	assert_int_equal(pyframes__layout_debug(b, sizeof(b), &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lnotab),   cmocka_unit_test(test_linetable_310),
		cmocka_unit_test(test_loctable), cmocka_unit_test(test_bad_tables),
		cmocka_unit_test(test_strings),  cmocka_unit_test(test_read_code),
		cmocka_unit_test(test_layout),   cmocka_unit_test(test_debug_offsets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
