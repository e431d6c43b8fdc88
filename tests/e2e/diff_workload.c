// SPDX-License-Identifier: MIT
/*
 * A workload with a known split of CPU time, for the 'scorch diff' end-to-end tests (built by them):
 *
 *   diff_workload PERMILLE SECONDS
 *
 * SECONDS is CPU time, not wall-clock time: on a busy machine the workload runs longer but still
 * gives the samples the test expects (the sampler counts CPU time too).
 * Each round does 1000 units of identical work: PERMILLE units in spin_a, 200 in spin_b, 300 in
 * spin_c and the rest (500 - PERMILLE) in spin_d, so spin_a's share is about PERMILLE/10 percent and
 * only spin_a and spin_d move when PERMILLE does. The four calls come in a random order each round:
 * with a fixed order, timer sampling can lock onto the round's period and bias the shares
 * differently from run to run (seen here: 3 false alarms in 28 pairs with a fixed order, none with
 * a random one).
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

volatile uint64_t sink;

#define SPIN(name)                                                                                     \
	__attribute__((noinline)) void name(unsigned units)                                            \
	{                                                                                              \
		uint64_t x = sink;                                                                     \
		unsigned long i;                                                                       \
		for (i = 0; i < units * 200UL; i++)                                                    \
			x = x * 31 + i;                                                                \
		sink = x;                                                                              \
	}

SPIN(spin_a)
SPIN(spin_b)
SPIN(spin_c)
SPIN(spin_d)

int main(int argc, char **argv)
{
	unsigned a = argc > 1 ? (unsigned)atoi(argv[1]) : 20, k;
	double secs = argc > 2 ? atof(argv[2]) : 2;
	uint64_t r = 88172645463325252ULL ^ (uint64_t)getpid();
	struct timespec t0, t;

	if (a > 500)
		return 2;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	do {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		for (k = 0; k < 4; k++) {
			switch ((k + r) & 3) {
			case 0: spin_a(a); break;
			case 1: spin_b(200); break;
			case 2: spin_c(300); break;
			case 3: spin_d(500 - a); break;
			}
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	return 0;
}
