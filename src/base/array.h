/* SPDX-License-Identifier: MIT */
/*
 * array - growing a heap array by doubling: the one helper every module that keeps an array of its own
 * uses (profile, pfile, input; procmaps; symbolizer, ksyms, perfmap; dframe, unwindsvc; the sandbox's
 * parent, child, proxy and unwinding side; proctab, maplog, jitmap, resymbolize; view, folded,
 * flamegraph, diff; options). What grows otherwise is not an array of elements: buf (bytes),
 * fileio (a file read whole), maplog's rings (re-laid out when they grow), the unwinder's scratch
 * and pfile's decompression buffer (bytes sized to fit), view's match flags (new ones 0xff) and
 * top's snapshots (each sized exactly to the counts).
 */
#ifndef SCORCH_ARRAY_H
#define SCORCH_ARRAY_H

#include <errno.h>
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

#endif
