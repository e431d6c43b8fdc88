// SPDX-License-Identifier: MIT
/* Unit tests for the /proc/PID/maps parser (src/target/procmaps.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procmaps.h"

/* Parse a literal; on success the caller releases m. */
static int parse(struct procmaps *m, const char *text, size_t *bad_line)
{
	procmaps__init(m);
	return procmaps__parse(m, text, strlen(text), bad_line);
}

/* Parsing must fail with -EINVAL on line 'line' and leave m empty. */
static void assert_bad_line(const char *text, size_t len, size_t line)
{
	struct procmaps m;
	size_t bad = 0;
	int err;

	procmaps__init(&m);
	err = procmaps__parse(&m, text, len, &bad);
	if (err != -EINVAL)
		fail_msg("parse of '%.*s' returned %d, expected -EINVAL", len > 80 ? 80 : (int)len, text, err);
	assert_int_equal(bad, line);
	assert_int_equal(m.nr, 0);
	assert_null(m.entries);
}

#define REJECT(literal, line) assert_bad_line(literal, sizeof(literal) - 1, line)

/* Lines as the kernel prints them, out of order. */
static const char maps_text[] =
	"7f8fe6ba9000-7f8fe6cff000 r-xp 00026000 fe:00 332835                     "
	"/usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"55f9b6c37000-55f9b6c39000 r--p 00000000 fe:00 247134                     /usr/bin/cat\n"
	"55f9cfb6a000-55f9cfb8b000 rw-p 00000000 00:00 0                          [heap]\n"
	"7f8fe6a5e000-7f8fe6b22000 rw-p 00000000 00:00 0 \n"
	"7f8fe6d68000-7f8fe6d6f000 r--s 00000000 fe:00 332280                     "
	"/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache\n"
	"7ffd5c3f0000-7ffd5c3f2000 r-xp 00000000 00:00 0                          [vdso]\n"
	"7f0000000000-7f0000001000 r-xp 00001000 103:0a 4242                      "
	"/tmp/my dir/lib with spaces.so (deleted)\n"
	"7ffd5c3c0000-7ffd5c3e1000 rw-p 00000000 00:00 0                          [stack]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static const struct procmaps_entry *entry_at(const struct procmaps *m, uint64_t start)
{
	const struct procmaps_entry *e = procmaps__find(m, start);

	assert_non_null(e);
	assert_true(e->start == start);
	return e;
}

