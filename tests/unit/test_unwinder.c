// SPDX-License-Identifier: MIT
/*
 * Unit tests for the DWARF unwinder (src/unwinder.h): a snapshot of this very process (registers from
 * getcontext and a copy of the stack) is unwound against this test's own binary and libc, as the
 * recorder unwinds a sample; then damaged snapshots and damaged files must end cleanly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#include "procmaps.h"
#include "unwinder.h"

#define STACK_COPY (32u << 10)
#define MAX_FILES 64

/* A snapshot of this process, taken in chain_3, and what find_map needs. */
struct snap {
	uint64_t regs[SCORCH_NR_REGS];
	uint8_t stack[STACK_COPY];
	size_t stack_size;
	struct procmaps maps;
	struct { char *path; uint8_t *data; size_t size; } files[MAX_FILES];
	int nr_files;
	int damage_files; /* serve garbage instead of the files */
};

static struct snap *snap;

static const uint8_t *file_image(struct snap *s, const char *path, size_t *size)
{
	struct stat st;
	uint8_t *data;
	int i, fd;

	for (i = 0; i < s->nr_files; i++)
		if (strcmp(s->files[i].path, path) == 0)
			goto found;
	if (s->nr_files == MAX_FILES)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !(data = malloc((size_t)st.st_size))) {
		close(fd);
		return NULL;
	}
	if (read(fd, data, (size_t)st.st_size) != st.st_size) {
		free(data);
		close(fd);
		return NULL;
	}
	close(fd);
	s->files[i].path = strdup(path);
	s->files[i].data = data;
	s->files[i].size = (size_t)st.st_size;
	s->nr_files++;
found:
	*size = s->files[i].size;
	return s->files[i].data;
}

static int find_map(void *ctx, uint64_t addr, struct unwinder_map *out)
{
	static uint8_t garbage[8192];
	struct snap *s = ctx;
	const struct procmaps_entry *e = procmaps__find(&s->maps, addr);

	if (!e)
		return -ENOENT;
	out->start = e->start;
	out->end = e->end;
	out->offset = e->offset;
	out->image = NULL;
	out->image_size = 0;
	if (e->path[0] == '/') {
		out->image = file_image(s, e->path, &out->image_size);
		if (out->image && s->damage_files) {
			memset(garbage, 0x5a, sizeof(garbage));
			memcpy(garbage, out->image, 64); /* a valid ELF header, nonsense after it */
			out->image = garbage;
			out->image_size = sizeof(garbage);
		}
	}
	return 0;
}

/* Byte by byte and uninstrumented: the copy reads other frames' memory, as the BPF program does. */
__attribute__((noinline, no_sanitize_address)) static size_t copy_stack(uint8_t *dst, uint64_t sp, uint64_t top)
{
	volatile const uint8_t *src = (const uint8_t *)(uintptr_t)sp;
	size_t n = top - sp < STACK_COPY ? (size_t)(top - sp) : STACK_COPY, i;

	for (i = 0; i < n; i++)
		dst[i] = src[i];
	return n;
}

