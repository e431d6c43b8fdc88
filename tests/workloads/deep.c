// SPDX-License-Identifier: MIT
/*
 * A deep stack: argv[2] (default 40) nested calls of descend(), each with a 1 KiB frame, then a busy
 * loop in deep_leaf() for argv[1] seconds (default 3). About 40 KiB of stack below main: more than
 * the default 16 KiB copy of record -g dwarf/auto, less than the 64 KiB maximum.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t sink;

__attribute__((noinline)) static void deep_leaf(double secs)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		uint64_t x = sink, i;

		for (i = 0; i < 20000; i++)
			x = x * 33 + i;
		sink = x;
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < secs);
}

__attribute__((noinline)) static void descend(int depth, double secs)
{
	volatile char frame[1024];

	frame[0] = (char)depth;
	if (depth > 1)
		descend(depth - 1, secs);
	else
		deep_leaf(secs);
	sink += (uint64_t)frame[0];
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;
	int depth = argc > 2 ? atoi(argv[2]) : 40;

	descend(depth > 0 ? depth : 1, secs);
	return 0;
}
