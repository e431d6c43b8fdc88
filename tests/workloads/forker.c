// SPDX-License-Identifier: MIT
/*
 * A server that forks a short-lived worker per request, like a PostgreSQL postmaster under pgbench -C:
 * for argv[1] seconds (default 3), one child at a time burns ~30 ms of CPU in worker_burn() and exits.
 * The parent only waits, so its own samples are few and never in worker_burn().
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

__attribute__((noinline)) static void worker_burn(double secs)
{
	double end = now() + secs;

	do {
		uint64_t x = sink, i;

		for (i = 0; i < 20000; i++)
			x = x * 33 + i;
		sink = x;
	} while (now() < end);
}

__attribute__((noinline)) static void serve_one(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		worker_burn(0.03);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3, end = now() + secs;

	while (now() < end)
		serve_one();
	return 0;
}
