/* SPDX-License-Identifier: MIT */
/*
 * sampler - the BPF sampler's user side: perf events on every online CPU, the BPF program that reads
 * the stacks of target processes, and the ring buffer that brings the samples here.
 *
 * This module is the only includer of the BPF skeleton. Lifecycle: sampler__open() loads and attaches
 * (so sampling has started when it returns), sampler__add_target() adds processes, sampler__poll()
 * hands samples to a callback, sampler__free() detaches and frees (NULL-safe).
 * Errors are logged here with what is missing (privileges, BTF, events) and returned as negative errno;
 * sampler__open() returns NULL with errno set.
 */
#ifndef SCORCH_SAMPLER_H
#define SCORCH_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "scorch_abi.h"

struct sampler_opts {
	uint32_t freq;     /* samples per second per CPU */
	const char *event; /* "auto" (cycles when the CPU has a PMU, else cpu-clock), "cpu-clock", "cycles" */
	int follow_forks;  /* children of targets become targets */
	int all;           /* sample every process (no target filter) */
	uint64_t cgroup_id;      /* with all: only tasks in this cgroup v2 or below it (0: any) */
	uint32_t cgroup_level;   /* its depth below the cgroup v2 root (the root is 0) */
	size_t ringbuf_bytes;    /* samples ring buffer, rounded up (sampler__round_ringbuf); 0: the default
				  * (sampler__default_ringbuf; with off_cpu, plus half a second of wait
				  * stacks at off_cpu_rate, budgeted as samples are) */
	int idle;                /* with all: keep the samples of the idle task (pid 0) */
	int no_fp_stack;         /* skip the kernel's frame-pointer walk of user stacks */
	int shed_copies;         /* leave out stack copies while the ring buffer is more than 3/4 full */
	uint32_t stack_bytes;    /* copy the user registers and this much user stack (<= SCORCH_STACK_MAX); 0:
				    none */
	int no_events;           /* do not load the mapping-event programs */
	uint32_t uw_rows;        /* -g auto: unwind user stacks in the kernel from tables of this many rows
				  * (8 bytes each, sampler__uw_rows); 0: no in-kernel unwinding */
	int off_cpu;             /* also send the waits of target threads (SCORCH_SAMPLE_OFF_CPU records) */
	uint64_t off_cpu_min_ns; /* with off_cpu: shorter waits are only counted */
	uint32_t off_cpu_rate;   /* with off_cpu: at most this many wait stacks per second in all (about:
				  * the bound is kept per CPU, per tenth of a second) */
};

struct sampler;

/*
 * A sample record (scorch_abi.h) taken apart by sampler__parse_record(): pointers into the record,
 * borrowed from it. Every count and size has been checked against the record's length.
 */
struct sampler_record {
	const struct scorch_sample *hdr;
	const uint64_t *kstack; /* hdr->nr_kstack addresses, leaf first */
	const uint64_t *ustack; /* hdr->nr_ustack addresses, leaf first */
	/* hdr->nr_py Python frames, innermost first */
	const struct scorch_py_frame *py;
	const uint64_t *regs; /* SCORCH_NR_REGS user registers, or NULL (no SCORCH_SAMPLE_REGS) */
	const uint8_t *stack; /* hdr->stack_size bytes of user stack copied from regs[SCORCH_REG_RSP] */
};

/*
 * Take apart the record 'data' of 'size' bytes, 8-byte aligned, as the ring buffer gives it. Returns 0,
 * or -EINVAL when it is malformed: shorter than its header, a count above SCORCH_MAX_STACK (Python frames:
 * SCORCH_PY_MAX_FRAMES), a stack copy without registers, a wait (SCORCH_SAMPLE_OFF_CPU) of no duration
 * or an unknown state, a CPU sample with either, or its parts not adding up to exactly 'size' bytes.
 */
int sampler__parse_record(const void *data, size_t size, struct sampler_record *out);

/*
 * Called for every well-formed sample (the others are counted, not given). A non-zero return stops the
 * poll and is returned by sampler__poll().
 */
typedef int (*sampler_fn)(void *ctx, const struct sampler_record *r);
/*
 * Called for every mapping event (struct scorch_mmap_event or scorch_path_event) with its record as
 * it came: 'size' bytes, not checked here. A non-zero return stops the poll and is returned.
 */
typedef int (*sampler_event_fn)(void *ctx, const void *data, size_t size);

struct sampler *sampler__open(const struct sampler_opts *opts);
/*
 * Sample process 'pid' (and, with follow_forks, the children it forks from then on). from_exec: only
 * from its next successful exec on (a launched command held before its exec, which until then runs
 * this program's image).
 */
int sampler__add_target(struct sampler *s, uint32_t pid, int from_exec);
/*
 * Wait up to timeout_ms for samples, then consume every pending mapping event (given to efn, which may
 * be NULL) and then the pending samples, so that the mappings a sample needs have arrived before it.
 * Samples are read for at most ~50 ms per call (the rest waits for the next call), so that a caller
 * whose samples cost more than they arrive still checks its clock and signals. Returns 0 or a negative
 * errno.
 */
