// SPDX-License-Identifier: MIT
/*
 * Unit tests for the array helpers (src/base/array.h): growing zeroes the new elements, and the
 * search of a sorted array finds the element after the last key at or below a value, with equal
 * keys, at both ends and in an empty array.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "array.h"

struct sym {
	const char *name;
	uint64_t addr;
};

static void test_grow(void **state)
{
	uint32_t *a = NULL;
	size_t cap = 0, i;

	(void)state;
	assert_int_equal(array__grow(&a, &cap, 3, sizeof(*a)), 0);
	assert_int_equal(cap, 16);
	a[15] = 7;
	assert_int_equal(array__grow(&a, &cap, 17, sizeof(*a)), 0);
	assert_int_equal(cap, 32);
	assert_int_equal(a[15], 7);
	for (i = 16; i < cap; i++)
		assert_int_equal(a[i], 0);
	free(a);
}

static size_t upper(const struct sym *s, size_t n, uint64_t key)
{
	return array__upper_bound_u64(s, n, sizeof(*s), offsetof(struct sym, addr), key);
}

static void test_upper_bound(void **state)
{
	static const struct sym s[] = { { "a", 10 }, { "b", 20 }, { "c", 20 }, { "d", 30 } };

	(void)state;
	assert_int_equal(upper(s, 0, 50), 0);
	assert_int_equal(upper(s, 4, 0), 0);  /* below the first: none at or below */
	assert_int_equal(upper(s, 4, 10), 1); /* equal to a key: that element is the last */
	assert_int_equal(upper(s, 4, 19), 1);
	assert_int_equal(upper(s, 4, 20), 3); /* equal keys: the last of them */
	assert_int_equal(upper(s, 4, 29), 3);
	assert_int_equal(upper(s, 4, UINT64_MAX), 4);
	assert_int_equal(upper(s, 1, 10), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_upper_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
