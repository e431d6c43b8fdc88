// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "fileio.h"

static int memfd_with(size_t n, char fill)
{
	int fd = memfd_create("t", MFD_CLOEXEC);
	char *b = malloc(n ? n : 1);

	assert_true(fd >= 0);
	memset(b, fill, n);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	lseek(fd, 0, SEEK_SET);
	free(b);
	return fd;
}

static void test_reads_everything_nul_terminated(void **state)
{
	/* 200 KiB crosses several buffer doublings. */
	int fd = memfd_with(200 * 1024, 'x');
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(fileio__read_all(fd, 1 << 20, &buf, &len), 0);
	assert_int_equal(len, 200 * 1024);
	assert_int_equal(buf[len - 1], 'x');
	assert_int_equal(buf[len], '\0');
	free(buf);
	close(fd);
}

static void test_empty(void **state)
{
	int fd = memfd_with(0, 0);
	char *buf;
	size_t len = 99;

	(void)state;
	assert_int_equal(fileio__read_all(fd, 10, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	close(fd);
}

static void test_cap(void **state)
{
	int fd = memfd_with(5000, 'y');
	char *buf = (char *)1;
	size_t len;

	(void)state;
	assert_int_equal(fileio__read_all(fd, 4999, &buf, &len), -EFBIG);
	assert_null(buf);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(fileio__read_all(fd, 5000, &buf, &len), 0);
	assert_int_equal(len, 5000);
	free(buf);
	close(fd);
}

static void test_pipe(void **state)
{
	int p[2];
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "abc", 3), 3);
	close(p[1]);
	assert_int_equal(fileio__read_all(p[0], 100, &buf, &len), 0);
	assert_int_equal(len, 3);
	assert_string_equal(buf, "abc");
	free(buf);
	close(p[0]);
}

static void test_read_error(void **state)
{
	int fd = open("/", O_RDONLY | O_DIRECTORY);
	char *buf;
	size_t len;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fileio__read_all(fd, 100, &buf, &len), -EISDIR);
	assert_null(buf);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_everything_nul_terminated),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_read_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
