// SPDX-License-Identifier: MIT
/*
 * The demo workload: a small "service" with a known shape, for `make demo` and the end-to-end tests.
 *
 *   main -> serve -> handle_request -> parse_json   (~20% of the work)
 *                                   -> compress     (~50%)
 *                                   -> checksum     (~30%)
 *
 * Runs for the number of seconds given as argv[1] (default 5), or forever with 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t sink;

/*
 * Each stage burns its own loop, so it is the leaf of its samples. The loop reads and writes a
 * volatile so that the compiler can neither hoist nor merge the calls.
 */
#define BURN(units)                                                               \
	do {                                                                      \
		uint64_t x = sink + (units), i;                                   \
		for (i = 0; i < (units) * 2000; i++)                              \
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;  \
		sink = x;                                                         \
	} while (0)

__attribute__((noinline)) uint64_t parse_json(void) { BURN(20); return sink; }
__attribute__((noinline)) uint64_t compress(void) { BURN(50); return sink; }
__attribute__((noinline)) uint64_t checksum(void) { BURN(30); return sink; }

__attribute__((noinline)) uint64_t handle_request(void)
{
	return parse_json() + compress() + checksum();
}

__attribute__((noinline)) void serve(double seconds)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int i;

		for (i = 0; i < 100; i++)
			sink += handle_request();
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (seconds > 0 && (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= seconds)
			break;
	}
}

int main(int argc, char **argv)
{
	serve(argc > 1 ? atof(argv[1]) : 5.0);
	return 0;
}
