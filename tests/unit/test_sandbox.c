// SPDX-License-Identifier: MIT
/*
 * Unit tests for the sandboxed symbolizer (src/sandbox/sandbox.h): the reply decoders against bad messages,
 * the child's confinement (capabilities, uid, seccomp, no opening by path), what the parent opens for
 * it, the has-DWARF request, and survival of a child that crashes or hangs. The ELF file used is this
 * test binary (built with -g): its entry point is _start.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "safeopen.h"
#include "under_valgrind.h"
#include "sandbox.h"
#include "sbproto.h"
#include "unwinder.h"
#include "unwindsvc.h"

/* --- the decoder -------------------------------------------------------------------------------- */

static void test_frames_roundtrip(void **state)
{
	struct sym_frame in[3] = {
		{ "inner", "/src/a.c", 12, 1, 0 },
		{ NULL, NULL, 0, 0, 0 },
		{ "outer", NULL, 7, 0, 0x42 },
	}, out[3];
	uint8_t buf[1024];
	char strs[1024];
	size_t len = sbproto__encode_frames(in, 3, buf, sizeof(buf));

	(void)state;
	assert_int_equal(sbproto__decode_frames(buf, len, out, 3, strs, sizeof(strs)), 3);
	assert_string_equal(out[0].function, "inner");
	assert_string_equal(out[0].file, "/src/a.c");
	assert_int_equal(out[0].line, 12);
	assert_int_equal(out[0].inlined, 1);
	assert_null(out[1].function);
	assert_null(out[1].file);
	assert_string_equal(out[2].function, "outer");
	assert_int_equal(out[2].offset, 0x42);
	/* More frames than asked for, or a string buffer too small: rejected. */
	assert_int_equal(sbproto__decode_frames(buf, len, out, 2, strs, sizeof(strs)), -EPROTO);
	assert_int_equal(sbproto__decode_frames(buf, len, out, 3, strs, 8), -EPROTO);
	/* Every truncation and trailing garbage: rejected. */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(sbproto__decode_frames(buf, cut, out, 3, strs, sizeof(strs)), -EPROTO);
	buf[len] = 0;
	assert_int_equal(sbproto__decode_frames(buf, len + 1, out, 3, strs, sizeof(strs)), -EPROTO);
}

static void test_frames_bad(void **state)
{
	struct sym_frame f = { "abc", NULL, 1, 0, 0 }, out[4];
	uint8_t buf[256], big[8192];
	char strs[8192];
	size_t len = sbproto__encode_frames(&f, 1, buf, sizeof(buf));
	uint32_t v;

	(void)state;
	assert_int_equal(sbproto__decode_frames(buf, len, out, 4, strs, sizeof(strs)), 1);
	/* A NUL inside a name. */
	buf[4 + 16 + 4 + 1] = 0;
	assert_int_equal(sbproto__decode_frames(buf, len, out, 4, strs, sizeof(strs)), -EPROTO);
	buf[4 + 16 + 4 + 1] = 'b';
	/* A length beyond the message, and a huge one. */
	v = 1000;
	memcpy(buf + 4 + 16, &v, 4);
	assert_int_equal(sbproto__decode_frames(buf, len, out, 4, strs, sizeof(strs)), -EPROTO);
	v = 0xfffffff0u;
	memcpy(buf + 4 + 16, &v, 4);
	assert_int_equal(sbproto__decode_frames(buf, len, out, 4, strs, sizeof(strs)), -EPROTO);
	/* An inline flag that is not 0 or 1. */
	v = 3;
	len = sbproto__encode_frames(&f, 1, buf, sizeof(buf));
	memcpy(buf + 8, &v, 4);
	assert_int_equal(sbproto__decode_frames(buf, len, out, 4, strs, sizeof(strs)), -EPROTO);
	/* A huge frame count. */
	v = 0x7fffffff;
	memcpy(buf, &v, 4);
	assert_int_equal(sbproto__decode_frames(buf, len, out, 4, strs, sizeof(strs)), -EPROTO);
	/* A name longer than SANDBOX_MAX_STR, even if present in full. */
	v = 1;
	memcpy(big, &v, 4);
	memset(big + 4, 0, 16);
	v = SANDBOX_MAX_STR + 1;
	memcpy(big + 20, &v, 4);
	memset(big + 24, 'x', SANDBOX_MAX_STR + 1);
	v = 0xffffffffu;
	memcpy(big + 24 + SANDBOX_MAX_STR + 1, &v, 4);
	assert_int_equal(sbproto__decode_frames(big, 28 + SANDBOX_MAX_STR + 1, out, 4, strs, sizeof(strs)),
			 -EPROTO);
	/* The encoder cuts long names instead. */
	{
		char *name = malloc(SANDBOX_MAX_STR * 2 + 1);
		struct sym_frame g = { name, NULL, 0, 0, 0 };

		assert_non_null(name);
		memset(name, 'y', SANDBOX_MAX_STR * 2);
		name[SANDBOX_MAX_STR * 2] = 0;
		len = sbproto__encode_frames(&g, 1, big, sizeof(big));
		assert_int_equal(sbproto__decode_frames(big, len, out, 4, strs, sizeof(strs)), 1);
		assert_int_equal(strlen(out[0].function), SANDBOX_MAX_STR);
		free(name);
	}
	/* Garbage: never a crash, and whatever is accepted is well formed. */
	srand(7);
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand() % 200);
		int k;

		for (size_t i = 0; i < n; i++)
			big[i] = (uint8_t)rand();
		if (n >= 4 && round % 2) {
			v = (uint32_t)(rand() % 3);
			memcpy(big, &v, 4);
		}
		k = sbproto__decode_frames(big, n, out, 4, strs, sizeof(strs));
		assert_true(k == -EPROTO || (k >= 0 && k <= 4));
		for (int i = 0; i < k; i++)
			assert_true(!out[i].function || strlen(out[i].function) <= SANDBOX_MAX_STR);
	}
}

/* Batched replies: answers for the first k addresses asked, each a FRAMES body. */
static void test_frames_many_codec(void **state)
{
	struct sym_frame in[3 * 2] = {
		{ "inner", "/src/a.c", 12, 1, 0 }, { "outer", "/src/a.c", 30, 0, 0x10 },
		{ 0 }, { 0 },
		{ "solo", NULL, 7, 0, 0x42 }, { 0 },
	}, out[3 * 2];
	int nf[3] = { 2, 0, 1 }, counts[3];
	uint8_t buf[1024];
	char strs[1024];
	size_t len = sbproto__encode_frames_many(in, nf, 2, 3, buf, sizeof(buf)), cut;
	uint32_t v;

	(void)state;
	assert_int_equal(sbproto__decode_frames_many(buf, len, 3, out, 2, counts, strs, sizeof(strs)), 3);
	assert_int_equal(counts[0], 2);
	assert_int_equal(counts[1], 0);
	assert_int_equal(counts[2], 1);
	assert_string_equal(out[1].function, "outer");
	assert_int_equal(out[1].offset, 0x10);
	assert_string_equal(out[4].function, "solo");
	assert_null(out[4].file);
	/* Fewer answers than asked is fine (the rest are asked again); more, or none, is not. */
	assert_int_equal(sbproto__decode_frames_many(buf, len, 4, out, 2, counts, strs, sizeof(strs)), 3);
	assert_int_equal(sbproto__decode_frames_many(buf, len, 2, out, 2, counts, strs, sizeof(strs)),
			 -EPROTO);
	v = 0;
	memcpy(buf, &v, 4);
	assert_int_equal(sbproto__decode_frames_many(buf, 4, 3, out, 2, counts, strs, sizeof(strs)), -EPROTO);
	v = 3;
	memcpy(buf, &v, 4);
	/* An answer with more frames than asked for, strings beyond the buffer: rejected. */
	assert_int_equal(sbproto__decode_frames_many(buf, len, 3, out, 1, counts, strs, sizeof(strs)),
			 -EPROTO);
	assert_int_equal(sbproto__decode_frames_many(buf, len, 3, out, 2, counts, strs, 12), -EPROTO);
	/* Every truncation and trailing garbage: rejected. */
	for (cut = 0; cut < len; cut++)
		assert_int_equal(sbproto__decode_frames_many(buf, cut, 3, out, 2, counts, strs, sizeof(strs)),
				 -EPROTO);
	buf[len] = 0;
	assert_int_equal(sbproto__decode_frames_many(buf, len + 1, 3, out, 2, counts, strs, sizeof(strs)),
			 -EPROTO);
	/* A NUL inside the last answer's name. */
	buf[len - 4 - 4] = 0;
	assert_int_equal(sbproto__decode_frames_many(buf, len, 3, out, 2, counts, strs, sizeof(strs)),
			 -EPROTO);
	/* Room for the first answer only: it alone is sent, whole. */
	len = sbproto__encode_frames_many(in, nf, 2, 3, buf, 85);
	assert_int_equal(sbproto__decode_frames_many(buf, len, 3, out, 2, counts, strs, sizeof(strs)), 1);
	assert_int_equal(counts[0], 2);
	/* Not even that: the first answer is cut (outer frames dropped), a later one never is. */
	len = sbproto__encode_frames_many(in, nf, 2, 3, buf, 46);
	assert_int_equal(sbproto__decode_frames_many(buf, len, 3, out, 2, counts, strs, sizeof(strs)), 1);
	assert_int_equal(counts[0], 1);
	assert_string_equal(out[0].function, "inner");
}

