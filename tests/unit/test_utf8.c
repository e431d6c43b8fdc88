// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void check_printable(const char *in, const char *want)
{
	char buf[256], *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);

	assert_non_null(f);
	utf8__printable(in, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("utf8__printable('%s') gave '%s', expected '%s'", in, buf, want);
	utf8__fputs(in, f);
	fclose(f);
	if (strcmp(mem, want))
		fail_msg("utf8__fputs('%s') gave '%s', expected '%s'", in, mem, want);
	free(mem);
}

static void test_printable(void **state)
{
	char small[6];

	(void)state;
	check_printable("", "");
	check_printable("main", "main");
	check_printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5");
	/* C0 and DEL: a newline would split a row, ESC starts a sequence, BEL rings */
	check_printable("a\nb\rc\td\x1b[2Je\x07" "f\x7f" "g", "a?b?c?d?[2Je?f?g");
	/* C1 as a raw byte (CSI in an 8-bit terminal) and encoded in UTF-8 (CSI in a UTF-8 one) */
	check_printable("x\x9b" "31my", "x?31my");
	check_printable("x\xc2\x9b" "31my\xc2\x85z", "x?31my?z");
	check_printable("\xc2\xa0nbsp", "\xc2\xa0nbsp"); /* U+00A0 is printable */
	/* text reordering and line breaks */
	check_printable("ab\xe2\x80\xae" "dc", "ab?dc");
	check_printable("ab\xe2\x81\xa6" "c\xe2\x80\xa8", "ab?c?");
	/* bytes that are not UTF-8, one '?' each */
	check_printable("lat\xe9n", "lat?n");
	check_printable("cut\xe2\x82", "cut??");
	check_printable("\xc0\xaf", "??");
	/* cut on a character boundary */
	assert_string_equal(utf8__printable("ab\xe2\x82\xac", small, 5), "ab");
	assert_string_equal(utf8__printable("ab\xe2\x82\xac", small, 6), "ab\xe2\x82\xac");
	assert_string_equal(utf8__printable("abcdef", small, 1), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
