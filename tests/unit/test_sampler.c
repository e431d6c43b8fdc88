// SPDX-License-Identifier: MIT
/*
 * Unit tests for the sampler's user side that need no BPF (src/capture/sampler.h): sample records of
 * variable length taken apart defensively (sampler__parse_record), and the ring buffer's default size.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "sampler.h"
#include "scorch_abi.h"

/* A record as the BPF program builds it, in an 8-byte aligned buffer. */
struct rec {
	uint64_t words[(SCORCH_SAMPLE_MAX_BYTES + SCORCH_PY_FRAME_BYTES * SCORCH_PY_MAX_FRAMES + 4096) / 8];
	size_t size;
};

static struct scorch_sample *hdr(struct rec *r)
{
	return (struct scorch_sample *)r->words;
}

/*
 * nk kernel and nu user addresses (k0.., u0..), npy Python frames, the registers when regs, 'stack'
 * bytes of copy.
 */
static void build_py(struct rec *r, uint16_t nk, uint16_t nu, uint16_t npy, int regs, uint32_t stack,
		     uint32_t flags)
{
	struct scorch_sample *h = hdr(r);
	uint64_t *a = (uint64_t *)(h + 1);
	struct scorch_py_frame *pf;
	uint8_t *st;
	int i;

	memset(r, 0, sizeof(*r));
	h->pid = 42;
	h->tid = 43;
	h->flags = flags | (regs ? SCORCH_SAMPLE_REGS : 0);
	h->nr_kstack = nk;
	h->nr_ustack = nu;
	h->stack_size = stack;
	memcpy(h->comm, "worker", 7);
	for (i = 0; i < nk; i++)
		*a++ = 0xffffffff81000000ULL + (uint64_t)i;
	for (i = 0; i < nu; i++)
		*a++ = 0x400000ULL + (uint64_t)i;
	h->nr_py = npy;
	pf = (struct scorch_py_frame *)a;
	for (i = 0; i < npy; i++) {
		pf[i].code = 0x7f0000000000ULL + (uint64_t)i;
		pf[i].instr = (uint32_t)i;
		pf[i].firstline = i + 1;
		pf[i].flags = i == npy - 1 ? SCORCH_PY_FRAME_ENTRY : 0;
	}
	a = (uint64_t *)(pf + npy);
	if (regs)
		for (i = 0; i < SCORCH_NR_REGS; i++)
			*a++ = 0x1000ULL * (uint64_t)(i + 1);
	st = (uint8_t *)a;
	for (i = 0; i < (int)stack; i++)
		st[i] = (uint8_t)i;
	r->size = (size_t)(st + stack - (uint8_t *)r->words);
}

static void build(struct rec *r, uint16_t nk, uint16_t nu, int regs, uint32_t stack, uint32_t flags)
{
	build_py(r, nk, nu, 0, regs, stack, flags);
}

/* Python frames between the user addresses and the registers; their count bounded. */
static void test_python_frames(void **state)
{
	struct sampler_record out;
	struct rec r;

	(void)state;
	build_py(&r, 3, 5, 4, 1, 24, 0);
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), 0);
	assert_int_equal(out.hdr->nr_py, 4);
	assert_ptr_equal(out.py, (const void *)(out.ustack + 5));
	assert_int_equal(out.py[0].code, 0x7f0000000000ULL);
	assert_int_equal(out.py[3].firstline, 4);
	assert_int_equal(out.py[3].flags, SCORCH_PY_FRAME_ENTRY);
	assert_ptr_equal(out.regs, (const void *)(out.py + 4));
	assert_int_equal(out.regs[0], 0x1000);
	assert_int_equal(out.stack[23], 23);
	/* One frame more or less than the bytes hold. */
	hdr(&r)->nr_py = 5;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
	hdr(&r)->nr_py = 3;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
	/* More than a walk sends, even when the bytes are there. */
	build_py(&r, 0, 0, SCORCH_PY_MAX_FRAMES, 0, 0, 0);
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), 0);
	hdr(&r)->nr_py = SCORCH_PY_MAX_FRAMES + 1;
	assert_int_equal(sampler__parse_record(r.words, r.size + SCORCH_PY_FRAME_BYTES, &out), -EINVAL);
}