__attribute__((noinline)) static void chain_3(void)
{
	const struct procmaps_entry *e;
	ucontext_t uc;

	getcontext(&uc);
	snap->regs[SCORCH_REG_RAX] = (uint64_t)uc.uc_mcontext.gregs[REG_RAX];
	snap->regs[SCORCH_REG_RDX] = (uint64_t)uc.uc_mcontext.gregs[REG_RDX];
	snap->regs[SCORCH_REG_RCX] = (uint64_t)uc.uc_mcontext.gregs[REG_RCX];
	snap->regs[SCORCH_REG_RBX] = (uint64_t)uc.uc_mcontext.gregs[REG_RBX];
	snap->regs[SCORCH_REG_RSI] = (uint64_t)uc.uc_mcontext.gregs[REG_RSI];
	snap->regs[SCORCH_REG_RDI] = (uint64_t)uc.uc_mcontext.gregs[REG_RDI];
	snap->regs[SCORCH_REG_RBP] = (uint64_t)uc.uc_mcontext.gregs[REG_RBP];
	snap->regs[SCORCH_REG_RSP] = (uint64_t)uc.uc_mcontext.gregs[REG_RSP];
	snap->regs[SCORCH_REG_R8] = (uint64_t)uc.uc_mcontext.gregs[REG_R8];
	snap->regs[SCORCH_REG_R9] = (uint64_t)uc.uc_mcontext.gregs[REG_R9];
	snap->regs[SCORCH_REG_R10] = (uint64_t)uc.uc_mcontext.gregs[REG_R10];
	snap->regs[SCORCH_REG_R11] = (uint64_t)uc.uc_mcontext.gregs[REG_R11];
	snap->regs[SCORCH_REG_R12] = (uint64_t)uc.uc_mcontext.gregs[REG_R12];
	snap->regs[SCORCH_REG_R13] = (uint64_t)uc.uc_mcontext.gregs[REG_R13];
	snap->regs[SCORCH_REG_R14] = (uint64_t)uc.uc_mcontext.gregs[REG_R14];
	snap->regs[SCORCH_REG_R15] = (uint64_t)uc.uc_mcontext.gregs[REG_R15];
	snap->regs[SCORCH_REG_RIP] = (uint64_t)uc.uc_mcontext.gregs[REG_RIP];
	procmaps__init(&snap->maps);
	if (procmaps__read(&snap->maps, getpid()))
		return;
	e = procmaps__find(&snap->maps, snap->regs[SCORCH_REG_RSP]);
	if (e)
		snap->stack_size = copy_stack(snap->stack, snap->regs[SCORCH_REG_RSP], e->end);
}

__attribute__((noinline)) static void chain_2(void)
{
	chain_3();
	__asm__ volatile("" ::: "memory"); /* no tail call */
}

__attribute__((noinline)) static void chain_1(void)
{
	chain_2();
	__asm__ volatile("" ::: "memory");
}

/* Whether a return address lies in fn (these functions are far shorter than 4 KiB). */
static int in_function(uint64_t ip, void (*fn)(void))
{
	uint64_t start = (uint64_t)(uintptr_t)fn;

	return ip > start && ip - start < 4096;
}

static int setup(void **state)
{
	(void)state;
	snap = calloc(1, sizeof(*snap));
	if (!snap)
		return -1;
	chain_1();
	return snap->stack_size ? 0 : -1;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < snap->nr_files; i++) {
		free(snap->files[i].path);
		free(snap->files[i].data);
	}
	procmaps__release(&snap->maps);
	free(snap);
	return 0;
}

static int unwind(struct unwinder *u, const uint64_t *regs, const uint8_t *stack, size_t size, uint64_t *ips,
		  uint32_t max, struct unwinder_result *res)
{
	struct unwinder_input in = { regs, stack, size, find_map, snap, 0 };

	return unwinder__unwind(u, 1, &in, ips, max, res);
}

static void test_own_stack(void **state)
{
	struct unwinder *u = unwinder__new();
	struct unwinder_result res;
	uint64_t ips[128];
	int round;

	(void)state;
	assert_non_null(u);
	/* Twice: the second unwind runs from libunwind's cache. */
	for (round = 0; round < 2; round++) {
		assert_int_equal(unwind(u, snap->regs, snap->stack, snap->stack_size, ips, 128, &res), 0);
		assert_int_equal(res.status, UNWINDER_ROOT);
		assert_true(res.nr >= 5); /* chain_3, chain_2, chain_1, setup, cmocka..., main, libc, _start */
		assert_true(ips[0] == snap->regs[SCORCH_REG_RIP]);
		assert_true(in_function(ips[0], chain_3));
		assert_true(in_function(ips[1], chain_2));
		assert_true(in_function(ips[2], chain_1));
		assert_true(in_function(ips[3], (void (*)(void))setup));
	}
	unwinder__flush(u, 1);
	assert_int_equal(unwind(u, snap->regs, snap->stack, snap->stack_size, ips, 128, &res), 0);
	assert_int_equal(res.status, UNWINDER_ROOT);
	unwinder__free(u);
}

