// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the sample record parser (sampler__parse_record()): any bytes as a ring-buffer
 * record. A record taken must have its parts inside it, in order, adding up to exactly its length, with
 * counts no larger than a stack (or a Python walk) holds and registers exactly when its flags say so; every
 * byte it points at is read, so that ASan sees a part that would reach past the record.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"
#include "scorch_abi.h"

static void check_failed(const char *what, int line)
{
	fprintf(stderr, "fuzz_sample_record: check failed: %s (line %d)\n", what, line);
	abort();
}

#define CHECK(cond) ((cond) ? (void)0 : check_failed(#cond, __LINE__))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sampler_record r;
	const uint8_t *end;
	uint64_t *buf, sum = 0;
	uint32_t i;

	/* The ring buffer gives 8-byte aligned records: copy into an exact-size heap block so that ASan
	 * sees any read past the end. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (sampler__parse_record(buf, size, &r)) {
		CHECK(r.hdr == NULL);
		free(buf);
		return 0;
	}
	end = (const uint8_t *)buf + size;
	CHECK(r.hdr == (const void *)buf);
	CHECK(r.hdr->nr_kstack <= SCORCH_MAX_STACK && r.hdr->nr_ustack <= SCORCH_MAX_STACK);
	CHECK(r.hdr->nr_py <= SCORCH_PY_MAX_FRAMES);
	CHECK((const void *)r.kstack == (const void *)(r.hdr + 1));
	CHECK(r.ustack == r.kstack + r.hdr->nr_kstack);
	CHECK((const void *)r.py == (const void *)(r.ustack + r.hdr->nr_ustack));
	CHECK(!!r.regs == !!(r.hdr->flags & SCORCH_SAMPLE_REGS));
	CHECK(r.regs ? (const void *)r.regs == (const void *)(r.py + r.hdr->nr_py)
		     : (const void *)r.stack == (const void *)(r.py + r.hdr->nr_py));
	if (r.regs)
		CHECK((const void *)r.stack == (const void *)(r.regs + SCORCH_NR_REGS));
	CHECK(r.hdr->stack_size == 0 || r.regs);
	CHECK(r.stack + r.hdr->stack_size == end);
	for (i = 0; i < r.hdr->nr_kstack; i++)
		sum += r.kstack[i];
	for (i = 0; i < r.hdr->nr_ustack; i++)
		sum += r.ustack[i];
	for (i = 0; i < r.hdr->nr_py; i++)
		sum += r.py[i].code + r.py[i].instr + r.py[i].flags;
	for (i = 0; r.regs && i < SCORCH_NR_REGS; i++)
		sum += r.regs[i];
	for (i = 0; i < r.hdr->stack_size; i++)
		sum += r.stack[i];
	free(buf);
	return (int)(sum & 0);
}
