// SPDX-License-Identifier: MIT
/*
 * Unit tests for the growable byte buffer (src/base/buf.h): appends grow it and keep a NUL after the
 * data, a zeroed buffer is usable, reset and truncate keep the memory, and a bounded buffer refuses
 * to pass its bound with a sticky -E2BIG.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "buf.h"

static void test_grow(void **state)
{
	struct buf b = { 0 }; /* zeroed: empty and unlimited */
	char big[10000];
	size_t i;

	(void)state;
	assert_string_equal(buf__str(&b), "");
	assert_int_equal(buf__put(&b, NULL, 0), 0);
	assert_int_equal(buf__puts(&b, "ab"), 0);
	assert_int_equal(buf__putc(&b, 'c'), 0);
	assert_int_equal(b.len, 3);
	assert_string_equal(buf__str(&b), "abc");
	memset(big, 'x', sizeof(big));
	for (i = 0; i < 100; i++)
		assert_int_equal(buf__put(&b, big, sizeof(big)), 0);
	assert_int_equal(b.len, 3 + 100 * sizeof(big));
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data, "abcxxx", 6);
	buf__truncate(&b, 2);
	assert_string_equal(buf__str(&b), "ab");
	buf__reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf__str(&b), "");
	assert_true(b.cap > 0);
	buf__release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	buf__release(&b);
}

static void test_bound(void **state)
{
	struct buf b;

	(void)state;
	buf__init(&b, 8); /* 7 bytes and the NUL */
	assert_int_equal(buf__puts(&b, "1234567"), 0);
	assert_int_equal(buf__putc(&b, '8'), -E2BIG);
	assert_int_equal(b.err, -E2BIG);
	assert_string_equal(buf__str(&b), "1234567");
	/* Sticky: even what would fit after a cut is refused. */
	buf__truncate(&b, 1);
	assert_int_equal(buf__putc(&b, 'x'), -E2BIG);
	assert_int_equal(buf__reserve(&b, 0), -E2BIG);
	assert_true(b.cap <= 8);
	buf__release(&b);
	assert_int_equal(b.max, 8);
	assert_int_equal(b.err, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