static void test_unwound(void **state)
{
	struct sampler_record out;
	struct rec r;

	(void)state;
	/* 10 kernel frames, 20 user frames unwound in the kernel: 80 + 8 * 30 bytes, nothing else. */
	build(&r, 10, 20, 0, 0, SCORCH_SAMPLE_UNWOUND | SCORCH_SAMPLE_UW_ROOT);
	assert_int_equal(r.size, 320);
	assert_int_equal(scorch_sample__size(10, 20, 0, hdr(&r)->flags, 0), 320);
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), 0);
	assert_ptr_equal(out.hdr, r.words);
	assert_ptr_equal(out.kstack, (const uint64_t *)r.words + 10);
	assert_int_equal(out.kstack[9], 0xffffffff81000009ULL);
	assert_ptr_equal(out.ustack, out.kstack + 10);
	assert_int_equal(out.ustack[0], 0x400000);
	assert_int_equal(out.ustack[19], 0x400013);
	assert_null(out.regs);
	assert_ptr_equal(out.stack, (const uint8_t *)(out.ustack + 20));
	assert_string_equal(out.hdr->comm, "worker");
}

static void test_copy(void **state)
{
	struct sampler_record out;
	struct rec r;

	(void)state;
	build(&r, 3, 5, 1, 100, 0);
	assert_int_equal(r.size, 80 + 8 * 8 + 136 + 100);
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), 0);
	assert_ptr_equal(out.ustack, out.kstack + 3);
	assert_ptr_equal(out.regs, out.ustack + 5);
	assert_int_equal(out.regs[SCORCH_REG_RAX], 0x1000);
	assert_int_equal(out.regs[SCORCH_REG_RIP], 0x11000);
	assert_ptr_equal(out.stack, (const uint8_t *)(out.regs + SCORCH_NR_REGS));
	assert_int_equal(out.stack[99], 99);

	/* Registers without a copy (the copy was not asked for, or its first page was unreadable). */
	build(&r, 0, 0, 1, 0, SCORCH_SAMPLE_STACK_CUT);
	assert_int_equal(r.size, 80 + 136);
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), 0);
	assert_non_null(out.regs);

	/* Full stacks and the largest copy. */
	build(&r, SCORCH_MAX_STACK, SCORCH_MAX_STACK, 1, 4096, 0);
	assert_int_equal(r.size, SCORCH_SAMPLE_MAX_BYTES + 4096);
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), 0);

	/* Nothing but the header: a sample in execve whose kernel stack could not be read. */
	build(&r, 0, 0, 0, 0, SCORCH_SAMPLE_IN_EXEC | SCORCH_SAMPLE_KSTACK_ERR);
	assert_int_equal(r.size, 80);
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), 0);
	assert_null(out.regs);
}

static void test_malformed(void **state)
{
	struct sampler_record out;
	struct rec r;
	size_t n;

	(void)state;
	/* Shorter than the header, down to nothing. */
	build(&r, 0, 0, 0, 0, 0);
	for (n = 0; n < sizeof(struct scorch_sample); n++)
		assert_int_equal(sampler__parse_record(r.words, n, &out), -EINVAL);
	assert_null(out.hdr);

	/* Every cut of a well-formed record short of its end, and one byte more than it has. */
	build(&r, 7, 9, 1, 50, 0);
	for (n = 0; n < r.size; n++)
		assert_int_equal(sampler__parse_record(r.words, n, &out), -EINVAL);
	assert_int_equal(sampler__parse_record(r.words, r.size + 1, &out), -EINVAL);
	assert_int_equal(sampler__parse_record(r.words, r.size + 8, &out), -EINVAL);
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), 0);

	/* Counts past the end. */
	build(&r, 10, 20, 0, 0, SCORCH_SAMPLE_UNWOUND);
	hdr(&r)->nr_ustack = 21;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
	hdr(&r)->nr_ustack = 20;
	hdr(&r)->nr_kstack = 11;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
	/* Counts above the most a stack holds, even when the bytes would be there. */
	build(&r, 0, 0, 0, 0, 0);
	hdr(&r)->nr_kstack = SCORCH_MAX_STACK + 1;
	assert_int_equal(sampler__parse_record(r.words, 80 + 8 * (SCORCH_MAX_STACK + 1), &out), -EINVAL);
	hdr(&r)->nr_kstack = 0;
	hdr(&r)->nr_ustack = 0xffff;
	assert_int_equal(sampler__parse_record(r.words, sizeof(r.words), &out), -EINVAL);

	/* stack_size past the end, up to the largest: no overflow in the sum. */
	build(&r, 2, 2, 1, 64, 0);
	hdr(&r)->stack_size = 65;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
	hdr(&r)->stack_size = 0xffffffffu;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
	hdr(&r)->stack_size = 63;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);

	/* The registers flag with too few bytes for them. */
	build(&r, 4, 4, 0, 0, 0);
	hdr(&r)->flags |= SCORCH_SAMPLE_REGS;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
	assert_int_equal(sampler__parse_record(r.words, r.size + SCORCH_REGS_BYTES - 8, &out), -EINVAL);
	assert_int_equal(sampler__parse_record(r.words, r.size + SCORCH_REGS_BYTES, &out), 0);
	/* ... and registers in the record without the flag: bytes left over. */
	build(&r, 4, 4, 1, 0, 0);
	hdr(&r)->flags &= ~(uint32_t)SCORCH_SAMPLE_REGS;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);

	/* A stack copy without registers: nothing could unwind it. */
	build(&r, 1, 1, 0, 0, 0);
	hdr(&r)->stack_size = 16;
	assert_int_equal(sampler__parse_record(r.words, r.size + 16, &out), -EINVAL);
	assert_null(out.hdr);
}

