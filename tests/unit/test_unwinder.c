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
 */
#define DF_SEED "tests/fuzz/seeds/unwinder/debug-frame-only"
#define DF_BASE 0x400000ull

struct df_image {
	uint8_t *data;
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

static void test_debug_frame(void **state)
{
	struct unwinder *u = unwinder__new();
	struct unwinder_result res;
	struct df_image im = { 0 };
	uint64_t regs[SCORCH_NR_REGS], ips[8];
	uint8_t *seed, *sec;
	size_t size, stack_len;
	struct stat st;
	int fd, round;

	(void)state;
	assert_non_null(u);
	fd = open(DF_SEED, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	size = (size_t)st.st_size;
	seed = malloc(size);
	assert_non_null(seed);
	assert_int_equal(read(fd, seed, size), (ssize_t)size);
	close(fd);
	memcpy(regs, seed, sizeof(regs));
	stack_len = (size_t)(seed[sizeof(regs)] | seed[sizeof(regs) + 1] << 8);
	im.data = seed + sizeof(regs) + 2 + stack_len;
	im.size = size - sizeof(regs) - 2 - stack_len;
	regs[SCORCH_REG_RIP] += DF_BASE;
	regs[SCORCH_REG_RSP] = 0x7ff000000000ull;

	/* Cached under an image id, then not cached, then cached again: the same unwind each time. */
	for (round = 0; round < 3; round++) {
		struct unwinder_input in = { regs, seed + sizeof(regs) + 2, stack_len, df_find_map, &im, 0 };

		im.id = round == 1 ? 0 : 7;
		unwinder__flush(u, 1);
		assert_int_equal(unwinder__unwind(u, 1, &in, ips, 8, &res), 0);
		assert_int_equal(res.status, UNWINDER_ROOT);
		assert_int_equal(res.nr, 2);
		assert_true(ips[0] == DF_BASE + 0x1018); /* in mid */
		assert_true(ips[1] == DF_BASE + 0x1045); /* in _start, after the call */
	}

	/* Without a section named .debug_frame there is no CFI: the unwind stops in mid and says why. */
	sec = memmem(im.data, im.size, ".debug_frame", 13);
	assert_non_null(sec);
	sec[1] = 'X';
	{
		struct unwinder_input in = { regs, seed + sizeof(regs) + 2, stack_len, df_find_map, &im, 0 };

		im.id = 8;
		unwinder__flush(u, 1);
		assert_int_equal(unwinder__unwind(u, 1, &in, ips, 8, &res), 0);
		assert_int_equal(res.status, UNWINDER_NO_INFO);
		assert_int_equal(res.nr, 1);
		assert_true(res.fail_ip == DF_BASE + 0x1018);
	}
	free(seed);
	unwinder__free(u);
}

/*
 * The address range of the .debug_frame FDE that starts at 'pc' in an ELF image set to 0, so that no CFI
 * covers that function. 0, or -1 when there is no such FDE (64-bit ELF, 32-bit DWARF, 8-byte addresses).
 */
static int drop_fde(uint8_t *img, size_t size, uint64_t pc)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strtab;
	size_t i, at;

	memcpy(&eh, img, sizeof(eh));
	memcpy(&strtab, img + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(sh), sizeof(sh));
	for (i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, img + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (strcmp((const char *)img + strtab.sh_offset + sh.sh_name, ".debug_frame") == 0)
			break;
	}
	if (i == eh.e_shnum || sh.sh_offset + sh.sh_size > size)
		return -1;
	for (at = sh.sh_offset; at + 4 <= sh.sh_offset + sh.sh_size;) {
		uint32_t len, id;
		uint64_t start;

		memcpy(&len, img + at, 4);
		memcpy(&id, img + at + 4, 4);
		if (len < 20 || at + 4 + len > sh.sh_offset + sh.sh_size)
			return -1;
		memcpy(&start, img + at + 8, 8);
		if (id != 0xffffffffu && start == pc) {
			memset(img + at + 16, 0, 8);
			return 0;
		}
		at += 4 + (size_t)len;
	}
	return -1;
}

/*
 * Code at the ELF entry point without CFI (glibc's ld.so _start) is the outermost frame, not a failure:
 * a sample in its callee unwinds to it and ends as a root, and so does a sample in it. The same kind of
 * frame anywhere else is "no info".
 */
static void test_entry_routine(void **state)
{
	struct unwinder *u = unwinder__new();
	struct unwinder_result res;
	struct df_image im = { 0 };
	uint64_t regs[SCORCH_NR_REGS], ips[8];
	uint8_t *seed;
	size_t size, stack_len;
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(u);
	fd = open(DF_SEED, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	size = (size_t)st.st_size;
	seed = malloc(size);
	assert_non_null(seed);
	assert_int_equal(read(fd, seed, size), (ssize_t)size);
	close(fd);
	memcpy(regs, seed, sizeof(regs));
	stack_len = (size_t)(seed[sizeof(regs)] | seed[sizeof(regs) + 1] << 8);
	im.data = seed + sizeof(regs) + 2 + stack_len;
	im.size = size - sizeof(regs) - 2 - stack_len;
	regs[SCORCH_REG_RIP] += DF_BASE;
	regs[SCORCH_REG_RSP] = 0x7ff000000000ull;
	/* _start, the entry point at 0x401040, loses its FDE; mid keeps its own. */
	assert_int_equal(drop_fde(im.data, im.size, DF_BASE + 0x1040), 0);
	{
		struct unwinder_input in = { regs, seed + sizeof(regs) + 2, stack_len, df_find_map, &im, 0 };

		im.id = 9;
		assert_int_equal(unwinder__unwind(u, 1, &in, ips, 8, &res), 0);
		assert_int_equal(res.status, UNWINDER_ROOT);
		assert_int_equal(res.nr, 2);
		assert_true(ips[1] == DF_BASE + 0x1045);

		/* A sample in _start itself. */
		regs[SCORCH_REG_RIP] = DF_BASE + 0x1040;
		assert_int_equal(unwinder__unwind(u, 1, &in, ips, 8, &res), 0);
		assert_int_equal(res.status, UNWINDER_ROOT);
		assert_int_equal(res.nr, 1);
	}
	/* mid without its FDE either: no CFI, and not at the entry point. */
	assert_int_equal(drop_fde(im.data, im.size, DF_BASE + 0x1010), 0);
	{
		struct unwinder_input in = { regs, seed + sizeof(regs) + 2, stack_len, df_find_map, &im, 0 };

		im.id = 10;
		unwinder__flush(u, 1);
		regs[SCORCH_REG_RIP] = DF_BASE + 0x1018;
		assert_int_equal(unwinder__unwind(u, 1, &in, ips, 8, &res), 0);
		assert_int_equal(res.status, UNWINDER_NO_INFO);
		assert_true(res.fail_ip == DF_BASE + 0x1018);
	}
	free(seed);
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
		cmocka_unit_test(test_entry_routine),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
