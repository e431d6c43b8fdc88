// SPDX-License-Identifier: MIT
/* Unit tests for the JIT perf map parser and loader (src/perfmap.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfmap.h"

static void parse(struct perfmap *m, const char *text)
{
	perfmap__init(m);
	assert_int_equal(perfmap__parse(m, text, strlen(text)), 0);
}

static const char *name_at(const struct perfmap *m, uint64_t addr)
{
	const struct perfmap_entry *e = perfmap__find(m, addr);

	return e ? e->name : NULL;
}

static void test_basic(void **state)
{
	struct perfmap m;

	(void)state;
	parse(&m, "7f0000001000 40 LazyCompile:~main /app/index.js:1\n"
		  "0x7f0000002000 0x10 Builtin:ArgumentsAdaptor\n"
		  "7f0000000800 8 stub\r\n");
	assert_int_equal(m.nr, 3);
	assert_int_equal(m.bad_lines, 0);
	assert_string_equal(name_at(&m, 0x7f0000001000), "LazyCompile:~main /app/index.js:1");
	assert_string_equal(name_at(&m, 0x7f000000103f), "LazyCompile:~main /app/index.js:1");
	assert_null(name_at(&m, 0x7f0000001040));
	assert_string_equal(name_at(&m, 0x7f000000200f), "Builtin:ArgumentsAdaptor");
	assert_string_equal(name_at(&m, 0x7f0000000807), "stub");
	assert_null(name_at(&m, 0x7f00000007ff));
	assert_null(name_at(&m, 0));
	perfmap__release(&m);
}

static void test_malformed_lines(void **state)
{
	struct perfmap m;
	char *big;
	size_t n = PERFMAP_MAX_LINE + 100;

	(void)state;
	parse(&m, "zz 10 bad_start\n"
		  "1000 zz bad_size\n"
		  "1000 10\n"                  /* no name */
		  "1000\n"
		  "2000 0 empty_region\n"
		  "fffffffffffffff0 100 wraps\n"
		  "11112222333344445 10 too_long_number\n"
		  "\n"
		  "3000 10 good\n"
		  "4000 10 cut_short");        /* no newline: half-written */
	assert_int_equal(m.nr, 1);
	assert_int_equal(m.bad_lines, 8);
	assert_string_equal(name_at(&m, 0x3005), "good");
	perfmap__release(&m);

	/* An overlong line is skipped whole, and the next line still parses. */
	big = malloc(n + 64);
	assert_non_null(big);
	memcpy(big, "5000 10 ", 8);
	memset(big + 8, 'a', n - 8);
	strcpy(big + n, "\n6000 10 after\n");
	parse(&m, big);
	assert_int_equal(m.nr, 1);
	assert_int_equal(m.bad_lines, 1);
	assert_string_equal(name_at(&m, 0x6000), "after");
	perfmap__release(&m);
	free(big);

	/* Control characters in names are neutralised. */
	parse(&m, "1000 10 a\tb\033[31mc\n");
	assert_string_equal(name_at(&m, 0x1000), "a?b?[31mc");
	perfmap__release(&m);
}

static void test_overlaps(void **state)
{
	struct perfmap m;

	(void)state;
	/* Code at 0x1000 recompiled: the later line wins; a later region inside clips the earlier one. */
	parse(&m, "1000 100 old\n"
		  "1000 80 new\n"
		  "2000 100 outer\n"
		  "2040 10 inner_later\n"
		  "3010 10 earlier_overlapped\n"
		  "3000 100 later_big\n");
	assert_string_equal(name_at(&m, 0x1000), "new");
	assert_null(name_at(&m, 0x1090));
	assert_string_equal(name_at(&m, 0x2000), "outer");
	assert_string_equal(name_at(&m, 0x2045), "inner_later");
	assert_null(name_at(&m, 0x2080));
	assert_string_equal(name_at(&m, 0x3015), "later_big");
	assert_string_equal(name_at(&m, 0x30ff), "later_big");
	perfmap__release(&m);
}

static void test_load(void **state)
{
	char dir[] = "/tmp/scorch-perfmap.XXXXXX", path[128], cmd[256];
	struct perfmap m;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	perfmap__init(&m);
	snprintf(path, sizeof(path), "%s/perf-1.map", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("1000 10 jitted\n", f);
	fclose(f);
	/* Owned by us: loaded. */
	assert_int_equal(perfmap__load(&m, NULL, path, getuid()), 0);
	assert_string_equal(name_at(&m, 0x1001), "jitted");
	perfmap__release(&m);
	/* Owned by another user (and not root): refused. */
	if (getuid() == 0) {
		assert_int_equal(chown(path, 12345, 12345), 0);
		assert_int_equal(perfmap__load(&m, NULL, path, 54321), -EPERM);
		assert_int_equal(perfmap__load(&m, NULL, path, 12345), 0);
		perfmap__release(&m);
	}
	/* Not a regular file: a FIFO must not block, a directory is refused. */
	snprintf(path, sizeof(path), "%s/perf-2.map", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(perfmap__load(&m, NULL, path, getuid()), -EINVAL);
	assert_int_equal(perfmap__load(&m, NULL, dir, getuid()), -EINVAL);
	/* Inside a root, the path stays inside. */
	assert_int_equal(perfmap__load(&m, dir, "/perf-1.map", getuid() == 0 ? 12345 : getuid()), 0);
	assert_string_equal(name_at(&m, 0x1001), "jitted");
	perfmap__release(&m);
	assert_int_equal(perfmap__load(&m, dir, "/../../etc/passwd", 0), -ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
