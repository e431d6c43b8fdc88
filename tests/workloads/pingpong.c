// SPDX-License-Identifier: MIT
/*
 * A burst of context switches: two threads pass a byte back and forth over two pipes for argv[1]
 * seconds (default 3), each blocking in read() until the other writes: two switches per round trip.
 * Prints "ready" at the start and, at the end, "switches N per_sec R cpu_ms C" (two switches per round
 * trip; C: the CPU time the process used, user and system).
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int ping[2], pong[2];
static volatile int done;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

__attribute__((noinline)) static void *ponger(void *arg)
{
	char c;

	(void)arg;
	while (read(ping[0], &c, 1) == 1 && c)
		if (write(pong[1], &c, 1) != 1)
			break;
	return NULL;
}

__attribute__((noinline)) static uint64_t pinger(double secs)
{
	uint64_t end = now_ns() + (uint64_t)(secs * 1e9), n = 0;
	char c = 1;

	while ((n & 255) || now_ns() < end) {
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			break;
		n++;
	}
	c = 0;
	if (write(ping[1], &c, 1) != 1)
		return n;
	return n;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0;
	uint64_t start, n;
	struct rusage ru;
	pthread_t t;

	if (pipe(ping) || pipe(pong) || pthread_create(&t, NULL, ponger, NULL))
		return 1;
	printf("ready\n");
	fflush(stdout);
	start = now_ns();
	n = pinger(secs);
	pthread_join(t, NULL);
	getrusage(RUSAGE_SELF, &ru);
	printf("switches %llu per_sec %.0f cpu_ms %.0f\n", (unsigned long long)(2 * n),
	       2.0 * (double)n / ((double)(now_ns() - start) / 1e9),
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
	return 0;
}
