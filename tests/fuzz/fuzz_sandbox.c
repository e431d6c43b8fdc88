// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the parent's decoders of the sandboxed child's replies (src/sandbox/sbproto.h):
 * the child is assumed compromised, so any bytes may arrive. Every input goes to each decoder. A
 * decoded FRAMES reply must hold at most the frames asked for, NUL-free names of at most
 * SANDBOX_MAX_STR bytes inside the string buffer, and encode back to the same bytes; a batched
 * lookup's FRAMES_MANY reply (8 addresses asked, 4 frames each) must answer 1 to 8 of them, each as a
 * FRAMES reply, and encode back to the same bytes; a has-DWARF reply is accepted only as exactly a
 * 32-bit 0 or 1. The other messages the child sends (READY, OPENED, a status, UW_DONE, UW_TABLED,
 * DEBUG_OPEN) must decode to values in range and, where the encoding is canonical, encode back to the
 * same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "sbproto.h"

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_sandbox: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

static char strs[SANDBOX_MAX_MSG];
static struct sym_frame many[8 * 4];
static int counts[8];
static uint8_t again[SANDBOX_MAX_MSG];

static void check_str(const char *s)
{
	if (!s)
		return;
	CHECK(s >= strs && s < strs + sizeof(strs));
	CHECK(strlen(s) <= SANDBOX_MAX_STR);
}

/* The child's other messages. */
static void check_others(const uint8_t *data, size_t size)
{
	static struct sbp_opened o;
	struct sbp_ready r;
	struct sbp_status st;
	struct sbp_uw_done d;
	struct sbp_debug_open dbg;
	struct sbp_uw_tabled t;
	size_t len, i;

	if (sbproto__decode_ready(data, size, &r) == 0) {
		CHECK(r.status <= 0 && r.status >= -4095);
		CHECK(r.why >= (const char *)data && r.why + strlen(r.why) < (const char *)data + size);
	}
	if (sbproto__decode_opened(data, size, &o) == 0) {
		if (o.status < 0) {
			CHECK(size == 8);
		} else {
			CHECK(o.nr_segs <= SBPROTO_MAX_SEGS);
			CHECK(strlen(o.build_id) <= SBPROTO_MAX_BUILD_ID);
			for (i = 0; o.build_id[i]; i++)
				CHECK((o.build_id[i] >= '0' && o.build_id[i] <= '9') ||
				      (o.build_id[i] >= 'a' && o.build_id[i] <= 'f'));
			len = sbproto__encode_opened(again, sizeof(again), &o);
			CHECK(len == size && memcmp(again, data, size) == 0);
		}
	}
	if (sbproto__decode_status(data, size, &st) == 0) {
		CHECK(size == 4);
		len = sbproto__encode_status(again, sizeof(again), &st);
		CHECK(len == size && memcmp(again, data, size) == 0);
	}
	if (sbproto__decode_uw_done(data, size, &d) == 0) {
		CHECK(size == 24);
		len = sbproto__encode_uw_done(again, sizeof(again), &d);
		CHECK(len == size && memcmp(again, data, 4) == 0 && memcmp(again + 8, data + 8, 16) == 0);
	}
	if (sbproto__decode_uw_tabled(data, size, &t) == 0) {
		CHECK(size == 48);
		CHECK(t.status <= 0 && t.status >= -4095);
		CHECK(t.nr <= UWTABLE_MAX_ROWS);
		CHECK(t.status < 0 ? t.nr == 0 && t.base == 0 : t.nr >= 1);
		len = sbproto__encode_uw_tabled(again, sizeof(again), &t);
		CHECK(len == size && memcmp(again, data, size) == 0);
	}
	if (sbproto__decode_debug_open(data, size, &dbg) == 0) {
		CHECK(dbg.root && dbg.path);
		if (size <= sizeof(again)) {
			len = sbproto__encode_debug_open(again, sizeof(again), &dbg);
			CHECK(len == size && memcmp(again, data, size) == 0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sym_frame f[16];
	int n = sbproto__decode_frames(data, size, f, 16, strs, sizeof(strs)), i;
	int d = sbproto__decode_has_dwarf(data, size);
	int32_t v = -1;

	if (size == 4)
		memcpy(&v, data, 4);
	CHECK(d == ((v == 0 || v == 1) ? v : -71 /* EPROTO */));

	CHECK(n == -71 /* EPROTO */ || (n >= 0 && n <= 16));
	for (i = 0; i < n; i++) {
		check_str(f[i].function);
		check_str(f[i].file);
		CHECK(f[i].inlined == 0 || f[i].inlined == 1);
	}
	if (n >= 0) {
		size_t len = sbproto__encode_frames(f, n, again, sizeof(again));

		CHECK(len == size && memcmp(again, data, size) == 0);
	}

	check_others(data, size);

	n = sbproto__decode_frames_many(data, size, 8, many, 4, counts, strs, sizeof(strs));
	CHECK(n == -71 /* EPROTO */ || (n >= 1 && n <= 8));
	for (i = 0; i < n; i++) {
		CHECK(counts[i] >= 0 && counts[i] <= 4);
		for (int k = 0; k < counts[i]; k++) {
			check_str(many[i * 4 + k].function);
			check_str(many[i * 4 + k].file);
			CHECK(many[i * 4 + k].inlined == 0 || many[i * 4 + k].inlined == 1);
		}
	}
	if (n >= 1 && size <= sizeof(again)) {
		size_t len = sbproto__encode_frames_many(many, counts, 4, (uint32_t)n, again, sizeof(again));

		CHECK(len == size && memcmp(again, data, size) == 0);
	}
	return 0;
}
