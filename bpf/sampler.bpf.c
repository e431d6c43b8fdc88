// SPDX-License-Identifier: GPL-2.0
/*
 * The sampler: runs on every cpu-clock (or cycles) perf event of every CPU, keeps samples of the target
 * processes, and hands their kernel and user stacks to user space through a ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "scorch_abi.h"

/* Set by user space before load. */
const volatile bool filter_targets = true;
/* Ring buffer fill level (bytes) past which a sample wakes the reader up. */
const volatile __u64 wakeup_bytes = 1 << 20;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SCORCH_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space */
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCORCH_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct scorch_sample *s;
	long n;

	if (tid == 0) /* the idle task */
		return 0;
	if (filter_targets && !bpf_map_lookup_elem(&targets, &tgid))
		return 0;

	s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
	if (!s) {
		count(SCORCH_CNT_LOST_RINGBUF);
		return 0;
	}
	s->time_ns = bpf_ktime_get_ns();
	s->pid = tgid;
	s->tid = tid;
	s->cpu = bpf_get_smp_processor_id();
	s->flags = 0;
	s->pad = 0;
	bpf_get_current_comm(s->comm, sizeof(s->comm));

	n = bpf_get_stack(ctx, s->kstack, sizeof(s->kstack), 0);
	s->kstack_err = n < 0 ? (__s32)n : 0;
	if (n < 0) {
		s->flags |= SCORCH_SAMPLE_KSTACK_ERR;
		count(SCORCH_CNT_KSTACK_ERR);
		n = 0;
	} else if (n >= (long)sizeof(s->kstack)) {
		s->flags |= SCORCH_SAMPLE_KSTACK_FULL;
	}
	s->nr_kstack = n / sizeof(__u64);

	n = bpf_get_stack(ctx, s->ustack, sizeof(s->ustack), BPF_F_USER_STACK);
	s->ustack_err = n < 0 ? (__s32)n : 0;
	if (n < 0) {
		s->flags |= SCORCH_SAMPLE_USTACK_ERR;
		count(SCORCH_CNT_USTACK_ERR);
		n = 0;
	} else if (n >= (long)sizeof(s->ustack)) {
		s->flags |= SCORCH_SAMPLE_USTACK_FULL;
	}
	s->nr_ustack = n / sizeof(__u64);

	count(SCORCH_CNT_SAMPLES);
	/* Wake the reader only when a lot is pending: a wakeup per sample costs more than the sample. */
	bpf_ringbuf_submit(s, bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
				      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	return 0;
}

/* Follow forks of targets (record -- CMD): children become targets before they run. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (ptgid == ctgid || !bpf_map_lookup_elem(&targets, &ptgid))
		return 0;
	if (bpf_map_update_elem(&targets, &ctgid, &one, BPF_ANY))
		count(SCORCH_CNT_LOST_TARGETS);
	else
		count(SCORCH_CNT_FORKS);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