/* A wait: its state and time in the header, its stacks as a sample's; a CPU sample has neither. */
static void test_off_cpu(void **state)
{
	struct sampler_record out;
	struct rec r;

	(void)state;
	build(&r, 3, 4, 0, 0, SCORCH_SAMPLE_OFF_CPU | SCORCH_SAMPLE_UNWOUND);
	hdr(&r)->off_ns = 30000000;
	hdr(&r)->off_state = SCORCH_OFF_SLEEP;
	assert_int_equal(r.size, 80 + 8 * 7);
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), 0);
	assert_int_equal(out.hdr->off_ns, 30000000);
	hdr(&r)->off_state = SCORCH_OFF_RUNQ;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), 0);
	/* Unknown states, no time. */
	hdr(&r)->off_state = 0;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
	hdr(&r)->off_state = SCORCH_OFF_RUNQ + 1;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
	hdr(&r)->off_state = SCORCH_OFF_DISK;
	hdr(&r)->off_ns = 0;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
	/* A CPU sample that says it waited. */
	build(&r, 3, 4, 0, 0, 0);
	hdr(&r)->off_ns = 5;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
	hdr(&r)->off_ns = 0;
	hdr(&r)->off_state = SCORCH_OFF_SLEEP;
	assert_int_equal(sampler__parse_record(r.words, r.size, &out), -EINVAL);
}

static void test_default_ringbuf(void **state)
{
	(void)state;
	/* 99 Hz on 4 CPUs and 999 Hz on 2 CPUs with -g auto's 16 KiB copy: 4M and 32M, as the man page says
	 */
	assert_int_equal(sampler__default_ringbuf(4, 99, SCORCH_STACK_DEFAULT), (size_t)4 << 20);
	assert_int_equal(sampler__default_ringbuf(2, 999, SCORCH_STACK_DEFAULT), (size_t)32 << 20);
	/* 999 Hz on 64 CPUs: 999 * 64 * (728 + 16384) / 2 = 546 MB, capped */
	assert_int_equal(SAMPLER_SAMPLE_BUDGET, 728);
	assert_int_equal(sampler__default_ringbuf(64, 999, SCORCH_STACK_DEFAULT),
			 SAMPLER_RINGBUF_DEFAULT_MAX);
	/* -g fp at 999 Hz on 64 CPUs: 999 * 64 * (728 + 512) / 2 = 40 MB -> 64M */
	assert_int_equal(sampler__default_ringbuf(64, 999, SCORCH_STACK_FP_REPAIR), (size_t)64 << 20);
	assert_int_equal(sampler__default_ringbuf(0, 1, 0), SAMPLER_RINGBUF_DEFAULT_MIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unwound),         cmocka_unit_test(test_copy),
		cmocka_unit_test(test_malformed),       cmocka_unit_test(test_python_frames),
		cmocka_unit_test(test_default_ringbuf), cmocka_unit_test(test_off_cpu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
