// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the DWARF unwinder: registers, a stack copy and an ELF file all come from the
 * input, as they come from a target process in a recording. The unwind must return 0 with 1 to max
 * addresses, the first being the IP, and a known status, whatever the bytes.
 *
 * Input: 17 x 8 bytes of registers, 2 bytes of stack length, the stack, then the ELF file, mapped at
 * IMG_BASE from offset 0. RIP is moved into the file's mapping and RSP to STACK_BASE; the low bit of
 * RAX turns the frame-pointer fallback on.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unwinder.h"

#define IMG_BASE 0x400000ULL
#define STACK_BASE 0x7ff000000000ULL
#define MAX_IPS 64

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_unwinder: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

struct img {
	const uint8_t *data;
	size_t size;
};

static int find_map(void *ctx, uint64_t addr, struct unwinder_map *out)
{
	const struct img *im = ctx;
	uint64_t end = IMG_BASE + ((im->size + 4095) & ~(uint64_t)4095);

	if (addr < IMG_BASE || addr >= end)
		return -ENOENT;
	out->start = IMG_BASE;
	out->end = end;
	out->offset = 0;
	out->image = im->data;
	out->image_size = im->size;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct unwinder *u;
	uint64_t regs[SCORCH_NR_REGS], ips[MAX_IPS];
	struct unwinder_result res;
	struct unwinder_input in;
	struct img im;
	size_t stack_len;

	if (size < sizeof(regs) + 2)
		return 0;
	if (!u)
		u = unwinder__new();
	CHECK(u);
	memcpy(regs, data, sizeof(regs));
	data += sizeof(regs);
	size -= sizeof(regs);
	stack_len = (size_t)(data[0] | data[1] << 8);
	data += 2;
	size -= 2;
	if (stack_len > size)
		stack_len = size;
	im.data = data + stack_len;
	im.size = size - stack_len;
	regs[SCORCH_REG_RSP] = STACK_BASE;
	if (im.size)
		regs[SCORCH_REG_RIP] = IMG_BASE + regs[SCORCH_REG_RIP] % im.size;
	in.regs = regs;
	in.stack = data;
	in.stack_size = stack_len;
	in.find_map = find_map;
	in.ctx = &im;
	in.fp_fallback = (int)(regs[SCORCH_REG_RAX] & 1);
	/* Every input is a new file at the same address: nothing cached may survive. */
	unwinder__flush(u, 1);
	CHECK(unwinder__unwind(u, 1, &in, ips, MAX_IPS, &res) == 0);
	CHECK(res.nr >= 1 && res.nr <= MAX_IPS);
	CHECK(ips[0] == regs[SCORCH_REG_RIP]);
	CHECK(res.status <= UNWINDER_FAILED);
	return 0;
}
