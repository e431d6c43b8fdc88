// SPDX-License-Identifier: MIT
/* Unit tests for the tests' hooks (src/base/testhooks.h): strict parsing, read once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "testhooks.h"

static void test_unset(void **state)
{
	(void)state;
	unsetenv("SCORCH_TEST_MAX_THREADS");
	unsetenv("SCORCH_TEST_SANDBOX_STALL");
	unsetenv("SCORCH_TEST_SANDBOX_REQUESTS");
	assert_int_equal(testhooks__load(), 0);
	assert_false(testhooks__set(TESTHOOK_MAX_THREADS));
	assert_int_equal(testhooks__num(TESTHOOK_MAX_THREADS), 0);
	assert_null(testhooks__str(TESTHOOK_SANDBOX_STALL));
	assert_false(testhooks__set(TESTHOOK_SANDBOX_REQUESTS));
	assert_string_equal(testhooks__name(TESTHOOK_MAX_THREADS), "SCORCH_TEST_MAX_THREADS");
}

static void test_values(void **state)
{
	(void)state;
	setenv("SCORCH_TEST_MAX_THREADS", "50", 1);
	setenv("SCORCH_TEST_SANDBOX_STALL", "/bomb", 1);
	setenv("SCORCH_TEST_SANDBOX_REQUESTS", "1", 1);
	setenv("SCORCH_TEST_IMAGES_BUDGET", "0", 1);
	assert_int_equal(testhooks__load(), 0);
	assert_int_equal(testhooks__num(TESTHOOK_MAX_THREADS), 50);
	assert_string_equal(testhooks__str(TESTHOOK_SANDBOX_STALL), "/bomb");
	assert_true(testhooks__set(TESTHOOK_SANDBOX_REQUESTS));
	/* 0 is a value, not "unset" */
	assert_true(testhooks__set(TESTHOOK_IMAGES_BUDGET));
	assert_int_equal(testhooks__num(TESTHOOK_IMAGES_BUDGET), 0);
	/* read once: a change of the environment counts from the next load */
	setenv("SCORCH_TEST_MAX_THREADS", "7", 1);
	assert_int_equal(testhooks__num(TESTHOOK_MAX_THREADS), 50);
	assert_int_equal(testhooks__load(), 0);
	assert_int_equal(testhooks__num(TESTHOOK_MAX_THREADS), 7);
	/* a flag of "0" or "" is unset */
	setenv("SCORCH_TEST_SANDBOX_REQUESTS", "0", 1);
	assert_int_equal(testhooks__load(), 0);
	assert_false(testhooks__set(TESTHOOK_SANDBOX_REQUESTS));
	unsetenv("SCORCH_TEST_MAX_THREADS");
	unsetenv("SCORCH_TEST_SANDBOX_STALL");
	unsetenv("SCORCH_TEST_SANDBOX_REQUESTS");
	unsetenv("SCORCH_TEST_IMAGES_BUDGET");
}

/* A malformed number is an error (and reads as unset), never a silent 0 or a prefix. */
static void test_malformed(void **state)
{
	static const char *const bad[] = { "", "x", "12x", "-1", "+1", " 1", "1 ", "0x10",
					   "18446744073709551616" };
	size_t i;

	(void)state;
	log__set_level(LOG_QUIET + 0); /* the error messages still go to stderr: expected */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SCORCH_TEST_LAUNCH_SPIN_MS", bad[i], 1);
		assert_int_equal(testhooks__load(), -EINVAL);
		assert_false(testhooks__set(TESTHOOK_LAUNCH_SPIN_MS));
		assert_int_equal(testhooks__num(TESTHOOK_LAUNCH_SPIN_MS), 0);
	}
	setenv("SCORCH_TEST_LAUNCH_SPIN_MS", "18446744073709551615", 1);
	assert_int_equal(testhooks__load(), 0);
	assert_true(testhooks__num(TESTHOOK_LAUNCH_SPIN_MS) == UINT64_MAX);
	unsetenv("SCORCH_TEST_LAUNCH_SPIN_MS");
	assert_int_equal(testhooks__load(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
