// SPDX-License-Identifier: MIT
/*
 * A process that looks like a CPython interpreter and is not (tests/e2e/python_hostile.sh): it exports
 * _PyRuntime, Py_Version and PyCode_Type (linked with -rdynamic), and keeps rewriting _PyRuntime with
 * garbage made to lead a frame walk as far as it can go: pointers back into itself (loops), this
 * thread's pthread_self() (so the thread search "finds" a thread state), the address of PyCode_Type (so
 * "code objects" pass the type check and their strings and line tables are read) and random words.
 *   py_hostile VERSION SECONDS     VERSION: 311 (the table's layout) or 313 (garbage _Py_DebugOffsets)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORDS 8192

uint64_t _PyRuntime[WORDS] __attribute__((visibility("default")));
uint32_t Py_Version __attribute__((visibility("default")));
uint64_t PyCode_Type[32] __attribute__((visibility("default")));

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void scribble(uint64_t self)
{
	int i;

	for (i = 0; i < WORDS; i++) {
		uint64_t r = next();

		switch (r % 10) {
		case 0:
			_PyRuntime[i] = self;
			break;
		case 1:
			_PyRuntime[i] = (uint64_t)(uintptr_t)PyCode_Type;
			break;
		case 2:
		case 3:
			_PyRuntime[i] = next();
			break;
		default:
			_PyRuntime[i] = (uint64_t)(uintptr_t)&_PyRuntime[next() % WORDS] + (r >> 60);
			break;
		}
	}
}

int main(int argc, char **argv)
{
	double end = now() + (argc > 2 ? atof(argv[2]) : 3.0);
	uint64_t self = (uint64_t)pthread_self();

	Py_Version = argc > 1 && strcmp(argv[1], "313") == 0 ? 0x030d00f0 : 0x030b07f0;
	if (Py_Version >> 16 == 0x030d)
		memcpy(_PyRuntime, "xdebugpy", 8);
	while (now() < end) {
		scribble(self);
		if (Py_Version >> 16 == 0x030d)
			memcpy(_PyRuntime, "xdebugpy", 8);
	}
	printf("%llu\n", (unsigned long long)_PyRuntime[next() % WORDS]);
	return 0;
}
