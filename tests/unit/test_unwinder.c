// SPDX-License-Identifier: MIT
/*
 * Unit tests for the DWARF unwinder (src/unwind/unwinder.h): a snapshot of this very process (registers from
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
	const char *swap_path; /* serve swap_data instead of this file */
	const uint8_t *swap_data;
	size_t swap_size;
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
	if (s->swap_path && strcmp(e->path, s->swap_path) == 0) {
		out->image = s->swap_data;
		out->image_size = s->swap_size;
	} else if (e->path[0] == '/') {
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

/*
 * Through /proc/self/mem, as the BPF program copies: the copy reads other frames' memory, which neither
 * ASan (redzones) nor memcheck (never written slots) would let a plain copy read.
 */
__attribute__((noinline)) static size_t copy_stack(uint8_t *dst, uint64_t sp, uint64_t top)
{
	size_t n = top - sp < STACK_COPY ? (size_t)(top - sp) : STACK_COPY;
	int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	ssize_t got = fd < 0 ? -1 : pread(fd, dst, n, (off_t)sp);

	if (fd >= 0)
		close(fd);
	return got == (ssize_t)n ? n : 0;
}

/*
 * A leaf without CFI that stops at a system call (getpid), as glibc's clone3 does, and remembers its
 * return address and its caller's SP. Top-level assembly gets no CFI.
 */
void sys_leaf(void);
extern const char sys_leaf_after[], sys_leaf_tested[], sys_leaf_moved[], indirect_ret[], indirect_mem_ret[],
	indirect_sib_ret[];
extern const char plt_ret[], plt_ibt_ret[], got_ret[], far_ret[];
uint64_t fake_got;
uint64_t sys_leaf_ra, sys_leaf_sp;
__asm__(".text\n"
	".globl sys_leaf\n"
	".type sys_leaf, @function\n"
	"sys_leaf:\n"
	"	mov (%rsp), %rax\n"
	"	mov %rax, sys_leaf_ra(%rip)\n"
	"	lea 8(%rsp), %rax\n"
	"	mov %rax, sys_leaf_sp(%rip)\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	".globl sys_leaf_after\n"
	"sys_leaf_after:\n"
	"	test %rax, %rax\n"
	"	jl 1f\n"
	".globl sys_leaf_tested\n"
	"sys_leaf_tested:\n"
	"1:	mov %rax, %rcx\n"
	".globl sys_leaf_moved\n"
	"sys_leaf_moved:\n"
	"	ret\n"
	".size sys_leaf, .-sys_leaf\n"
	/* Return addresses after indirect calls (never run): through a register, and memory plus disp8. */
	"	call *%rdx\n"
	".globl indirect_ret\n"
	"indirect_ret:\n"
	"	call *8(%r11)\n"
	".globl indirect_mem_ret\n"
	"indirect_mem_ret:\n"
	"	.byte 0xff, 0x14, 0xc5, 0, 0, 0, 0\n" /* call *0x0(,%rax,8): a SIB byte, then a disp32 */
	".globl indirect_sib_ret\n"
	"indirect_sib_ret:\n"
	"	ret\n"
	/* PLT entries (classic, and endbr64 + bnd as with IBT), and calls to another file's routine
	 * through them and through the GOT (-fno-plt); then a direct call to code that is no routine of
	 * the leaf (above it). Never run. */
	"fake_plt:\n"
	"	jmp *fake_got(%rip)\n"
	"fake_plt_ibt:\n"
	"	endbr64\n"
	"	bnd jmp *fake_got(%rip)\n"
	"	call fake_plt\n"
	".globl plt_ret\n"
	"plt_ret:\n"
	"	call fake_plt_ibt\n"
	".globl plt_ibt_ret\n"
	"plt_ibt_ret:\n"
	"	call *fake_got(%rip)\n"
	".globl got_ret\n"
	"got_ret:\n"
	"	call indirect_ret\n"
	".globl far_ret\n"
	"far_ret:\n"
	"	ret\n");

__attribute__((noinline)) static void chain_3(void)
{
	const struct procmaps_entry *e;
	ucontext_t uc;

	sys_leaf(); /* from the SP getcontext sees: test_syscall_leaf puts the two together */
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

/* The snapshot as if taken in sys_leaf's system call, called from chain_3 with 'ra' at SP. */
static int unwind_in_sys_leaf_rax(struct unwinder *u, uint64_t rip, uint64_t ra, uint64_t rax, uint64_t *ips,
				  struct unwinder_result *res)
{
	uint64_t regs[SCORCH_NR_REGS];
	uint8_t *stack = malloc(snap->stack_size + 8);
	int ret;

	assert_non_null(stack);
	memcpy(regs, snap->regs, sizeof(regs));
	regs[SCORCH_REG_RIP] = rip;
	regs[SCORCH_REG_RAX] = rax;
	regs[SCORCH_REG_RSP] = snap->regs[SCORCH_REG_RSP] - 8;
	memcpy(stack, &ra, sizeof(ra));
	memcpy(stack + 8, snap->stack, snap->stack_size);
	ret = unwind(u, regs, stack, snap->stack_size + 8, ips, 128, res);
	free(stack);
	return ret;
}

/* The same, with the pid getpid returned in RAX. */
static int unwind_in_sys_leaf(struct unwinder *u, uint64_t rip, uint64_t ra, uint64_t *ips, struct unwinder_result *res)
{
	return unwind_in_sys_leaf_rax(u, rip, ra, 1234, ips, res);
}

/*
 * A leaf without CFI with a direct call to its routine at SP (pthread_create in glibc's clone3) unwinds
 * through its caller; stopped after a syscall instruction that returned 0, with 0 at SP (clone's child),
 * it is the outermost frame; otherwise it has no information.
 */
static void test_syscall_leaf(void **state)
{
	struct unwinder *u = unwinder__new();
	struct unwinder_result res;
	uint64_t after = (uint64_t)(uintptr_t)sys_leaf_after, ips[128];

	(void)state;
	assert_non_null(u);
	/* chain_3 called sys_leaf and getcontext from the same SP, or this test proves nothing. */
	assert_true(sys_leaf_sp == snap->regs[SCORCH_REG_RSP]);
	assert_true(in_function(sys_leaf_ra, chain_3));

	assert_int_equal(unwind_in_sys_leaf(u, after, sys_leaf_ra, ips, &res), 0);
	assert_int_equal(res.status, UNWINDER_ROOT);
	assert_true(res.nr >= 5);
	assert_true(ips[0] == after);
	assert_true(ips[1] == sys_leaf_ra);
	assert_true(in_function(ips[2], chain_2));
	assert_true(in_function(ips[3], chain_1));

	/* Anywhere in the leaf's routine (here in its syscall instruction): the same. */
	assert_int_equal(unwind_in_sys_leaf(u, after - 1, sys_leaf_ra, ips, &res), 0);
	assert_int_equal(res.status, UNWINDER_ROOT);
	assert_true(ips[1] == sys_leaf_ra);
	/* A call to another file's routine, through the PLT or the GOT: stepped, whatever comes next. */
	{
		const char *via[] = { plt_ret, plt_ibt_ret, got_ret };
		size_t i;

		for (i = 0; i < sizeof(via) / sizeof(via[0]); i++) {
			assert_int_equal(unwind_in_sys_leaf(u, after, (uint64_t)(uintptr_t)via[i], ips, &res), 0);
			assert_true(res.nr >= 2);
			assert_true(ips[1] == (uint64_t)(uintptr_t)via[i]);
		}
	}
	/* A direct call to code above the leaf, which is no routine of it: no information. */
	assert_int_equal(unwind_in_sys_leaf(u, after, (uint64_t)(uintptr_t)far_ret, ips, &res), 0);
	assert_int_equal(res.status, UNWINDER_NO_INFO);
	assert_int_equal(res.nr, 1);
	/* At SP, no return address after a call to the leaf: an unmapped one, then one after no call. */
	assert_int_equal(unwind_in_sys_leaf(u, after, 0x1234, ips, &res), 0);
	assert_int_equal(res.status, UNWINDER_NO_INFO);
	assert_int_equal(res.nr, 1);
	assert_int_equal(unwind_in_sys_leaf(u, after, after, ips, &res), 0);
	assert_int_equal(res.status, UNWINDER_NO_INFO);
	assert_int_equal(res.nr, 1);
	/* The child of clone: the call returned 0 and nothing called the frame. */
	{
		uint64_t regs[SCORCH_NR_REGS], zero = 0;

		memcpy(regs, snap->regs, sizeof(regs));
		regs[SCORCH_REG_RIP] = after;
		regs[SCORCH_REG_RAX] = 0;
		assert_int_equal(unwind(u, regs, (const uint8_t *)&zero, sizeof(zero), ips, 128, &res), 0);
		assert_int_equal(res.status, UNWINDER_ROOT);
		assert_int_equal(res.nr, 1);
		/* The same with another return value (the parent gets the child's id): no information. */
		regs[SCORCH_REG_RAX] = 1234;
		assert_int_equal(unwind(u, regs, (const uint8_t *)&zero, sizeof(zero), ips, 128, &res), 0);
		assert_int_equal(res.status, UNWINDER_NO_INFO);
		assert_int_equal(res.nr, 1);
		/* After the test of the result too (the child samples there as well). */
		regs[SCORCH_REG_RAX] = 0;
		regs[SCORCH_REG_RIP] = (uint64_t)(uintptr_t)sys_leaf_tested;
		assert_int_equal(unwind(u, regs, (const uint8_t *)&zero, sizeof(zero), ips, 128, &res), 0);
		assert_int_equal(res.status, UNWINDER_ROOT);
		/* Not after a syscall instruction, or after something else too: no information. */
		regs[SCORCH_REG_RIP] = after - 1;
		assert_int_equal(unwind(u, regs, (const uint8_t *)&zero, sizeof(zero), ips, 128, &res), 0);
		assert_int_equal(res.status, UNWINDER_NO_INFO);
		assert_int_equal(res.nr, 1);
		regs[SCORCH_REG_RIP] = (uint64_t)(uintptr_t)sys_leaf_moved;
		assert_int_equal(unwind(u, regs, (const uint8_t *)&zero, sizeof(zero), ips, 128, &res), 0);
		assert_int_equal(res.status, UNWINDER_NO_INFO);
		assert_int_equal(res.nr, 1);
	}
	/*
	 * The child of the legacy clone wrapper: the function it is to call, and its argument, at SP. That
	 * word is no return address: the outermost frame. A return address after an indirect call there
	 * (through a register or memory) is not clone's child: no information.
	 */
	{
		uint64_t regs[SCORCH_NR_REGS], words[2] = { (uint64_t)(uintptr_t)chain_1, 42 };
		uint64_t not_child[] = { (uint64_t)(uintptr_t)indirect_ret, (uint64_t)(uintptr_t)indirect_mem_ret,
					 (uint64_t)(uintptr_t)indirect_sib_ret };
		size_t i;

		memcpy(regs, snap->regs, sizeof(regs));
		regs[SCORCH_REG_RIP] = after;
		regs[SCORCH_REG_RAX] = 0;
		assert_int_equal(unwind(u, regs, (const uint8_t *)words, sizeof(words), ips, 128, &res), 0);
		assert_int_equal(res.status, UNWINDER_ROOT);
		assert_int_equal(res.nr, 1);
		for (i = 0; i < sizeof(not_child) / sizeof(not_child[0]); i++) {
			words[0] = not_child[i];
			assert_int_equal(unwind(u, regs, (const uint8_t *)words, sizeof(words), ips, 128, &res), 0);
			assert_int_equal(res.status, UNWINDER_NO_INFO);
			assert_int_equal(res.nr, 1);
		}
		/* In the parent (the child's id returned), the function at SP: no information. */
		words[0] = (uint64_t)(uintptr_t)chain_1;
		regs[SCORCH_REG_RAX] = 1234;
		assert_int_equal(unwind(u, regs, (const uint8_t *)words, sizeof(words), ips, 128, &res), 0);
		assert_int_equal(res.status, UNWINDER_NO_INFO);
		/* A direct call to the routine at SP is followed even when the call returned 0. */
		assert_int_equal(unwind_in_sys_leaf_rax(u, after, sys_leaf_ra, 0, ips, &res), 0);
		assert_int_equal(res.status, UNWINDER_ROOT);
		assert_true(ips[1] == sys_leaf_ra);
	}
	/* No stack to read the return address from: still no information, not a truncated copy. */
	{
		uint64_t regs[SCORCH_NR_REGS];

		memcpy(regs, snap->regs, sizeof(regs));
		regs[SCORCH_REG_RIP] = after;
		assert_int_equal(unwind(u, regs, snap->stack, 0, ips, 128, &res), 0);
		assert_int_equal(res.status, UNWINDER_NO_INFO);
	}
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

/*
 * Set the return address column of every CIE in the .eh_frame of the ELF file img to col (col 0: put
 * "DW_CFA_register RBP in r203" over the "DW_CFA_offset RIP, 2 nops" that ends GCC's initial
 * instructions instead); the number of CIEs changed. The file is our own build output: trusted, so
 * only lightly checked.
 */
static int eh_frame_patch(uint8_t *img, size_t size, uint8_t col)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh = { 0 }, str;
	uint8_t *p, *q, *end;
	uint32_t len, id;
	int i, n = 0;

	memcpy(&eh, img, sizeof(eh));
	assert_true(eh.e_shoff + (size_t)eh.e_shnum * sizeof(sh) <= size);
	memcpy(&str, img + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(sh), sizeof(str));
	for (i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, img + eh.e_shoff + (size_t)i * sizeof(sh), sizeof(sh));
		if (strcmp((const char *)img + str.sh_offset + sh.sh_name, ".eh_frame") == 0)
			break;
	}
	assert_true(i < eh.e_shnum && sh.sh_offset + sh.sh_size <= size);
	for (p = img + sh.sh_offset, end = p + sh.sh_size; end - p >= 8; p += 4 + len) {
		memcpy(&len, p, 4);
		memcpy(&id, p + 4, 4);
		if (!len || len == 0xffffffff || len > (size_t)(end - p) - 4)
			break;
		if (id != 0 || p[8] != 1)
			continue;
		q = p + 9 + strlen((const char *)p + 9) + 1; /* after the augmentation string */
		while (*q++ & 0x80) /* code alignment factor */
			;
		while (*q++ & 0x80) /* data alignment factor */
			;
		if (col) {
			*q = col;
			n++;
		} else if (len >= 7 && memcmp(p + 4 + len - 7, "\x0c\x07\x08\x90\x01\0\0", 7) == 0) {
			memcpy(p + 4 + len - 4, "\x09\x06\xcb\x01", 4);
			n++;
		}
	}
	return n;
}

/*
 * A return address column past libunwind's register array (it indexes the array with it unchecked,
 * reading memory past the cursor) in .eh_frame: the test's own executable with every CIE's column set
 * to 203. The unwind must stop at once with no information for chain_3, not read out of bounds; column
 * 16, as written, unwinds right again. Then the same for a DW_CFA_register naming register 203.
 */
static void test_eh_frame_bad_registers(void **state)
{
	struct unwinder *u = unwinder__new();
	struct unwinder_result res;
	const struct procmaps_entry *e;
	uint64_t ips[128];
	uint8_t *img;
	const uint8_t *orig;
	size_t size;

	(void)state;
	assert_non_null(u);
	e = procmaps__find(&snap->maps, snap->regs[SCORCH_REG_RIP]);
	assert_non_null(e);
	orig = file_image(snap, e->path, &size);
	assert_non_null(orig);
	img = malloc(size);
	assert_non_null(img);
	memcpy(img, orig, size);
	assert_true(eh_frame_patch(img, size, 203) > 0);
	snap->swap_path = e->path;
	snap->swap_data = img;
	snap->swap_size = size;
	assert_int_equal(unwind(u, snap->regs, snap->stack, snap->stack_size, ips, 128, &res), 0);
	assert_int_equal(res.status, UNWINDER_NO_INFO);
	assert_int_equal(res.nr, 1);
	assert_true(res.fail_ip == snap->regs[SCORCH_REG_RIP]);

	assert_true(eh_frame_patch(img, size, 16) > 0);
	unwinder__flush(u, 1);
	assert_int_equal(unwind(u, snap->regs, snap->stack, snap->stack_size, ips, 128, &res), 0);
	assert_int_equal(res.status, UNWINDER_ROOT);
	assert_true(in_function(ips[2], chain_1));

	/* The same for the register DW_CFA_register names, which libunwind also uses unchecked. */
	assert_true(eh_frame_patch(img, size, 0) > 0);
	unwinder__flush(u, 1);
	assert_int_equal(unwind(u, snap->regs, snap->stack, snap->stack_size, ips, 128, &res), 0);
	assert_int_equal(res.status, UNWINDER_NO_INFO);
	assert_int_equal(res.nr, 1);
	free(img);
	unwinder__free(u);
}

/* Serve the real files again, also after a failed assertion. */
static int swap_teardown(void **state)
{
	(void)state;
	snap->swap_path = NULL;
	return 0;
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
 * (mid's and _start's both 0x20 bytes long).
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
static uint8_t *df_with_section(const struct df_seed *s, const void *sec, size_t len, size_t *size)
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
	assert_true(sec[0x30] == 0x1c && sec[0x50] == 0x1c); /* lengths: 0x20 bytes each */
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

/*
 * Damaged .debug_frame sections, built here and put in place of the seed's (at the end of a copy of its
 * file). The builder writes the seed's own section (checked byte for byte); each case then writes
 * something else. Every case must end cleanly: the right unwind where the entries that matter are
 * valid, "no information" at mid where they are not, and never a crash or a read out of bounds (run
 * `make SANITIZE=address,undefined unit`). With DF_WRITE_SEEDS=DIR the cases are also written as fuzz
 * seeds: DIR/unwinder/df-NAME for fuzz_unwinder, DIR/unwinder_dframe/NAME for fuzz_unwinder_dframe.
 */
struct dfb {
	uint8_t b[70000];
	size_t n;
};

static const uint8_t mid_ins[] = { 0x44, 0x0e, 0x50, 0x5f, 0x0e, 0x08, 0, 0 };   /* CFA = RSP + 80 after 4 */
static const uint8_t start_ins[] = { 0x44, 0x0e, 0x10, 0, 0, 0, 0, 0 };          /* CFA = RSP + 16 after 4 */
static const uint8_t cie_ins[] = { 0x0c, 0x07, 0x08, 0x90, 0x01, 0, 0, 0, 0, 0, 0 }; /* RSP + 8, RA at CFA - 8 */

#define MID 0x401010ull
#define MID_LEN 0x24ull
#define START 0x401040ull
#define START_LEN 0xbull

static size_t dfb_put(struct dfb *b, const void *p, size_t n)
{
	size_t at = b->n;

	assert_true(n <= sizeof(b->b) - b->n);
	if (n)
		memcpy(b->b + b->n, p, n);
	b->n += n;
	return at;
}

static size_t dfb_u8(struct dfb *b, uint8_t v)
{
	return dfb_put(b, &v, 1);
}

static size_t dfb_u32(struct dfb *b, uint32_t v)
{
	return dfb_put(b, &v, 4);
}

static size_t dfb_u64(struct dfb *b, uint64_t v)
{
	return dfb_put(b, &v, 8);
}

static void dfb_set32(struct dfb *b, size_t at, uint32_t v)
{
	memcpy(b->b + at, &v, 4);
}

/* A CIE as GCC writes it for x86-64 with the given version, CIE id and augmentation; its offset. */
static size_t dfb_cie_full(struct dfb *b, uint8_t version, uint32_t id, const char *aug)
{
	size_t at = dfb_u32(b, 0);

	dfb_u32(b, id);
	dfb_u8(b, version);
	dfb_put(b, aug, strlen(aug) + 1);
	if (version == 4) {
		dfb_u8(b, 8); /* address_size */
		dfb_u8(b, 0); /* segment_selector_size */
	}
	dfb_u8(b, 1);    /* code alignment factor */
	dfb_u8(b, 0x78); /* data alignment factor -8 */
	dfb_u8(b, 16);   /* return address column (a byte in version 1, ULEB128 after) */
	dfb_put(b, cie_ins, sizeof(cie_ins));
	dfb_set32(b, at, (uint32_t)(b->n - at - 4));
	return at;
}

static size_t dfb_cie(struct dfb *b, uint8_t version)
{
	return dfb_cie_full(b, version, 0xffffffff, "");
}

static size_t dfb_fde(struct dfb *b, uint32_t cie, uint64_t start, uint64_t range, const uint8_t *ins, size_t n)
{
	size_t at = dfb_u32(b, (uint32_t)(20 + n));

	dfb_u32(b, cie);
	dfb_u64(b, start);
	dfb_u64(b, range);
	dfb_put(b, ins, n);
	return at;
}

static size_t dfb_mid(struct dfb *b, uint32_t cie)
{
	return dfb_fde(b, cie, MID, MID_LEN, mid_ins, sizeof(mid_ins));
}

static size_t dfb_start(struct dfb *b, uint32_t cie)
{
	return dfb_fde(b, cie, START, START_LEN, start_ins, sizeof(start_ins));
}

/* The seed's section: the CIE, then the FDEs of leaf, mid and _start. */
static void df_seed_section(struct dfb *b, uint8_t version)
{
	uint32_t cie = (uint32_t)dfb_cie(b, version);

	dfb_fde(b, cie, 0x401000, 0x10, NULL, 0);
	dfb_mid(b, cie);
	dfb_start(b, cie);
}

/* A 64-bit DWARF CIE (length escape 0xffffffff, 64-bit length and CIE id) like the 32-bit one. */
static size_t dfb_cie64(struct dfb *b)
{
	size_t at = dfb_u32(b, 0xffffffff);

	dfb_u64(b, 8 + 1 + 1 + 3 + sizeof(cie_ins));
	dfb_u64(b, ~0ull);
	dfb_u8(b, 1);
	dfb_u8(b, 0);
	dfb_u8(b, 1);
	dfb_u8(b, 0x78);
	dfb_u8(b, 16);
	dfb_put(b, cie_ins, sizeof(cie_ins));
	return at;
}

static size_t dfb_fde64(struct dfb *b, uint64_t cie, uint64_t start, uint64_t range, const uint8_t *ins, size_t n)
{
	size_t at = dfb_u32(b, 0xffffffff);

	dfb_u64(b, 8 + 16 + n);
	dfb_u64(b, cie);
	dfb_u64(b, start);
	dfb_u64(b, range);
	dfb_put(b, ins, n);
	return at;
}

enum df_expect {
	DF_RIGHT,   /* the right unwind: mid, _start, end */
	DF_NO_INFO, /* no information for mid */
	DF_CLEAN,   /* any clean end (bad instructions: libunwind decides how far it gets) */
};

static void c_v1(struct dfb *b) { df_seed_section(b, 1); }
static void c_v3(struct dfb *b) { df_seed_section(b, 3); }
static void c_v4(struct dfb *b) { df_seed_section(b, 4); }
static void c_v0(struct dfb *b) { df_seed_section(b, 0); }
static void c_v2(struct dfb *b) { df_seed_section(b, 2); }
static void c_v5(struct dfb *b) { df_seed_section(b, 5); }
static void c_v255(struct dfb *b) { df_seed_section(b, 255); }

static void c_no_mid(struct dfb *b)
{
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_fde(b, cie, 0x401000, 0x10, NULL, 0);
	dfb_start(b, cie);
}

static void c_v4_addr4(struct dfb *b)
{
	df_seed_section(b, 4);
	b->b[10] = 4;
}

static void c_v4_seg1(struct dfb *b)
{
	df_seed_section(b, 4);
	b->b[11] = 1;
}

static void c_v4_short(struct dfb *b)
{
	/* version 4 with the CIE ending right after the augmentation: no room for the sizes */
	uint32_t cie = (uint32_t)dfb_u32(b, 6);

	dfb_u32(b, 0xffffffff);
	dfb_u8(b, 4);
	dfb_u8(b, 0);
	dfb_mid(b, cie);
	dfb_start(b, cie);
}

static void c_no_rest(struct dfb *b)
{
	/* version 1 with nothing after the augmentation */
	uint32_t cie = (uint32_t)dfb_u32(b, 6);

	dfb_u32(b, 0xffffffff);
	dfb_u8(b, 1);
	dfb_u8(b, 0);
	dfb_mid(b, cie);
	dfb_start(b, cie);
}

static void c_aug(struct dfb *b, const char *aug)
{
	uint32_t cie = (uint32_t)dfb_cie_full(b, 1, 0xffffffff, aug);

	dfb_mid(b, cie);
	dfb_start(b, cie);
}

static void c_aug_z(struct dfb *b) { c_aug(b, "z"); }
static void c_aug_zR(struct dfb *b) { c_aug(b, "zR"); }
static void c_aug_eh(struct dfb *b) { c_aug(b, "eh"); }

static void c_cie_id(struct dfb *b, uint32_t id)
{
	uint32_t cie = (uint32_t)dfb_cie_full(b, 1, id, "");

	dfb_mid(b, cie);
	dfb_start(b, cie);
}

static void c_cie_id_0(struct dfb *b) { c_cie_id(b, 0); } /* .eh_frame's CIE id */
static void c_cie_id_fffffffe(struct dfb *b) { c_cie_id(b, 0xfffffffe); }

/* A CIE whose length is 0..5, then FDEs that point at it. */
static void c_cie_len(struct dfb *b, uint32_t len)
{
	static const uint8_t body[] = { 0xff, 0xff, 0xff, 0xff, 1, 0 };
	uint32_t cie = (uint32_t)dfb_u32(b, len);

	dfb_put(b, body, len);
	dfb_mid(b, cie);
	dfb_start(b, cie);
}

static void c_cie_len_0(struct dfb *b) { c_cie_len(b, 0); }
static void c_cie_len_3(struct dfb *b) { c_cie_len(b, 3); }
static void c_cie_len_4(struct dfb *b) { c_cie_len(b, 4); }
static void c_cie_len_5(struct dfb *b) { c_cie_len(b, 5); }

static void c_cie_len_past_end(struct dfb *b)
{
	df_seed_section(b, 1);
	dfb_set32(b, 0, 0x7fffffff);
}

static void c_cie_len_all(struct dfb *b)
{
	/* the CIE's length swallows the whole section: its FDEs are inside it, not entries */
	df_seed_section(b, 1);
	dfb_set32(b, 0, (uint32_t)b->n - 4);
}

static void c_cie_last(struct dfb *b)
{
	/* FDEs first, their CIE after them: allowed, and right */
	size_t mid = dfb_mid(b, 0), start = dfb_start(b, 0), cie = dfb_cie(b, 1);

	dfb_set32(b, mid + 4, (uint32_t)cie);
	dfb_set32(b, start + 4, (uint32_t)cie);
}

static void c_cie_last_len_past_end(struct dfb *b)
{
	c_cie_last(b);
	assert_true(b->n == 0x40 + 4 + 0x14);
	dfb_set32(b, 0x40, 0x15); /* one byte more than there is */
}

static void c_cie_ptr(struct dfb *b, uint32_t ptr)
{
	size_t cie = dfb_cie(b, 1), mid;

	mid = dfb_mid(b, 0);
	dfb_start(b, (uint32_t)cie);
	assert_true(cie == 0 && mid == 0x18 && b->n == 0x58);
	dfb_set32(b, mid + 4, ptr);
}

/* c_cie_ptr's section: the CIE (0x18 bytes), mid's FDE at 0x18, _start's at 0x38 (0x20 bytes each). */
static void c_cie_ptr_size(struct dfb *b) { c_cie_ptr(b, 0x58); }
static void c_cie_ptr_size_4(struct dfb *b) { c_cie_ptr(b, 0x58 - 4); }
static void c_cie_ptr_size_7(struct dfb *b) { c_cie_ptr(b, 0x58 - 7); }
static void c_cie_ptr_huge(struct dfb *b) { c_cie_ptr(b, 0xfffffff0); }
static void c_cie_ptr_self(struct dfb *b) { c_cie_ptr(b, 0x18); }
static void c_cie_ptr_fde(struct dfb *b) { c_cie_ptr(b, 0x38); } /* _start's FDE */
static void c_cie_ptr_inside(struct dfb *b) { c_cie_ptr(b, 2); }

static void c_cie_ptr_64(struct dfb *b)
{
	/* a 32-bit FDE whose CIE is in 64-bit DWARF */
	uint32_t cie = (uint32_t)dfb_cie64(b);

	dfb_mid(b, cie);
	dfb_start(b, cie);
}

static void c_fde_len(struct dfb *b, uint32_t len)
{
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_u32(b, len);
	dfb_u32(b, cie);
	dfb_u64(b, MID);
	dfb_u64(b, MID_LEN);
	b->n -= 20 - len; /* keep len bytes of it */
	dfb_start(b, cie);
}

static void c_fde_len_4(struct dfb *b) { c_fde_len(b, 4); }
static void c_fde_len_12(struct dfb *b) { c_fde_len(b, 12); }
static void c_fde_len_19(struct dfb *b) { c_fde_len(b, 19); }

static void c_fde_len_past_end(struct dfb *b)
{
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_start(b, cie);
	dfb_set32(b, dfb_mid(b, cie), 0x1d);
}

static void c_fde_len_huge(struct dfb *b)
{
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_set32(b, dfb_mid(b, cie), 0xfffffff0);
	dfb_start(b, cie);
}

static void c_fde_range_0(struct dfb *b)
{
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_fde(b, cie, MID, 0, mid_ins, sizeof(mid_ins));
	dfb_start(b, cie);
}

static void c_fde_range_0_inside(struct dfb *b)
{
	/* a zero-length FDE inside mid's, between its start and the IP: skipped, it hides nothing */
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_mid(b, cie);
	dfb_fde(b, cie, MID + 4, 0, start_ins, sizeof(start_ins));
	dfb_start(b, cie);
}

static void c_fde_range_wrap_inside(struct dfb *b)
{
	/* the same with a range that wraps around the address space */
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_mid(b, cie);
	dfb_fde(b, cie, MID + 4, ~0ull - 2, start_ins, sizeof(start_ins));
	dfb_start(b, cie);
}

static void c_fde_range_wrap(struct dfb *b)
{
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_fde(b, cie, MID, ~0ull, mid_ins, sizeof(mid_ins));
	dfb_start(b, cie);
}

static void c_fde_after_ip(struct dfb *b)
{
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_fde(b, cie, 0x401000, 0x10, NULL, 0);
	dfb_fde(b, cie, DF_MID_IP + 1, 8, mid_ins, sizeof(mid_ins));
	dfb_start(b, cie);
}

static void c_zero_entries(struct dfb *b)
{
	/* zero terminators (length 0) before and between the entries are skipped */
	uint32_t cie;

	dfb_u32(b, 0);
	cie = (uint32_t)dfb_cie(b, 1);
	dfb_u32(b, 0);
	dfb_mid(b, cie);
	dfb_u32(b, 0);
	dfb_start(b, cie);
	dfb_u32(b, 0);
}

static void c_overlap_outer(struct dfb *b)
{
	/* an FDE over all of .text (with _start's rules) before mid's: the nearest start wins */
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_fde(b, cie, 0x401000, 0x100, start_ins, sizeof(start_ins));
	dfb_mid(b, cie);
	dfb_start(b, cie);
}

static void c_overlap_inner(struct dfb *b)
{
	/* a small FDE inside mid's, starting before the IP but ending at it: the nearest start does not
	 * cover the IP, and an enclosing FDE is not looked for */
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_mid(b, cie);
	dfb_fde(b, cie, MID + 4, DF_MID_IP - MID - 4, start_ins, sizeof(start_ins));
	dfb_start(b, cie);
}

static void c_overlap_same(struct dfb *b)
{
	/* two FDEs for mid's exact range, both right */
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_mid(b, cie);
	dfb_start(b, cie);
	dfb_mid(b, cie);
}

static void c_only_64(struct dfb *b)
{
	uint64_t cie = dfb_cie64(b);

	dfb_fde64(b, cie, MID, MID_LEN, mid_ins, sizeof(mid_ins));
	dfb_fde64(b, cie, START, START_LEN, start_ins, sizeof(start_ins));
}

static void c_64_then_32(struct dfb *b)
{
	/* 64-bit entries are skipped whole; the 32-bit ones after them are used */
	uint64_t cie64 = dfb_cie64(b);
	uint32_t cie;

	dfb_fde64(b, cie64, 0x401000, 0x100, start_ins, sizeof(start_ins));
	cie = (uint32_t)dfb_cie(b, 1);
	dfb_mid(b, cie);
	dfb_start(b, cie);
}

static void c_64_len_huge(struct dfb *b)
{
	dfb_u32(b, 0xffffffff);
	dfb_u64(b, ~0ull - 4);
	c_v1(b);
}

static void c_64_truncated_tail(struct dfb *b)
{
	/* the escape and half a 64-bit length at the end: what came before stays */
	c_v1(b);
	dfb_u32(b, 0xffffffff);
	dfb_u32(b, 8);
}

static void c_64_escape_only(struct dfb *b) { dfb_u32(b, 0xffffffff); }
static void c_empty(struct dfb *b) { (void)b; }
static void c_3_bytes(struct dfb *b) { dfb_put(b, "\x14\0\0", 3); }

static void c_cut_in_mid(struct dfb *b)
{
	c_v1(b);
	b->n = 0x30 + 10;
}

static void c_cut_in_mid_ins(struct dfb *b)
{
	c_v1(b);
	b->n = 0x30 + 0x1a;
}

static void c_big_ins(struct dfb *b)
{
	/* mid's instructions followed by 60000 DW_CFA_nop */
	uint32_t cie = (uint32_t)dfb_cie(b, 1);
	size_t at = dfb_mid(b, cie);

	memset(b->b + b->n, 0, 60000);
	b->n += 60000;
	dfb_set32(b, at, (uint32_t)(b->n - at - 4));
	dfb_start(b, cie);
}

static void c_mid_ins(struct dfb *b, const uint8_t *ins, size_t n)
{
	uint32_t cie = (uint32_t)dfb_cie(b, 1);

	dfb_fde(b, cie, MID, MID_LEN, ins, n);
	dfb_start(b, cie);
}

static void c_ins_expr_past_end(struct dfb *b)
{
	static const uint8_t ins[] = { 0x44, 0x0f, 0x7f, 0x77 }; /* def_cfa_expression of 127 bytes, 1 there */

	c_mid_ins(b, ins, sizeof(ins));
}

static void c_ins_advance4_cut(struct dfb *b)
{
	static const uint8_t ins[] = { 0x0e, 0x50, 0x04, 0x01 }; /* advance_loc4 with 1 of its 4 bytes */

	c_mid_ins(b, ins, sizeof(ins));
}

static void c_ins_uleb_runaway(struct dfb *b)
{
	static const uint8_t ins[] = { 0x44, 0x0e, 0x80, 0x80, 0x80, 0x80 }; /* def_cfa_offset, no last byte */

	c_mid_ins(b, ins, sizeof(ins));
}

static void c_ins_restore_state(struct dfb *b)
{
	static const uint8_t ins[] = { 0x0b, 0x0b, 0x0b, 0x44, 0x0e, 0x50 }; /* restore_state, none remembered */

	c_mid_ins(b, ins, sizeof(ins));
}

static void c_ins_remember_many(struct dfb *b)
{
	static uint8_t ins[4000];

	memset(ins, 0x0a, sizeof(ins)); /* remember_state, never restored */
	c_mid_ins(b, ins, sizeof(ins));
}

static void c_ins_bad_reg(struct dfb *b)
{
	static const uint8_t ins[] = { 0x0c, 0xc8, 0x01, 0x50, 0x05, 0xc8, 0x01, 0x01 }; /* CFA = r200, r200 saved */

	c_mid_ins(b, ins, sizeof(ins));
}

static void c_ins_register_203(struct dfb *b)
{
	static const uint8_t ins[] = { 0x44, 0x0e, 0x50, 0x09, 0x06, 0xcb, 0x01 }; /* RBP is in r203 */

	c_mid_ins(b, ins, sizeof(ins));
}

static void c_ins_register_3(struct dfb *b)
{
	static const uint8_t ins[] = { 0x44, 0x0e, 0x50, 0x09, 0x06, 0x03 }; /* RBP is in RBX: fine */

	c_mid_ins(b, ins, sizeof(ins));
}

static void c_cie_ins_register_17(struct dfb *b)
{
	/* in the CIE's initial instructions, over two of its nops: RBP is in r17 (one past RIP) */
	df_seed_section(b, 1);
	assert_true(b->b[18] == 0 && b->b[19] == 0 && b->b[20] == 0);
	memcpy(b->b + 18, "\x09\x06\x11", 3);
}

static void c_ins_set_loc(struct dfb *b)
{
	static const uint8_t ins[] = { 0x01, 0x14, 0x10, 0x40, 0, 0, 0, 0, 0, 0x0e, 0x50 }; /* set_loc 0x401014 */

	c_mid_ins(b, ins, sizeof(ins));
}

static void c_ins_unknown_op(struct dfb *b)
{
	static const uint8_t ins[] = { 0x44, 0x3f, 0x0e, 0x50 }; /* 0x3f: hi_user, not an opcode libunwind knows */

	c_mid_ins(b, ins, sizeof(ins));
}

static void c_ins_unknown_op_hides(struct dfb *b)
{
	/* 0x20 is no opcode: libunwind would skip that byte alone and then run DW_CFA_register 6, 203 */
	static const uint8_t ins[] = { 0x44, 0x0e, 0x50, 0x20, 0x09, 0x06, 0xcb, 0x01 };

	c_mid_ins(b, ins, sizeof(ins));
}

/* A version 1 CIE whose return address column is col (libunwind indexes its registers with it). */
static void c_cie_ra(struct dfb *b, uint8_t col)
{
	df_seed_section(b, 1);
	assert_true(b->b[12] == 16);
	b->b[12] = col;
}

static void c_cie_ra_7(struct dfb *b) { c_cie_ra(b, 7); }
static void c_cie_ra_17(struct dfb *b) { c_cie_ra(b, 17); }
static void c_cie_ra_203(struct dfb *b) { c_cie_ra(b, 203); }

static void c_cie_v3_ra_1040(struct dfb *b)
{
	/* version 3: the column is a ULEB128, here 0x90 0x08 = 1040 */
	uint32_t cie = (uint32_t)dfb_u32(b, 0);

	dfb_u32(b, 0xffffffff);
	dfb_put(b, "\3\0\1\x78\x90\x08", 6);
	dfb_put(b, cie_ins, sizeof(cie_ins));
	dfb_set32(b, cie, (uint32_t)b->n - 4);
	dfb_mid(b, cie);
	dfb_start(b, cie);
}

static void c_cie_v3_ra_runaway(struct dfb *b)
{
	/* version 3 with the column's ULEB128 running to the CIE's end */
	uint32_t cie = (uint32_t)dfb_u32(b, 0);

	dfb_u32(b, 0xffffffff);
	dfb_put(b, "\3\0\1\x78\x90\x90\x90", 7);
	dfb_set32(b, cie, (uint32_t)b->n - 4);
	dfb_mid(b, cie);
	dfb_start(b, cie);
}

static void c_cie_rest_runaway(struct dfb *b)
{
	/* a CIE whose code alignment factor (ULEB128) runs to its end and into the FDE */
	uint32_t cie = (uint32_t)dfb_u32(b, 10);

	dfb_u32(b, 0xffffffff);
	dfb_u8(b, 1);
	dfb_u8(b, 0);
	dfb_put(b, "\x80\x80\x80\x80", 4);
	dfb_mid(b, cie);
	dfb_start(b, cie);
}

/* Section header damage: the section bytes are the seed's, its header in the file is not. */
enum df_shdr { SH_NONE, SH_OFF_PAST, SH_SIZE_PAST, SH_NOBITS, SH_COMPRESSED, SH_NAME_PAST };

static const struct df_case {
	const char *name;
	void (*build)(struct dfb *b);
	enum df_shdr shdr;
	enum df_expect expect;
} df_cases[] = {
	{ "cie-v1", c_v1, SH_NONE, DF_RIGHT },
	{ "cie-v3", c_v3, SH_NONE, DF_RIGHT },
	{ "cie-v4", c_v4, SH_NONE, DF_RIGHT },
	{ "cie-v0", c_v0, SH_NONE, DF_NO_INFO },
	{ "cie-v2", c_v2, SH_NONE, DF_NO_INFO },
	{ "cie-v5", c_v5, SH_NONE, DF_NO_INFO },
	{ "cie-v255", c_v255, SH_NONE, DF_NO_INFO },
	{ "no-mid", c_no_mid, SH_NONE, DF_NO_INFO },
	{ "cie-v4-addr4", c_v4_addr4, SH_NONE, DF_NO_INFO },
	{ "cie-v4-seg1", c_v4_seg1, SH_NONE, DF_NO_INFO },
	{ "cie-v4-short", c_v4_short, SH_NONE, DF_NO_INFO },
	{ "cie-no-rest", c_no_rest, SH_NONE, DF_NO_INFO },
	{ "aug-z", c_aug_z, SH_NONE, DF_NO_INFO },
	{ "aug-zR", c_aug_zR, SH_NONE, DF_NO_INFO },
	{ "aug-eh", c_aug_eh, SH_NONE, DF_NO_INFO },
	{ "cie-id-0", c_cie_id_0, SH_NONE, DF_NO_INFO },
	{ "cie-id-fffffffe", c_cie_id_fffffffe, SH_NONE, DF_NO_INFO },
	{ "cie-len-0", c_cie_len_0, SH_NONE, DF_NO_INFO },
	{ "cie-len-3", c_cie_len_3, SH_NONE, DF_NO_INFO },
	{ "cie-len-4", c_cie_len_4, SH_NONE, DF_NO_INFO },
	{ "cie-len-5", c_cie_len_5, SH_NONE, DF_NO_INFO },
	{ "cie-len-past-end", c_cie_len_past_end, SH_NONE, DF_NO_INFO },
	{ "cie-len-all", c_cie_len_all, SH_NONE, DF_NO_INFO },
	{ "cie-last", c_cie_last, SH_NONE, DF_RIGHT },
	{ "cie-last-len-past-end", c_cie_last_len_past_end, SH_NONE, DF_NO_INFO },
	{ "cie-ptr-size", c_cie_ptr_size, SH_NONE, DF_NO_INFO },
	{ "cie-ptr-size-4", c_cie_ptr_size_4, SH_NONE, DF_NO_INFO },
	{ "cie-ptr-size-7", c_cie_ptr_size_7, SH_NONE, DF_NO_INFO },
	{ "cie-ptr-huge", c_cie_ptr_huge, SH_NONE, DF_NO_INFO },
	{ "cie-ptr-self", c_cie_ptr_self, SH_NONE, DF_NO_INFO },
	{ "cie-ptr-fde", c_cie_ptr_fde, SH_NONE, DF_NO_INFO },
	{ "cie-ptr-inside", c_cie_ptr_inside, SH_NONE, DF_NO_INFO },
	{ "cie-ptr-64", c_cie_ptr_64, SH_NONE, DF_NO_INFO },
	{ "fde-len-4", c_fde_len_4, SH_NONE, DF_NO_INFO },
	{ "fde-len-12", c_fde_len_12, SH_NONE, DF_NO_INFO },
	{ "fde-len-19", c_fde_len_19, SH_NONE, DF_NO_INFO },
	{ "fde-len-past-end", c_fde_len_past_end, SH_NONE, DF_NO_INFO },
	{ "fde-len-huge", c_fde_len_huge, SH_NONE, DF_NO_INFO },
	{ "fde-range-0", c_fde_range_0, SH_NONE, DF_NO_INFO },
	{ "fde-range-wrap", c_fde_range_wrap, SH_NONE, DF_NO_INFO },
	{ "fde-range-0-inside", c_fde_range_0_inside, SH_NONE, DF_RIGHT },
	{ "fde-range-wrap-inside", c_fde_range_wrap_inside, SH_NONE, DF_RIGHT },
	{ "fde-after-ip", c_fde_after_ip, SH_NONE, DF_NO_INFO },
	{ "zero-entries", c_zero_entries, SH_NONE, DF_RIGHT },
	{ "overlap-outer", c_overlap_outer, SH_NONE, DF_RIGHT },
	{ "overlap-inner", c_overlap_inner, SH_NONE, DF_NO_INFO },
	{ "overlap-same", c_overlap_same, SH_NONE, DF_RIGHT },
	{ "only-64", c_only_64, SH_NONE, DF_NO_INFO },
	{ "64-then-32", c_64_then_32, SH_NONE, DF_RIGHT },
	{ "64-len-huge", c_64_len_huge, SH_NONE, DF_NO_INFO },
	{ "64-truncated-tail", c_64_truncated_tail, SH_NONE, DF_RIGHT },
	{ "64-escape-only", c_64_escape_only, SH_NONE, DF_NO_INFO },
	{ "empty", c_empty, SH_NONE, DF_NO_INFO },
	{ "3-bytes", c_3_bytes, SH_NONE, DF_NO_INFO },
	{ "cut-in-mid", c_cut_in_mid, SH_NONE, DF_NO_INFO },
	{ "cut-in-mid-ins", c_cut_in_mid_ins, SH_NONE, DF_NO_INFO },
	{ "big-ins", c_big_ins, SH_NONE, DF_RIGHT },
	{ "ins-expr-past-end", c_ins_expr_past_end, SH_NONE, DF_CLEAN },
	{ "ins-advance4-cut", c_ins_advance4_cut, SH_NONE, DF_CLEAN },
	{ "ins-uleb-runaway", c_ins_uleb_runaway, SH_NONE, DF_CLEAN },
	{ "ins-restore-state", c_ins_restore_state, SH_NONE, DF_CLEAN },
	{ "ins-remember-many", c_ins_remember_many, SH_NONE, DF_CLEAN },
	{ "ins-bad-reg", c_ins_bad_reg, SH_NONE, DF_CLEAN },
	{ "ins-set-loc", c_ins_set_loc, SH_NONE, DF_NO_INFO },
	{ "ins-register-203", c_ins_register_203, SH_NONE, DF_NO_INFO },
	{ "ins-register-3", c_ins_register_3, SH_NONE, DF_RIGHT },
	{ "cie-ins-register-17", c_cie_ins_register_17, SH_NONE, DF_NO_INFO },
	{ "ins-unknown-op", c_ins_unknown_op, SH_NONE, DF_NO_INFO },
	{ "ins-unknown-op-hides", c_ins_unknown_op_hides, SH_NONE, DF_NO_INFO },
	{ "cie-rest-runaway", c_cie_rest_runaway, SH_NONE, DF_NO_INFO },
	{ "cie-ra-7", c_cie_ra_7, SH_NONE, DF_CLEAN },
	{ "cie-ra-17", c_cie_ra_17, SH_NONE, DF_NO_INFO },
	{ "cie-ra-203", c_cie_ra_203, SH_NONE, DF_NO_INFO },
	{ "cie-v3-ra-1040", c_cie_v3_ra_1040, SH_NONE, DF_NO_INFO },
	{ "cie-v3-ra-runaway", c_cie_v3_ra_runaway, SH_NONE, DF_NO_INFO },
	{ "shdr-off-past", c_v1, SH_OFF_PAST, DF_NO_INFO },
	{ "shdr-size-past", c_v1, SH_SIZE_PAST, DF_NO_INFO },
	{ "shdr-nobits", c_v1, SH_NOBITS, DF_NO_INFO },
	{ "shdr-compressed", c_v1, SH_COMPRESSED, DF_NO_INFO },
	{ "shdr-name-past", c_v1, SH_NAME_PAST, DF_NO_INFO },
};

static void df_damage_shdr(uint8_t *img, size_t size, const struct df_seed *s, enum df_shdr how)
{
	Elf64_Shdr sh;

	memcpy(&sh, img + s->shdr_off, sizeof(sh));
	switch (how) {
	case SH_NONE:
		break;
	case SH_OFF_PAST:
		sh.sh_offset = size + 1;
		break;
	case SH_SIZE_PAST:
		sh.sh_size++;
		break;
	case SH_NOBITS:
		sh.sh_type = SHT_NOBITS;
		break;
	case SH_COMPRESSED:
		sh.sh_flags |= SHF_COMPRESSED;
		break;
	case SH_NAME_PAST:
		sh.sh_name = 0xfffffff0;
		break;
	}
	memcpy(img + s->shdr_off, &sh, sizeof(sh));
}

static void df_write(const char *dir, const char *sub, const char *name, const void *a, size_t na, const void *b,
		     size_t nb, const void *c, size_t nc)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fwrite(a, 1, na, f) == na && fwrite(b, 1, nb, f) == nb && fwrite(c, 1, nc, f) == nc);
	assert_int_equal(fclose(f), 0);
}