static void test_depth_cap(void **state)
{
	struct unwinder *u = unwinder__new();
	struct unwinder_result res;
	uint64_t ips[3];

	(void)state;
	assert_int_equal(unwind(u, snap->regs, snap->stack, snap->stack_size, ips, 3, &res), 0);
	assert_int_equal(res.status, UNWINDER_DEPTH);
	assert_int_equal(res.nr, 3);
	assert_true(in_function(ips[2], chain_1));
	unwinder__free(u);
}

static void test_short_copy(void **state)
{
	struct unwinder *u = unwinder__new();
	struct unwinder_result res;
	uint64_t ips[128];

	(void)state;
	/* 16 bytes cannot hold chain_3's frame: the unwind stops for want of stack, at chain_3. */
	assert_int_equal(unwind(u, snap->regs, snap->stack, 16, ips, 128, &res), 0);
	assert_int_equal(res.status, UNWINDER_TRUNCATED);
	assert_int_equal(res.nr, 1);
	assert_true(res.fail_ip == ips[0]);
	unwinder__free(u);
}

static void test_garbage_stack(void **state)
{
	static uint8_t junk[STACK_COPY];
	struct unwinder *u = unwinder__new();
	struct unwinder_result res;
	uint64_t ips[128], regs[SCORCH_NR_REGS];
	unsigned seed = 1;
	size_t i;
	int round;

	(void)state;
	for (round = 0; round < 200; round++) {
		for (i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)(rand_r(&seed) >> 7);
		/* Sprinkle plausible return addresses and stack pointers among the junk. */
		for (i = 0; i < sizeof(junk) / 8; i += 1 + (size_t)(rand_r(&seed) % 7)) {
			uint64_t v = rand_r(&seed) % 2 ? snap->regs[SCORCH_REG_RIP] + (uint64_t)(rand_r(&seed) % 256)
						   : snap->regs[SCORCH_REG_RSP] + (uint64_t)(rand_r(&seed) % 4096);
			memcpy(junk + i * 8, &v, 8);
		}
		memcpy(regs, snap->regs, sizeof(regs));
		if (round % 3 == 1)
			regs[SCORCH_REG_RIP] = (uint64_t)rand_r(&seed) << 12;
		assert_int_equal(unwind(u, regs, junk, sizeof(junk), ips, 128, &res), 0);
		assert_true(res.nr >= 1 && res.nr <= 128);
	}
	unwinder__free(u);
}

static void test_garbage_files(void **state)
{
	struct unwinder *u = unwinder__new();
	struct unwinder_result res;
	uint64_t ips[128];

	(void)state;
	snap->damage_files = 1;
	assert_int_equal(unwind(u, snap->regs, snap->stack, snap->stack_size, ips, 128, &res), 0);
	snap->damage_files = 0;
	assert_true(res.status == UNWINDER_NO_INFO || res.status == UNWINDER_FAILED);
	unwinder__free(u);
}

static void test_many_spaces(void **state)
{
	struct unwinder *u = unwinder__new();
	struct unwinder_input in = { snap->regs, snap->stack, snap->stack_size, find_map, snap, 0 };
	struct unwinder_result res;
	uint64_t ips[128];
	uint32_t space;

	(void)state;
	/* More processes than address spaces: slots are reused, and every unwind is still right. */
	for (space = 0; space < 600; space += 1 + space % 3) {
		assert_int_equal(unwinder__unwind(u, space % 300, &in, ips, 128, &res), 0);
		assert_int_equal(res.status, UNWINDER_ROOT);
		assert_true(in_function(ips[2], chain_1));
	}
	unwinder__free(u);
}

/*
 * .debug_frame: tests/fuzz/seeds/unwinder/debug-frame-only holds registers, a stack copy and a static
 * binary whose only CFI is in .debug_frame (built from _start -> mid -> leaf with
 * -fno-asynchronous-unwind-tables -fno-unwind-tables -g1, no .eh_frame at all), laid out as the fuzz
 * harness reads it: RIP in mid after it reserved 80 bytes, mid's return address into _start at SP + 72.
 * Its .debug_frame (0x70 bytes): a CIE at 0, the FDEs of leaf at 0x18, mid at 0x30 and _start at 0x50
 * (mid's and _start's both 0x1c bytes long).
 */
#define DF_SEED "tests/fuzz/seeds/unwinder/debug-frame-only"
#define DF_BASE 0x400000ull
#define DF_MID_IP (DF_BASE + 0x1018)   /* the sample's IP, in mid */
#define DF_START_RA (DF_BASE + 0x1045) /* the return address into _start on the stack */

struct df_seed {
	uint8_t *raw; /* owned: the whole seed */
	size_t raw_size;
	uint64_t regs[SCORCH_NR_REGS];
	const uint8_t *stack, *image; /* in raw */
	size_t stack_len, image_size;
	size_t shdr_off;               /* file offset of the section header of .debug_frame */
	size_t sec_off, sec_size;
};

struct df_image {
	const uint8_t *data;
	size_t size;
	uint64_t id;
};

static int df_find_map(void *ctx, uint64_t addr, struct unwinder_map *out)
{
	const struct df_image *im = ctx;

	if (addr < DF_BASE || addr >= DF_BASE + im->size)
		return -ENOENT;
	out->start = DF_BASE;
	out->end = DF_BASE + im->size;
	out->offset = 0;
	out->image = im->data;
	out->image_size = im->size;
	out->image_id = im->id;
	return 0;
}

static void df_load(struct df_seed *s)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, str;
	struct stat st;
	int fd, i;

	memset(s, 0, sizeof(*s));
	fd = open(DF_SEED, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	s->raw_size = (size_t)st.st_size;
	s->raw = malloc(s->raw_size);
	assert_non_null(s->raw);
	assert_int_equal(read(fd, s->raw, s->raw_size), (ssize_t)s->raw_size);
	close(fd);
	memcpy(s->regs, s->raw, sizeof(s->regs));
	s->stack_len = (size_t)(s->raw[sizeof(s->regs)] | s->raw[sizeof(s->regs) + 1] << 8);
	s->stack = s->raw + sizeof(s->regs) + 2;
	s->image = s->stack + s->stack_len;
	s->image_size = s->raw_size - sizeof(s->regs) - 2 - s->stack_len;
	s->regs[SCORCH_REG_RIP] += DF_BASE;
	s->regs[SCORCH_REG_RSP] = 0x7ff000000000ull;
	/* The seed is ours and well formed: find .debug_frame's header without the checks a parser needs. */
	memcpy(&eh, s->image, sizeof(eh));
	memcpy(&str, s->image + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(sh), sizeof(str));
	for (i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, s->image + eh.e_shoff + (size_t)i * sizeof(sh), sizeof(sh));
		if (strcmp((const char *)s->image + str.sh_offset + sh.sh_name, ".debug_frame") == 0) {
			s->shdr_off = eh.e_shoff + (size_t)i * sizeof(sh);
			s->sec_off = sh.sh_offset;
			s->sec_size = sh.sh_size;
		}
	}
	assert_true(s->shdr_off && s->sec_size == 0x70);
}

/* A copy of the seed's file whose .debug_frame is sec[0..len), appended at the very end (so a read past
 * the section is a read past the allocation, which ASan reports). */
__attribute__((unused)) static uint8_t *df_with_section(const struct df_seed *s, const void *sec, size_t len, size_t *size)
{
	uint8_t *img = malloc(s->image_size + len + !len);
	Elf64_Shdr sh;

	assert_non_null(img);
	memcpy(img, s->image, s->image_size);
	if (len)
		memcpy(img + s->image_size, sec, len);
	memcpy(&sh, img + s->shdr_off, sizeof(sh));
	sh.sh_offset = s->image_size;
	sh.sh_size = len;
	memcpy(img + s->shdr_off, &sh, sizeof(sh));
	*size = s->image_size + len;
	return img;
}

/* Unwind the seed's registers and stack against img, from a flushed libunwind cache. */
static void df_unwind(struct unwinder *u, const struct df_seed *s, const uint8_t *img, size_t size, uint64_t id,
		      uint64_t *ips, uint32_t max, struct unwinder_result *res)
{
	struct df_image im = { img, size, id };
	struct unwinder_input in = { s->regs, s->stack, s->stack_len, df_find_map, &im, 0 };

	unwinder__flush(u, 1);
	assert_int_equal(unwinder__unwind(u, 1, &in, ips, max, res), 0);
	assert_true(res->nr >= 1 && res->nr <= max && ips[0] == DF_MID_IP);
}

/* Whether an unwind of the seed's sample is the right one: mid, then _start, then the end. */
static int df_right(const struct unwinder_result *res, const uint64_t *ips)
{
	return res->status == UNWINDER_ROOT && res->nr == 2 && ips[0] == DF_MID_IP && ips[1] == DF_START_RA;
}

static void test_debug_frame(void **state)
{
	struct unwinder *u = unwinder__new();
	struct unwinder_result res;
	struct df_seed s;
	uint64_t ips[8];
	uint8_t *img, *sec;
	int round;

	(void)state;
	assert_non_null(u);
	df_load(&s);
	img = malloc(s.image_size);
	assert_non_null(img);
	memcpy(img, s.image, s.image_size);

	/* Cached under an image id, then not cached, then cached again: the same unwind each time. */
	for (round = 0; round < 3; round++) {
		df_unwind(u, &s, img, s.image_size, round == 1 ? 0 : 7, ips, 8, &res);
		assert_true(df_right(&res, ips));
	}

	/* Without a section named .debug_frame there is no CFI: the unwind stops in mid and says why. */
	sec = memmem(img, s.image_size, ".debug_frame", 13);
	assert_non_null(sec);
	sec[1] = 'X';
	df_unwind(u, &s, img, s.image_size, 8, ips, 8, &res);
	assert_int_equal(res.status, UNWINDER_NO_INFO);
	assert_int_equal(res.nr, 1);
	assert_true(res.fail_ip == DF_MID_IP);
	free(img);
	free(s.raw);
	unwinder__free(u);
}

/*
 * The .debug_frame index cache past MAX_DFRAMES (64) images. Two versions of the seed's file take turns
 * under different image ids: as it is, and with the FDEs of mid and _start swapped in the section (same
 * lengths, so only their offsets change). Both unwind the same, but an index built for one and served
 * for the other points mid's IP at _start's FDE, which reads the return address at the wrong place: a
 * stale index gives a wrong unwind. A model LRU cache of 64 entries, run beside the unwinder, says which
 * image each lookup must build and which it must evict; the unwinder's counters must agree at every step.
 */
#define LRU_CAP 64
#define LRU_IDS 100

static uint64_t lru_model_access(uint64_t *ids, uint64_t *used, size_t *nr, uint64_t id, uint64_t tick,
				 int *built)
{
	size_t i, victim = 0;
	uint64_t evicted = 0;

	*built = 0;
	for (i = 0; i < *nr; i++) {
		if (ids[i] == id) {
			used[i] = tick;
			return 0;
		}
	}
	*built = 1;
	if (*nr < LRU_CAP) {
		victim = (*nr)++;
	} else {
		for (i = 1; i < LRU_CAP; i++)
			if (used[i] < used[victim])
				victim = i;
		evicted = ids[victim];
	}
	ids[victim] = id;
	used[victim] = tick;
	return evicted;
}

static void test_debug_frame_lru(void **state)
{
	struct unwinder *u = unwinder__new();
	uint64_t ips[8], model_ids[LRU_CAP], model_used[LRU_CAP], evicted, id;
	uint64_t builds = 0, evictions = 0, last_evicted = 0;
	struct unwinder_result res;
	struct unwinder_stats st;
	uint8_t *img[2], *sec;
	size_t model_nr = 0, i;
	unsigned seed = 7;
	struct df_seed s;
	int step, built;

	(void)state;
	assert_non_null(u);
	df_load(&s);
	img[0] = malloc(s.image_size);
	img[1] = malloc(s.image_size);
	assert_true(img[0] && img[1]);
	memcpy(img[0], s.image, s.image_size);
	memcpy(img[1], s.image, s.image_size);
	sec = img[1] + s.sec_off;
	assert_true(sec[0x30] == 0x1c && sec[0x50] == 0x1c);
	memcpy(sec + 0x30, s.image + s.sec_off + 0x50, 0x20);
	memcpy(sec + 0x50, s.image + s.sec_off + 0x30, 0x20);

	/* Each version alone, cached and not: the right unwind. */
	for (i = 0; i < 2; i++) {
		df_unwind(u, &s, img[i], s.image_size, 0, ips, 8, &res);
		assert_true(df_right(&res, ips));
	}
	unwinder__stats(u, &st);
	assert_true(st.dframe_builds == 0 && st.dframe_evictions == 0);

	/*
	 * Ids 1..100 (odd: the file as it is; even: swapped): first 1..64 in order, then ids 2..64 again
	 * (id 1 becomes the least recently used), then 66 (must evict 1: not 64, the most recent, nor
	 * another; and build its own index in 1's slot, as 66 is the other version of the file), then a
	 * pseudo-random walk that keeps evicting.
	 */
	for (step = 0; step < 3000; step++) {
		if (step < 64)
			id = (uint64_t)step + 1;
		else if (step < 127)
			id = (uint64_t)step - 62;
		else if (step == 127)
			id = 66;
		else
			id = 1 + (uint64_t)(rand_r(&seed) % LRU_IDS);
		evicted = lru_model_access(model_ids, model_used, &model_nr, id, (uint64_t)step + 1, &built);
		builds += (uint64_t)built;
		if (evicted) {
			evictions++;
			last_evicted = evicted;
		}
		df_unwind(u, &s, img[id % 2 == 0], s.image_size, id, ips, 8, &res);
		if (!df_right(&res, ips))
			fail_msg("step %d: image %" PRIu64 ": wrong unwind (status %d, %u frames)", step, id,
				 res.status, res.nr);
		unwinder__stats(u, &st);
		if (st.dframe_builds != builds || st.dframe_evictions != evictions ||
		    st.dframe_evicted_id != last_evicted)
			fail_msg("step %d: image %" PRIu64 ": %" PRIu64 " builds, %" PRIu64 " evictions, last %" PRIu64
				 "; want %" PRIu64 ", %" PRIu64 ", %" PRIu64, step, id, st.dframe_builds,
				 st.dframe_evictions, st.dframe_evicted_id, builds, evictions, last_evicted);
		if (step == 127)
			assert_true(st.dframe_evicted_id == 1 && st.dframe_builds == 65);
	}
	assert_true(evictions > 500); /* the walk kept the cache turning over */
	free(img[0]);
	free(img[1]);
	free(s.raw);
	unwinder__free(u);
}

static void test_bad_arguments(void **state)
{
	struct unwinder *u = unwinder__new();
	struct unwinder_result res;
	struct unwinder_input in = { NULL, snap->stack, snap->stack_size, find_map, snap, 0 };
	uint64_t ips[4];

	(void)state;
	assert_int_equal(unwinder__unwind(u, 1, &in, ips, 4, &res), -EINVAL);
	in.regs = snap->regs;
	assert_int_equal(unwinder__unwind(u, 1, &in, ips, 0, &res), -EINVAL);
	unwinder__flush(u, 99); /* unknown space: nothing to do */
	unwinder__free(u);
	unwinder__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_stack),
		cmocka_unit_test(test_depth_cap),
		cmocka_unit_test(test_short_copy),
		cmocka_unit_test(test_garbage_stack),
		cmocka_unit_test(test_garbage_files),
		cmocka_unit_test(test_many_spaces),
		cmocka_unit_test(test_debug_frame),
		cmocka_unit_test(test_debug_frame_lru),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
