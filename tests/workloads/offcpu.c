// SPDX-License-Identifier: MIT
/*
 * A designed split of waits, built without frame pointers (Makefile): the main thread loops over
 *   sleep_part   nanosleep 30 ms
 *   pipe_part    blocks 60 ms reading a pipe a helper thread writes to after 60 ms
 *   mutex_part   waits about 10 ms for a mutex another helper thread holds
 *   cpu_part     burns argv[2] ms of its own CPU time (default 50)
 * for argv[1] seconds (default 4). Helper threads are named "helper". At the end it prints what it
 * measured itself, in nanoseconds of wall-clock time per part:
 *   loops N sleep NS pipe NS mutex NS cpu NS
 * argv[3] "exit-blocked": instead, after the loops, a second thread exits the process while main is
 * blocked reading a pipe nobody writes to.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int req_pipe[2], resp_pipe[2], lock_req[2], lock_ack[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile uint64_t sink;

static uint64_t now_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t))
		;
}

static void put(int fd)
{
	char c = 1;

	if (write(fd, &c, 1) != 1)
		abort();
}

static void get(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		abort();
}

/* Answers each request on req_pipe 60 ms later. */
static void *pipe_helper(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "helper");
	for (;;) {
		get(req_pipe[0]);
		sleep_ms(60);
		put(resp_pipe[1]);
	}
	return NULL;
}

/* On each request, takes the mutex, says so, and holds it 10 ms. */
static void *lock_helper(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "helper");
	for (;;) {
		get(lock_req[0]);
		pthread_mutex_lock(&lock);
		put(lock_ack[1]);
		sleep_ms(10);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

__attribute__((noinline)) void sleep_part(void)
{
	sleep_ms(30);
}

__attribute__((noinline)) void pipe_part(void)
{
	put(req_pipe[1]);
	get(resp_pipe[0]);
}

__attribute__((noinline)) void mutex_part(void)
{
	put(lock_req[1]);
	get(lock_ack[0]);
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
}

__attribute__((noinline)) void cpu_part(long ms)
{
	uint64_t end = now_ns(CLOCK_THREAD_CPUTIME_ID) + (uint64_t)ms * 1000000ULL;

	while (now_ns(CLOCK_THREAD_CPUTIME_ID) < end) {
		uint64_t x = sink, i;

		for (i = 0; i < 20000; i++)
			x = x * 6364136223846793005ULL + 1;
		sink = x;
	}
}

/* Exits the process 200 ms from now, whatever main is doing. */
static void *exiter(void *arg)
{
	(void)arg;
	sleep_ms(200);
	printf("exiting\n");
	fflush(stdout);
	_exit(0);
	return NULL;
}

__attribute__((noinline)) void block_forever(void)
{
	int p[2];
	char c;

	if (pipe(p))
		abort();
	if (read(p[0], &c, 1) < 0)
		abort();
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 4.0;
	long cpu_ms = argc > 2 ? atol(argv[2]) : 50;
	uint64_t t[5] = { 0 }, end, a, b;
	unsigned long loops = 0;
	pthread_t h;
	int i;

	if (pipe(req_pipe) || pipe(resp_pipe) || pipe(lock_req) || pipe(lock_ack))
		return 1;
	if (pthread_create(&h, NULL, pipe_helper, NULL) || pthread_create(&h, NULL, lock_helper, NULL))
		return 1;
	printf("ready\n");
	fflush(stdout);
	end = now_ns(CLOCK_MONOTONIC) + (uint64_t)(secs * 1e9);
	while (now_ns(CLOCK_MONOTONIC) < end) {
		void (*parts[3])(void) = { sleep_part, pipe_part, mutex_part };

		for (i = 0; i < 3; i++) {
			a = now_ns(CLOCK_MONOTONIC);
			parts[i]();
			b = now_ns(CLOCK_MONOTONIC);
			t[i] += b - a;
		}
		cpu_part(cpu_ms);
		t[3] += now_ns(CLOCK_MONOTONIC) - b;
		loops++;
	}
	printf("loops %lu sleep %llu pipe %llu mutex %llu cpu %llu\n", loops, (unsigned long long)t[0],
	       (unsigned long long)t[1], (unsigned long long)t[2], (unsigned long long)t[3]);
	fflush(stdout);
	if (argc > 3 && !strcmp(argv[3], "exit-blocked")) {
		if (pthread_create(&h, NULL, exiter, NULL))
			return 1;
		block_forever();
	}
	return 0;
}
