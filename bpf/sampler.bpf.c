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
/* Sample only tasks in this cgroup v2 (the inode number of its directory) or below it: the id of the
 * task's ancestor at cgroup_level must match. 0: no cgroup filter. */
const volatile __u64 cgroup_id = 0;
const volatile __u32 cgroup_level = 0;
/* Ring buffer fill level (bytes) past which a sample wakes the reader up. */
const volatile __u64 wakeup_bytes = 1 << 20;
/* Frame-pointer walk of the user stack by the kernel. */
const volatile bool fp_stack = true;
/* Bytes of user stack to copy from the user SP (with the user registers); 0: neither. */
const volatile __u32 stack_bytes = 0;

/*
 * Where a sample is assembled before bpf_ringbuf_output() sends exactly the bytes that were read: one
 * entry per CPU (a per-CPU array cannot hold 64 KiB values), indexed by CPU (perf_event programs do not
 * nest on a CPU). The slack after the stack lets the verifier bound a page-sized copy at any offset.
 */
struct sample_buf {
	struct scorch_sample s;
	__u8 stack[SCORCH_STACK_MAX + 2 * SCORCH_PAGE_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized by user space to the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct sample_buf);
} scratch SEC(".maps");

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

/* Execs per target process: a sample carries its process's count, so user space knows when the
 * address space it has cached was replaced. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SCORCH_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u32);
} execs SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

/*
 * Whether the current task is inside execve. From the switch to the new mm until the new image's
 * registers are set, pt_regs still hold the old image's: a user stack taken then would mix the old
 * image's registers with the new address space.
 */
static __always_inline int in_execve(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (!bpf_core_field_exists(task->in_execve))
		return 0;
	return BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);
}

/* The user registers, whether the sample interrupted user or kernel mode. */
static __always_inline int read_user_regs(__u64 *regs)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *r;

	if (!task->mm) /* a kernel thread has no user state */
		return -1;
	r = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!r)
		return -1;
	regs[SCORCH_REG_RAX] = r->ax;
	regs[SCORCH_REG_RDX] = r->dx;
	regs[SCORCH_REG_RCX] = r->cx;
	regs[SCORCH_REG_RBX] = r->bx;
	regs[SCORCH_REG_RSI] = r->si;
	regs[SCORCH_REG_RDI] = r->di;
	regs[SCORCH_REG_RBP] = r->bp;
	regs[SCORCH_REG_RSP] = r->sp;
	regs[SCORCH_REG_R8] = r->r8;
	regs[SCORCH_REG_R9] = r->r9;
	regs[SCORCH_REG_R10] = r->r10;
	regs[SCORCH_REG_R11] = r->r11;
	regs[SCORCH_REG_R12] = r->r12;
	regs[SCORCH_REG_R13] = r->r13;
	regs[SCORCH_REG_R14] = r->r14;
	regs[SCORCH_REG_R15] = r->r15;
	regs[SCORCH_REG_RIP] = r->ip;
	return 0;
}

/*
 * Copy up to stack_bytes of user stack from sp, page by page: bpf_probe_read_user() zeroes its whole
 * buffer on any failure and never faults a page in, so stop at the first page that cannot be read.
 * Returns the bytes copied; *cut is set when the copy stopped early.
 */
static __always_inline __u32 copy_stack(__u8 *dst, __u64 sp, int *cut)
{
	__u32 want = stack_bytes, off = 0, chunk;
	__u64 o, len;
	int i;

	if (want > SCORCH_STACK_MAX)
		want = SCORCH_STACK_MAX;
	for (i = 0; i < SCORCH_STACK_MAX / SCORCH_PAGE_SIZE + 1; i++) {
		if (off >= want)
			break;
		chunk = SCORCH_PAGE_SIZE - ((sp + off) & (SCORCH_PAGE_SIZE - 1));
		if (chunk > want - off)
			chunk = want - off;
		/* No-op masks, kept from the compiler, that bound the copy for the verifier. */
		o = off;
		len = chunk;
		barrier_var(o);
		barrier_var(len);
		o &= SCORCH_STACK_MAX - 1;
		len &= 2 * SCORCH_PAGE_SIZE - 1;
		if (bpf_probe_read_user(dst + o, len, (const void *)(sp + o))) {
			*cut = 1;
			break;
		}
		off += chunk;
	}
	return off;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u32 *ex;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, cpu, size;
	struct sample_buf *b;
	struct scorch_sample *s;
	int cut = 0, exec;
	long n;

	if (tid == 0) /* the idle task */
		return 0;
	if (filter_targets && !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	if (cgroup_id && bpf_get_current_ancestor_cgroup_id(cgroup_level) != cgroup_id)
		return 0;

	cpu = bpf_get_smp_processor_id();
	b = bpf_map_lookup_elem(&scratch, &cpu);
	if (!b) {
		count(SCORCH_CNT_LOST_RINGBUF);
		return 0;
	}
	s = &b->s;
	s->time_ns = bpf_ktime_get_ns();
	s->pid = tgid;
	s->tid = tid;
	s->cpu = cpu;
	s->flags = 0;
	ex = bpf_map_lookup_elem(&execs, &tgid);
	s->exec_seq = ex ? *ex : 0;
	s->pad2 = 0;
	s->stack_size = 0;
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

	s->ustack_err = 0;
	n = 0;
	exec = in_execve();
	if (exec) {
		s->flags |= SCORCH_SAMPLE_IN_EXEC | SCORCH_SAMPLE_NO_FPSTACK;
		count(SCORCH_CNT_IN_EXEC);
	} else if (fp_stack) {
		n = bpf_get_stack(ctx, s->ustack, sizeof(s->ustack), BPF_F_USER_STACK);
		s->ustack_err = n < 0 ? (__s32)n : 0;
		if (n < 0) {
			s->flags |= SCORCH_SAMPLE_USTACK_ERR;
			count(SCORCH_CNT_USTACK_ERR);
			n = 0;
		} else if (n >= (long)sizeof(s->ustack)) {
			s->flags |= SCORCH_SAMPLE_USTACK_FULL;
		}
	} else {
		s->flags |= SCORCH_SAMPLE_NO_FPSTACK;
	}
	s->nr_ustack = n / sizeof(__u64);

	if (stack_bytes && !exec) {
		if (read_user_regs(s->regs) == 0) {
			s->flags |= SCORCH_SAMPLE_REGS;
			s->stack_size = copy_stack(b->stack, s->regs[SCORCH_REG_RSP], &cut);
			if (cut) {
				s->flags |= SCORCH_SAMPLE_STACK_CUT;
				count(SCORCH_CNT_STACK_CUT);
			}
		} else {
			count(SCORCH_CNT_NO_REGS);
		}
	}

	size = s->stack_size;
	if (size > SCORCH_STACK_MAX)
		size = SCORCH_STACK_MAX;
	/* Wake the reader only when a lot is pending: a wakeup per sample costs more than the sample. */
	if (bpf_ringbuf_output(&samples, b, sizeof(*s) + size,
			       bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
				       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP)) {
		count(SCORCH_CNT_LOST_RINGBUF);
		return 0;
	}
	count(SCORCH_CNT_SAMPLES);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid), one = 1, *n;

	if (filter_targets && !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	n = bpf_map_lookup_elem(&execs, &tgid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&execs, &tgid, &one, BPF_NOEXIST);
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
