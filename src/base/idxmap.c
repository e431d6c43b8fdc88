// SPDX-License-Identifier: MIT
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "idxmap.h"

void idxmap__init(struct idxmap *m)
{
	memset(m, 0, sizeof(*m));
}

void idxmap__release(struct idxmap *m)
{
	free(m->slots);
	idxmap__init(m);
}

uint32_t idxmap__find(const struct idxmap *m, uint64_t hash, const void *key, idxmap_eq_fn eq, void *ctx)
{
	size_t mask, i;
	uint32_t h = (uint32_t)hash;

	if (!m->cap)
		return IDXMAP_NONE;
	mask = m->cap - 1;
	for (i = hash & mask;; i = (i + 1) & mask) {
		const struct idxmap_slot *s = &m->slots[i];

		if (s->id == IDXMAP_NONE)
			return IDXMAP_NONE;
		if (s->hash == h && eq(key, s->id, ctx))
			return s->id;
	}
}

static void place(struct idxmap_slot *slots, size_t cap, uint32_t hash, uint32_t id)
{
	size_t mask = cap - 1, i;

	/* Only the low 32 bits of the hash are kept, so they also pick the slot. */
	for (i = hash & mask; slots[i].id != IDXMAP_NONE; i = (i + 1) & mask)
		;
	slots[i].hash = hash;
	slots[i].id = id;
}

int idxmap__insert(struct idxmap *m, uint64_t hash, uint32_t id)
{
	if ((m->len + 1) * 4 > m->cap * 3) {
		size_t ncap = m->cap ? m->cap * 2 : 64, i;
		struct idxmap_slot *ns = malloc(ncap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		for (i = 0; i < ncap; i++)
			ns[i].id = IDXMAP_NONE;
		for (i = 0; i < m->cap; i++)
			if (m->slots[i].id != IDXMAP_NONE)
				place(ns, ncap, m->slots[i].hash, m->slots[i].id);
		free(m->slots);
		m->slots = ns;
		m->cap = ncap;
	}
	place(m->slots, m->cap, (uint32_t)hash, id);
	m->len++;
	return 0;
}

/* --- hashes --- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                   \
	do {                       \
		v0 += v1;          \
		v1 = ROTL(v1, 13); \
		v1 ^= v0;          \
		v0 = ROTL(v0, 32); \
		v2 += v3;          \
		v3 = ROTL(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = ROTL(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = ROTL(v1, 17); \
		v1 ^= v2;          \
		v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

uint64_t idxmap__siphash(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + (len & ~(size_t)7);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t left = len & 7, i;

	for (; p != end; p += 8) {
		m = le64(p);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < left; i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The per-process key; drawn before main() so that threads and forked children see one value. */
static uint64_t hash_key[2];

__attribute__((constructor)) static void draw_hash_key(void)
{
	uint64_t k[2] = { 0, 0 };
	struct timespec ts;

	if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
		/* No entropy yet (early boot) or no getrandom: weaker, but still not a fixed key. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		k[0] ^= idxmap__stable_hash_u64((uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30);
		k[1] ^= idxmap__stable_hash_u64((uint64_t)getpid() ^ (uint64_t)(uintptr_t)&ts);
	}
	hash_key[0] = k[0];
	hash_key[1] = k[1];
}

uint64_t idxmap__hash_bytes(const void *data, size_t len, uint64_t seed)
{
	return idxmap__siphash(hash_key[0], hash_key[1] ^ seed, data, len);
}

uint64_t idxmap__hash_u64(uint64_t x)
{
	unsigned char b[8];

	x = htole64(x);
	memcpy(b, &x, 8);
	return idxmap__siphash(hash_key[0], hash_key[1], b, 8);
}

uint64_t idxmap__stable_hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return idxmap__stable_hash_u64(h);
}

void u64map__init(struct u64map *m)
{
	memset(m, 0, sizeof(*m));
}

void u64map__release(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	u64map__init(m);
}

int u64map__get(const struct u64map *m, uint64_t key, uint64_t *val)
{
	size_t mask, i;

	if (!m->cap)
		return 0;
	mask = m->cap - 1;
	for (i = idxmap__hash_u64(key) & mask; m->used[i]; i = (i + 1) & mask) {
		if (m->keys[i] == key) {
			*val = m->vals[i];
			return 1;
		}
	}
	return 0;
}

static size_t u64map_slot(const struct u64map *m, uint64_t key)
{
	size_t mask = m->cap - 1, i;

	for (i = idxmap__hash_u64(key) & mask; m->used[i] && m->keys[i] != key; i = (i + 1) & mask)
		;
	return i;
}

int u64map__set(struct u64map *m, uint64_t key, uint64_t val)
{
	size_t i;

	if ((m->len + 1) * 4 > m->cap * 3) {
		struct u64map n = { 0 };

		n.cap = m->cap ? m->cap * 2 : 256;
		n.keys = malloc(n.cap * sizeof(*n.keys));
		n.vals = malloc(n.cap * sizeof(*n.vals));
		n.used = calloc(n.cap, 1);
		if (!n.keys || !n.vals || !n.used) {
			u64map__release(&n);
			return -ENOMEM;
		}
		for (i = 0; i < m->cap; i++) {
			if (m->used[i]) {
				size_t j = u64map_slot(&n, m->keys[i]);

				n.used[j] = 1;
				n.keys[j] = m->keys[i];
				n.vals[j] = m->vals[i];
			}
		}
		n.len = m->len;
		u64map__release(m);
		*m = n;
	}
	i = u64map_slot(m, key);
	if (!m->used[i]) {
		m->used[i] = 1;
		m->keys[i] = key;
		m->len++;
	}
	m->vals[i] = val;
	return 0;
}
