// SPDX-License-Identifier: MIT
/* Unit tests for the hash indexes (src/base/idxmap.h): idxmap of ids with external keys, and u64map. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "idxmap.h"

/* Keys of the idxmap tests: keys[id] is the key of id. */
struct keys {
	uint64_t *v;
	size_t nr;
	unsigned eq_calls;
};

static int key_eq(const void *key, uint32_t id, void *ctx)
{
	struct keys *k = ctx;

	k->eq_calls++;
	assert_true(id < k->nr);
	return k->v[id] == *(const uint64_t *)key;
}

static uint32_t find(const struct idxmap *m, struct keys *k, uint64_t key, uint64_t (*hash)(uint64_t))
{
	return idxmap__find(m, hash(key), &key, key_eq, k);
}

static uint64_t good_hash(uint64_t key)
{
	return idxmap__hash_u64(key);
}

/* Every key in one bucket: only the equality callback tells them apart. */
static uint64_t same_hash(uint64_t key)
{
	(void)key;
	return 42;
}

/* Same low 32 bits (what the index keeps), different high bits. */
static uint64_t high_bits_hash(uint64_t key)
{
	return key << 32 | 7;
}

static void test_idxmap_empty(void **state)
{
	struct idxmap m;
	struct keys k = { NULL, 0, 0 };

	(void)state;
	idxmap__init(&m);
	assert_int_equal(find(&m, &k, 1, good_hash), IDXMAP_NONE);
	assert_int_equal(k.eq_calls, 0);
	idxmap__release(&m);
	assert_null(m.slots);
	assert_int_equal(m.cap, 0);
	assert_int_equal(m.len, 0);
	/* Released maps can be used again. */
	assert_int_equal(find(&m, &k, 1, good_hash), IDXMAP_NONE);
}

static void check_many(uint64_t (*hash)(uint64_t), size_t n)
{
	struct idxmap m;
	struct keys k;
	size_t i;

	k.v = malloc(n * sizeof(*k.v));
	assert_non_null(k.v);
	k.nr = 0;
	idxmap__init(&m);
	for (i = 0; i < n; i++) {
		uint64_t key = i * 0x9e3779b97f4a7c15ULL + 3;

		assert_int_equal(find(&m, &k, key, hash), IDXMAP_NONE);
		k.v[k.nr++] = key;
		assert_int_equal(idxmap__insert(&m, hash(key), (uint32_t)i), 0);
	}
	assert_int_equal(m.len, n);
	assert_true(m.cap >= n);
	assert_int_equal(m.cap & (m.cap - 1), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(find(&m, &k, k.v[i], hash), (uint32_t)i);
	assert_int_equal(find(&m, &k, 1, hash), IDXMAP_NONE);
	assert_int_equal(find(&m, &k, 0, hash), IDXMAP_NONE);
	idxmap__release(&m);
	free(k.v);
}

static void test_idxmap_many_ids(void **state)
{
	(void)state;
	check_many(good_hash, 200000);
}

static void test_idxmap_colliding_hashes(void **state)
{
	(void)state;
	check_many(same_hash, 2000);
	check_many(high_bits_hash, 2000);
}

static void test_idxmap_hash_filter(void **state)
{
	struct idxmap m;
	uint64_t keys[2] = { 10, 20 };
	struct keys k = { keys, 2, 0 };
	uint64_t key = 10;

	(void)state;
	idxmap__init(&m);
	assert_int_equal(idxmap__insert(&m, 0x100000001ULL, 0), 0);
	assert_int_equal(idxmap__insert(&m, 0x100000002ULL, 1), 0);
	/*
	 * 0x41 starts probing at the slot of id 0 (64 slots) but its stored hash differs, so no id is
	 * compared with the key, even though key 10 is id 0's.
	 */
	k.eq_calls = 0;
	assert_int_equal(idxmap__find(&m, 0x41, &key, key_eq, &k), IDXMAP_NONE);
	assert_int_equal(k.eq_calls, 0);
	assert_int_equal(idxmap__find(&m, 0x100000001ULL, &key, key_eq, &k), 0);
	assert_int_equal(k.eq_calls, 1);
	key = 20;
	assert_int_equal(idxmap__find(&m, 0x2, &key, key_eq, &k), 1);
	idxmap__release(&m);
}

static void test_hash_bytes(void **state)
{
	(void)state;
	assert_true(idxmap__hash_bytes("abc", 3, 1) == idxmap__hash_bytes("abc", 3, 1));
	assert_true(idxmap__hash_bytes("abc", 3, 1) != idxmap__hash_bytes("abc", 3, 2));
	assert_true(idxmap__hash_bytes("abc", 3, 1) != idxmap__hash_bytes("abd", 3, 1));
	assert_true(idxmap__hash_bytes("abc", 3, 1) != idxmap__hash_bytes("abc", 2, 1));
	assert_true(idxmap__hash_bytes("", 0, 1) != idxmap__hash_bytes("", 0, 2));
	assert_true(idxmap__hash_u64(1) != idxmap__hash_u64(2));
}

/* SipHash-2-4 reference vectors (Aumasson and Bernstein, vectors.h): key 00..0f, message 00..len-1. */
static void test_siphash_vectors(void **state)
{
	static const uint64_t expect[] = { 0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
					   0x85676696d7fb7e2dULL };
	const uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
	unsigned char msg[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	for (i = 0; i < 4; i++)
		assert_true(idxmap__siphash(k0, k1, msg, i) == expect[i]);
	/* 15 bytes (vectors.h entry 15): the tail path; 8 bytes: one whole word. */
	assert_true(idxmap__siphash(k0, k1, msg, 8) == 0x93f5f5799a932462ULL);
	assert_true(idxmap__siphash(k0, k1, msg, 15) == 0xa129ca6149be45e5ULL);
}

/* The inverse of idxmap__stable_hash_u64 (murmur3's fmix64): xor-shift by 33 is its own inverse. */
static uint64_t unfmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0x9cb4b2f8129337dbULL; /* inverse of 0xc4ceb9fe1a85ec53 mod 2^64 */
	x ^= x >> 33;
	x *= 0x4f74430c22a54005ULL; /* inverse of 0xff51afd7ed558ccd mod 2^64 */
	x ^= x >> 33;
	return x;
}

/*
 * Hash flooding: keys crafted so that the old, unkeyed hash (fmix64) gives all of them the same low
 * 32 bits, the only bits the index keeps. With the keyed hash they spread: finding each key compares
 * it with about one other key, not with every key inserted before it.
 */
static void test_hash_flooding(void **state)
{
	const size_t n = 5000;
	struct idxmap m;
	struct keys k;
	size_t i;

	(void)state;
	assert_true(unfmix64(idxmap__stable_hash_u64(12345)) == 12345);
	assert_true(idxmap__stable_hash_u64(unfmix64(7ULL << 32 | 99)) == (7ULL << 32 | 99));
	k.v = malloc(n * sizeof(*k.v));
	assert_non_null(k.v);
	k.nr = 0;
	k.eq_calls = 0;
	idxmap__init(&m);
	for (i = 0; i < n; i++) {
		uint64_t key = unfmix64((uint64_t)i << 32 | 0x5ca1ab1e);

		assert_int_equal(find(&m, &k, key, good_hash), IDXMAP_NONE);
		k.v[k.nr++] = key;
		assert_int_equal(idxmap__insert(&m, good_hash(key), (uint32_t)i), 0);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(find(&m, &k, k.v[i], good_hash), (uint32_t)i);
	/* One chain would cost n * n / 2 = 12.5 million comparisons. */
	assert_true(k.eq_calls < 4 * n);
	idxmap__release(&m);
	free(k.v);
}

/* The stable hash gives the values it gave before the keyed hash existed (flame graph colours). */
static void test_stable_hash(void **state)
{
	(void)state;
	assert_true(idxmap__stable_hash_bytes("main", 4, 11) == idxmap__stable_hash_bytes("main", 4, 11));
	assert_true(idxmap__stable_hash_u64(0) == 0);
	assert_true(idxmap__stable_hash_u64(1) == 0xb456bcfc34c2cb2cULL);
}

static void test_u64map_basic(void **state)
{
	struct u64map m;
	uint64_t v = 1234;

	(void)state;
	u64map__init(&m);
	assert_int_equal(u64map__get(&m, 0, &v), 0);
	assert_int_equal(v, 1234); /* untouched when not found */
	assert_int_equal(u64map__set(&m, 5, 50), 0);
	assert_int_equal(u64map__set(&m, 0, 7), 0);
	assert_int_equal(u64map__set(&m, UINT64_MAX, 9), 0);
	assert_int_equal(m.len, 3);
	assert_int_equal(u64map__get(&m, 5, &v), 1);
	assert_int_equal(v, 50);
	assert_int_equal(u64map__get(&m, 0, &v), 1);
	assert_int_equal(v, 7);
	assert_int_equal(u64map__get(&m, UINT64_MAX, &v), 1);
	assert_int_equal(v, 9);
	assert_int_equal(u64map__get(&m, 6, &v), 0);

	/* Replace: same key, new value, no new entry. */
	assert_int_equal(u64map__set(&m, 5, 51), 0);
	assert_int_equal(u64map__set(&m, 0, 0), 0);
	assert_int_equal(m.len, 3);
	assert_int_equal(u64map__get(&m, 5, &v), 1);
	assert_int_equal(v, 51);
	assert_int_equal(u64map__get(&m, 0, &v), 1);
	assert_int_equal(v, 0);
	u64map__release(&m);
	assert_int_equal(u64map__get(&m, 5, &v), 0);
}

static void test_u64map_growth(void **state)
{
	struct u64map m;
	uint64_t i, v;
	const uint64_t n = 100000;

	(void)state;
	u64map__init(&m);
	/* Key 0 first, then keys that share low bits (addresses on one page, ids shifted up). */
	for (i = 0; i < n; i++)
		assert_int_equal(u64map__set(&m, i << 12, i * 3 + 1), 0);
	assert_int_equal(m.len, n);
	for (i = 0; i < n; i++) {
		v = 0;
		assert_int_equal(u64map__get(&m, i << 12, &v), 1);
		assert_true(v == i * 3 + 1);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(u64map__get(&m, (i << 12) + 1, &v), 0);
	for (i = 0; i < n; i += 2)
		assert_int_equal(u64map__set(&m, i << 12, ~i), 0);
	assert_int_equal(m.len, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(u64map__get(&m, i << 12, &v), 1);
		assert_true(v == (i % 2 ? i * 3 + 1 : ~i));
	}
	u64map__release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idxmap_empty),
		cmocka_unit_test(test_idxmap_many_ids),
		cmocka_unit_test(test_idxmap_colliding_hashes),
		cmocka_unit_test(test_idxmap_hash_filter),
		cmocka_unit_test(test_hash_bytes),
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_hash_flooding),
		cmocka_unit_test(test_stable_hash),
		cmocka_unit_test(test_u64map_basic),
		cmocka_unit_test(test_u64map_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
