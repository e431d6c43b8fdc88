// SPDX-License-Identifier: MIT
/*
 * Unit tests for the statistics of scorch diff (src/present/stats.h), against published table values and
 * closed forms: normal quantiles, Student t quantiles from standard tables, the Cauchy (t with 1 degree
 * of freedom) and t(2) closed forms, Welch's test on Wikipedia's worked example, and
 * Benjamini-Hochberg on examples adjusted by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "stats.h"

#define NEAR(got, want, tol)                                                                           \
	do {                                                                                           \
		double g_ = (got), w_ = (want);                                                        \
		if (!(fabs(g_ - w_) <= (tol)))                                                         \
			fail_msg("%s = %.12g, expected %.12g (+-%g)", #got, g_, w_, (double)(tol));    \
	} while (0)

static void test_normal(void **state)
{
	(void)state;
	NEAR(stats__norm_cdf(0), 0.5, 1e-15);
	NEAR(stats__norm_cdf(1.96), 0.9750021048517795, 1e-12);
	NEAR(stats__norm_cdf(-1), 0.15865525393145707, 1e-12);
	NEAR(stats__norm_cdf(-5), 2.866515718791939e-07, 1e-18);
	NEAR(stats__norm_quantile(0.975), 1.959963984540054, 1e-9);
	NEAR(stats__norm_quantile(0.8), 0.8416212335729143, 1e-9);
	NEAR(stats__norm_quantile(0.05), -1.6448536269514722, 1e-9);
	NEAR(stats__norm_quantile(0.995), 2.5758293035489004, 1e-9);
	assert_true(isnan(stats__norm_quantile(0)));
	assert_true(isnan(stats__norm_quantile(1)));
}

static void test_inc_beta(void **state)
{
	(void)state;
	/* Closed forms: I_x(a, 1) = x^a, I_x(1, b) = 1 - (1-x)^b, I_1/2(a, a) = 1/2. */
	NEAR(stats__inc_beta(0.3, 2.5, 1), pow(0.3, 2.5), 1e-12);
	NEAR(stats__inc_beta(0.7, 1, 4), 1 - pow(0.3, 4), 1e-12);
	NEAR(stats__inc_beta(0.5, 7.3, 7.3), 0.5, 1e-12);
	NEAR(stats__inc_beta(0.5, 200, 200), 0.5, 1e-10);
	/* I_x(2, 2) = 3x^2 - 2x^3 */
	NEAR(stats__inc_beta(0.2, 2, 2), 3 * 0.04 - 2 * 0.008, 1e-12);
	NEAR(stats__inc_beta(0, 2, 3), 0, 0);
	NEAR(stats__inc_beta(1, 2, 3), 1, 0);
	assert_true(isnan(stats__inc_beta(0.5, 0, 1)));
	assert_true(isnan(stats__inc_beta(1.5, 1, 1)));
}

static void test_t(void **state)
{
	(void)state;
	/* t(1) is the Cauchy distribution: F(t) = 1/2 + atan(t)/pi. */
	NEAR(stats__t_cdf(1, 1), 0.75, 1e-12);
	NEAR(stats__t_cdf(-3, 1), 0.5 + atan(-3) / M_PI, 1e-12);
	/* t(2): F(t) = 1/2 + t / (2 sqrt(2 + t^2)). */
	NEAR(stats__t_cdf(2, 2), 0.5 + 2 / (2 * sqrt(6)), 1e-12);
	NEAR(stats__t_cdf(0, 7), 0.5, 1e-15);
	/* Two-sided 5% critical values from the standard t table. */
	NEAR(stats__t_cdf(12.706, 1), 0.975, 1e-5);
	NEAR(stats__t_cdf(2.228, 10), 0.975, 1e-4);
	NEAR(stats__t_cdf(2.042, 30), 0.975, 1e-4);
	NEAR(stats__t_cdf(2.015, 5), 0.95, 1e-4);
	NEAR(stats__t_cdf(-2.845, 20), 0.005, 1e-4);
	/* Quantiles: the table read the other way; a huge df tends to the normal. */
	NEAR(stats__t_quantile(0.975, 10), 2.228138851986522, 1e-7);
	NEAR(stats__t_quantile(0.975, 4), 2.7764451051977987, 1e-7);
	NEAR(stats__t_quantile(0.8, 3), 0.9784723123633045, 1e-7);
	NEAR(stats__t_quantile(0.975, 1e7), 1.959963984540054, 1e-5);
	NEAR(stats__t_cdf(stats__t_quantile(0.01, 2.5), 2.5), 0.01, 1e-10);
}

