// SPDX-License-Identifier: MIT
/* Unit tests for the JIT perf map parser and loader (src/symbol/perfmap.h). */
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


/* Over the size cap: refused before anything is read; an unchanged file is not parsed again. */
static void test_cap_and_unchanged(void **state)
{
	char path[] = "/tmp/scorch-perfmap-cap.XXXXXX";
	struct perfmap m;
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("1000 10 first\n", f);
	fclose(f);
	perfmap__init(&m);
	assert_int_equal(perfmap__load(&m, NULL, path, getuid()), 0);
	assert_string_equal(name_at(&m, 0x1000), "first");
	/* Same file, unchanged: kept as it is. */
	assert_int_equal(perfmap__load(&m, NULL, path, getuid()), -EALREADY);
	assert_string_equal(name_at(&m, 0x1000), "first");
	/* Changed (size): read again. */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("2000 10 second\n", f);
	fclose(f);
	assert_int_equal(perfmap__load(&m, NULL, path, getuid()), 0);
	assert_string_equal(name_at(&m, 0x2000), "second");
	/* One byte over the cap: -EFBIG, and what was loaded stays. */
	assert_int_equal(truncate(path, (off_t)PERFMAP_MAX_SIZE + 1), 0);
	assert_int_equal(perfmap__load(&m, NULL, path, getuid()), -EFBIG);
	assert_string_equal(name_at(&m, 0x2000), "second");
	assert_true(PERFMAP_MAX_SIZE <= (16u << 20));
	perfmap__release(&m);
	unlink(path);
}

/* A fake jcmd in a directory of its own, put first in PATH; returns the directory. */
static char *fake_jcmd(const char *body)
{
	static char dir[64];
	char path[128];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/scorch-jcmd.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/jcmd", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", dir);
	setenv("PATH", path, 1);
	return dir;
}

static void rm_dir(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_ask_jvm(void **state)
{
	char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL, out[64], *dir;
	uid_t uid = getuid() == 0 ? 65534 : getuid();
	gid_t gid = getuid() == 0 ? 65534 : getgid();
	unsigned long got_uid = 0, got_pid = 0;
	char cmd[64] = "";
	FILE *f;

	(void)state;
	/* Nothing called jcmd in PATH. */
	setenv("PATH", "/nonexistent", 1);
	assert_int_equal(perfmap__ask_jvm(123, uid, gid, 5000, 0), -ENOENT);
	/* Runs as the given user, with the pid and the command, and its stdout discarded. */
	snprintf(out, sizeof(out), "/tmp/scorch-jcmd-out.%d", (int)getpid());
	unlink(out);
	{
		char body[256];

		snprintf(body, sizeof(body), "echo \"$(id -u) $1 $2\" > %s; echo noise", out);
		dir = fake_jcmd(body);
	}
	if (getuid() == 0) { /* the fake writes its output as that user: let it */
		int fd = open(out, O_CREAT | O_WRONLY, 0666);

		assert_true(fd >= 0);
		assert_int_equal(fchown(fd, uid, gid), 0);
		close(fd);
	}
	assert_int_equal(perfmap__ask_jvm(123, uid, gid, 10000, 0), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu %lu %63s", &got_uid, &got_pid, cmd), 3);
	fclose(f);
	assert_int_equal(got_uid, uid);
	assert_int_equal(got_pid, 123);
	assert_string_equal(cmd, "Compiler.perfmap");
	unlink(out);
	rm_dir(dir);
	/* Failure, and a jcmd that hangs: killed after the timeout. */
	dir = fake_jcmd("exit 1");
	assert_int_equal(perfmap__ask_jvm(123, uid, gid, 10000, 0), -EIO);
	rm_dir(dir);
	dir = fake_jcmd("sleep 30");
	assert_int_equal(perfmap__ask_jvm(123, uid, gid, 300, 0), -ETIMEDOUT);
	rm_dir(dir);
	if (old)
		setenv("PATH", old, 1);
	free(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_cap_and_unchanged),
		cmocka_unit_test(test_ask_jvm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