/*
 * Every message encodes and decodes back to itself (sbproto.h), and each decoder refuses a body cut
 * short by one byte (for the fixed-size ones) or one that breaks its rule.
 */
static void test_messages_roundtrip(void **state)
{
	static uint8_t buf[SBPROTO_MAX_BODY];
	static struct sbp_opened o, o2;
	static struct sbp_uw_batch b, b2;
	uint64_t vaddrs[3] = { 1, 0x401000, UINT64_MAX }, v;
	uint32_t pids[2] = { 7, 42 };
	struct unwindsvc_map maps[2] = { { 1, 2, 3, 4, 0 }, { 5, 6, 7, UNWINDSVC_VDSO, 0 } }, mo[2];
	struct sbp_ready r;
	struct sbp_open op;
	struct sbp_lookup l;
	struct sbp_lookup_many lm;
	struct sbp_handle h;
	struct sbp_debug_open d;
	struct sbp_test t;
	struct sbp_status st;
	struct sbp_uw_setup su;
	struct sbp_uw_maps um;
	struct sbp_uw_forget uf;
	struct sbp_uw_done ud;
	size_t n;

	(void)state;
	n = sbproto__encode_ready(buf, sizeof(buf), &(struct sbp_ready){ -EPERM, "the test hook" });
	assert_int_equal(sbproto__decode_ready(buf, n, &r), 0);
	assert_int_equal(r.status, -EPERM);
	assert_string_equal(r.why, "the test hook");
	assert_int_equal(sbproto__decode_ready(buf, n - 1, &r), -EPROTO);

	n = sbproto__encode_open(buf, sizeof(buf), &(struct sbp_open){ "/usr/bin/x", NULL });
	assert_int_equal(sbproto__decode_open(buf, n, &op), 0);
	assert_string_equal(op.name, "/usr/bin/x");
	assert_null(op.root);
	n = sbproto__encode_open(buf, sizeof(buf), &(struct sbp_open){ "/x", "/proc/1/root" });
	assert_int_equal(sbproto__decode_open(buf, n, &op), 0);
	assert_string_equal(op.root, "/proc/1/root");
	assert_int_equal(sbproto__decode_open(buf, 3, &op), -EPROTO);

	o.status = 2;
	o.nr_segs = 2;
	o.segs[1][0] = 0x1000;
	o.segs[1][2] = 5;
	strcpy(o.build_id, "00ff");
	n = sbproto__encode_opened(buf, sizeof(buf), &o);
	assert_int_equal(n, 8 + 2 * 24 + 4);
	assert_int_equal(sbproto__decode_opened(buf, n, &o2), 0);
	assert_int_equal(o2.status, 2);
	assert_int_equal(o2.nr_segs, 2);
	assert_true(o2.segs[1][0] == 0x1000 && o2.segs[1][2] == 5);
	assert_string_equal(o2.build_id, "00ff");
	buf[n - 1] = 'X'; /* not lowercase hex */
	assert_int_equal(sbproto__decode_opened(buf, n, &o2), -EPROTO);
	o.status = -ENOENT;
	n = sbproto__encode_opened(buf, sizeof(buf), &o);
	assert_int_equal(n, 8);
	assert_int_equal(sbproto__decode_opened(buf, n, &o2), 0);
	assert_int_equal(o2.status, -ENOENT);

	n = sbproto__encode_lookup(buf, sizeof(buf), &(struct sbp_lookup){ 3, 0x401234, 64 });
	assert_int_equal(n, 16);
	assert_int_equal(sbproto__decode_lookup(buf, n, &l), 0);
	assert_true(l.handle == 3 && l.vaddr == 0x401234 && l.max == 64);
	assert_int_equal(sbproto__decode_lookup(buf, n - 1, &l), -EPROTO);

	n = sbproto__encode_lookup_many(buf, sizeof(buf), &(struct sbp_lookup_many){ 1, 64, 3, 100, vaddrs });
	assert_int_equal(sbproto__decode_lookup_many(buf, n, &lm), 0);
	assert_true(lm.handle == 1 && lm.max == 64 && lm.n == 3 && lm.ms == 100);
	v = sbproto__vaddr(&lm, 2);
	assert_true(v == UINT64_MAX);
	assert_int_equal(sbproto__decode_lookup_many(buf, n - 8, &lm), -EPROTO);

	n = sbproto__encode_handle(buf, sizeof(buf), &(struct sbp_handle){ 9 });
	assert_int_equal(sbproto__decode_handle(buf, n, &h), 0);
	assert_int_equal(h.handle, 9);

	n = sbproto__encode_debug_open(buf, sizeof(buf),
				       &(struct sbp_debug_open){ NULL, "/usr/lib/debug/x" });
	assert_int_equal(sbproto__decode_debug_open(buf, n, &d), 0);
	assert_string_equal(d.root, "");
	assert_string_equal(d.path, "/usr/lib/debug/x");
	assert_int_equal(sbproto__decode_debug_open(buf, n - 1, &d), -EPROTO);

	n = sbproto__encode_test(buf, sizeof(buf), &(struct sbp_test){ SANDBOX_TEST_SLEEP, "10" });
	assert_int_equal(sbproto__decode_test(buf, n, &t), 0);
	assert_true(t.what == SANDBOX_TEST_SLEEP && strcmp(t.arg, "10") == 0);

	n = sbproto__encode_status(buf, sizeof(buf), &(struct sbp_status){ -EMFILE });
	assert_int_equal(sbproto__decode_status(buf, n, &st), 0);
	assert_int_equal(st.status, -EMFILE);

	n = sbproto__encode_uw_setup(buf, sizeof(buf), &(struct sbp_uw_setup){ 1, 1 << 20 });
	assert_int_equal(sbproto__decode_uw_setup(buf, n, &su), 0);
	assert_true(su.which == 1 && su.size == 1 << 20);
	n = sbproto__encode_uw_setup(buf, sizeof(buf), &(struct sbp_uw_setup){ 2, 1 << 20 });
	assert_int_equal(sbproto__decode_uw_setup(buf, n, &su), -EPROTO);

	n = sbproto__encode_uw_maps(buf, sizeof(buf), &(struct sbp_uw_maps){ 42, 1, 2, maps });
	assert_int_equal(sbproto__decode_uw_maps(buf, n, &um), 0);
	assert_true(um.pid == 42 && um.append == 1 && um.n == 2);
	sbproto__uw_maps_get(&um, mo);
	assert_memory_equal(mo, maps, sizeof(maps));
	assert_int_equal(sbproto__decode_uw_maps(buf, n - 1, &um), -EPROTO);

	n = sbproto__encode_uw_forget(buf, sizeof(buf), &(struct sbp_uw_forget){ 2, pids });
	assert_int_equal(sbproto__decode_uw_forget(buf, n, &uf), 0);
	assert_true(uf.n == 2 && sbproto__uw_forget_pid(&uf, 1) == 42);

	b.n = 2;
	b.req_len = 100;
	b.offs[1] = 50;
	n = sbproto__encode_uw_batch(buf, sizeof(buf), &b);
	assert_int_equal(n, 16 + 2 * 8);
	assert_int_equal(sbproto__decode_uw_batch(buf, n, &b2), 0);
	assert_true(b2.n == 2 && b2.req_len == 100 && b2.offs[1] == 50);
	assert_int_equal(sbproto__decode_uw_batch(buf, n - 8, &b2), -EPROTO);

	n = sbproto__encode_uw_done(buf, sizeof(buf), &(struct sbp_uw_done){ 0, 4096, 3 });
	assert_int_equal(sbproto__decode_uw_done(buf, n, &ud), 0);
	assert_true(ud.status == 0 && ud.res_len == 4096 && ud.evicted == 3);

	/* An encoder that does not fit says so. */
	assert_int_equal(sbproto__encode_lookup(buf, 15, &(struct sbp_lookup){ 0 }), 0);
}

static void test_has_dwarf_decode(void **state)
{
	uint8_t buf[8];
	int32_t v;

	(void)state;
	for (v = 0; v <= 1; v++) {
		memcpy(buf, &v, 4);
		assert_int_equal(sbproto__decode_has_dwarf(buf, 4), v);
	}
	/* Any other value, any other length: rejected. */
	v = 2;
	memcpy(buf, &v, 4);
	assert_int_equal(sbproto__decode_has_dwarf(buf, 4), -EPROTO);
	v = -1;
	memcpy(buf, &v, 4);
	assert_int_equal(sbproto__decode_has_dwarf(buf, 4), -EPROTO);
	v = 1;
	memcpy(buf, &v, 4);
	buf[4] = 0;
	for (size_t len = 0; len <= 5; len++)
		if (len != 4)
			assert_int_equal(sbproto__decode_has_dwarf(buf, len), -EPROTO);
}

/* --- the child ---------------------------------------------------------------------------------- */

static uint64_t entry_point(int fd)
{
	Elf64_Ehdr eh;

	assert_int_equal(pread(fd, &eh, sizeof(eh), 0), sizeof(eh));
	return eh.e_entry;
}

static int lookup_start(struct sandbox *sb, struct sandbox_elf *e, uint64_t entry)
{
	struct sym_frame f[8];
	int n = sandbox__lookup(sb, e, entry, f, 8);

	return n >= 1 && f[n - 1].function && strcmp(f[n - 1].function, "_start") == 0;
}

static void test_lookup(void **state)
{
	int fd;
	struct sandbox *sb;
	struct sandbox_elf *e;
	uint64_t entry, v;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	assert_true(fd >= 0);
	entry = entry_point(fd);
	for (int enabled = 0; enabled <= 1; enabled++) {
		sb = sandbox__new(NULL, enabled);
		assert_non_null(sb);
		e = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
		assert_non_null(e);
		assert_true(lookup_start(sb, e, entry));
		assert_int_equal(strlen(sandbox__build_id(e)), 40);
		assert_int_equal(sandbox__offset_to_vaddr(e, 0, &v), 0);
		assert_non_null(sandbox__vdso(sb));
		assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_OPEN, "/etc/passwd"),
				 enabled ? -EACCES : -ENOSYS);
		sandbox__free(sb);
	}
	close(fd);
}

/*
 * A child started without SCORCH_TEST_SANDBOX_REQUESTS honours no test request: it dies of one (the
 * request fails, nothing is opened or slept), and the next child, started with the hook, answers.
 */
static void test_requests_need_hook(void **state)
{
	struct sandbox *sb;
	struct sandbox_stats st;

	(void)state;
	skip_under_valgrind();
	unsetenv("SCORCH_TEST_SANDBOX_REQUESTS");
	sb = sandbox__new(NULL, 1);
	assert_non_null(sb);
	assert_true(sandbox__test(sb, NULL, SANDBOX_TEST_SLEEP, "0") < 0);
	assert_true(sandbox__test(sb, NULL, SANDBOX_TEST_OPEN, "/etc/passwd") < 0);
	sandbox__stats(sb, &st);
	assert_int_equal(st.restarts, 2);
	setenv("SCORCH_TEST_SANDBOX_REQUESTS", "1", 1);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_SLEEP, "0"), 0);
	sandbox__free(sb);
}

/*
 * Batched lookups: 2,500 addresses across this binary's text (more than two requests' worth) give,
 * sandboxed and in-process, what sandbox__lookup gives one by one, in a few round trips.
 */
#define MANY 2500

static void many_addrs(uint64_t entry, uint64_t *v)
{
	for (int i = 0; i < MANY; i++)
		v[i] = entry + (uint64_t)i * 37;
}

static void same_frames(const struct sym_frame *a, int na, const struct sym_frame *b, int nb, int i)
{
	if (na != nb)
		fail_msg("address %d: %d frames, %d one by one", i, na, nb);
	for (int k = 0; k < na; k++) {
		if ((a[k].function == NULL) != (b[k].function == NULL) ||
		    (a[k].function && strcmp(a[k].function, b[k].function)) ||
		    (a[k].file == NULL) != (b[k].file == NULL) ||
		    (a[k].file && strcmp(a[k].file, b[k].file)) || a[k].line != b[k].line ||
		    a[k].inlined != b[k].inlined || a[k].offset != b[k].offset)
			fail_msg("address %d: frame %d differs", i, k);
	}
}

static void test_lookup_many(void **state)
{
	int fd, named = 0;
	static uint64_t v[MANY];
	static struct sandbox_frames r[2][MANY];
	struct sandbox *sb[2], *one_sb = NULL;
	struct sandbox_elf *e1 = NULL;
	struct sandbox_stats st;
	uint64_t entry;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	assert_true(fd >= 0);
	entry = entry_point(fd);
	many_addrs(entry, v);
	for (int enabled = 0; enabled <= 1; enabled++) {
		struct sandbox_elf *e;

		sb[enabled] = sandbox__new(NULL, enabled);
		assert_non_null(sb[enabled]);
		e = sandbox__open_fd(sb[enabled], fd, "/proc/self/exe", NULL);
		assert_non_null(e);
		assert_int_equal(sandbox__lookup_many(sb[enabled], e, v, MANY, 8, r[enabled]), 0);
		sandbox__stats(sb[enabled], &st);
		if (enabled) {
			assert_int_equal(st.lookups, MANY);
			/* The open, then a few batches (3 at least: 1,024 addresses per request at most). */
			assert_true(st.requests >= 1 + 3 && st.requests < 1 + MANY / 16);
		}
	}
	for (int i = 0; i < MANY; i++) {
		struct sym_frame one[8];
		int n1;

		same_frames(r[1][i].f, r[1][i].n, r[0][i].f, r[0][i].n, i);
		named += r[1][i].n > 0 && r[1][i].f[r[1][i].n - 1].function;
		/* Every 50th one by one, in a third sandbox (the answers above stay valid meanwhile). */
		if (i % 50)
			continue;
		if (i == 0) {
			one_sb = sandbox__new(NULL, 1);
			assert_non_null(one_sb);
			e1 = sandbox__open_fd(one_sb, fd, "/proc/self/exe", NULL);
			assert_non_null(e1);
		}
		n1 = sandbox__lookup(one_sb, e1, v[i], one, 8);
		same_frames(r[1][i].f, r[1][i].n, one, n1, i);
	}
	assert_true(named > MANY / 2);
	assert_int_equal(sandbox__lookup_many(sb[1], NULL, v, 0, 8, r[1]), 0);
	sandbox__free(one_sb);
	sandbox__free(sb[0]);
	sandbox__free(sb[1]);
	close(fd);
}

/*
 * A child that dies in the middle of a batched lookup: that request's addresses get no frames, and so
 * do the file's later ones (it is marked bad, as with single lookups); earlier batches keep theirs;
 * the child is restarted once and another file is looked up in full.
 */
static void test_lookup_many_crash(void **state)
{
	int fd, first_lost = -1;
	static uint64_t v[MANY];
	static struct sandbox_frames r[MANY], ok[MANY];
	struct sandbox *sb, *ref;
	struct sandbox_elf *e, *other;
	struct sandbox_stats st;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	assert_true(fd >= 0);
	many_addrs(entry_point(fd), v);
	ref = sandbox__new(NULL, 0);
	assert_non_null(ref);
	assert_int_equal(
		sandbox__lookup_many(ref, sandbox__open_fd(ref, fd, "/proc/self/exe", NULL), v, MANY, 8, ok),
		0);
	setenv("SCORCH_TEST_SANDBOX_LOOKUP_CRASH", "1500", 1); /* the child aborts at its 1,500th lookup */
	sb = sandbox__new(NULL, 1);
	e = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
	other = sandbox__open_fd(sb, fd, "/proc/self/exe (again)", NULL);
	assert_non_null(e);
	assert_non_null(other);
	assert_int_equal(sandbox__lookup_many(sb, e, v, MANY, 8, r), 0);
	unsetenv("SCORCH_TEST_SANDBOX_LOOKUP_CRASH");
	sandbox__stats(sb, &st);
	assert_int_equal(st.restarts, 1);
	assert_int_equal(st.bad_files, 1);
	for (int i = 0; i < MANY; i++) {
		if (first_lost < 0 && r[i].n == 0 && ok[i].n > 0)
			first_lost = i;
		if (first_lost < 0)
			same_frames(r[i].f, r[i].n, ok[i].f, ok[i].n, i);
		else if (r[i].n)
			fail_msg("address %d answered after the child died at %d", i, first_lost);
	}
	/* Lost: the request that held lookup 1,500 (some earlier requests were answered). Addresses that
	 * have no frames anyway (padding between functions) just before it may have been lost too. */
	assert_true(first_lost > 0 && first_lost < 1500);
	{
		int lo = first_lost;

		while (lo > 0 && ok[lo - 1].n == 0)
			lo--;
		assert_true(st.lookups >= (uint64_t)lo && st.lookups <= (uint64_t)first_lost);
	}
	/* The file stays bad; a fresh child answers for the other one. */
	assert_int_equal(sandbox__lookup_many(sb, e, v, 10, 8, r), 0);
	assert_int_equal(r[0].n, 0);
	assert_int_equal(sandbox__lookup_many(sb, other, v, MANY, 8, r), 0);
	for (int i = 0; i < MANY; i++)
		same_frames(r[i].f, r[i].n, ok[i].f, ok[i].n, i);
	sandbox__stats(sb, &st);
	assert_int_equal(st.restarts, 1);
	sandbox__free(sb);
	sandbox__free(ref);
	close(fd);
}

/* Run a shell command; 0 when it succeeded. */
static int run(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

/* has_dwarf through the child, in agreement with the in-process symbolizer. */
static void test_has_dwarf(void **state)
{
	char dir[] = "/tmp/scorch-sandbox-XXXXXX", cmd[256], path[64];
	int fd, sfd;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	assert_true(fd >= 0);
	assert_non_null(mkdtemp(dir));
	/* A stripped copy whose build id no debug directory knows (the note is removed too). */
	snprintf(cmd, sizeof(cmd), "strip --strip-all -R .note.gnu.build-id -o %s/stripped /proc/%d/exe", dir,
		 (int)getpid());
	assert_int_equal(run(cmd), 0);
	snprintf(path, sizeof(path), "%s/stripped", dir);
	sfd = safeopen__file(path);
	assert_true(sfd >= 0);
	for (int enabled = 0; enabled <= 1; enabled++) {
		struct sandbox *sb = sandbox__new(NULL, enabled);
		struct sandbox_elf *e, *s;
		struct sandbox_stats st;

		assert_non_null(sb);
		e = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
		s = sandbox__open_fd(sb, sfd, path, NULL);
		assert_non_null(e);
		assert_non_null(s);
		assert_int_equal(sandbox__has_dwarf(sb, e), 1);
		assert_int_equal(sandbox__has_dwarf(sb, s), 0);
		/* Asked again: the same answers (DWARF is loaded once). */
		assert_int_equal(sandbox__has_dwarf(sb, e), 1);
		assert_int_equal(sandbox__has_dwarf(sb, s), 0);
		sandbox__stats(sb, &st);
		assert_int_equal(st.requests, enabled ? 6 : 0);
		assert_int_equal(st.restarts, 0);
		if (enabled) {
			/* A child that dies on a file: the answer is no, and the file is not asked about
			 * again. */
			assert_true(sandbox__test(sb, e, SANDBOX_TEST_CRASH, "") < 0);
			assert_int_equal(sandbox__has_dwarf(sb, e), 0);
			sandbox__stats(sb, &st);
			assert_int_equal(st.bad_files, 1);
			assert_int_equal(st.requests, 7);
			/* The other file is resent to a new child. */
			assert_int_equal(sandbox__has_dwarf(sb, s), 0);
		}
		sandbox__free(sb);
	}
	close(sfd);
	close(fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(run(cmd), 0);
}

static void test_not_elf(void **state)
{
	char path[] = "/tmp/scorch-sandbox-XXXXXX";
	struct sandbox *sb;
	int fd;

	(void)state;
	skip_under_valgrind();
	sb = sandbox__new(NULL, 1);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\177ELF garbage that is not an ELF file at all", 43), 43);
	unlink(path);
	assert_null(sandbox__open_fd(sb, fd, path, NULL));
	/* The child refused it cleanly: no restart. */
	{
		struct sandbox_stats st;

		sandbox__stats(sb, &st);
		assert_int_equal(st.restarts, 0);
	}
	close(fd);
	sandbox__free(sb);
}

static unsigned long long status_field(int pid, const char *key)
{
	char path[64], line[256];
	unsigned long long v = ~0ULL;
	size_t kl = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = strtoull(line + kl + 1, NULL, strstr(key, "Cap") ? 16 : 10);
	fclose(f);
	return v;
}

/* Whether this process maps every id (the initial user namespace). */
static int init_user_ns(void)
{
	unsigned long long a = 1, b = 1, n = 0;
	FILE *f = fopen("/proc/self/uid_map", "r");
	int ok = f && fscanf(f, "%llu %llu %llu", &a, &b, &n) == 3;

	if (f)
		fclose(f);
	return ok && a == 0 && b == 0 && n == 4294967295ULL;
}

static void test_confined(void **state)
{
	struct sandbox *sb;
	int pid;

	(void)state;
	skip_under_valgrind();
	sb = sandbox__new(NULL, 1);
	pid = sandbox__child_pid(sb);
	assert_true(pid > 0);
	/* Let it reach its loop (the first request answers only once it is locked down). */
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_SLEEP, "0"), 0);
	assert_int_equal(status_field(pid, "CapEff"), 0);
	assert_int_equal(status_field(pid, "CapPrm"), 0);
	assert_int_equal(status_field(pid, "CapInh"), 0);
	assert_int_equal(status_field(pid, "NoNewPrivs"), 1);
	assert_int_equal(status_field(pid, "Seccomp"), 2);
	if (getuid() == 0) {
		unsigned long long uid = status_field(pid, "Uid"), gid = status_field(pid, "Gid");

		assert_int_equal(status_field(pid, "CapBnd"), 0);
		/* Ids of its own: not nobody's, whose other processes could signal it. */
		assert_true(uid != 0 && uid != 65534 && gid != 0 && gid != 65534);
		assert_null(getpwuid((uid_t)uid));
		assert_null(getgrgid((gid_t)gid));
		if (init_user_ns()) {
			assert_in_range(uid, 1879048192, 2147352575);
			assert_in_range(gid, 1879048192, 2147352575);
		}
	}
	/* Opening by path fails, readable by anyone or not; the child lives on. */
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_OPEN, "/etc/shadow"), -EACCES);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_OPEN, "/etc/passwd"), -EACCES);
	assert_int_equal(sandbox__child_pid(sb), pid);
	sandbox__free(sb);
}

/* What a compromised child may have opened: only inside a target's root or a debug directory. */
static void test_broker_policy(void **state)
{
	const char *dirs[] = { "/tmp/scorch-sandbox-dbg" };
	struct symbolizer_opts o = { .debug_dirs = dirs, .nr_debug_dirs = 1 };
	struct sandbox *sb;
	struct sandbox_stats st;
	char arg[128];

	(void)state;
	skip_under_valgrind();
	sb = sandbox__new(&o, 1);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, "\n/etc/shadow"), -EPERM);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, "\n/usr/lib/debug/../../../etc/passwd"),
			 -EPERM);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, "\n/usr/lib/debugx/passwd"), -EPERM);
	assert_int_equal(
		sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, "\n/tmp/scorch-sandbox-dbg/../../etc/passwd"),
		-EPERM);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, "/\n/etc/passwd"), -EPERM);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, "/proc/1/rootx\n/etc/passwd"), -EPERM);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, "/proc/self/root\n/etc/passwd"),
			 -EPERM);
	/* Allowed places: a missing file is just missing; a target's root is open. */
	assert_int_equal(
		sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, "\n/usr/lib/debug/.build-id/no/such.debug"),
		-ENOENT);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, "\n/tmp/scorch-sandbox-dbg/no.debug"),
			 -ENOENT);
	snprintf(arg, sizeof(arg), "/proc/%d/root\n/etc/passwd", (int)getpid());
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), 0);
	/* Not a regular file: refused by safeopen, even in the root. */
	snprintf(arg, sizeof(arg), "/proc/%d/root\n/dev/null", (int)getpid());
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), -EINVAL);
	sandbox__stats(sb, &st);
	assert_int_equal(st.opens_refused, 7);
	assert_int_equal(st.restarts, 0);
	sandbox__free(sb);
}

/*
 * Beside a file given with root NULL (a file the user named): its directory and .debug/ for ELF files
 * (debuglink candidates), nothing else; nothing beside a file of a target's root.
 */
static void test_broker_beside(void **state)
{
	char dir[] = "/tmp/scorch-sandbox-XXXXXX", cmd[512], path[128], arg[256];
	struct sandbox *sb;
	int fd;
	struct sandbox_stats st;
	int tfd;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	sb = sandbox__new(NULL, 1);
	assert_true(fd >= 0);
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p .debug sub other && cp /proc/%d/exe app && cp app .debug/app.debug && "
		 "cp app sub/app.debug && cp app other/app.debug && echo secret > notes.txt",
		 dir, (int)getpid());
	assert_int_equal(run(cmd), 0);
	/* Before any file of that directory was given: refused. */
	snprintf(arg, sizeof(arg), "\n%s/.debug/app.debug", dir);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), -EPERM);
	/* A file of a target's root in that directory opens nothing beside it. */
	snprintf(path, sizeof(path), "%s/app", dir);
	tfd = safeopen__file(path);
	assert_true(tfd >= 0);
	snprintf(arg, sizeof(arg), "/proc/%d/root", (int)getpid());
	assert_non_null(sandbox__open_fd(sb, tfd, path, arg));
	snprintf(arg, sizeof(arg), "\n%s/.debug/app.debug", dir);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), -EPERM);
	/* Given with root NULL: its directory and its .debug/ are open, for ELF files. */
	assert_non_null(sandbox__open_fd(sb, tfd, path, NULL));
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), 0);
	snprintf(arg, sizeof(arg), "\n%s/app", dir);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), 0);
	snprintf(arg, sizeof(arg), "\n%s/notes.txt", dir);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), -ENOEXEC);
	snprintf(arg, sizeof(arg), "\n%s/missing.debug", dir);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), -ENOENT);
	/* Not deeper, not elsewhere, not up. */
	snprintf(arg, sizeof(arg), "\n%s/sub/app.debug", dir);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), -EPERM);
	snprintf(arg, sizeof(arg), "\n%s/other/app.debug", dir);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), -EPERM);
	snprintf(arg, sizeof(arg), "\n%s/..", dir);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), -EPERM);
	snprintf(arg, sizeof(arg), "\n%s/.debug/../notes.txt", dir);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), -EPERM);
	snprintf(arg, sizeof(arg), "\n%sx/app", dir);
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_BROKER, arg), -EPERM);
	sandbox__stats(sb, &st);
	assert_int_equal(st.opens_refused, 7);
	assert_int_equal(st.restarts, 0);
	sandbox__free(sb);
	close(tfd);
	close(fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(run(cmd), 0);
}

static int nr_cpus_of(int pid)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(pid, sizeof(set), &set), 0);
	return CPU_COUNT(&set);
}

/* sandbox__share_cpu(): this process and its child on one CPU while the sandbox lives, then as before. */
static void test_share_cpu(void **state)
{
	int before = nr_cpus_of(0), pid;
	struct sandbox *sb;
	cpu_set_t mine, child;

	(void)state;
	skip_under_valgrind();
	sb = sandbox__new(NULL, 0);
	assert_int_equal(sandbox__share_cpu(sb), 0);
	assert_int_equal(nr_cpus_of(0), before); /* disabled: nothing to share */
	sandbox__free(sb);
	sb = sandbox__new(NULL, 1);
	assert_int_equal(sandbox__share_cpu(sb), 0);
	pid = sandbox__child_pid(sb);
	assert_true(pid > 0);
	assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
	assert_int_equal(sched_getaffinity(pid, sizeof(child), &child), 0);
	assert_int_equal(CPU_COUNT(&mine), 1);
	assert_true(CPU_EQUAL(&mine, &child));
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_SLEEP, "0"), 0);
	sandbox__free(sb);
	assert_int_equal(nr_cpus_of(0), before);
}

static void test_crash(void **state)
{
	struct sandbox *sb;
	int fd;
	struct sandbox_elf *a, *b;
	struct sandbox_stats st;
	uint64_t entry;
	int pid;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	sb = sandbox__new(NULL, 1);
	assert_true(fd >= 0);
	entry = entry_point(fd);
	a = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
	b = sandbox__open_fd(sb, fd, "/proc/self/exe (again)", NULL);
	assert_non_null(a);
	assert_non_null(b);
	pid = sandbox__child_pid(sb);
	assert_true(sandbox__test(sb, a, SANDBOX_TEST_CRASH, "") < 0);
	sandbox__stats(sb, &st);
	assert_int_equal(st.restarts, 1);
	assert_int_equal(st.bad_files, 1);
	/* The file it crashed on is skipped; the other one is resent to a fresh child. */
	assert_int_equal(sandbox__lookup(sb, a, entry, (struct sym_frame[4]){ 0 }, 4), 0);
	assert_true(lookup_start(sb, b, entry));
	assert_true(sandbox__child_pid(sb) != pid);
	sandbox__stats(sb, &st);
	assert_int_equal(st.restarts, 1);
	sandbox__free(sb);
	close(fd);
}

/* The highest id of [lo, hi] that 'taken' says is free (getpwuid/getgrgid), or 0. */
static unsigned long highest_free(unsigned long lo, unsigned long hi, int group)
{
	for (unsigned long id = hi; id >= lo; id--)
		if (group ? !getgrgid((gid_t)id) : !getpwuid((uid_t)id))
			return id;
	return 0;
}

/*
 * In a user namespace mapping 0 and 1000-1099 (as a container's would map a range): the child takes the
 * highest free mapped id, not one outside the map (it could not) nor nobody's. Root only (it writes the
 * maps of the namespace); in a forked process, which answers by its exit status.
 */
static void test_ids_in_user_namespace(void **state)
{
	int go[2], done[2], status;
	char path[64], c;
	pid_t pid;
	FILE *f;

	(void)state;
	skip_under_valgrind();
	if (getuid() != 0)
		skip();
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sandbox *sb;
		unsigned long want_u = highest_free(1000, 1099, 0), want_g = highest_free(1000, 1099, 1);
		int cpid;

		if (unshare(CLONE_NEWUSER) || write(done[1], "u", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(10);
		sb = sandbox__new(NULL, 1);
		cpid = sb ? sandbox__child_pid(sb) : -1;
		if (cpid <= 0)
			_exit(11);
		if (status_field(cpid, "Uid") != want_u || status_field(cpid, "Gid") != want_g) {
			fprintf(stderr, "child ids %llu:%llu, want %lu:%lu\n", status_field(cpid, "Uid"),
				status_field(cpid, "Gid"), want_u, want_g);
			_exit(12);
		}
		sandbox__free(sb);
		_exit(0);
	}
	assert_int_equal(read(done[0], &c, 1), 1);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("0 0 1\n1000 1000 100\n", f);
	assert_int_equal(fclose(f), 0);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("0 0 1\n1000 1000 100\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

/*
 * Hard limits lower than the child's own (ulimit -v, ulimit -t): the child keeps them (raising them
 * fails once it is no longer root, and is not ours to do) and still starts and answers. In a forked
 * process, whose limits the rest of the tests do not inherit. No cmocka asserts there: an exit code.
 */
static int limited_child(void)
{
	struct rlimit as = { 8ULL << 30, 8ULL << 30 }, cpu = { 1000, 1000 };
	struct sandbox *sb;
	struct sandbox_elf *e;
	char why[192] = "";
	int fd, ok;
	uint64_t entry;

	if (setrlimit(RLIMIT_AS, &as) || setrlimit(RLIMIT_CPU, &cpu))
		return 10;
	fd = safeopen__file("/proc/self/exe");
	if (fd < 0)
		return 11;
	entry = entry_point(fd);
	sb = sandbox__new(NULL, 1);
	if (!sb)
		return 12;
	if (sandbox__start(sb, why, sizeof(why))) {
		fprintf(stderr, "the sandbox did not start under lower hard limits: %s\n", why);
		return 13;
	}
	e = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
	ok = e && lookup_start(sb, e, entry);
	sandbox__free(sb);
	close(fd);
	return ok ? 0 : 14;
}

static void test_lower_hard_limits(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	skip_under_valgrind();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(limited_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * A child that cannot lock itself down (the test hook): sandbox__start() says why; no second child is
 * forked for later requests, which get no names, and no file is blamed for it.
 */
static void test_start_failure(void **state)
{
	struct sandbox *sb;
	struct sandbox_stats st;
	char why[192] = "";
	int fd;

	(void)state;
	skip_under_valgrind();
	setenv("SCORCH_TEST_SANDBOX_LOCKDOWN_FAIL", "1", 1);
	sb = sandbox__new(NULL, 1);
	assert_non_null(sb);
	assert_int_equal(sandbox__start(sb, why, sizeof(why)), -EPERM);
	unsetenv("SCORCH_TEST_SANDBOX_LOCKDOWN_FAIL");
	assert_non_null(strstr(why, "test hook"));
	assert_non_null(strstr(why, strerror(EPERM)));
	/* Sticky: the next start fails at once, without a child. */
	assert_int_equal(sandbox__start(sb, why, sizeof(why)), -EPERM);
	assert_int_equal(sandbox__child_pid(sb), -EPERM);
	fd = safeopen__file("/proc/self/exe");
	assert_true(fd >= 0);
	assert_null(sandbox__open_fd(sb, fd, "/proc/self/exe", NULL));
	assert_int_equal(errno, EPERM);
	sandbox__stats(sb, &st);
	assert_int_equal(st.start_failures, 1);
	assert_int_equal(st.bad_files, 0);
	assert_int_equal(st.restarts, 0);
	sandbox__free(sb);
	close(fd);
	/* Disabled: nothing to start. */
	sb = sandbox__new(NULL, 0);
	assert_int_equal(sandbox__start(sb, why, sizeof(why)), 0);
	sandbox__free(sb);
}

/*
 * A SIGKILL from outside (root, the OOM killer), between requests and during one: the child is
 * replaced and the request sent again; the file is not blamed, and it counts in outside_kills.
 */
static void test_outside_kill(void **state)
{
	struct sandbox *sb;
	struct sandbox_elf *e;
	struct sandbox_stats st;
	uint64_t entry;
	int fd, pid, status;
	pid_t killer;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	assert_true(fd >= 0);
	entry = entry_point(fd);
	sb = sandbox__new(NULL, 1);
	e = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
	assert_non_null(e);
	assert_true(lookup_start(sb, e, entry));
	/* Between requests. */
	pid = sandbox__child_pid(sb);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_true(lookup_start(sb, e, entry));
	assert_true(sandbox__child_pid(sb) != pid);
	/* During one (the child sleeps 1 s, killed after 200 ms): sent again, answered. */
	pid = sandbox__child_pid(sb);
	killer = fork();
	assert_true(killer >= 0);
	if (killer == 0) {
		nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
		_exit(kill(pid, SIGKILL) ? 1 : 0);
	}
	assert_int_equal(sandbox__test(sb, e, SANDBOX_TEST_SLEEP, "1000"), 0);
	assert_int_equal(waitpid(killer, &status, 0), killer);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(lookup_start(sb, e, entry));
	sandbox__stats(sb, &st);
	assert_int_equal(st.outside_kills, 2);
	assert_int_equal(st.bad_files, 0);
	assert_int_equal(st.restarts, 0);
	/* The child's own death is still its file's fault. */
	assert_true(sandbox__test(sb, e, SANDBOX_TEST_CRASH, "") < 0);
	sandbox__stats(sb, &st);
	assert_int_equal(st.outside_kills, 2);
	assert_int_equal(st.bad_files, 1);
	sandbox__free(sb);
	close(fd);
}

static void test_timeout(void **state)
{
	int fd;
	struct sandbox *sb;
	struct sandbox_elf *e;
	struct sandbox_stats st;
	struct timespec t0, t1;
	uint64_t entry;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	setenv("SCORCH_SANDBOX_TIMEOUT_MS", "300", 1);
	sb = sandbox__new(NULL, 1);
	unsetenv("SCORCH_SANDBOX_TIMEOUT_MS");
	assert_true(fd >= 0);
	entry = entry_point(fd);
	e = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
	assert_non_null(e);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sandbox__test(sb, e, SANDBOX_TEST_SLEEP, "20000"), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	sandbox__stats(sb, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.restarts, 1);
	assert_int_equal(sandbox__lookup(sb, e, entry, (struct sym_frame[4]){ 0 }, 4), 0);
	/* A sleep within the timeout is fine. */
	assert_int_equal(sandbox__test(sb, NULL, SANDBOX_TEST_SLEEP, "10"), 0);
	sandbox__free(sb);
	close(fd);
}

/* --- unwinding in batches ----------------------------------------------------------------------- */

static void test_unwind_codec(void **state)
{
	struct unwindsvc_res a = { UNWINDER_ROOT, 3, 1, 0, 0, 0 },
			     b = { UNWINDER_NO_INFO, 1, 0, 1, 0x77, 0x99 };
	uint64_t ia[3] = { 0x1000, 0x2000, 0x3000 }, ib[1] = { 0x5000 }, ips[8];
	uint32_t max[2] = { 3, 4 };
	struct unwindsvc_result out[2];
	uint8_t buf[512];
	size_t len = unwindsvc__encode_result(buf, sizeof(buf), 0, &a, ia), cut;

	(void)state;
	len = unwindsvc__encode_result(buf, sizeof(buf), len, &b, ib);
	assert_int_equal(len, 2 * sizeof(struct unwindsvc_res) + 4 * 8);
	assert_int_equal(unwindsvc__decode_results(buf, len, 2, max, out, ips, 8), 0);
	assert_int_equal(out[0].r.status, UNWINDER_ROOT);
	assert_int_equal(out[0].r.nr, 3);
	assert_int_equal(out[0].r.fp_steps, 1);
	assert_int_equal(out[0].ips[2], 0x3000);
	assert_int_equal(out[1].r.need, 1);
	assert_int_equal(out[1].r.need_addr, 0x99);
	assert_int_equal(out[1].r.fail_ip, 0x77);
	assert_int_equal(out[1].ips[0], 0x5000);
	/* Every truncation, trailing bytes, fewer samples than sent: rejected. */
	for (cut = 0; cut < len; cut++)
		assert_int_equal(unwindsvc__decode_results(buf, cut, 2, max, out, ips, 8), -EPROTO);
	buf[len] = 0;
	assert_int_equal(unwindsvc__decode_results(buf, len + 1, 2, max, out, ips, 8), -EPROTO);
	assert_int_equal(unwindsvc__decode_results(buf, len, 1, max, out, ips, 8), -EPROTO);
	/* More addresses than asked for, or than the caller has room for. */
	max[0] = 2;
	assert_int_equal(unwindsvc__decode_results(buf, len, 2, max, out, ips, 8), -EPROTO);
	max[0] = 3;
	assert_int_equal(unwindsvc__decode_results(buf, len, 2, max, out, ips, 3), -EPROTO);
	/* A status out of range, a need flag that is not 0 or 1. */
	a.status = UNWINDER_FAILED + 1;
	unwindsvc__encode_result(buf, sizeof(buf), 0, &a, ia);
	assert_int_equal(unwindsvc__decode_results(buf, len, 2, max, out, ips, 8), -EPROTO);
	a.status = UNWINDER_FAILED;
	a.need = 2;
	unwindsvc__encode_result(buf, sizeof(buf), 0, &a, ia);
	assert_int_equal(unwindsvc__decode_results(buf, len, 2, max, out, ips, 8), -EPROTO);
	/* Requests: the stack is cut to the largest copy, records stay 8-byte aligned. */
	{
		static uint8_t req[2 * (sizeof(struct unwindsvc_req) + UNWINDSVC_MAX_STACK)];
		static uint8_t stack[UNWINDSVC_MAX_STACK + 100];
		struct unwindsvc_req rq = { 1, 2, 0, 13, { 0 } };
		size_t at = unwindsvc__encode_request(req, sizeof(req), 0, &rq, stack);

		assert_int_equal(at, sizeof(rq) + 16);
		rq.stack_size = sizeof(stack);
		at = unwindsvc__encode_request(req, sizeof(req), at, &rq, stack);
		assert_int_equal(at, 2 * sizeof(rq) + 16 + UNWINDSVC_MAX_STACK);
		assert_int_equal(unwindsvc__encode_request(req, sizeof(req), at, &rq, stack), 0);
		assert_int_equal(unwindsvc__encode_request(req, sizeof(req), 3, &rq, stack), 0);
	}
}

/* The test's need callback: the missed address and what to do about it. */
struct need_ctx {
	struct sandbox *sb;
	struct sandbox_uw_map map;
	uint64_t addr;
	int calls;
	int resolve;
};

static int need_cb(void *ctx, uint32_t pid, uint64_t addr)
{
	struct need_ctx *n = ctx;

	assert_int_equal(pid, 4242);
	n->calls++;
	n->addr = addr;
	if (!n->resolve)
		return 0;
	n->map.kind = SANDBOX_UW_FILE; /* the file is open now */
	assert_int_equal(sandbox__uw_maps(n->sb, 4242, &n->map, 1), 0);
	return 1;
}

/*
 * Unwind at this binary's _start, as if the whole file were mapped at BASE (vaddr = file offset for its
 * text and unwind tables): _start's CFI says there is no caller, so the unwinder must read the image's
 * .eh_frame to answer UNWINDER_ROOT with one address.
 */
#define BASE 0x10000000ull

static void run_unwind(struct sandbox *sb, struct sandbox_elf *e, uint64_t entry, struct need_ctx *n,
		       enum sandbox_uw_kind kind)
{
	uint64_t regs[SCORCH_NR_REGS] = { 0 };
	uint8_t stack[256] = { 0 };
	int i;

	n->sb = sb;
	n->map = (struct sandbox_uw_map){ BASE, BASE + (64u << 20), 0, e, kind };
	n->calls = 0;
	assert_int_equal(sandbox__uw_maps(sb, 4242, &n->map, 1), 0);
	regs[SCORCH_REG_RIP] = BASE + entry;
	regs[SCORCH_REG_RSP] = 0x7ff000;
	for (i = 0; i < 5; i++)
		assert_int_equal(sandbox__uw_queue(sb, 4242, regs, stack, sizeof(stack), 64, 0), i);
	assert_int_equal(sandbox__uw_queued(sb), 5);
	assert_int_equal(sandbox__uw_run(sb, need_cb, n), 0);
}

static void test_unwind(void **state)
{
	int fd;
	struct sandbox_uw_stats us;
	struct need_ctx n = { 0 };
	uint64_t entry;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	assert_true(fd >= 0);
	entry = entry_point(fd);
	for (int enabled = 0; enabled <= 1; enabled++) {
		struct sandbox *sb = sandbox__new(NULL, enabled);
		struct sandbox_elf *e = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
		const struct sandbox_uw_result *r;

		assert_non_null(e);
		run_unwind(sb, e, entry, &n, SANDBOX_UW_FILE);
		assert_int_equal(n.calls, 0);
		for (uint32_t i = 0; i < 5; i++) {
			r = sandbox__uw_result(sb, i);
			assert_false(r->lost);
			assert_int_equal(r->status, UNWINDER_ROOT);
			assert_int_equal(r->nr, 1);
			assert_int_equal(r->ips[0], BASE + entry);
		}
		sandbox__uw_reset(sb);
		assert_int_equal(sandbox__uw_queued(sb), 0);
		/* Not opened yet: a miss at the IP, not resolved by the caller: no caller known. */
		n.resolve = 0;
		run_unwind(sb, e, entry, &n, SANDBOX_UW_UNRESOLVED);
		assert_int_equal(n.calls, 5);
		assert_int_equal(n.addr, BASE + entry);
		r = sandbox__uw_result(sb, 4);
		assert_int_equal(r->status, UNWINDER_NO_INFO);
		assert_int_equal(r->nr, 1);
		sandbox__uw_reset(sb);
		/* Resolved by the callback: unwound again, to the root. */
		n.resolve = 1;
		run_unwind(sb, e, entry, &n, SANDBOX_UW_UNRESOLVED);
		assert_int_equal(n.calls, 5);
		r = sandbox__uw_result(sb, 4);
		assert_int_equal(r->status, UNWINDER_ROOT);
		sandbox__uw_reset(sb);
		sandbox__uw_stats(sb, &us);
		/* Round trips to the child only when enabled: 3 runs, one with a retry round of 5. */
		assert_int_equal(us.batches, enabled ? 4 : 0);
		assert_int_equal(us.samples, enabled ? 20 : 0);
		assert_int_equal(us.retries, 5);
		assert_int_equal(us.failures, 0);
		sandbox__free(sb);
	}
	close(fd);
}

static void test_unwind_crash(void **state)
{
	int fd;
	struct sandbox *sb;
	struct sandbox_elf *e;
	struct sandbox_uw_stats us;
	struct sandbox_stats st;
	struct need_ctx n = { 0 };
	uint64_t entry;

	(void)state;
	skip_under_valgrind();
	fd = safeopen__file("/proc/self/exe");
	assert_true(fd >= 0);
	entry = entry_point(fd);
	setenv("SCORCH_TEST_SANDBOX_UNWIND_CRASH", "1", 1); /* the child aborts at its first batch */
	sb = sandbox__new(NULL, 1);
	e = sandbox__open_fd(sb, fd, "/proc/self/exe", NULL);
	assert_non_null(e);
	run_unwind(sb, e, entry, &n, SANDBOX_UW_FILE);
	unsetenv("SCORCH_TEST_SANDBOX_UNWIND_CRASH");
	for (uint32_t i = 0; i < 5; i++)
		assert_true(sandbox__uw_result(sb, i)->lost);
	sandbox__uw_reset(sb);
	sandbox__uw_stats(sb, &us);
	assert_int_equal(us.failures, 5);
	sandbox__stats(sb, &st);
	assert_int_equal(st.restarts, 1);
	/* A fresh child (forked without the variable) gets the file and the maps again. */
	run_unwind(sb, e, entry, &n, SANDBOX_UW_FILE);
	assert_false(sandbox__uw_result(sb, 0)->lost);
	assert_int_equal(sandbox__uw_result(sb, 0)->status, UNWINDER_ROOT);
	sandbox__stats(sb, &st);
	assert_int_equal(st.restarts, 1);
	sandbox__free(sb);
	close(fd);
}

/* Read all of 'fd' from its current offset into 'buf' (of 'cap' bytes, NUL-terminated). */
static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < cap && (n = read(fd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	return got;
}

static unsigned int count_of(const char *s, const char *what)
{
	unsigned int n = 0;

	for (; (s = strstr(s, what)); s++)
		n++;
	return n;
}

static int need_none(void *ctx, uint32_t pid, uint64_t addr)
{
	(void)ctx;
	(void)pid;
	(void)addr;
	return 0;
}

/* Queue one sample whose IP is in 'e' (mapped at BASE for pid 4243) and run it alone. */
static const struct sandbox_uw_result *unwind_in(struct sandbox *sb, struct sandbox_elf *e)
{
	struct sandbox_uw_map m = { BASE, BASE + (1u << 20), 0, e, SANDBOX_UW_FILE };
	uint64_t regs[SCORCH_NR_REGS] = { 0 };
	uint8_t stack[64] = { 0 };

	sandbox__uw_reset(sb);
	assert_int_equal(sandbox__uw_maps(sb, 4243, &m, 1), 0);
	regs[SCORCH_REG_RIP] = BASE + 0x100;
	regs[SCORCH_REG_RSP] = 0x7ff000;
	assert_int_equal(sandbox__uw_queue(sb, 4243, regs, stack, sizeof(stack), 8, 0), 0);
	assert_int_equal(sandbox__uw_run(sb, need_none, NULL), 0);
	return sandbox__uw_result(sb, 0);
}

/*
 * The dropped-files limit (UW_MAX_DROPPED, 64): each of 64 distinct files that kill the unwinder
 * costs one restart and is dropped (reported by name); a dropped file comes back unwound without the
 * child, a good file is still unwound; the 65th such file ends the DWARF unwinding, reported, and from
 * then on samples are lost without a round trip. The files are copies of a small shared object, with
 * SCORCH_TEST_UNWIND_CRASH_MARKER appended to all but one.
 */
#define NR_HOSTILE 65

static void test_unwind_dropped_limit(void **state)
{
	char dir[] = "/tmp/scorch-sandbox-XXXXXX", cmd[512], path[96], marker[64], *so, *log;
	struct sandbox_elf *good, *bad[NR_HOSTILE];
	struct sandbox_uw_stats us, after;
	struct sandbox_stats st;
	struct sandbox *sb;
	int fd, err_fd, saved_err;
	ssize_t so_len;

	(void)state;
	skip_under_valgrind();
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "echo 'int f(void) { return 1; }' | cc -shared -fPIC -x c -o %s/good.so -",
		 dir);
	assert_int_equal(run(cmd), 0);
	snprintf(path, sizeof(path), "%s/good.so", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	so = malloc(1 << 20);
	log = malloc(1 << 20);
	assert_non_null(so);
	assert_non_null(log);
	so_len = read(fd, so, 1 << 20);
	assert_true(so_len > 0 && so_len < (1 << 20));
	close(fd);
	/* Built at run time: this binary, which other tests unwind through, must not hold it. */
	snprintf(marker, sizeof(marker), "scorch-test-%d-unwinder-dies-here", (int)getpid());
	setenv("SCORCH_TEST_UNWIND_CRASH_MARKER", marker, 1); /* read by each child as it starts */
	sb = sandbox__new(NULL, 1);
	assert_non_null(sb);
	fd = safeopen__file(path);
	assert_true(fd >= 0);
	good = sandbox__open_fd(sb, fd, path, NULL);
	assert_non_null(good);
	close(fd);
	for (int i = 0; i < NR_HOSTILE; i++) {
		snprintf(path, sizeof(path), "%s/bad%d.so", dir, i);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, so, (size_t)so_len), so_len);
		assert_int_equal(write(fd, marker, strlen(marker)), strlen(marker));
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		bad[i] = sandbox__open_fd(sb, fd, path, NULL);
		assert_non_null(bad[i]);
		close(fd);
	}
	/* The warnings go to a file, to be counted (SCORCH_TEST_KEEP_STDERR=1: to stderr, with cmocka's). */
	err_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	assert_true(err_fd >= 0);
	fflush(stderr);
	saved_err = dup(2);
	assert_true(saved_err >= 0);
	assert_true(getenv("SCORCH_TEST_KEEP_STDERR") || dup2(err_fd, 2) == 2);
	assert_false(unwind_in(sb, good)->lost);
	for (int i = 0; i < NR_HOSTILE - 1; i++) {
		assert_true(unwind_in(sb, bad[i])->lost);
		sandbox__uw_stats(sb, &us);
		sandbox__stats(sb, &st);
		if (us.files_dropped != (uint64_t)i + 1 || st.restarts != (uint64_t)i + 1 || us.given_up)
			fail_msg("file %d: %llu dropped, %llu restarts", i,
				 (unsigned long long)us.files_dropped, (unsigned long long)st.restarts);
	}
	/* Dropped files are skipped (no restart), good ones are still unwound: the unwinding goes on. */
	assert_false(unwind_in(sb, bad[0])->lost);
	assert_false(unwind_in(sb, bad[NR_HOSTILE - 2])->lost);
	assert_false(unwind_in(sb, good)->lost);
	sandbox__stats(sb, &st);
	assert_int_equal(st.restarts, NR_HOSTILE - 1);
	/* One hostile file past the limit: the DWARF unwinding stops. */
	assert_true(unwind_in(sb, bad[NR_HOSTILE - 1])->lost);
	sandbox__uw_stats(sb, &us);
	assert_int_equal(us.files_dropped, NR_HOSTILE - 1);
	assert_int_equal(us.given_up, 1);
	sandbox__stats(sb, &st);
	assert_int_equal(st.restarts, NR_HOSTILE);
	/* From now on every sample is lost, without a round trip or a restart. */
	assert_true(unwind_in(sb, good)->lost);
	assert_true(unwind_in(sb, bad[0])->lost);
	sandbox__uw_stats(sb, &after);
	assert_int_equal(after.batches, us.batches);
	assert_int_equal(after.failures, us.failures + 2);
	sandbox__stats(sb, &st);
	assert_int_equal(st.restarts, NR_HOSTILE);
	fflush(stderr);
	assert_true(dup2(saved_err, 2) == 2);
	close(saved_err);
	assert_int_equal(lseek(err_fd, 0, SEEK_SET), 0);
	read_all(err_fd, log, 1 << 20);
	close(err_fd);
	if (!getenv("SCORCH_TEST_KEEP_STDERR")) {
		assert_int_equal(count_of(log, "its frames are no longer unwound through"), NR_HOSTILE - 1);
		assert_int_equal(count_of(log, "DWARF unwinding stops here"), 1);
		assert_non_null(strstr(log, "bad64.so': its frames") ? NULL : strstr(log, "bad64.so"));
	}
	unsetenv("SCORCH_TEST_UNWIND_CRASH_MARKER");
	sandbox__free(sb);
	free(so);
	free(log);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(run(cmd), 0);
}

/*
 * Out of descriptors when the unwinding's shared memory is made: -EMFILE, which the recorder survives
 * (the sample keeps its frame-pointer stack), not -ENOMEM, which ends a recording; in-process, it needs
 * no descriptor. In a child process, whose descriptor limit is lowered to what it has open.
 */
static void test_uw_out_of_fds(void **state)
{
	int enabled;

	(void)state;
	for (enabled = 0; enabled < 2; enabled++) {
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (pid == 0) {
			struct sandbox_uw_map m = { .start = 0x1000,
						    .end = 0x2000,
						    .kind = SANDBOX_UW_NOFILE };
			struct sandbox *sb = sandbox__new(NULL, enabled);
			struct rlimit rl;
			int fd, top = 0, err;

			if (!sb)
				_exit(2);
			for (fd = 0; fd < 1024; fd++)
				if (fcntl(fd, F_GETFD) >= 0)
					top = fd;
			getrlimit(RLIMIT_NOFILE, &rl);
			rl.rlim_cur = (rlim_t)top + 1;
			if (setrlimit(RLIMIT_NOFILE, &rl))
				_exit(3);
			while (open("/dev/null", O_RDONLY) >= 0) /* and the gaps below it filled */
				;
			err = sandbox__uw_maps(sb, 1, &m, 1);
			/* In-process, the unwinding needs no descriptor of its own. */
			_exit(err == (enabled ? -EMFILE : 0) ? 0 : 10 + (err < 0 ? -err : err) % 100);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status))
			print_error("enabled %d: exit %d\n", enabled, WEXITSTATUS(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_need_hook),
		cmocka_unit_test(test_uw_out_of_fds),
		cmocka_unit_test(test_frames_roundtrip),
		cmocka_unit_test(test_frames_bad),
		cmocka_unit_test(test_has_dwarf_decode),
		cmocka_unit_test(test_messages_roundtrip),
		cmocka_unit_test(test_frames_many_codec),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_lookup_many),
		cmocka_unit_test(test_lookup_many_crash),
		cmocka_unit_test(test_has_dwarf),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_confined),
		cmocka_unit_test(test_broker_policy),
		cmocka_unit_test(test_broker_beside),
		cmocka_unit_test(test_share_cpu),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_lower_hard_limits),
		cmocka_unit_test(test_start_failure),
		cmocka_unit_test(test_outside_kill),
		cmocka_unit_test(test_ids_in_user_namespace),
		cmocka_unit_test(test_unwind_codec),
		cmocka_unit_test(test_unwind),
		cmocka_unit_test(test_unwind_crash),
		cmocka_unit_test(test_unwind_dropped_limit),
	};

	/* The children honour test requests (sandbox__test) only with this hook (testhooks.h). */
	setenv("SCORCH_TEST_SANDBOX_REQUESTS", "1", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
