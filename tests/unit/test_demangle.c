// SPDX-License-Identifier: MIT
/* Unit tests for the demangler (src/symbol/demangle.h): C++ through libstdc++, our Rust legacy and v0 decoders. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demangle.h"

static void expect(const char *mangled, const char *want)
{
	char *got = demangle__name(mangled);

	if (!got)
		fail_msg("'%.200s' was not demangled", mangled);
	if (strcmp(got, want) != 0) {
		char msg[600];

		snprintf(msg, sizeof(msg), "'%.120s' gave '%.200s', want '%.200s'", mangled, got, want);
		free(got);
		fail_msg("%s", msg);
	}
	free(got);
}

static void expect_none(const char *name)
{
	char *got;

	errno = 0;
	got = demangle__name(name);
	if (got) {
		char msg[300];

		snprintf(msg, sizeof(msg), "'%.100s' gave '%.100s'", name, got);
		free(got);
		fail_msg("%s", msg);
	}
	assert_int_equal(errno, EINVAL);
}

static void test_cxx(void **state)
{
	(void)state;
	expect("_ZN3geo5totalERKSt6vectorINS_3VecIdEESaIS2_EE",
	       "geo::total(std::vector<geo::Vec<double>, std::allocator<geo::Vec<double> > > const&)");
	expect("_ZNK3geo3VecIdE3dotERKS1_", "geo::Vec<double>::dot(geo::Vec<double> const&) const");
	expect("_ZN7Counter3addERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE",
	       "Counter::add(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)");
	expect("_Z4workv", "work()");
	expect("_ZZ4mainENKUliE_clEi", "main::{lambda(int)#1}::operator()(int) const");
}

/*
 * A name of nested substitutions that expands to gigabytes (13 s and 2.2 GB through __cxa_demangle):
 * the demangler stops at DEMANGLE_MAX_OUTPUT, at once, and the raw name is kept (E2BIG). One level
 * fewer and fewer: the names that fit still come out whole.
 */
static void test_cxx_bomb(void **state)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char name[512], small[64];
	char *got;
	int i;

	(void)state;
	strcpy(name, "_Z1f1AIiiE");
	for (i = 0; i < 26; i++)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "S_IS%c_S%c_E", digits[i], digits[i]);
	errno = 0;
	got = demangle__name(name); /* __cxa_demangle returned the whole 2.2 GB here */
	assert_null(got);
	assert_int_equal(errno, E2BIG);

	strcpy(small, "_Z1f1AIiiE");
	strcat(small, "S_IS0_S0_E");
	got = demangle__name(small);
	assert_non_null(got);
	assert_true(strlen(got) < DEMANGLE_MAX_OUTPUT);
	assert_non_null(strstr(got, "A<int, int>"));
	free(got);
}

static void test_not_mangled(void **state)
{
	(void)state;
	expect_none("main");
	expect_none("plain_c_function");
	expect_none("");
	expect_none("_Z");        /* truncated */
	expect_none("_ZN3foo");   /* unterminated nested name */
	expect_none("_R");        /* empty v0 */
}

static void test_rust_legacy(void **state)
{
	(void)state;
	expect("_ZN4core3fmt9Formatter3pad17h0123456789abcdefE", "core::fmt::Formatter::pad");
	expect("_ZN66_$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..drop..Drop$GT$4drop17h0123456789abcdefE",
	       "<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop");
	expect("_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h3f2bd3b4b8e2e0a1E",
	       "std::rt::lang_start::{{closure}}");
	expect("_ZN7mycrate5$RF$x3foo17haaaaaaaaaaaaaaaaE", "mycrate::&x::foo");
	/* Bad escapes and lengths are rejected by the decoder itself. */
	assert_null(demangle__rust_legacy("_ZN7mycrate5$XX$a17h0123456789abcdefE"));
	assert_null(demangle__rust_legacy("_ZN99short17h0123456789abcdefE"));
	assert_null(demangle__rust_legacy("_ZN3foo3bar"));
}

static void test_rust_v0(void **state)
{
	(void)state;
	expect("_RNvC6_123foo3bar", "123foo::bar");
	expect("_RNvCs15kBYyAo9fc_7mycrate7example", "mycrate::example");
	expect("_RINvNtC3std3mem8align_ofdE", "std::mem::align_of::<f64>");
	/* A back reference to the crate root "std" at offset 4. */
	expect("_RINvNtC3std3mem8align_ofINtB4_4WrapdEE", "std::mem::align_of::<std::Wrap<f64>>");
	expect("_RNvMNtC7mycrate3fooNtB2_3Bar3new", "<mycrate::foo::Bar>::new");
	expect("_RNvXCs1_7mycrateNtB2_3FooNtNtC4core3fmt7Display3fmt", "<mycrate::Foo as core::fmt::Display>::fmt");
	expect("_RNCNvC7mycrate4main0B3_", "mycrate::main::{closure#0}");
	expect("_RINvC7mycrate4swapTRhQmEE", "mycrate::swap::<(&u8, &mut u32)>");
	expect("_RINvC7mycrate3arrAhj4_E", "mycrate::arr::<[u8; 4]>");
	expect("_RINvC7mycrate2fpFUKCjEuE", "mycrate::fp::<unsafe extern \"C\" fn(usize)>");
	/* Malformed: back references forward or to themselves, bad tags, trailing junk, deep nesting. */
	assert_null(demangle__rust_v0("_RNvB0_3foo"));
	assert_null(demangle__rust_v0("_RNvBz_3foo"));
	assert_null(demangle__rust_v0("_RNvC3foo3barX"));
	assert_null(demangle__rust_v0("_RNvC99foo3bar"));
	assert_null(demangle__rust_v0("_RQ"));
	{
		char deep[DEMANGLE_MAX_INPUT];
		size_t i;

		strcpy(deep, "_RINvC1a1b");
		for (i = strlen(deep); i < 2000; i++)
			deep[i] = 'S';
		deep[i] = '\0';
		assert_null(demangle__rust_v0(deep));
	}
}

static void test_bounds(void **state)
{
	char *big = malloc(DEMANGLE_MAX_INPUT + 10);

	(void)state;
	assert_non_null(big);
	memset(big, 'a', DEMANGLE_MAX_INPUT + 9);
	memcpy(big, "_ZN", 3);
	big[DEMANGLE_MAX_INPUT + 9] = '\0';
	assert_null(demangle__name(big));
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cxx),
		cmocka_unit_test(test_cxx_bomb),
		cmocka_unit_test(test_not_mangled),
		cmocka_unit_test(test_rust_legacy),
		cmocka_unit_test(test_rust_v0),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
