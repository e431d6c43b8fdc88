/* SPDX-License-Identifier: MIT */
/*
 * clock - the one monotonic clock every stage measures intervals with (CLOCK_MONOTONIC, in ns).
 * Header only: nothing to own or free.
 */
#ifndef SCORCH_CLOCK_H
#define SCORCH_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds of CLOCK_MONOTONIC: for intervals and deadlines, never for wall-clock time. */
static inline uint64_t clock__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif
