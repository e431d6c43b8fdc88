// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "stats.h"

double stats__norm_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

double stats__norm_quantile(double p)
{
	double lo = -40, hi = 40, x = 0;
	int i;

	if (!(p > 0 && p < 1))
		return NAN;
	/* Bisection to a first guess, then Newton steps polish it to full precision. */
	for (i = 0; i < 60; i++) {
		x = 0.5 * (lo + hi);
		if (stats__norm_cdf(x) < p)
			lo = x;
		else
			hi = x;
	}
	for (i = 0; i < 3; i++) {
		double pdf = exp(-0.5 * x * x) / sqrt(2 * M_PI);

		if (pdf <= 0)
			break;
		x -= (stats__norm_cdf(x) - p) / pdf;
	}
	return x;
}

/* Continued fraction for I_x(a, b), evaluated by the modified Lentz method. */
static double beta_cf(double x, double a, double b)
{
	const double tiny = 1e-300, eps = 1e-15;
	double c = 1, d = 1 - (a + b) * x / (a + 1), h;
	int m;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	h = d;
	for (m = 1; m <= 1000; m++) {
		double m2 = 2.0 * m, num, del;

		num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
		d = 1 + num * d;
		d = fabs(d) < tiny ? tiny : d;
		c = 1 + num / c;
		c = fabs(c) < tiny ? tiny : c;
		d = 1 / d;
		h *= d * c;
		num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		d = 1 + num * d;
		d = fabs(d) < tiny ? tiny : d;
		c = 1 + num / c;
		c = fabs(c) < tiny ? tiny : c;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < eps)
			break;
	}
	return h;
}

double stats__inc_beta(double x, double a, double b)
{
	double lfront;

	if (!(a > 0 && b > 0 && x >= 0 && x <= 1))
		return NAN;
	if (x == 0 || x == 1)
		return x;
	lfront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
	/* The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise. */
	if (x < (a + 1) / (a + b + 2))
		return exp(lfront) * beta_cf(x, a, b) / a;
	return 1 - exp(lfront) * beta_cf(1 - x, b, a) / b;
}

double stats__t_cdf(double t, double df)
{
	double tail;

	if (!(df > 0) || isnan(t))
		return NAN;
	if (isinf(t))
		return t > 0 ? 1 : 0;
	/* P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2) */
	tail = 0.5 * stats__inc_beta(df / (df + t * t), df / 2, 0.5);
	return t > 0 ? 1 - tail : tail;
}

double stats__t_quantile(double p, double df)
{
	double lo = -1, hi = 1;
	int i;

	if (!(p > 0 && p < 1) || !(df > 0))
		return NAN;
	while (stats__t_cdf(lo, df) > p && lo > -1e12)
		lo *= 2;
	while (stats__t_cdf(hi, df) < p && hi < 1e12)
		hi *= 2;
	for (i = 0; i < 200 && hi - lo > 1e-12 * (1 + fabs(lo)); i++) {
		double mid = 0.5 * (lo + hi);

		if (stats__t_cdf(mid, df) < p)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

struct stats_test stats__two_prop(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2)
{
	struct stats_test r = { 0, 0, 1, 0 };
	double p1, p2, pp;

	if (!n1 || !n2 || x1 > n1 || x2 > n2) {
		r.p = NAN;
		return r;
	}
	p1 = (double)x1 / (double)n1;
	p2 = (double)x2 / (double)n2;
	pp = ((double)x1 + (double)x2) / ((double)n1 + (double)n2);
	r.se = sqrt(pp * (1 - pp) * (1 / (double)n1 + 1 / (double)n2));
	if (r.se > 0) {
		r.stat = (p2 - p1) / r.se;
		r.p = erfc(fabs(r.stat) / M_SQRT2);
	}
	return r;
}

static void mean_var(const double *v, size_t n, double *mean, double *var)
{
	double m = 0, s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		m += v[i];
	m /= (double)n;
	for (i = 0; i < n; i++)
		s += (v[i] - m) * (v[i] - m);
	*mean = m;
	*var = s / (double)(n - 1);
}

struct stats_test stats__welch(const double *a, size_t na, const double *b, size_t nb)
{
	struct stats_test r = { 0, 0, NAN, 0 };
	double ma, va, mb, vb, sa, sb;

	if (na < 2 || nb < 2)
		return r;
	mean_var(a, na, &ma, &va);
	mean_var(b, nb, &mb, &vb);
	sa = va / (double)na;
	sb = vb / (double)nb;
	r.se = sqrt(sa + sb);
	if (!(r.se > 0)) {
		r.p = ma == mb ? 1 : 0;
		r.stat = ma == mb ? 0 : (mb > ma ? INFINITY : -INFINITY);
		r.df = (double)(na + nb - 2);
		return r;
	}
	r.stat = (mb - ma) / r.se;
	/* Welch-Satterthwaite degrees of freedom. */
	r.df = (sa + sb) * (sa + sb) / (sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1));
	r.p = 2 * stats__t_cdf(-fabs(r.stat), r.df);
	if (r.p > 1)
		r.p = 1;
	return r;
}

static const double *bh_p;

static int cmp_idx(const void *x, const void *y)
{
	double a = bh_p[*(const size_t *)x], b = bh_p[*(const size_t *)y];

	a = isnan(a) ? 1 : a;
	b = isnan(b) ? 1 : b;
	if (a != b)
		return a < b ? -1 : 1;
	return (*(const size_t *)x > *(const size_t *)y) - (*(const size_t *)x < *(const size_t *)y);
}

int stats__bh(const double *p, size_t m, double *q)
{
	size_t *idx, k;
	double run = 1;

	if (!m)
		return 0;
	idx = malloc(m * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (k = 0; k < m; k++)
		idx[k] = k;
	bh_p = p;
	qsort(idx, m, sizeof(*idx), cmp_idx);
	for (k = m; k-- > 0;) {
		double pk = isnan(p[idx[k]]) ? 1 : p[idx[k]], v = pk * (double)m / (double)(k + 1);

		if (v < run)
			run = v;
		q[idx[k]] = run;
	}
	free(idx);
	return 0;
}

double stats__mde_two_prop(double p0, uint64_t n1, uint64_t n2, double alpha, double power)
{
	if (!n1 || !n2 || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1) || !(p0 >= 0 && p0 <= 1))
		return NAN;
	return (stats__norm_quantile(1 - alpha / 2) + stats__norm_quantile(power)) *
	       sqrt(p0 * (1 - p0) * (1 / (double)n1 + 1 / (double)n2));
}
