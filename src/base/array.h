/* SPDX-License-Identifier: MIT */
/*
 * array - growing a heap array by doubling: the one helper every module that keeps an array of its own
 * uses (profile, pfile, input; procmaps; symbolizer, ksyms, perfmap; dframe, unwindsvc; the sandbox's
 * parent, child, proxy and unwinding side; proctab, maplog, jitmap, resymbolize; view, folded,
 * flamegraph, diff; options). What grows otherwise is not an array of elements: buf (bytes),
 * fileio (a file read whole), maplog's rings (re-laid out when they grow), the unwinder's scratch
 * and pfile's decompression buffer (bytes sized to fit), view's match flags (new ones 0xff) and
 * top's snapshots (each sized exactly to the counts).
 *
 * And searching an array sorted by a 64-bit key for the last element at or below a value: the lookup
 * of an address among symbols or ranges sorted by their start (ksyms, perfmap, symbolizer).
 */
#ifndef SCORCH_ARRAY_H
#define SCORCH_ARRAY_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Grow *arrp (a pointer to an array of *cap elements of 'size' bytes) to hold at least 'need'
 * elements, doubling from 16; the new elements are zeroed. 0, or -ENOMEM (the array is unchanged).
 */
static inline int array__grow(void *arrp, size_t *cap, size_t need, size_t size)
{
	void **arr = arrp;
	size_t ncap = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / size)
		return -ENOMEM;
	n = realloc(*arr, ncap * size);
	if (!n)
		return -ENOMEM;
	memset((char *)n + *cap * size, 0, (ncap - *cap) * size);
	*arr = n;
	*cap = ncap;
	return 0;
}

/*
 * In 'arr', 'n' elements of 'size' bytes sorted by the uint64_t at byte 'key_off' of each (ascending,
 * equal keys allowed), the index of the first element whose key is above 'key': n when there is none.
 * The element before it, when the index is not 0, is the last one whose key is at most 'key'.
 */
static inline size_t array__upper_bound_u64(const void *arr, size_t n, size_t size, size_t key_off,
					    uint64_t key)
{
	const char *a = arr;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k;

		memcpy(&k, a + mid * size + key_off, sizeof(k));
		if (k <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif
