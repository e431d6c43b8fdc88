// SPDX-License-Identifier: MIT
/* Unit tests for the profile model (src/profile/profile.h): interning, counts, meta, counters, labels. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile.h"

static int setup(void **state)
{
	static struct profile p;

	profile__init(&p);
	*state = &p;
	return 0;
}

static int teardown(void **state)
{
	profile__release(*state);
	return 0;
}

static uint32_t add_named_loc(struct profile *p, uint32_t mapping, uint64_t addr, const char *fn)
{
	struct profile_frame f = { profile__intern_cstr(p, fn), 0, 0, 0 };

	return profile__add_location(p, mapping, addr, 0, &f, 1);
}

static void test_empty_profile(void **state)
{
	struct profile *p = *state;

	assert_int_equal(p->nr_strs, 1);
	assert_string_equal(profile__str(p, 0), "");
	assert_int_equal(p->str_lens[0], 0);
	assert_int_equal(p->nr_mappings, 0);
	assert_int_equal(p->nr_locations, 0);
	assert_int_equal(p->nr_stacks, 0);
	assert_int_equal(p->nr_threads, 0);
	assert_int_equal(p->nr_counts, 0);
	assert_int_equal(p->total, 0);
	assert_null(profile__meta_get(p, "command"));
	assert_int_equal(profile__counter_get(p, "lost"), 0);
}

static void test_intern_strings(void **state)
{
	struct profile *p = *state;
	char buf[32] = "main";
	uint32_t a, b, c, d, e;

	a = profile__intern_cstr(p, "main");
	b = profile__intern_cstr(p, "work");
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	/* Same bytes from a different buffer: the same id, no new string. */
	assert_int_equal(profile__intern_cstr(p, buf), a);
	assert_int_equal(profile__intern_str(p, "mainly", 4), a);
	assert_int_equal(profile__intern_str(p, "", 0), 0);
	assert_int_equal(profile__intern_cstr(p, ""), 0);
	/* A prefix is a different string. */
	c = profile__intern_str(p, "mai", 3);
	assert_int_not_equal(c, a);
	/* Lengths count, not NULs: embedded NUL bytes make distinct strings. */
	d = profile__intern_str(p, "ab\0cd", 5);
	e = profile__intern_str(p, "ab\0ce", 5);
	assert_int_not_equal(d, e);
	assert_int_equal(profile__intern_str(p, "ab\0cd", 5), d);
	assert_int_equal(p->str_lens[d], 5);
	assert_memory_equal(p->strs[d], "ab\0cd", 6);
	assert_int_equal(p->nr_strs, 6);
	/* The profile owns a copy. */
	strcpy(buf, "changed");
	assert_string_equal(profile__str(p, a), "main");
	assert_string_equal(profile__str(p, c), "mai");
	/* Out of range ids read as "". */
	assert_string_equal(profile__str(p, 99), "");
	assert_string_equal(profile__str(p, PROFILE_NONE), "");
}

static void test_intern_many_strings(void **state)
{
	struct profile *p = *state;
	char buf[32];
	uint32_t i;

	for (i = 0; i < 50000; i++) {
		snprintf(buf, sizeof(buf), "fn_%u", i);
		assert_int_equal(profile__intern_cstr(p, buf), i + 1);
	}
	for (i = 0; i < 50000; i += 7) {
		snprintf(buf, sizeof(buf), "fn_%u", i);
		assert_int_equal(profile__intern_cstr(p, buf), i + 1);
		assert_string_equal(profile__str(p, i + 1), buf);
	}
	assert_int_equal(p->nr_strs, 50001);
}

static void test_intern_mappings(void **state)
{
	struct profile *p = *state;
	uint32_t libc = profile__intern_cstr(p, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	uint32_t bid = profile__intern_cstr(p, "0123abcd");
	uint32_t m0, m1, m2, m3;

	m0 = profile__intern_mapping(p, libc, bid, PROFILE_MAP_FILE);
	m1 = profile__intern_mapping(p, libc, 0, PROFILE_MAP_FILE);
	m2 = profile__intern_mapping(p, libc, bid, PROFILE_MAP_ANON);
	assert_int_equal(m0, 0);
	assert_int_equal(m1, 1);
	assert_int_equal(m2, 2);
	assert_int_equal(profile__intern_mapping(p, libc, bid, PROFILE_MAP_FILE), m0);
	assert_int_equal(profile__intern_mapping(p, libc, 0, PROFILE_MAP_FILE), m1);
	assert_int_equal(p->nr_mappings, 3);
	assert_int_equal(p->mappings[m0].name, libc);
	assert_int_equal(p->mappings[m0].build_id, bid);
	assert_int_equal(p->mappings[m2].kind, PROFILE_MAP_ANON);

	errno = 0;
	m3 = profile__intern_mapping(p, p->nr_strs, 0, PROFILE_MAP_FILE);
	assert_int_equal(m3, PROFILE_NONE);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(profile__intern_mapping(p, libc, p->nr_strs, PROFILE_MAP_FILE), PROFILE_NONE);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(profile__intern_mapping(p, libc, 0, PROFILE_MAP_KIND_MAX), PROFILE_NONE);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(p->nr_mappings, 3);
}

static void test_locations(void **state)
{
	struct profile *p = *state;
	uint32_t m = profile__intern_mapping(p, profile__intern_cstr(p, "/bin/app"), 0, PROFILE_MAP_FILE);
	uint32_t m2 = profile__intern_mapping(p, profile__intern_cstr(p, "/bin/other"), 0, PROFILE_MAP_FILE);
	struct profile_frame fr[2] = {
		{ profile__intern_cstr(p, "inlined"), profile__intern_cstr(p, "a.c"), 10, PROFILE_FRAME_INLINE },
		{ profile__intern_cstr(p, "outer"), profile__intern_cstr(p, "a.c"), 20, 0 },
	};
	uint32_t l0, l1, l2;

	assert_int_equal(profile__find_location(p, m, 0x1000), PROFILE_NONE);
	l0 = profile__add_location(p, m, 0x1000, 0, fr, 2);
	l1 = profile__add_location(p, m, 0x2000, 0, NULL, 0);
	/* The same address in another mapping is another location. */
	l2 = profile__add_location(p, m2, 0x1000, PROFILE_LOC_KERNEL, fr + 1, 1);
	assert_int_equal(l0, 0);
	assert_int_equal(l1, 1);
	assert_int_equal(l2, 2);
	assert_int_equal(profile__find_location(p, m, 0x1000), l0);
	assert_int_equal(profile__find_location(p, m, 0x2000), l1);
	assert_int_equal(profile__find_location(p, m2, 0x1000), l2);
	assert_int_equal(profile__find_location(p, m2, 0x2000), PROFILE_NONE);

	assert_int_equal(p->locations[l0].mapping, m);
	assert_int_equal(p->locations[l0].addr, 0x1000);
	assert_int_equal(p->locations[l0].nr_frames, 2);
	assert_int_equal(p->frames[p->locations[l0].frame].function, fr[0].function);
	assert_int_equal(p->frames[p->locations[l0].frame].line, 10);
	assert_int_equal(p->frames[p->locations[l0].frame].flags, PROFILE_FRAME_INLINE);
	assert_int_equal(p->frames[p->locations[l0].frame + 1].function, fr[1].function);
	assert_int_equal(p->locations[l1].nr_frames, 0);
	assert_int_equal(p->locations[l2].flags, PROFILE_LOC_KERNEL);
	assert_int_equal(p->frames[p->locations[l2].frame].line, 20);
	assert_int_equal(p->nr_frames, 3);

	/* The frames were copied. */
	fr[0].line = 99;
	assert_int_equal(p->frames[p->locations[l0].frame].line, 10);

	errno = 0;
	assert_int_equal(profile__add_location(p, m, 0x1000, 0, NULL, 0), PROFILE_NONE);
	assert_int_equal(errno, EEXIST);
	errno = 0;
	assert_int_equal(profile__add_location(p, 7, 0x3000, 0, NULL, 0), PROFILE_NONE);
	assert_int_equal(errno, EINVAL);
	fr[0].function = p->nr_strs;
	errno = 0;
	assert_int_equal(profile__add_location(p, m, 0x3000, 0, fr, 2), PROFILE_NONE);
	assert_int_equal(errno, EINVAL);
	fr[0].function = 0;
	fr[1].file = p->nr_strs + 5;
	errno = 0;
	assert_int_equal(profile__add_location(p, m, 0x3000, 0, fr, 2), PROFILE_NONE);
	assert_int_equal(errno, EINVAL);
	/* Failed adds leave nothing behind. */
	assert_int_equal(p->nr_locations, 3);
	assert_int_equal(p->nr_frames, 3);
	assert_int_equal(profile__find_location(p, m, 0x3000), PROFILE_NONE);
}

static void test_stacks(void **state)
{
	struct profile *p = *state;
	uint32_t m = profile__intern_mapping(p, profile__intern_cstr(p, "/bin/app"), 0, PROFILE_MAP_FILE);
	uint32_t a = add_named_loc(p, m, 0x10, "a"), b = add_named_loc(p, m, 0x20, "b");
	uint32_t c = add_named_loc(p, m, 0x30, "c");
	uint32_t abc[] = { a, b, c }, cba[] = { c, b, a }, ab[] = { a, b }, bad[] = { a, 3 };
	uint32_t s0, s1, s2, s3;
	const uint32_t *locs;

	s0 = profile__intern_stack(p, abc, 3);
	s1 = profile__intern_stack(p, cba, 3);
	s2 = profile__intern_stack(p, ab, 2);
	s3 = profile__intern_stack(p, NULL, 0);
	assert_int_equal(s0, 0);
	assert_int_equal(s1, 1);
	assert_int_equal(s2, 2);
	assert_int_equal(s3, 3);
	assert_int_equal(profile__intern_stack(p, abc, 3), s0);
	assert_int_equal(profile__intern_stack(p, cba, 3), s1);
	assert_int_equal(profile__intern_stack(p, abc, 2), s2);
	assert_int_equal(profile__intern_stack(p, ab, 0), s3);
	assert_int_equal(p->nr_stacks, 4);
	assert_int_equal(p->nr_stack_locs, 8);

	locs = profile__stack_locs(p, s1);
	assert_int_equal(p->stacks[s1].depth, 3);
	assert_int_equal(locs[0], c);
	assert_int_equal(locs[1], b);
	assert_int_equal(locs[2], a);
	assert_int_equal(p->stacks[s3].depth, 0);

	errno = 0;
	assert_int_equal(profile__intern_stack(p, bad, 2), PROFILE_NONE);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(p->nr_stacks, 4);
}

/* An empty stack before any other: nothing is stored for it, and interning it again finds it. */
static void test_empty_stack_first(void **state)
{
	struct profile *p = *state;
	uint32_t s0 = profile__intern_stack(p, NULL, 0);
	uint32_t m = profile__intern_mapping(p, 0, 0, PROFILE_MAP_ANON);
	uint32_t l = profile__add_location(p, m, 0x10, 0, NULL, 0);

	assert_int_equal(s0, 0);
	assert_int_equal(p->stacks[s0].depth, 0);
	assert_int_equal(profile__intern_stack(p, NULL, 0), s0);
	assert_int_equal(profile__intern_stack(p, &l, 0), s0);
	assert_int_equal(profile__intern_stack(p, &l, 1), 1);
	assert_int_equal(p->nr_stacks, 2);
	assert_int_equal(p->nr_stack_locs, 1);
	assert_int_equal(profile__stack_locs(p, 1)[0], l);
}

static void test_threads(void **state)
{
	struct profile *p = *state;
	uint32_t app = profile__intern_cstr(p, "app"), worker = profile__intern_cstr(p, "worker");
	uint32_t t0 = profile__intern_thread(p, 100, 100, app);
	uint32_t t1 = profile__intern_thread(p, 100, 101, app);
	uint32_t t2 = profile__intern_thread(p, 100, 101, worker); /* renamed: a new thread entry */
	uint32_t t3 = profile__intern_thread(p, 200, 100, app);

	assert_int_equal(t0, 0);
	assert_int_equal(t1, 1);
	assert_int_equal(t2, 2);
	assert_int_equal(t3, 3);
	assert_int_equal(profile__intern_thread(p, 100, 101, app), t1);
	assert_int_equal(profile__intern_thread(p, 200, 100, app), t3);
	assert_int_equal(p->threads[t2].pid, 100);
	assert_int_equal(p->threads[t2].tid, 101);
	assert_int_equal(p->threads[t2].comm, worker);
	errno = 0;
	assert_int_equal(profile__intern_thread(p, 1, 1, p->nr_strs), PROFILE_NONE);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(p->nr_threads, 4);
}

static void test_counts_and_total(void **state)
{
	struct profile *p = *state;
	uint32_t m = profile__intern_mapping(p, profile__intern_cstr(p, "/bin/app"), 0, PROFILE_MAP_FILE);
	uint32_t a = add_named_loc(p, m, 0x10, "a"), b = add_named_loc(p, m, 0x20, "b");
	uint32_t sa = profile__intern_stack(p, &a, 1), sb = profile__intern_stack(p, &b, 1);
	uint32_t t0 = profile__intern_thread(p, 1, 1, 0), t1 = profile__intern_thread(p, 1, 2, 0);
	uint32_t c0, c1, c2;

	c0 = profile__add_count(p, sa, t0, 3);
	c1 = profile__add_count(p, sa, t1, 4);
	c2 = profile__add_count(p, sb, t0, 1);
	assert_int_equal(c0, 0);
	assert_int_equal(c1, 1);
	assert_int_equal(c2, 2);
	assert_int_equal(profile__add_count(p, sa, t0, 10), c0);
	assert_int_equal(profile__add_count(p, sb, t0, 1), c2);
	assert_int_equal(p->nr_counts, 3);
	assert_int_equal(p->counts[c0].count, 13);
	assert_int_equal(p->counts[c0].stack, sa);
	assert_int_equal(p->counts[c0].thread, t0);
	assert_int_equal(p->counts[c1].count, 4);
	assert_int_equal(p->counts[c2].count, 2);
	assert_int_equal(p->total, 19);

	errno = 0;
	assert_int_equal(profile__add_count(p, 2, t0, 1), PROFILE_NONE);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(profile__add_count(p, sa, 2, 1), PROFILE_NONE);
	assert_int_equal(errno, EINVAL);
	/* The total never wraps. */
	errno = 0;
	assert_int_equal(profile__add_count(p, sb, t1, UINT64_MAX - 5), PROFILE_NONE);
	assert_int_equal(errno, EOVERFLOW);
	assert_int_equal(p->nr_counts, 3);
	assert_int_equal(p->total, 19);
	assert_int_equal(profile__add_count(p, sb, t1, UINT64_MAX - 19), 3);
	assert_true(p->total == UINT64_MAX);
}

static void test_meta(void **state)
{
	struct profile *p = *state;
	char key[16] = "command";

	assert_null(profile__meta_get(p, "command"));
	assert_int_equal(profile__meta_set(p, key, "./app --fast"), 0);
	assert_int_equal(profile__meta_set(p, "hostname", "box"), 0);
	assert_int_equal(profile__meta_setf(p, "frequency", "%d", 99), 0);
	strcpy(key, "xxxxxxx");
	assert_string_equal(profile__meta_get(p, "command"), "./app --fast");
	assert_string_equal(profile__meta_get(p, "hostname"), "box");
	assert_string_equal(profile__meta_get(p, "frequency"), "99");
	assert_null(profile__meta_get(p, "xxxxxxx"));
	assert_null(profile__meta_get(p, "comman"));
	assert_int_equal(p->nr_meta, 3);

	/* Replacing keeps the order and the number of entries. */
	assert_int_equal(profile__meta_set(p, "command", "./other"), 0);
	assert_int_equal(profile__meta_setf(p, "hostname", "%s-%u", "box", 2u), 0);
	assert_int_equal(p->nr_meta, 3);
	assert_string_equal(profile__str(p, p->meta[0].key), "command");
	assert_string_equal(profile__str(p, p->meta[0].value), "./other");
	assert_string_equal(profile__str(p, p->meta[1].key), "hostname");
	assert_string_equal(profile__meta_get(p, "hostname"), "box-2");
	assert_string_equal(profile__str(p, p->meta[2].key), "frequency");
	/* An empty value is a value, not an absence. */
	assert_int_equal(profile__meta_set(p, "targets", ""), 0);
	assert_non_null(profile__meta_get(p, "targets"));
	assert_string_equal(profile__meta_get(p, "targets"), "");
}

static void test_counters(void **state)
{
	struct profile *p = *state;

	assert_int_equal(profile__counter_get(p, "lost"), 0);
	assert_int_equal(profile__counter_add(p, "lost", 5), 0);
	assert_int_equal(profile__counter_add(p, "lost", 7), 0);
	assert_int_equal(profile__counter_set(p, "samples", 1000), 0);
	assert_int_equal(profile__counter_get(p, "lost"), 12);
	assert_int_equal(profile__counter_get(p, "samples"), 1000);
	assert_int_equal(profile__counter_set(p, "lost", 1), 0);
	assert_int_equal(profile__counter_get(p, "lost"), 1);
	assert_int_equal(profile__counter_set(p, "big", UINT64_MAX), 0);
	assert_true(profile__counter_get(p, "big") == UINT64_MAX);
	assert_int_equal(profile__counter_get(p, "samples2"), 0);
	assert_int_equal(p->nr_counters, 3);
	assert_string_equal(profile__str(p, p->counters[0].key), "lost");
	assert_string_equal(profile__str(p, p->counters[1].key), "samples");
	/* Meta and counters are separate namespaces. */
	assert_null(profile__meta_get(p, "lost"));
	assert_int_equal(profile__meta_set(p, "samples", "text"), 0);
	assert_int_equal(profile__counter_get(p, "samples"), 1000);
	assert_string_equal(profile__meta_get(p, "samples"), "text");
}

/*
 * Many keys: set and get are constant time (an index, not a scan of the keys: 65536 keys would cost
 * two billion comparisons), and a profile holds at most PROFILE_MAX_KEYS of each kind (-E2BIG).
 */
static void test_many_keys(void **state)
{
	struct profile p;
	char key[32];
	uint32_t i;

	(void)state;
	profile__init(&p);
	for (i = 0; i < PROFILE_MAX_KEYS; i++) {
		snprintf(key, sizeof(key), "key%u", i);
		assert_int_equal(profile__meta_set(&p, key, key + 3), 0);
		assert_int_equal(profile__counter_set(&p, key, i), 0);
	}
	assert_int_equal(profile__meta_set(&p, "one-more", "x"), -E2BIG);
	assert_int_equal(profile__counter_set(&p, "one-more", 1), -E2BIG);
	assert_null(profile__meta_get(&p, "one-more"));
	/* Existing keys can still be set. */
	assert_int_equal(profile__meta_set(&p, "key7", "seven"), 0);
	assert_int_equal(profile__counter_set(&p, "key65535", 5), 0);
	assert_int_equal(p.nr_meta, PROFILE_MAX_KEYS);
	assert_int_equal(p.nr_counters, PROFILE_MAX_KEYS);
	assert_string_equal(profile__meta_get(&p, "key7"), "seven");
	assert_string_equal(profile__meta_get(&p, "key65534"), "65534");
	assert_int_equal(profile__counter_get(&p, "key65535"), 5);
	assert_int_equal(profile__counter_get(&p, "key100"), 100);
	assert_string_equal(profile__str(&p, p.meta[7].key), "key7");
	assert_string_equal(profile__str(&p, p.counters[PROFILE_MAX_KEYS - 1].key), "key65535");
	profile__release(&p);
}

static void test_mapping_short_name(void **state)
{
	struct profile *p = *state;
	uint32_t libc = profile__intern_mapping(p, profile__intern_cstr(p, "/usr/lib/x86_64-linux-gnu/libc.so.6"),
						0, PROFILE_MAP_FILE);
	uint32_t k = profile__intern_mapping(p, profile__intern_cstr(p, "[kernel.kallsyms]"), 0,
					     PROFILE_MAP_KERNEL);
	uint32_t bare = profile__intern_mapping(p, profile__intern_cstr(p, "app"), 0, PROFILE_MAP_FILE);
	uint32_t dir = profile__intern_mapping(p, profile__intern_cstr(p, "/weird/dir/"), 0, PROFILE_MAP_FILE);
	uint32_t br = profile__intern_mapping(p, profile__intern_cstr(p, "[a/b]"), 0, PROFILE_MAP_JIT);

	assert_string_equal(profile__mapping_short_name(p, libc), "libc.so.6");
	assert_string_equal(profile__mapping_short_name(p, k), "[kernel.kallsyms]");
	assert_string_equal(profile__mapping_short_name(p, bare), "app");
	/* No last component to take: the whole name. */
	assert_string_equal(profile__mapping_short_name(p, dir), "/weird/dir/");
	/* Bracketed pseudo names are never cut at a slash. */
	assert_string_equal(profile__mapping_short_name(p, br), "[a/b]");
	assert_string_equal(profile__mapping_short_name(p, 99), "[unknown]");
}

static void test_frame_label(void **state)
{
	struct profile *p = *state;
	uint32_t app = profile__intern_mapping(p, profile__intern_cstr(p, "/opt/my app/bin/app"), 0,
					       PROFILE_MAP_FILE);
	uint32_t k = profile__intern_mapping(p, profile__intern_cstr(p, "[kernel.kallsyms]"), 0,
					     PROFILE_MAP_KERNEL);
	uint32_t vdso = profile__intern_mapping(p, profile__intern_cstr(p, "[vdso]"), 0, PROFILE_MAP_VDSO);
	uint32_t anon = profile__intern_mapping(p, profile__intern_cstr(p, ""), 0, PROFILE_MAP_ANON);
	struct profile_frame fr[2] = {
		{ profile__intern_cstr(p, "inner"), 0, 0, PROFILE_FRAME_INLINE },
		{ 0, 0, 0, 0 }, /* a frame whose function is unknown */
	};
	uint32_t named = profile__add_location(p, app, 0x1234, 0, fr, 2);
	uint32_t kloc = profile__add_location(p, k, 0xffffffff81000010ULL, PROFILE_LOC_KERNEL, NULL, 0);
	uint32_t vloc = profile__add_location(p, vdso, 0xa5, 0, NULL, 0);
	uint32_t aloc = profile__add_location(p, anon, 0x7f0000001000ULL, 0, NULL, 0);
	uint32_t uloc = profile__add_location(p, app, 0xabc, 0, NULL, 0);
	char buf[64], small[8];

	assert_ptr_equal(profile__frame_label(p, named, 0, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "inner");
	profile__frame_label(p, named, 1, buf, sizeof(buf));
	assert_string_equal(buf, "[app+0x1234]");
	profile__frame_label(p, named, 2, buf, sizeof(buf));
	assert_string_equal(buf, "[app+0x1234]");
	profile__frame_label(p, kloc, 0, buf, sizeof(buf));
	assert_string_equal(buf, "[kernel.kallsyms+0xffffffff81000010]");
	profile__frame_label(p, vloc, 0, buf, sizeof(buf));
	assert_string_equal(buf, "[vdso+0xa5]");
	profile__frame_label(p, aloc, 0, buf, sizeof(buf));
	assert_string_equal(buf, "[+0x7f0000001000]");
	profile__frame_label(p, uloc, 0, buf, sizeof(buf));
	assert_string_equal(buf, "[app+0xabc]");
	profile__frame_label(p, 1000, 0, buf, sizeof(buf));
	assert_string_equal(buf, "[unknown]");
	/* Truncated, still terminated. */
	memset(small, 'x', sizeof(small));
	profile__frame_label(p, kloc, 0, small, sizeof(small));
	assert_string_equal(small, "[kernel");
}

static void test_find_thread(void **state)
{
	struct profile p;
	uint32_t comm, t;

	(void)state;
	profile__init(&p);
	comm = profile__intern_cstr(&p, "worker");
	assert_int_equal(profile__find_thread(&p, 10, 11, comm), PROFILE_NONE);
	t = profile__intern_thread(&p, 10, 11, comm);
	assert_int_equal(profile__find_thread(&p, 10, 11, comm), t);
	assert_int_equal(profile__find_thread(&p, 10, 12, comm), PROFILE_NONE);
	assert_int_equal(profile__find_thread(&p, 10, 11, 0), PROFILE_NONE);
	assert_int_equal(p.nr_threads, 1); /* finding adds nothing */
	profile__release(&p);
}

static void test_waits_and_select(void **state)
{
	struct profile *p = *state;
	uint32_t m = profile__intern_mapping(p, profile__intern_cstr(p, "/bin/app"), 0, PROFILE_MAP_FILE);
	uint32_t a = add_named_loc(p, m, 0x10, "a"), b = add_named_loc(p, m, 0x20, "b");
	uint32_t sa = profile__intern_stack(p, &a, 1), sb = profile__intern_stack(p, &b, 1);
	uint32_t t0 = profile__intern_thread(p, 1, 1, 0);

	assert_false(profile__has_off_cpu(p));
	assert_int_equal(profile__add_count(p, sa, t0, 10), 0);
	assert_int_equal(profile__add_wait(p, PROFILE_EV_OFF_SLEEP, sb, t0, 1, 30000000), 0);
	assert_int_equal(profile__add_wait(p, PROFILE_EV_OFF_RUNQ, sb, t0, 1, 1500), 1);
	assert_int_equal(profile__add_wait(p, PROFILE_EV_OFF_SLEEP, sb, t0, 2, 20000000), 0);
	assert_int_equal(profile__add_wait(p, PROFILE_EV_OFF_RUNQ, sa, t0, 1, 1), 2);
	assert_true(profile__has_off_cpu(p));
	assert_int_equal(p->nr_waits, 3);
	assert_int_equal(p->waits[0].waits, 3);
	assert_int_equal(p->wait_ns[PROFILE_EV_OFF_SLEEP], 50000000);
	assert_int_equal(p->wait_ns[PROFILE_EV_OFF_RUNQ], 1501);
	/* Bad ids and events. */
	errno = 0;
	assert_int_equal(profile__add_wait(p, PROFILE_EV_CPU, sa, t0, 1, 1), PROFILE_NONE);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(profile__add_wait(p, PROFILE_EV_MAX, sa, t0, 1, 1), PROFILE_NONE);
	assert_int_equal(profile__add_wait(p, PROFILE_EV_OFF_DISK, 9, t0, 1, 1), PROFILE_NONE);
	assert_int_equal(profile__add_wait(p, PROFILE_EV_OFF_DISK, sa, 9, 1, 1), PROFILE_NONE);
	errno = 0;
	assert_int_equal(profile__add_wait(p, PROFILE_EV_OFF_SLEEP, sa, t0, 1, UINT64_MAX), PROFILE_NONE);
	assert_int_equal(errno, EOVERFLOW);
	assert_int_equal(p->total, 10);
	assert_string_equal(profile__events_name(PROFILE_EV_WALL), "wall");
	assert_string_equal(profile__events_name(PROFILE_EV_OFF_CPU), "off-cpu");
	assert_string_equal(profile__events_name(PROFILE_EV_MASK(PROFILE_EV_OFF_RUNQ)), "off-cpu:runq");

	/* CPU time needs the frequency. */
	assert_int_equal(profile__select_event(p, PROFILE_EV_WALL), -EINVAL);
	assert_int_equal(p->total, 10);
	assert_false(profile__counts_are_us(p));
	/* CPU alone changes nothing. */
	assert_int_equal(profile__select_event(p, PROFILE_EV_MASK(PROFILE_EV_CPU)), 0);
	assert_int_equal(p->total, 10);
	/* wall at 100 Hz: 10 samples are 100 ms on a; b waited 50 ms + 1.5 us; a 1 ns (rounded up). */
	assert_int_equal(profile__meta_set(p, "frequency", "100"), 0);
	assert_int_equal(profile__select_event(p, PROFILE_EV_WALL), 0);
	assert_true(profile__counts_are_us(p));
	assert_int_equal(p->nr_counts, 2);
	assert_int_equal(p->counts[0].stack, sa);
	assert_int_equal(p->counts[0].count, 100001);
	assert_int_equal(p->counts[1].stack, sb);
	assert_int_equal(p->counts[1].count, 50002);
	assert_int_equal(p->total, 150003);
	assert_int_equal(p->count_events, PROFILE_EV_WALL);
	/* The waits stay. */
	assert_int_equal(p->nr_waits, 3);
}

/* Samples whose time does not fit 64 bits of nanoseconds (a hostile file): refused, not wrapped. */
static void test_select_overflow(void **state)
{
	struct profile *p = *state;
	uint32_t m = profile__intern_mapping(p, profile__intern_cstr(p, "/bin/app"), 0, PROFILE_MAP_FILE);
	uint32_t a = add_named_loc(p, m, 0x10, "a");
	uint32_t sa = profile__intern_stack(p, &a, 1), t0 = profile__intern_thread(p, 1, 1, 0);

	assert_int_equal(profile__add_count(p, sa, t0, 1ULL << 40), 0);
	assert_int_equal(profile__add_wait(p, PROFILE_EV_OFF_SLEEP, sa, t0, 1, 5), 0);
	assert_int_equal(profile__meta_set(p, "frequency", "1"), 0);
	assert_int_equal(profile__select_event(p, PROFILE_EV_WALL), -EOVERFLOW);
	assert_int_equal(profile__meta_set(p, "frequency", "1e-300"), 0);
	assert_int_equal(profile__select_event(p, PROFILE_EV_WALL), -EINVAL);
}

static void test_select_off_cpu(void **state)
{
	struct profile *p = *state;
	uint32_t m = profile__intern_mapping(p, profile__intern_cstr(p, "/bin/app"), 0, PROFILE_MAP_FILE);
	uint32_t a = add_named_loc(p, m, 0x10, "a");
	uint32_t sa = profile__intern_stack(p, &a, 1), se = profile__intern_stack(p, NULL, 0);
	uint32_t t0 = profile__intern_thread(p, 1, 1, 0);

	assert_int_equal(profile__add_count(p, sa, t0, 10), 0);
	assert_int_equal(profile__add_count(p, se, t0, 1), 1);
	assert_int_equal(profile__add_wait(p, PROFILE_EV_OFF_DISK, se, t0, 1, 2000), 0);
	assert_int_equal(profile__add_wait(p, PROFILE_EV_OFF_SLEEP, sa, t0, 1, 4000), 1);
	/* One state: the others and the samples are left out; no frequency needed. */
	assert_int_equal(profile__select_event(p, PROFILE_EV_MASK(PROFILE_EV_OFF_DISK)), 0);
	assert_int_equal(p->nr_counts, 1);
	assert_int_equal(p->counts[0].stack, se);
	assert_int_equal(p->counts[0].count, 2);
	assert_int_equal(p->total, 2);
	assert_string_equal(profile__events_name(p->count_events), "off-cpu:disk");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_thread),
		cmocka_unit_test_setup_teardown(test_empty_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intern_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intern_many_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intern_mappings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_stack_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_and_total, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waits_and_select, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_off_cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test_setup_teardown(test_mapping_short_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_label, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
