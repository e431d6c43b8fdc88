// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "utf8.h"

static size_t seq(const char *s, size_t n, uint32_t *cp)
{
	return utf8__seq((const unsigned char *)s, n, cp);
}

static void test_valid(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(seq("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(seq("\xc3\xa9", 2, &cp), 2); /* é */
	assert_int_equal(cp, 0xe9);
	assert_int_equal(seq("\xe2\x82\xac", 3, &cp), 3); /* € */
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(seq("\xf0\x9f\x94\xa5", 4, &cp), 4); /* U+1F525 */
	assert_int_equal(cp, 0x1f525);
	assert_int_equal(seq("\xef\xbf\xbe", 3, &cp), 3); /* U+FFFE is UTF-8; XML writers refuse it themselves */
	assert_int_equal(cp, 0xfffe);
}

static void test_invalid(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(seq("\x80", 1, &cp), 0);             /* a lone continuation byte */
	assert_int_equal(seq("\xc3", 1, &cp), 0);             /* cut short */
	assert_int_equal(seq("\xe2\x82\xac", 2, &cp), 0);     /* cut short by n */
	assert_int_equal(seq("\xc3\x28", 2, &cp), 0);         /* bad continuation */
	assert_int_equal(seq("\xc0\xaf", 2, &cp), 0);         /* overlong '/' */
	assert_int_equal(seq("\xe0\x80\xaf", 3, &cp), 0);     /* overlong */
	assert_int_equal(seq("\xed\xa0\x80", 3, &cp), 0);     /* a surrogate */
	assert_int_equal(seq("\xf4\x90\x80\x80", 4, &cp), 0); /* past U+10FFFF */
	assert_int_equal(seq("\xff", 1, &cp), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
