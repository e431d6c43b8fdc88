/* SPDX-License-Identifier: MIT */
/*
 * idxmap - an open-addressing hash index of 32-bit ids whose keys live elsewhere.
 *
 * The caller owns the keyed objects (strings, stacks, ...) in its own arrays and stores only their ids
 * here, with each id's 64-bit hash. Lookups take the hash of the wanted key and an equality callback
 * that compares the key with a stored id. The map owns its slot array only; idxmap__release() frees it.
 * Functions returning int return 0 or -ENOMEM.
 */
#ifndef SCORCH_IDXMAP_H
#define SCORCH_IDXMAP_H

#include <stddef.h>
#include <stdint.h>

#define IDXMAP_NONE UINT32_MAX

struct idxmap_slot {
	uint32_t hash; /* low 32 bits of the key hash */
	uint32_t id;   /* IDXMAP_NONE when empty */
};

struct idxmap {
	struct idxmap_slot *slots; /* owned */
	size_t cap;                /* power of two, or 0 */
	size_t len;
};

typedef int (*idxmap_eq_fn)(const void *key, uint32_t id, void *ctx);

void idxmap__init(struct idxmap *m);
void idxmap__release(struct idxmap *m);
/* Return the id stored for a key equal to 'key', or IDXMAP_NONE. */
uint32_t idxmap__find(const struct idxmap *m, uint64_t hash, const void *key, idxmap_eq_fn eq, void *ctx);
/* Store 'id' under 'hash'; the caller has checked that no equal key is stored. */
int idxmap__insert(struct idxmap *m, uint64_t hash, uint32_t id);

/*
 * Hashes for building keys. idxmap__hash_bytes() and idxmap__hash_u64() are SipHash-2-4 under a key
 * drawn once per process from getrandom() (before main, so forked children share it): keys come from
 * untrusted files and processes, and an unkeyed hash lets a crafted input put every key in one probe
 * chain. Their values differ from run to run: never store them, print them or derive output from
 * them. 'seed' separates uses of one key (a different seed gives an unrelated hash).
 */
uint64_t idxmap__hash_bytes(const void *data, size_t len, uint64_t seed);
uint64_t idxmap__hash_u64(uint64_t x);

/*
 * Stable hashes (FNV-1a with the murmur3 64-bit finaliser): the same value in every run, for what
 * must not change between runs (flame graph colours). Not for hash tables of untrusted keys.
 */
uint64_t idxmap__stable_hash_bytes(const void *data, size_t len, uint64_t seed);
static inline uint64_t idxmap__stable_hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* SipHash-2-4 of 'data' under the 128-bit key (k0, k1), little-endian as in the reference. */
uint64_t idxmap__siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);

/*
 * u64map - a hash map from non-zero-sized 64-bit keys to 64-bit values, for caches keyed by addresses
 * and ids. Owns its arrays; u64map__release() frees them.
 */
struct u64map {
	uint64_t *keys; /* owned */
	uint64_t *vals; /* owned */
	uint8_t *used;  /* owned */
	size_t cap;
	size_t len;
};

void u64map__init(struct u64map *m);
void u64map__release(struct u64map *m);
/* Return 1 and set *val when found, 0 when not. */
int u64map__get(const struct u64map *m, uint64_t key, uint64_t *val);
/* Insert or replace. Returns 0 or -ENOMEM. */
int u64map__set(struct u64map *m, uint64_t key, uint64_t val);

#endif
