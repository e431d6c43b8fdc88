// SPDX-License-Identifier: MIT
/* Thread churn: 4 short-lived threads at a time, created and joined for argv[1] seconds (default 3). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
static volatile uint64_t sink;
__attribute__((noinline)) static void *short_life(void *a) { uint64_t x = sink, i; (void)a; for (i = 0; i < 200000; i++) x = x * 7 + i; sink = x; return NULL; }
int main(int argc, char **argv) {
	double secs = argc > 1 ? atof(argv[1]) : 3;
	struct timespec t0, t;
	long n = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		pthread_t th[4];
		int i;
		for (i = 0; i < 4; i++) pthread_create(&th[i], NULL, short_life, NULL);
		for (i = 0; i < 4; i++) pthread_join(th[i], NULL);
		n += 4;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	return n > 0 ? 0 : 1;
}
