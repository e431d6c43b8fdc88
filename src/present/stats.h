/* SPDX-License-Identifier: MIT */
/*
 * stats - the statistics behind 'scorch diff', written for it: distribution functions, the tests it
 * runs and the multiple-testing correction. Pure functions of their arguments (libm only).
 *
 * p-values are two-sided. Functions return NaN for arguments outside their domain.
 */
#ifndef SCORCH_STATS_H
#define SCORCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Standard normal CDF, and its inverse for 0 < p < 1. */
double stats__norm_cdf(double x);
double stats__norm_quantile(double p);

/* Regularized incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1. */
double stats__inc_beta(double x, double a, double b);

/* Student's t CDF with 'df' (> 0, need not be whole) degrees of freedom, and its inverse. */
double stats__t_cdf(double t, double df);
double stats__t_quantile(double p, double df);

struct stats_test {
	double stat; /* z or t */
	double df;   /* degrees of freedom (Welch), 0 for z */
	double p;    /* two-sided p-value */
	double se;   /* standard error of the difference of shares */
};

/*
 * Two-proportion z-test with pooled variance: x1 of n1 against x2 of n2 (the statistic's sign is
 * that of x2/n2 - x1/n1). When the pooled share is 0 or 1 (no variance), p is 1.
 */
struct stats_test stats__two_prop(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2);

/*
 * Welch's unequal-variance t-test of the mean of b against the mean of a (na, nb >= 2). When both
 * sample variances are 0, p is 1 if the means are equal and 0 otherwise.
 */
struct stats_test stats__welch(const double *a, size_t na, const double *b, size_t nb);

/*
 * Benjamini-Hochberg: write into q[i] the adjusted p-value of p[i] (monotone step-up:
 * q(k) = min over j >= k of p(j) * m / j, capped at 1). Rejecting q <= alpha controls the false
 * discovery rate at alpha. NaN p-values are treated as 1. Returns 0 or -ENOMEM.
 */
int stats__bh(const double *p, size_t m, double *q);

/*
 * Minimum detectable difference of two proportions, at two-sided level alpha and power 'power',
 * for a baseline share p0 with n1 and n2 samples: (z(1-alpha/2) + z(power)) * sqrt(p0(1-p0)(1/n1+1/n2)).
 */
double stats__mde_two_prop(double p0, uint64_t n1, uint64_t n2, double alpha, double power);

#endif