/* The case as seeds of both unwinder harnesses (see their headers for the layouts). */
static void df_write_seeds(const char *dir, const struct df_seed *s, const struct df_case *c, const struct dfb *b,
			   const uint8_t *img, size_t size)
{
	uint8_t head[7] = { 0x18, 0x10, 0, 0, 0, (uint8_t)s->stack_len, (uint8_t)(s->stack_len >> 8) };
	char name[128];

	snprintf(name, sizeof(name), "df-%s", c->name);
	df_write(dir, "unwinder", name, s->raw, sizeof(s->regs) + 2 + s->stack_len, img, size, NULL, 0);
	if (c->shdr == SH_NONE)
		df_write(dir, "unwinder_dframe", c->name, head, sizeof(head), s->stack, s->stack_len, b->b, b->n);
}

static void test_debug_frame_damaged(void **state)
{
	static struct dfb b;
	struct unwinder *u = unwinder__new();
	const char *seeds = getenv("DF_WRITE_SEEDS");
	uint64_t ips[8], ips0[8];
	struct unwinder_result res, res0;
	struct df_seed s;
	uint8_t *img;
	size_t i, size;
	uint64_t id = 1;

	(void)state;
	assert_non_null(u);
	df_load(&s);
	/* The builder writes the seed's own section. */
	b.n = 0;
	df_seed_section(&b, 1);
	assert_true(b.n == s.sec_size && memcmp(b.b, s.image + s.sec_off, b.n) == 0);

	for (i = 0; i < sizeof(df_cases) / sizeof(df_cases[0]); i++) {
		const struct df_case *c = &df_cases[i];

		b.n = 0;
		c->build(&b);
		img = df_with_section(&s, b.b, b.n, &size);
		df_damage_shdr(img, size, &s, c->shdr);
		if (seeds)
			df_write_seeds(seeds, &s, c, &b, img, size);
		/* Not cached, then cached under a new id (built), then again (from the cache): the same. */
		df_unwind(u, &s, img, size, 0, ips0, 8, &res0);
		df_unwind(u, &s, img, size, id, ips, 8, &res);
		if (res.nr != res0.nr || res.status != res0.status || memcmp(ips, ips0, res.nr * sizeof(ips[0])))
			fail_msg("%s: cached and uncached differ", c->name);
		df_unwind(u, &s, img, size, id++, ips, 8, &res);
		if (res.nr != res0.nr || res.status != res0.status || memcmp(ips, ips0, res.nr * sizeof(ips[0])))
			fail_msg("%s: second cached unwind differs", c->name);
		switch (c->expect) {
		case DF_RIGHT:
			if (!df_right(&res, ips))
				fail_msg("%s: wrong unwind (status %d, %u frames)", c->name, res.status, res.nr);
			break;
		case DF_NO_INFO:
			if (res.status != UNWINDER_NO_INFO || res.nr != 1 || res.fail_ip != DF_MID_IP)
				fail_msg("%s: want no info at mid (status %d, %u frames)", c->name, res.status, res.nr);
			break;
		case DF_CLEAN:
			if (res.status > UNWINDER_FAILED || (res.status >= UNWINDER_TRUNCATED && res.fail_ip != ips[res.nr - 1]))
				fail_msg("%s: bad result (status %d, %u frames)", c->name, res.status, res.nr);
			if (getenv("DF_VERBOSE"))
				print_message("%s: status %d, %u frames\n", c->name, res.status, res.nr);
			break;
		}
		free(img);
	}
	free(s.raw);
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
	uint8_t *seed, *img;
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
	img = seed + sizeof(regs) + 2 + stack_len;
	im.data = img;
	im.size = size - sizeof(regs) - 2 - stack_len;
	regs[SCORCH_REG_RIP] += DF_BASE;
	regs[SCORCH_REG_RSP] = 0x7ff000000000ull;
	/* _start, the entry point at 0x401040, loses its FDE; mid keeps its own. */
	assert_int_equal(drop_fde(img, im.size, DF_BASE + 0x1040), 0);
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
	assert_int_equal(drop_fde(img, im.size, DF_BASE + 0x1010), 0);
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
		cmocka_unit_test(test_syscall_leaf),
		cmocka_unit_test(test_garbage_stack),
		cmocka_unit_test(test_garbage_files),
		cmocka_unit_test_teardown(test_eh_frame_bad_registers, swap_teardown),
		cmocka_unit_test(test_many_spaces),
		cmocka_unit_test(test_debug_frame),
		cmocka_unit_test(test_entry_routine),
		cmocka_unit_test(test_debug_frame_lru),
		cmocka_unit_test(test_debug_frame_damaged),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