static void test_two_prop(void **state)
{
	struct stats_test t;

	(void)state;
	/* 50/100 against 60/100: pooled 0.55, se = sqrt(0.55 * 0.45 * 0.02), z = 0.1 / se. */
	t = stats__two_prop(50, 100, 60, 100);
	NEAR(t.se, sqrt(0.55 * 0.45 * 0.02), 1e-12);
	NEAR(t.stat, 1.4213381090374024, 1e-9);
	NEAR(t.p, 0.1552184896846842, 1e-9);
	/* Sign follows new minus base. */
	t = stats__two_prop(60, 100, 50, 100);
	NEAR(t.stat, -1.4213381090374024, 1e-9);
	t = stats__two_prop(20, 1000, 70, 1003);
	NEAR(t.stat, 5.378483076143164, 1e-9);
	NEAR(t.p, 7.511604166508654e-08, 1e-15);
	/* No variance: nothing to test. */
	t = stats__two_prop(0, 100, 0, 50);
	NEAR(t.p, 1, 0);
	t = stats__two_prop(100, 100, 50, 50);
	NEAR(t.p, 1, 0);
	t = stats__two_prop(1, 0, 1, 1);
	assert_true(isnan(t.p));
}

static void test_welch(void **state)
{
	/* Wikipedia, "Welch's t-test", example 1: t = 2.46 (b over a), df = 24.99, p = 0.021. */
	static const double a[] = { 27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4 };
	static const double b[] = { 27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4 };
	static const double c[] = { 1, 1, 1 }, e[] = { 2, 2 };
	struct stats_test t;

	(void)state;
	t = stats__welch(a, 15, b, 15);
	NEAR(t.stat, 2.455356398286006, 1e-9);
	NEAR(t.df, 24.98852929023142, 1e-9);
	NEAR(t.p, 0.0214, 0.0005);
	t = stats__welch(b, 15, a, 15);
	NEAR(t.stat, -2.455356398286006, 1e-9);
	/* No variance on either side. */
	t = stats__welch(c, 3, c, 3);
	NEAR(t.p, 1, 0);
	t = stats__welch(c, 3, e, 2);
	NEAR(t.p, 0, 0);
	t = stats__welch(c, 1, e, 2);
	assert_true(isnan(t.p));
}

static void test_bh(void **state)
{
	static const double p1[] = { 0.01, 0.04, 0.03, 0.005 };
	static const double q1[] = { 0.02, 0.04, 0.04, 0.02 };
	/* Step-up: 0.039 * 8 / 3 = 0.104 is lowered to the 0.0672 of rank 5. */
	static const double p2[] = { 0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205 };
	static const double q2[] = { 0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.0845714285714, 0.205 };
	static const double p3[] = { 0.01, NAN, 0.02 }; /* NaN counts as 1 */
	double q[8];
	size_t i;

	(void)state;
	assert_int_equal(stats__bh(p1, 4, q), 0);
	for (i = 0; i < 4; i++)
		NEAR(q[i], q1[i], 1e-12);
	assert_int_equal(stats__bh(p2, 8, q), 0);
	for (i = 0; i < 8; i++)
		NEAR(q[i], q2[i], 1e-9);
	assert_int_equal(stats__bh(p3, 3, q), 0);
	NEAR(q[0], 0.03, 1e-12);
	NEAR(q[1], 1, 0);
	NEAR(q[2], 0.03, 1e-12);
	assert_int_equal(stats__bh(p1, 0, q), 0);
}

static void test_mde(void **state)
{
	(void)state;
	/* (1.959964 + 0.841621) * sqrt(0.05 * 0.95 * 2 / 1000) */
	NEAR(stats__mde_two_prop(0.05, 1000, 1000, 0.05, 0.8), 2.8015852 * sqrt(0.05 * 0.95 * 0.002), 1e-6);
	NEAR(stats__mde_two_prop(0, 1000, 1000, 0.05, 0.8), 0, 0);
	assert_true(isnan(stats__mde_two_prop(0.5, 0, 10, 0.05, 0.8)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),   cmocka_unit_test(test_inc_beta), cmocka_unit_test(test_t),
		cmocka_unit_test(test_two_prop), cmocka_unit_test(test_welch),    cmocka_unit_test(test_bh),
		cmocka_unit_test(test_mde),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