static void test_parse_real_lines(void **state)
{
	struct procmaps m;
	const struct procmaps_entry *e;
	size_t i;

	(void)state;
	assert_int_equal(parse(&m, maps_text, NULL), 0);
	assert_int_equal(m.nr, 9);
	for (i = 1; i < m.nr; i++)
		assert_true(m.entries[i - 1].start < m.entries[i].start);

	e = entry_at(&m, 0x55f9b6c37000ULL);
	assert_true(e->end == 0x55f9b6c39000ULL);
	assert_int_equal(e->perms, PROCMAPS_R);
	assert_int_equal(e->offset, 0);
	assert_int_equal(e->dev_major, 0xfe);
	assert_int_equal(e->dev_minor, 0);
	assert_int_equal(e->inode, 247134);
	assert_string_equal(e->path, "/usr/bin/cat");
	assert_int_equal(e->deleted, 0);

	e = entry_at(&m, 0x7f8fe6ba9000ULL);
	assert_int_equal(e->perms, PROCMAPS_R | PROCMAPS_X);
	assert_int_equal(e->offset, 0x26000);
	assert_string_equal(e->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");

	e = entry_at(&m, 0x55f9cfb6a000ULL);
	assert_int_equal(e->perms, PROCMAPS_R | PROCMAPS_W);
	assert_int_equal(e->inode, 0);
	assert_string_equal(e->path, "[heap]");

	/* Anonymous: the kernel leaves a space after the inode and no path. */
	e = entry_at(&m, 0x7f8fe6a5e000ULL);
	assert_string_equal(e->path, "");
	assert_int_equal(e->deleted, 0);

	e = entry_at(&m, 0x7f8fe6d68000ULL);
	assert_int_equal(e->perms, PROCMAPS_R | PROCMAPS_SHARED);

	e = entry_at(&m, 0x7ffd5c3f0000ULL);
	assert_string_equal(e->path, "[vdso]");

	e = entry_at(&m, 0x7f0000000000ULL);
	assert_string_equal(e->path, "/tmp/my dir/lib with spaces.so");
	assert_int_equal(e->deleted, 1);
	assert_int_equal(e->dev_major, 0x103);
	assert_int_equal(e->dev_minor, 0xa);
	assert_int_equal(e->offset, 0x1000);
	assert_int_equal(e->inode, 4242);

	e = entry_at(&m, 0xffffffffff600000ULL);
	assert_int_equal(e->perms, PROCMAPS_X);
	assert_true(e->end == 0xffffffffff601000ULL);
	assert_string_equal(e->path, "[vsyscall]");
	procmaps__release(&m);
	assert_int_equal(m.nr, 0);
	assert_null(m.entries);
}

static void test_deleted_only_as_suffix(void **state)
{
	struct procmaps m;

	(void)state;
	assert_int_equal(parse(&m,
			       "1000-2000 r--p 00000000 08:01 5 /a (deleted)/b\n"
			       "2000-3000 r--p 00000000 08:01 6 /c(deleted)\n"
			       "3000-4000 r--p 00000000 08:01 7 /d (deleted) (deleted)\n",
			       NULL),
			 0);
	assert_int_equal(m.nr, 3);
	assert_string_equal(m.entries[0].path, "/a (deleted)/b");
	assert_int_equal(m.entries[0].deleted, 0);
	assert_string_equal(m.entries[1].path, "/c(deleted)");
	assert_int_equal(m.entries[1].deleted, 0);
	/* Only the suffix the kernel added is removed. */
	assert_string_equal(m.entries[2].path, "/d (deleted)");
	assert_int_equal(m.entries[2].deleted, 1);
	procmaps__release(&m);
}

static void test_find_boundaries(void **state)
{
	struct procmaps m;

	(void)state;
	/* Two adjacent mappings, a hole, then one more. */
	assert_int_equal(parse(&m,
			       "3000-5000 r-xp 00000000 08:01 1 /c\n"
			       "1000-2000 r--p 00000000 08:01 1 /a\n"
			       "2000-3000 rw-p 00000000 08:01 1 /b\n",
			       NULL),
			 0);
	assert_null(procmaps__find(&m, 0));
	assert_null(procmaps__find(&m, 0xfff));
	assert_string_equal(procmaps__find(&m, 0x1000)->path, "/a");
	assert_string_equal(procmaps__find(&m, 0x1fff)->path, "/a");
	assert_string_equal(procmaps__find(&m, 0x2000)->path, "/b");
	assert_string_equal(procmaps__find(&m, 0x2fff)->path, "/b");
	assert_string_equal(procmaps__find(&m, 0x3000)->path, "/c");
	assert_string_equal(procmaps__find(&m, 0x4fff)->path, "/c");
	assert_null(procmaps__find(&m, 0x5000));
	assert_null(procmaps__find(&m, UINT64_MAX));
	procmaps__release(&m);

	assert_int_equal(parse(&m,
			       "1000-2000 r--p 00000000 08:01 1 /a\n"
			       "\n"
			       "8000-9000 r--p 00000000 08:01 1 /b", /* no final newline */
			       NULL),
			 0);
	assert_int_equal(m.nr, 2);
	assert_null(procmaps__find(&m, 0x2000));
	assert_null(procmaps__find(&m, 0x7fff));
	assert_string_equal(procmaps__find(&m, 0x8000)->path, "/b");
	procmaps__release(&m);

	/* Nothing to find in an empty map. */
	assert_int_equal(parse(&m, "", NULL), 0);
	assert_int_equal(m.nr, 0);
	assert_null(procmaps__find(&m, 0x1000));
	procmaps__release(&m);
}

static void test_malformed_lines(void **state)
{
	(void)state;
	REJECT("1000-2000 r--p 00000000 08:01 1 /a\n100g-2000 r--p 00000000 08:01 1 /b\n", 2);
	REJECT("-2000 r--p 00000000 08:01 1 /a\n", 1);
	REJECT("1000 r--p 00000000 08:01 1 /a\n", 1);
	REJECT("1000-2000r--p 00000000 08:01 1 /a\n", 1);
	REJECT("10000000000000000-10000000000000001 r--p 00000000 08:01 1 /a\n", 1); /* 17 digits */
	REJECT("2000-2000 r--p 00000000 08:01 1 /a\n", 1);                         /* empty */
	REJECT("3000-2000 r--p 00000000 08:01 1 /a\n", 1);                         /* end < start */
	REJECT("1000-2000 r--x 00000000 08:01 1 /a\n", 1);                         /* bad perms */
	REJECT("1000-2000 rw-q 00000000 08:01 1 /a\n", 1);
	REJECT("1000-2000 xr-p 00000000 08:01 1 /a\n", 1);
	REJECT("1000-2000 r-p 00000000 08:01 1 /a\n", 1);
	REJECT("1000-2000 r--p\n", 1);
	REJECT("1000-2000 r--p 0000000z 08:01 1 /a\n", 1);
	REJECT("1000-2000 r--p 00000000 0801 1 /a\n", 1);
	REJECT("1000-2000 r--p 00000000 08:01\n", 1); /* missing inode */
	REJECT("1000-2000 r--p 00000000 08:01 \n", 1);
	REJECT("1000-2000 r--p 00000000 08:01 12x /a\n", 1);
	REJECT("1000-2000 r--p 00000000 08:01 99999999999999999999 /a\n", 1); /* inode overflow */
	REJECT("1000-2000 r--p 00000000 123456789:01 1 /a\n", 1);            /* device overflow */
	REJECT("1000-2000 r--p 00000000 08:01 1 /a\n\n\n1000-2000 r--p 0 08:01\n", 4);
	REJECT("1000-2000 r--p 00000000 08:01 1 /a\0b\n", 1); /* NUL in the path */
	REJECT("1000-2000 r--p 00000000 08:01 1\0/a\n", 1);
	REJECT("1000-2000 r--p\0" "00000000 08:01 1 /a\n", 1);
}

static void test_line_length_limit(void **state)
{
	const size_t head = strlen("1000-2000 r--p 00000000 08:01 1 /");
	size_t len = PROCMAPS_MAX_LINE + 1;
	char *text = malloc(2 * (PROCMAPS_MAX_LINE + 2));
	struct procmaps m;

	(void)state;
	assert_non_null(text);
	/* Line 1 is exactly at the limit and accepted; line 2 is one byte longer. */
	memcpy(text, "1000-2000 r--p 00000000 08:01 1 /", head);
	memset(text + head, 'x', PROCMAPS_MAX_LINE - head);
	text[PROCMAPS_MAX_LINE] = '\n';
	procmaps__init(&m);
	assert_int_equal(procmaps__parse(&m, text, len, NULL), 0);
	assert_int_equal(m.nr, 1);
	assert_int_equal(strlen(m.entries[0].path), PROCMAPS_MAX_LINE - head + 1);
	procmaps__release(&m);

	memcpy(text + len, "2000-3000 r--p 00000000 08:01 1 /", head);
	memset(text + len + head, 'y', PROCMAPS_MAX_LINE + 1 - head);
	text[len + PROCMAPS_MAX_LINE + 1] = '\n';
	assert_bad_line(text, len + PROCMAPS_MAX_LINE + 2, 2);
	free(text);
}

static void test_read_self(void **state)
{
	struct procmaps m;
	const struct procmaps_entry *e;
	uint64_t fn = (uint64_t)(uintptr_t)&test_read_self;
	uint64_t sp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
	const char *base;

	(void)state;
	procmaps__init(&m);
	assert_int_equal(procmaps__read(&m, getpid()), 0);
	assert_true(m.nr > 5);
	e = procmaps__find(&m, fn);
	assert_non_null(e);
	assert_true(e->start <= fn && fn < e->end);
	assert_true(e->perms & PROCMAPS_X);
	assert_false(e->perms & PROCMAPS_W);
	base = strrchr(e->path, '/');
	assert_non_null(base);
	assert_string_equal(base, "/test_procmaps");
	/* The stack is "[stack]" normally, an anonymous mapping under valgrind: writable either way. */
	e = procmaps__find(&m, sp);
	assert_non_null(e);
	assert_true(e->perms & PROCMAPS_W);
	assert_false(e->perms & PROCMAPS_X);
	procmaps__release(&m);
}

static void test_read_missing_process(void **state)
{
	struct procmaps m;

	(void)state;
	procmaps__init(&m);
	/* Above the largest pid_max the kernel allows (4194304). */
	assert_int_equal(procmaps__read(&m, 99999999), -ESRCH);
	assert_int_equal(m.nr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_real_lines),
		cmocka_unit_test(test_deleted_only_as_suffix),
		cmocka_unit_test(test_find_boundaries),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_line_length_limit),
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_read_missing_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
