// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the parent's decoder of the unwinding results that the sandboxed child writes
 * into shared memory (src/unwind/unwindsvc.h, used by src/sandbox/sandbox_proxy_uw.c): the child is assumed compromised, so
 * any bytes may arrive. The first byte chooses how many samples were asked for (1..8) and the next 8
 * how many addresses each asked for; the rest is the reply. A decoded reply must hold statuses in
 * range, at most the addresses asked for, inside the caller's array, and encode back to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unwinder.h"
#include "unwindsvc.h"

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_sandbox_unwind: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

#define MAXN 8
static uint64_t ips[MAXN * 16];
static uint8_t again[MAXN * (sizeof(struct unwindsvc_res) + 16 * 8)];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unwindsvc_result out[MAXN];
	uint32_t max[MAXN], n, i;
	size_t at = 0;

	if (size < 1 + MAXN)
		return 0;
	n = data[0] % MAXN + 1;
	for (i = 0; i < MAXN; i++)
		max[i] = data[1 + i] % 17; /* 0..16 */
	data += 1 + MAXN;
	size -= 1 + MAXN;
	if (unwindsvc__decode_results(data, size, n, max, out, ips, sizeof(ips) / 8))
		return 0;
	for (i = 0; i < n; i++) {
		CHECK(out[i].r.status <= UNWINDER_FAILED);
		CHECK(out[i].r.nr <= max[i]);
		CHECK(out[i].r.need <= 1);
		CHECK(out[i].ips >= ips && out[i].ips + out[i].r.nr <= ips + sizeof(ips) / 8);
		at = unwindsvc__encode_result(again, sizeof(again), at, &out[i].r, out[i].ips);
		CHECK(at != 0);
	}
	CHECK(at == size && memcmp(again, data, size) == 0);
	return 0;
}
