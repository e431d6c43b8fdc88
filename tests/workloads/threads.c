// SPDX-License-Identifier: MIT
/*
 * Threads started late: main waits argv[1] seconds (default 1), then starts 3 threads that run
 * worker_a, worker_b, worker_c for argv[2] seconds (default 2) while main spins in main_loop.
 * Prints "ready" when it starts, so a test can attach first.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;
static double run_secs = 2.0;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

__attribute__((noinline)) static void burn(double secs)
{
	double end = now() + secs;

	while (now() < end) {
		uint64_t x = sink, i;

		for (i = 0; i < 100000; i++)
			x = x * 6364136223846793005ULL + 1;
		sink = x;
	}
}

__attribute__((noinline)) void *worker_a(void *arg) { (void)arg; burn(run_secs); return NULL; }
__attribute__((noinline)) void *worker_b(void *arg) { (void)arg; burn(run_secs); return NULL; }
__attribute__((noinline)) void *worker_c(void *arg) { (void)arg; burn(run_secs); return NULL; }
__attribute__((noinline)) void main_loop(void) { burn(run_secs); }

int main(int argc, char **argv)
{
	pthread_t t[3];
	double delay = argc > 1 ? atof(argv[1]) : 1.0;

	if (argc > 2)
		run_secs = atof(argv[2]);
	printf("ready\n");
	fflush(stdout);
	usleep((useconds_t)(delay * 1e6));
	pthread_create(&t[0], NULL, worker_a, NULL);
	pthread_create(&t[1], NULL, worker_b, NULL);
	pthread_create(&t[2], NULL, worker_c, NULL);
	main_loop();
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	pthread_join(t[2], NULL);
	return 0;
}