int sampler__poll(struct sampler *s, int timeout_ms, sampler_fn fn, sampler_event_fn efn, void *ctx);
/*
 * Consume the pending mapping events only: after sampler__poll(), those of the processes that exited
 * while their samples were being consumed. Returns 0 or a negative errno.
 */
int sampler__drain_events(struct sampler *s, sampler_event_fn efn, void *ctx);
/*
 * Whether the mapping events are being sent: their BPF programs are optional (the sched_process_exit
 * and sched_prepare_exec tracepoints, Linux 6.8, and the task_vma iterator kfuncs, 6.7) and left out
 * with a debug message when they cannot be loaded or attached.
 */
int sampler__has_events(const struct sampler *s);
/* Sample no more: the perf events' programs detached (the ring buffer is then read to its end). */
void sampler__stop(struct sampler *s);
/* Whether the last sampler__poll() read the samples ring buffer to its end. */
int sampler__empty(const struct sampler *s);
/* Consume what the samples ring buffer still holds without reading it: how many records that was. */
uint64_t sampler__discard(struct sampler *s);
/* Totals of the BPF counters (enum scorch_counter) over all CPUs. */
int sampler__counters(struct sampler *s, uint64_t out[SCORCH_CNT_MAX]);
/* "cpu-clock" or "cycles": what is being sampled. Borrowed. */
const char *sampler__event(const struct sampler *s);
int sampler__nr_cpus(const struct sampler *s);
/* Bytes of the samples ring buffer. */
size_t sampler__ringbuf_bytes(const struct sampler *s);

/* Bounds of the samples ring buffer that sampler__round_ringbuf() keeps to. */
#define SAMPLER_RINGBUF_MIN ((size_t)64 << 10)
#define SAMPLER_RINGBUF_MAX ((size_t)1 << 30)
/* Bounds of the default size. */
#define SAMPLER_RINGBUF_DEFAULT_MIN ((size_t)4 << 20)
#define SAMPLER_RINGBUF_DEFAULT_MAX ((size_t)256 << 20)
/*
 * The bytes a sample is budgeted for in the default size: its header, 64 addresses (kernel and user
 * together, most stacks have fewer) and the registers, without the stack copy.
 */
#define SAMPLER_SAMPLE_BUDGET (sizeof(struct scorch_sample) + 8 * 64 + SCORCH_REGS_BYTES)
/*
 * The default size of the samples ring buffer: half a second of samples of every CPU at the full
 * rate, freq * nr_cpus * (SAMPLER_SAMPLE_BUDGET + stack_bytes) / 2, within [4 MiB, 256 MiB], rounded up
 * to a power of two. The sampler passes a quarter of its stack copy's size when it unwinds in the
 * kernel (-g auto): most samples then carry no copy, and those that would find the buffer more than
 * 3/4 full go without (sampler_opts.shed_copies).
 */
size_t sampler__default_ringbuf(int nr_cpus, uint32_t freq, uint32_t stack_bytes);
/* 'bytes' rounded up to a power of two within [SAMPLER_RINGBUF_MIN, SAMPLER_RINGBUF_MAX]. */
size_t sampler__round_ringbuf(size_t bytes);
void sampler__free(struct sampler *s);

/*
 * In-kernel unwinding (sampler_opts.uw_rows): how many rows the tables may take in all (0 when off, or
 * when the kernel could not load the unwinder: then every sample is unwound from its copy); load the
 * rows of a table into slot 'slot' (< SCORCH_UW_TABLES) as a map of their own, or empty the slot; set
 * a process's mappings with tables (p->nr 0: forget it). 0 or a negative errno.
 */
uint32_t sampler__uw_rows(const struct sampler *s);
int sampler__uw_set_table(struct sampler *s, uint32_t slot, const struct scorch_uw_row *rows, uint32_t nr);
int sampler__uw_drop_table(struct sampler *s, uint32_t slot);
int sampler__uw_set_proc(struct sampler *s, uint32_t pid, const struct scorch_uw_proc *p);
/* Make a table findable by its file (f NULL: no more). */
int sampler__uw_set_file(struct sampler *s, const struct scorch_uw_file_key *k,
			 const struct scorch_uw_file *f);

/* Walk the Python frames of process 'pid' as 'p' says (scorch_abi.h); NULL: stop. 0 or a negative errno. */
int sampler__py_set_proc(struct sampler *s, uint32_t pid, const struct scorch_py_proc *p);

/*
 * Check, without loading anything, whether this process may record: returns 0, or logs what is
 * missing (root or CAP_BPF+CAP_PERFMON, kernel BTF) and returns -EPERM / -ENOTSUP.
 */
int sampler__check_privileges(void);
/* The kernel's highest sampling frequency (kernel.perf_event_max_sample_rate), or 0 if unknown. */
uint32_t sampler__max_freq(void);

#endif
