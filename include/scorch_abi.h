/* SPDX-License-Identifier: MIT */
/*
 * scorch_abi.h - the only ABI shared by the BPF sampler (bpf/sampler.bpf.c) and user space
 * (src/sampler.c). Fixed-width __u32/__u64 types only; sizes are checked at compile time on both sides.
 */
#ifndef SCORCH_ABI_H
#define SCORCH_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Frames per stack: the kernel's default kernel.perf_event_max_stack. */
#define SCORCH_MAX_STACK 127
#define SCORCH_COMM_LEN 16
#define SCORCH_MAX_TARGETS 65536

enum scorch_sample_flags {
	SCORCH_SAMPLE_KSTACK_ERR = 1 << 0,   /* bpf_get_stack failed for the kernel stack */
	SCORCH_SAMPLE_USTACK_ERR = 1 << 1,   /* bpf_get_stack failed for the user stack */
	SCORCH_SAMPLE_KSTACK_FULL = 1 << 2,  /* kernel stack filled the buffer: may be truncated */
	SCORCH_SAMPLE_USTACK_FULL = 1 << 3,  /* user stack filled the buffer: may be truncated */
};

/* One sample, as reserved in the ring buffer. */
struct scorch_sample {
	__u64 time_ns; /* bpf_ktime_get_ns() */
	__u32 pid;     /* tgid */
	__u32 tid;
	__u32 cpu;
	__u32 flags;   /* enum scorch_sample_flags */
	__u16 nr_kstack;
	__u16 nr_ustack;
	__s32 kstack_err;
	__s32 ustack_err;
	char comm[SCORCH_COMM_LEN];
	__u32 pad;
	__u64 kstack[SCORCH_MAX_STACK]; /* leaf first */
	__u64 ustack[SCORCH_MAX_STACK]; /* leaf first */
};

_Static_assert(sizeof(struct scorch_sample) == 56 + 2 * 8 * SCORCH_MAX_STACK,
	       "struct scorch_sample layout changed: update both sides");

/* Indexes into the per-CPU 'counters' array. */
enum scorch_counter {
	SCORCH_CNT_SAMPLES = 0,     /* samples of a target that reached the ring buffer */
	SCORCH_CNT_LOST_RINGBUF,    /* samples of a target dropped: ring buffer full */
	SCORCH_CNT_KSTACK_ERR,      /* kernel stacks that could not be read */
	SCORCH_CNT_USTACK_ERR,      /* user stacks that could not be read */
	SCORCH_CNT_FORKS,           /* child processes of targets added to the target set */
	SCORCH_CNT_LOST_TARGETS,    /* children not added: target map full */
	SCORCH_CNT_MAX,
};

#endif
