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
/* Keep the samples of the idle task (pid 0) when there is no target filter (record -a --idle). */
const volatile bool keep_idle = false;
/* -g auto: unwind user stacks here from the tables (uw_tables, uw_procs) first; the stack copy and the
 * frame-pointer walk are taken only when that fails. */
const volatile bool uw_kernel = false;
/*
 * -g auto and copy: while the ring buffer is more than 3/4 full (the reader is behind: a busy machine,
 * new processes whose tables are not loaded yet), and whenever the copy finds no room, a sample goes
 * without its stack copy and registers, with its frame-pointer walk: a smaller sample, not a lost one
 * (SCORCH_CNT_COPY_SHED).
 */
const volatile bool shed_copies = false;
/* record --off-cpu: waits shorter than this are only counted; stacks per CPU per OFF_WINDOW_NS; where a
 * CPU's second scratch entry is (cpu + scratch_off). */
const volatile __u64 off_cpu_min_ns = 1000000;
const volatile __u32 off_cpu_burst = 100;
const volatile __u32 scratch_off = 0;

/*
 * Where a sample is assembled before bpf_ringbuf_output() sends exactly the bytes used: one entry per
 * CPU (a per-CPU array cannot hold 64 KiB values), indexed by CPU (perf_event programs do not nest on a
 * CPU; with --off-cpu a second entry per CPU, at cpu + scratch_off, holds the waits' records). The
 * record (scorch_abi.h) is built in place: the header s, then in data[] the kernel addresses at offset
 * 0, the user addresses after them, the registers after those, and the stack copy last. The registers
 * are read into regs[] first (the unwind needs them before it knows where they go) and copied into place
 * once the user addresses are counted. Every offset into data[] is bounded by DATA_OFF_MAX, and the
 * slack after the stack lets the verifier bound a page-sized copy at any offset.
 */
#define DATA_OFF_MAX 4095u /* > 2 * 8 * SCORCH_MAX_STACK + Python frames + SCORCH_REGS_BYTES */
#define STACK_BYTES (8 * SCORCH_MAX_STACK)

struct sample_buf {
	__u64 regs[SCORCH_NR_REGS];
	struct scorch_sample s;
	__u8 data[DATA_OFF_MAX + 1 + SCORCH_STACK_MAX + 2 * SCORCH_PAGE_SIZE];
};

#define PY_BYTES (SCORCH_PY_FRAME_BYTES * SCORCH_PY_MAX_FRAMES)

_Static_assert(2 * STACK_BYTES + PY_BYTES + SCORCH_REGS_BYTES <= DATA_OFF_MAX, "data[] offsets fit DATA_OFF_MAX");
_Static_assert((SCORCH_PY_MAX_FRAMES & (SCORCH_PY_MAX_FRAMES - 1)) == 0, "a mask bounds Python frame indexes");

extern int bpf_iter_task_vma_new(struct bpf_iter_task_vma *it, struct task_struct *task,
				 __u64 addr) __ksym __weak;
extern struct vm_area_struct *bpf_iter_task_vma_next(struct bpf_iter_task_vma *it) __ksym __weak;
extern void bpf_iter_task_vma_destroy(struct bpf_iter_task_vma *it) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized by user space to the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct sample_buf);
} scratch SEC(".maps");

/* Allocated as processes are added: room for 65536 costs nothing until they come (4 MiB if made up front). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
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
 * address space it has cached was replaced. An LRU map is made whole up front (65536 entries took
 * 5 MiB): 16384 processes that exec'd while recording, the least recently sampled forgotten first. */
#define EXECS_MAX 16384
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, EXECS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} execs SEC(".maps");

/*
 * The unwind tables (scorch_abi.h, "In-kernel unwinding"): one array map of rows per file, each as
 * large as its table (BPF_F_INNER_MAP: the inner maps' sizes differ), in the slots of uw_tables; and
 * per process the mappings that have a table. A process's entry is replaced whole (a hash without
 * preallocation swaps in a new element), so a walk sees an old or a new one; a table's slot is emptied
 * before it is reused.
 */
struct uw_rows {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct scorch_uw_row));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SCORCH_UW_TABLES);
	__type(key, __u32);
	__array(values, struct uw_rows);
} uw_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SCORCH_UW_PROCS);
	__type(key, __u32);
	__type(value, struct scorch_uw_proc);
} uw_procs SEC(".maps");

/* The tables by file, for mappings no process entry has yet (scorch_abi.h, struct scorch_uw_file). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SCORCH_UW_FILES);
	__type(key, struct scorch_uw_file_key);
	__type(value, struct scorch_uw_file);
} uw_files SEC(".maps");

/*
 * For a process without an entry (exec'd a moment ago): its executable mappings found by their file,
 * one bpf_find_vma per sample (a second one in the same interrupt finds the mmap lock's release still
 * pending), kept here for its next samples, so that the walk goes one file further each time. Per CPU:
 * a sample's program is the only writer of its CPU's copy.
 */
#define UW_VMS 8
#define UW_LOOKS 4 /* bpf_find_vma calls per sample, at most */

struct uw_vcache {
	__u32 nr;
	__u32 pad;
	struct scorch_uw_map maps[UW_VMS];
};

struct uw_vcache_key {
	__u32 tgid, exec_seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, struct uw_vcache_key);
	__type(value, struct uw_vcache);
} uw_vcache SEC(".maps");

/* Children of targets forked while recording that have not exec'd since: child tgid -> parent tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u32);
} forked SEC(".maps");

/* Python processes (scorch_abi.h, "Python frames"), key: tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct scorch_py_proc);
} py_procs SEC(".maps");

/* The PyThreadState last found for a thread (key: tid): checked again at every use. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} py_threads SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline void count_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += n;
}

/* A record that could not be sent: a CPU sample, or a wait of off_ns nanoseconds. */
static __always_inline void lost(__u64 off_ns)
{
	if (!off_ns) {
		count(SCORCH_CNT_LOST_RINGBUF);
		return;
	}
	count(SCORCH_CNT_OFF_DROPPED);
	count_add(SCORCH_CNT_OFF_DROPPED_NS, off_ns);
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

/*
 * Whether process 'tgid' is sampled. A launched command is a target from before its exec, but until
 * the exec it runs the recorder's own image (in the fork, in execvp): those samples are not the
 * command's, and their user stacks would be read against the command's maps.
 */
static __always_inline int is_target(__u32 tgid)
{
	__u8 *v = bpf_map_lookup_elem(&targets, &tgid);

	return v && *v == SCORCH_TARGET_ON;
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

struct stack_top {
	__u64 sp;
	__u64 top;
};

static long find_stack_top(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct stack_top *t = data;

	t->top = vma->vm_end;
	return 0;
}

/*
 * How much stack a whole copy from 'sp' would take: up to the end of the mapping that holds sp (a
 * thread's stack), or for the main thread up to where its stack started at exec (above are argv, the
 * environment and the auxiliary vector, which no unwind reads). 0 when unknown (the mmap lock was busy).
 */
static __always_inline __u32 stack_need(__u64 sp)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct stack_top t = { .sp = sp };
	__u64 start_stack;

	/* bpf_find_vma() is Linux 5.17: before, the check is a constant and the call dead code. */
	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_find_vma))
		return 0;
	if (bpf_find_vma(task, sp, find_stack_top, &t, 0) || t.top <= sp)
		return 0;
	start_stack = BPF_CORE_READ(task, mm, start_stack);
	if (start_stack > sp && start_stack < t.top)
		t.top = start_stack + 64; /* argc and the first argv pointers: _start's frame */
	return t.top - sp > 0xffffffffULL ? 0xffffffffU : (__u32)(t.top - sp);
}

/* The state of one in-kernel unwind: the registers of the frame being left, and where frames go. */
struct uw_walk {
	struct scorch_uw_proc *proc; /* NULL: none, or not of this exec */
	__u64 *ips;
	__u64 pc, sp, bp;
	__u32 n;      /* frames in ips[] */
	__s32 status; /* 0 going on, 1 at the root, 2 at the depth cap, < 0: -(the fallback counter) */
	struct uw_vcache *vc;    /* without an entry: the mappings found by their file */
	struct scorch_uw_map vm; /* what bpf_find_vma found (vm.end 0: nothing) */
	int looked;              /* bpf_find_vma calls for this sample */
	int by_file;             /* a mapping was found by its file */
};

/*
 * The binary searches are bpf_loop callbacks, not bounded loops: the verifier checks a callback once,
 * where it would walk every iteration of a loop whose bounds depend on the data (seconds to load).
 */
struct uw_map_search {
	struct scorch_uw_proc *proc;
	__u64 addr;
	__u32 lo, hi;
	__s32 found; /* index in proc->maps, or -1 */
};

static long uw_map_step(__u32 i, struct uw_map_search *q)
{
	struct scorch_uw_map *m;
	__u32 mid;

	if (q->lo >= q->hi)
		return 1;
	mid = (q->lo + q->hi) / 2;
	m = &q->proc->maps[mid & (SCORCH_UW_MAPS - 1)];
	if (q->addr < m->start) {
		q->hi = mid;
	} else if (q->addr >= m->end) {
		q->lo = mid + 1;
	} else {
		q->found = mid & (SCORCH_UW_MAPS - 1);
		return 1;
	}
	return 0;
}

/* The mapping of p's entry with a table that holds addr, or NULL. */
static __always_inline struct scorch_uw_map *uw_find_map(struct scorch_uw_proc *p, __u64 addr)
{
	struct uw_map_search q = { .proc = p, .addr = addr, .found = -1 };

	if (!p)
		return NULL;
	q.hi = p->nr;
	if (q.hi > SCORCH_UW_MAPS)
		return NULL;
	bpf_loop(8, uw_map_step, &q, 0); /* 2^8 > SCORCH_UW_MAPS */
	if (q.found < 0)
		return NULL;
	return &p->maps[q.found & (SCORCH_UW_MAPS - 1)];
}

struct uw_row_search {
	__u32 table, rel, lo, hi;
	__s64 best; /* the last row index with pc <= rel, or -1 */
};

static long uw_row_step(__u32 i, struct uw_row_search *q)
{
	struct scorch_uw_row *r;
	void *rows;
	__u32 mid;

	if (q->lo >= q->hi)
		return 1;
	rows = bpf_map_lookup_elem(&uw_tables, &q->table);
	if (!rows)
		return 1;
	mid = q->lo + (q->hi - q->lo) / 2;
	r = bpf_map_lookup_elem(rows, &mid);
	if (!r)
		return 1;
	if (r->pc <= q->rel) {
		q->best = mid;
		q->lo = mid + 1;
	} else {
		q->hi = mid;
	}
	return 0;
}

/* The last row of table 'table' (nr rows) whose pc is at most rel, or NULL. */
static __always_inline struct scorch_uw_row *uw_find_row(__u32 table, __u32 nr, __u32 rel)
{
	struct uw_row_search q = { .table = table, .rel = rel, .hi = nr, .best = -1 };
	void *rows;
	__u32 k;

	bpf_loop(24, uw_row_step, &q, 0); /* 2^24 rows > any table */
	if (q.best < 0)
		return NULL;
	rows = bpf_map_lookup_elem(&uw_tables, &table);
	if (!rows)
		return NULL;
	k = (__u32)q.best;
	return bpf_map_lookup_elem(rows, &k);
}

#define VM_EXEC_ 0x4 /* include/linux/mm.h */

/* struct inode's change time before 6.11 (__i_ctime from 6.6, i_ctime before). */
struct inode___v66 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));
struct inode___v65 {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

static __always_inline void inode_ctime(struct inode *inode, struct scorch_uw_file_key *k)
{
	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		k->ctime_sec = BPF_CORE_READ(inode, i_ctime_sec);
		/* 6.13's multigrain timestamps keep a flag in the top bits (I_CTIME_QUERIED) */
		k->ctime_nsec = BPF_CORE_READ(inode, i_ctime_nsec) & ((1u << 30) - 1);
	} else if (bpf_core_field_exists(((struct inode___v66 *)inode)->__i_ctime)) {
		struct inode___v66 *i = (void *)inode;

		k->ctime_sec = BPF_CORE_READ(i, __i_ctime.tv_sec);
		k->ctime_nsec = BPF_CORE_READ(i, __i_ctime.tv_nsec);
	} else {
		struct inode___v65 *i = (void *)inode;

		k->ctime_sec = BPF_CORE_READ(i, i_ctime.tv_sec);
		k->ctime_nsec = BPF_CORE_READ(i, i_ctime.tv_nsec);
	}
}

/* bpf_find_vma's callback: the executable file mapping found, if its file has a table. */
static long uw_vma_found(struct task_struct *task, struct vm_area_struct *vma, struct uw_walk *w)
{
	struct scorch_uw_file_key k = {};
	struct scorch_uw_file *f;
	struct inode *inode;

	if (!(vma->vm_flags & VM_EXEC_) || !vma->vm_file)
		return 0;
	inode = vma->vm_file->f_inode;
	k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k.ino = BPF_CORE_READ(inode, i_ino);
	inode_ctime(inode, &k);
	f = bpf_map_lookup_elem(&uw_files, &k);
	if (!f)
		return 0;
	w->vm.start = vma->vm_start;
	w->vm.end = vma->vm_end;
	w->vm.bias = vma->vm_start - (vma->vm_pgoff << 12) - f->adj;
	w->vm.table = f->table;
	w->vm.nr = f->nr;
	return 0;
}

/*
 * The mapping that holds addr: from the process's entry; without one, from the mappings found by their
 * file, looking one more up (and keeping it) when there is none yet.
 */
static __always_inline struct scorch_uw_map *uw_map_of(struct uw_walk *w, __u64 addr)
{
	struct scorch_uw_map *m = uw_find_map(w->proc, addr);
	struct uw_vcache *c = w->vc;
	__u32 i, slot;

	if (m || !c)
		return m;
	w->by_file = 1;
	for (i = 0; i < UW_VMS; i++)
		if (i < c->nr && addr >= c->maps[i].start && addr < c->maps[i].end)
			return &c->maps[i];
	if (w->looked >= UW_LOOKS)
		return NULL;
	w->looked++;
	w->vm.end = 0;
	if (bpf_find_vma(bpf_get_current_task_btf(), addr, uw_vma_found, w, 0)) {
		w->looked = UW_LOOKS; /* the mmap lock's release still pending (-EBUSY): no more now */
		return NULL;
	}
	if (addr < w->vm.start || addr >= w->vm.end)
		return NULL;
	slot = c->nr;
	if (slot < UW_VMS) {
		c->maps[slot & (UW_VMS - 1)] = w->vm;
		c->nr = slot + 1;
	}
	return &w->vm;
}

/* One frame: from the frame at w->pc to its caller's. bpf_loop's callback: 1 stops the loop. */
static long uw_step(__u32 i, struct uw_walk *w)
{
	struct scorch_uw_map *m;
	struct scorch_uw_row *r;
	__u64 addr, rel, cfa, ra = 0, bp;
	__u32 n;

	/* A caller's pc is a return address: the call is the byte before it. */
	addr = w->n > 1 ? w->pc - 1 : w->pc;
	m = uw_map_of(w, addr);
	if (!m) {
		w->status = w->proc ? -SCORCH_CNT_UW_NO_TABLE : -SCORCH_CNT_UW_NO_PROC;
		return 1;
	}
	rel = addr - m->bias;
	r = rel >> 32 ? NULL : uw_find_row(m->table, m->nr, (__u32)rel);
	if (!r) {
		w->status = -SCORCH_CNT_UW_NO_TABLE;
		return 1;
	}
	switch (r->kind) {
	case SCORCH_UW_CFA_RSP:
		cfa = w->sp + r->cfa_off;
		break;
	case SCORCH_UW_CFA_RBP:
		cfa = w->bp + r->cfa_off;
		break;
	case SCORCH_UW_PLT:
		cfa = w->sp + 8 + ((w->pc & 15) >= r->cfa_off ? 8 : 0);
		break;
	case SCORCH_UW_END:
		w->status = 1;
		return 1;
	default:
		w->status = -SCORCH_CNT_UW_UNKNOWN;
		return 1;
	}
	/* Every step goes up the stack: the return address is at CFA - 8, at or above SP. */
	if (cfa < w->sp + 8) {
		w->status = -SCORCH_CNT_UW_BAD;
		return 1;
	}
	if (bpf_probe_read_user(&ra, sizeof(ra), (const void *)(cfa - 8))) {
		w->status = -SCORCH_CNT_UW_READ;
		return 1;
	}
	if (r->rbp_off) {
		if (bpf_probe_read_user(&bp, sizeof(bp), (const void *)(cfa + (__s64)r->rbp_off * 8))) {
			w->status = -SCORCH_CNT_UW_READ;
			return 1;
		}
		w->bp = bp;
	}
	if (!ra) { /* nothing called the outermost frame */
		w->status = 1;
		return 1;
	}
	n = w->n;
	if (n >= SCORCH_MAX_STACK) {
		w->status = 2;
		return 1;
	}
	w->ips[n] = ra;
	w->n = n + 1;
	w->sp = cfa;
	w->pc = ra;
	return 0;
}

/*
 * Unwind the user stack of the current task from its registers 'regs' into 'ips' (SCORCH_MAX_STACK
 * entries). 0 when it is complete (root reached, or cut at the depth cap); otherwise the counter of why
 * it fell back.
 */
static __always_inline int uw_unwind(__u32 tgid, struct scorch_sample *s, __u64 *ips, const __u64 *regs)
{
	struct uw_vcache_key ck = { tgid, s->exec_seq };
	static const struct uw_vcache empty;
	__u32 *parent;
	struct uw_walk w = {};

	w.proc = bpf_map_lookup_elem(&uw_procs, &tgid);
	if (w.proc && w.proc->exec_seq != s->exec_seq)
		w.proc = NULL; /* the entry of the image before an exec: its files' tables may do */
	/*
	 * A child forked by a target while recording, that has not exec'd since ('forked'), maps what
	 * its parent mapped then (a server's workers): its parent's tables do until user space loads its
	 * own, which short-lived workers never live to see. A mapping the child made since is in no
	 * table: that falls back.
	 */
	if (!w.proc && (parent = bpf_map_lookup_elem(&forked, &tgid)))
		w.proc = bpf_map_lookup_elem(&uw_procs, parent);
	/* Without an entry, the mappings are found by their files. */
	if (!w.proc) {
		w.vc = bpf_map_lookup_elem(&uw_vcache, &ck);
		if (!w.vc) {
			bpf_map_update_elem(&uw_vcache, &ck, &empty, BPF_NOEXIST);
			w.vc = bpf_map_lookup_elem(&uw_vcache, &ck);
		}
		if (!w.vc)
			return SCORCH_CNT_UW_NO_PROC;
	}
	w.ips = ips;
	w.pc = regs[SCORCH_REG_RIP];
	w.sp = regs[SCORCH_REG_RSP];
	w.bp = regs[SCORCH_REG_RBP];
	w.ips[0] = w.pc;
	w.n = 1;
	bpf_loop(SCORCH_MAX_STACK, uw_step, &w, 0);
	if (w.status < 0)
		return -w.status;
	if (w.status == 0 || w.status == 2) {
		s->flags |= SCORCH_SAMPLE_USTACK_FULL;
		count(SCORCH_CNT_UW_DEPTH);
	} else {
		s->flags |= SCORCH_SAMPLE_UW_ROOT;
	}
	s->flags |= SCORCH_SAMPLE_UNWOUND;
	s->nr_ustack = w.n;
	if (w.by_file)
		count(SCORCH_CNT_UW_BY_FILE);
	return 0;
}

/*
 * The Python walk. Everything read is the target's memory, which it may have changed or filled with
 * anything: every read is bounded and checked, every loop is a bpf_loop with a fixed count, and what is
 * sent (code object addresses, offsets) is checked by user space before it names anything.
 */
struct py_tsearch {
	const struct scorch_py_proc *cfg;
	__u64 ts, fsbase, found;
};

static long py_thread_step(__u32 i, struct py_tsearch *q)
{
	__u64 tid = 0, next = 0;

	if (!q->ts)
		return 1;
	if (bpf_probe_read_user(&tid, sizeof(tid), (const void *)(q->ts + q->cfg->tstate_thread_id)))
		return 1;
	if (tid == q->fsbase) {
		q->found = q->ts;
		return 1;
	}
	if (bpf_probe_read_user(&next, sizeof(next), (const void *)(q->ts + q->cfg->tstate_next)))
		return 1;
	q->ts = next;
	return 0;
}

/* The PyThreadState of the current thread (whose pthread_self() is 'fsbase'), or 0. */
static __always_inline __u64 py_thread_state(const struct scorch_py_proc *c, __u32 tid, __u64 fsbase)
{
	struct py_tsearch q = { .cfg = c, .fsbase = fsbase };
	__u64 *cached = bpf_map_lookup_elem(&py_threads, &tid), interp = 0, v = 0;

	if (cached && *cached &&
	    !bpf_probe_read_user(&v, sizeof(v), (const void *)(*cached + c->tstate_thread_id)) && v == fsbase)
		return *cached;
	if (bpf_probe_read_user(&interp, sizeof(interp), (const void *)c->interp_head) || !interp)
		return 0;
	if (bpf_probe_read_user(&q.ts, sizeof(q.ts), (const void *)(interp + c->interp_threads)))
		return 0;
	bpf_loop(256, py_thread_step, &q, 0); /* threads searched per sample, at most */
	if (q.found)
		bpf_map_update_elem(&py_threads, &tid, &q.found, BPF_ANY);
	return q.found;
}

struct py_walk {
	const struct scorch_py_proc *cfg;
	struct scorch_py_frame *out; /* SCORCH_PY_MAX_FRAMES in the sample's record */
	__u64 frame;
	__u32 n;
	__u32 status; /* enum scorch_py_status, 0 while going on */
};

/* One frame: bpf_loop's callback; 1 stops the loop. */
static long py_step(__u32 i, struct py_walk *w)
{
	const struct scorch_py_proc *c = w->cfg;
	struct scorch_py_frame *o;
	__u64 f = w->frame, prev = 0, code = 0, ip = 0;
	__s32 lasti = 0, first = 0;
	__u8 mark = 0;
	__u32 n = w->n;

	if (!f) {
		w->status = SCORCH_PY_OK;
		return 1;
	}
	if (bpf_probe_read_user(&prev, sizeof(prev), (const void *)(f + c->frame_previous)) ||
	    (c->entry != SCORCH_PY_ENTRY_NONE &&
	     bpf_probe_read_user(&mark, sizeof(mark), (const void *)(f + c->frame_entry)))) {
		w->status = SCORCH_PY_READ;
		return 1;
	}
	w->frame = prev;
	if (c->entry == SCORCH_PY_ENTRY_OWNER && mark == c->entry_owner) {
		/* The shim below an evaluator call's frames: the frame above it was that call's first. */
		if (n > 0 && n <= SCORCH_PY_MAX_FRAMES)
			w->out[(n - 1) & (SCORCH_PY_MAX_FRAMES - 1)].flags |= SCORCH_PY_FRAME_ENTRY;
		return 0;
	}
	if (n >= SCORCH_PY_MAX_FRAMES) {
		w->status = SCORCH_PY_TRUNCATED;
		return 1;
	}
	if (bpf_probe_read_user(&code, sizeof(code), (const void *)(f + c->frame_code))) {
		w->status = SCORCH_PY_READ;
		return 1;
	}
	if (c->kind == SCORCH_PY_FRAMEOBJ) {
		if (bpf_probe_read_user(&lasti, sizeof(lasti), (const void *)(f + c->frame_instr))) {
			w->status = SCORCH_PY_READ;
			return 1;
		}
		ip = (__u32)lasti;
	} else {
		if (bpf_probe_read_user(&ip, sizeof(ip), (const void *)(f + c->frame_instr))) {
			w->status = SCORCH_PY_READ;
			return 1;
		}
		ip = ip - code - c->code_adaptive;
	}
	/* Unreadable: 0, which user space takes for another code object than the one it named. */
	bpf_probe_read_user(&first, sizeof(first), (const void *)(code + c->code_firstlineno));
	o = &w->out[n & (SCORCH_PY_MAX_FRAMES - 1)];
	o->code = code;
	o->instr = (__u32)ip;
	o->firstline = first;
	o->flags = c->entry == SCORCH_PY_ENTRY_NONE || (c->entry == SCORCH_PY_ENTRY_FLAG && mark)
			   ? SCORCH_PY_FRAME_ENTRY
			   : 0;
	o->pad = 0;
	w->n = n + 1;
	return 0;
}

/* Walk the current thread's Python frames into 'out' when its process runs Python. Returns how many. */
static __always_inline __u16 py_frames(__u32 tgid, __u32 tid, struct scorch_sample *s,
				       struct scorch_py_frame *out)
{
	struct scorch_py_proc *c = bpf_map_lookup_elem(&py_procs, &tgid);
	struct task_struct *task;
	struct py_walk w = {};
	__u64 ts, p = 0;

	if (!c)
		return 0;
	if (c->exec_seq != s->exec_seq) {
		s->py_status = SCORCH_PY_STALE;
		return 0;
	}
	task = bpf_get_current_task_btf();
	ts = py_thread_state(c, tid, BPF_CORE_READ(task, thread.fsbase));
	if (!ts) {
		s->py_status = SCORCH_PY_NO_THREAD;
		return 0;
	}
	if (bpf_probe_read_user(&p, sizeof(p), (const void *)(ts + c->tstate_frame))) {
		s->py_status = SCORCH_PY_READ;
		return 0;
	}
	if (c->kind == SCORCH_PY_CFRAME && p &&
	    bpf_probe_read_user(&p, sizeof(p), (const void *)(p + c->cframe_current))) {
		s->py_status = SCORCH_PY_READ;
		return 0;
	}
	if (!p) {
		s->py_status = SCORCH_PY_NO_FRAME;
		return 0;
	}
	w.cfg = c;
	w.out = out;
	w.frame = p;
	bpf_loop(2 * SCORCH_PY_MAX_FRAMES, py_step, &w, 0); /* shims do not count as frames */
	s->py_status = w.status ? w.status : SCORCH_PY_TRUNCATED;
	return w.n > SCORCH_PY_MAX_FRAMES ? SCORCH_PY_MAX_FRAMES : w.n;
}

/* An offset into sample_buf.data, kept from the compiler and bounded for the verifier (a no-op). */
static __always_inline __u64 data_off(__u64 off)
{
	barrier_var(off);
	return off & DATA_OFF_MAX;
}

/*
 * The kernel's walk of the kernel stack (flags 0) or of the user stack by frame pointers
 * (BPF_F_USER_STACK) into dst: the frames it gave, its error in *err and the sample's flags.
 */
static __always_inline __u16 get_stack(void *ctx, struct scorch_sample *s, void *dst, __u64 flags,
				       __s32 *err)
{
	int user = flags & BPF_F_USER_STACK;
	long n = bpf_get_stack(ctx, dst, STACK_BYTES, flags);

	*err = n < 0 ? (__s32)n : 0;
	if (n < 0) {
		s->flags |= user ? SCORCH_SAMPLE_USTACK_ERR : SCORCH_SAMPLE_KSTACK_ERR;
		count(user ? SCORCH_CNT_USTACK_ERR : SCORCH_CNT_KSTACK_ERR);
		return 0;
	}
	if (n >= STACK_BYTES) {
		s->flags |= user ? SCORCH_SAMPLE_USTACK_FULL : SCORCH_SAMPLE_KSTACK_FULL;
		n = STACK_BYTES;
	}
	return n / sizeof(__u64);
}

/* A wait over the threshold whose thread is back on CPU, waiting for its user stack
 * (record --off-cpu, see on_switch). */
struct off_pending {
	__u64 ns;
	__u32 state;
	__u32 nr_kstack;
	__u64 kstack[SCORCH_MAX_STACK]; /* where it blocked, leaf first */
};

static __always_inline int take_sample(void *ctx, __u32 tgid, __u32 tid, const struct off_pending *w);

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;

	if (tid == 0 && (!keep_idle || filter_targets)) /* the idle task */
		return 0;
	if (filter_targets && !is_target(tgid))
		return 0;
	if (cgroup_id && bpf_get_current_ancestor_cgroup_id(cgroup_level) != cgroup_id)
		return 0;
	take_sample(ctx, tgid, tid, NULL);
	return 0;
}

/*
 * Send the stacks of the current task: a CPU sample (w NULL), or the wait w, which has ended (record
 * --off-cpu: its kernel stack is w's). ctx is the program's, for bpf_get_stack(). Returns 0, or -1 when
 * the record could not be sent (counted).
 */
static __always_inline int take_sample(void *ctx, __u32 tgid, __u32 tid, const struct off_pending *w)
{
	__u64 off_ns = w ? w->ns : 0;
	__u32 *ex, cpu, size, slot, nk;
	__u64 uoff, poff, roff, soff;
	struct sample_buf *b;
	struct scorch_sample *s;
	int cut = 0, exec, regs, uw = 0, shed = 0;

	cpu = bpf_get_smp_processor_id();
	/* A wait's record is built in the CPU's second entry: a perf event's NMI may come in meanwhile. */
	slot = off_ns ? cpu + scratch_off : cpu;
	b = bpf_map_lookup_elem(&scratch, &slot);
	if (!b) {
		lost(off_ns);
		return -1;
	}
	s = &b->s;
	s->time_ns = bpf_ktime_get_ns();
	s->pid = tgid;
	s->tid = tid;
	s->cpu = cpu;
	s->flags = off_ns ? SCORCH_SAMPLE_OFF_CPU : 0;
	s->off_ns = off_ns;
	s->off_state = w ? w->state : 0;
	ex = bpf_map_lookup_elem(&execs, &tgid);
	s->exec_seq = ex ? *ex : 0;
	s->stack_need = 0;
	s->stack_size = 0;
	bpf_get_current_comm(s->comm, sizeof(s->comm));

	/* The kernel addresses at the start of data[]: a wait's are where it blocked. */
	if (w) {
		nk = w->nr_kstack < SCORCH_MAX_STACK ? w->nr_kstack : SCORCH_MAX_STACK;
		s->kstack_err = bpf_probe_read_kernel(b->data, (nk * sizeof(__u64)) & 1023, w->kstack);
		s->nr_kstack = s->kstack_err ? 0 : nk;
		if (nk == SCORCH_MAX_STACK)
			s->flags |= SCORCH_SAMPLE_KSTACK_FULL;
	} else {
		s->nr_kstack = get_stack(ctx, s, b->data, 0, &s->kstack_err);
	}
	/* The user addresses right after them. */
	uoff = data_off((__u64)s->nr_kstack * sizeof(__u64));

	s->ustack_err = 0;
	s->nr_ustack = 0;
	exec = in_execve();
	regs = !exec && (uw_kernel || stack_bytes) && read_user_regs(b->regs) == 0;
	if (!regs && !exec && (uw_kernel || stack_bytes))
		count(SCORCH_CNT_NO_REGS);
	if (exec) {
		s->flags |= SCORCH_SAMPLE_IN_EXEC | SCORCH_SAMPLE_NO_FPSTACK;
		count(SCORCH_CNT_IN_EXEC);
	} else if (uw_kernel && regs && (uw = uw_unwind(tgid, s, (__u64 *)(b->data + uoff), b->regs)) == 0) {
		count(SCORCH_CNT_UW_DONE);
	} else {
		if (uw)
			count(uw);
		if (fp_stack) {
			s->nr_ustack = get_stack(ctx, s, b->data + uoff, BPF_F_USER_STACK, &s->ustack_err);
		} else {
			s->flags |= SCORCH_SAMPLE_NO_FPSTACK;
		}
	}
	if (s->nr_ustack > SCORCH_MAX_STACK) /* cannot be: bounds the offsets below */
		s->nr_ustack = SCORCH_MAX_STACK;
	/* The Python frames after the user addresses. */
	poff = data_off(uoff + (__u64)s->nr_ustack * sizeof(__u64));
	s->nr_py = 0;
	s->py_status = 0;

	/* CPU samples only: a wait's programs (on_switch) are near the verifier's limit without it. */
	if (!exec && !w)
		s->nr_py = py_frames(tgid, tid, s, (struct scorch_py_frame *)(b->data + poff));
	if (s->nr_py > SCORCH_PY_MAX_FRAMES) /* cannot be: bounds the offsets below */
		s->nr_py = SCORCH_PY_MAX_FRAMES;
	roff = data_off(poff + (__u64)s->nr_py * SCORCH_PY_FRAME_BYTES);
	soff = roff;
	/* Room is kept for the samples to come: past 3/4 full, none takes a copy. */
	if (regs && !(s->flags & SCORCH_SAMPLE_UNWOUND) && shed_copies && stack_bytes &&
	    bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) >
		    bpf_ringbuf_query(&samples, BPF_RB_RING_SIZE) / 4 * 3) {
		regs = 0;
		shed = 1;
	}
	/* The registers and the stack copy, only for a stack that was not unwound here. */
	if (regs && !(s->flags & SCORCH_SAMPLE_UNWOUND)) {
		s->flags |= SCORCH_SAMPLE_REGS;
		__builtin_memcpy(b->data + roff, b->regs, SCORCH_REGS_BYTES);
		soff = data_off(roff + SCORCH_REGS_BYTES);
		if (stack_bytes) {
			s->stack_size = copy_stack(b->data + soff, b->regs[SCORCH_REG_RSP], &cut);
			if (cut) {
				s->flags |= SCORCH_SAMPLE_STACK_CUT;
				count(SCORCH_CNT_STACK_CUT);
			} else {
				/* The copy may have stopped short of the root: say how much would do. */
				s->stack_need = stack_need(b->regs[SCORCH_REG_RSP]);
			}
		}
	}

	size = s->stack_size;
	if (size > SCORCH_STACK_MAX)
		size = SCORCH_STACK_MAX;
	/* Wake the reader only when a lot is pending: a wakeup per sample costs more than the sample. */
	if (bpf_ringbuf_output(&samples, s, sizeof(*s) + soff + size,
			       bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				       ? BPF_RB_FORCE_WAKEUP
				       : BPF_RB_NO_WAKEUP)) {
		/* No room for the copy: the sample without it (and its registers) may still fit. */
		if (!shed_copies || !(s->flags & SCORCH_SAMPLE_REGS)) {
			lost(off_ns);
			return -1;
		}
		s->flags &= ~(SCORCH_SAMPLE_REGS | SCORCH_SAMPLE_STACK_CUT);
		s->stack_size = 0;
		s->stack_need = 0;
		if (bpf_ringbuf_output(&samples, s, sizeof(*s) + roff, BPF_RB_FORCE_WAKEUP)) {
			lost(off_ns);
			return -1;
		}
		shed = 1;
	}
	if (shed) /* counted with the samples that got through */
		count(SCORCH_CNT_COPY_SHED);
	if (off_ns) {
		count(SCORCH_CNT_OFF_WAITS);
		count_add(SCORCH_CNT_OFF_NS, off_ns);
	} else {
		count(SCORCH_CNT_SAMPLES);
	}
	return 0;
}

/*
 * Off-CPU time (record --off-cpu). A thread's user registers and stack do not change while it is off
 * CPU, so its stacks are taken once the wait's length is known, and only for waits of at least
 * off_cpu_min_ns: the rest are counted with their time. Everything runs on tracepoints (kprobes and
 * fentry are not in every kernel that has BPF):
 *   - on_switch (sched_switch), the task going out: note when and in what state it left (a map update;
 *     context switches can come at 100k/s);
 *   - on_switch, the task coming in: time its wait; a long one, within the stacks-per-second bound, is
 *     kept pending with the kernel stack where it blocked (bpf_get_task_stack: the task is not running
 *     yet, its saved stack is that of the wait);
 *   - the first tracepoint that runs in that thread once it is back, where its user registers are
 *     still those of the wait: sys_exit (the wait was in a system call), rseq_update (on its way back to
 *     user mode: after any switch, for threads that registered rseq, as glibc does), or else its next
 *     switch out or its exit: the pending wait is sent then with the user stack, unwound as a CPU
 *     sample's.
 */
struct off_start {
	__u64 ts;    /* bpf_ktime_get_ns() at the switch out */
	__u32 state; /* enum scorch_off_state */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768); /* 1 without --off-cpu (user space) */
	__type(key, __u32);         /* tid */
	__type(value, struct off_start);
} off_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096); /* 1 without --off-cpu */
	__type(key, __u32);        /* tid */
	__type(value, struct off_pending);
} off_pending SEC(".maps");

/* Where a pending wait is assembled (too large for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct off_pending);
} off_build SEC(".maps");

/* Stacks a CPU may send per window of OFF_WINDOW_NS: the bound on stacks per second. */
#define OFF_WINDOW_NS 100000000ULL

struct off_budget {
	__u64 window; /* start of the current window */
	__u32 used;   /* stacks sent in it */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct off_budget);
} off_budget SEC(".maps");

/* Linux before 5.14 names the task's state 'state'. */
struct task_struct___pre514 {
	volatile long state;
} __attribute__((preserve_access_index));

#define TASK_UNINTERRUPTIBLE_ 0x2
#define TASK_DEAD_ 0x80
#define TASK_NOLOAD_ 0x400

static __always_inline __u32 task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return (__u32)BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/* Whether this CPU may send one more stack in the current window. */
static __always_inline int off_budget_take(__u64 now)
{
	__u32 zero = 0;
	struct off_budget *b = bpf_map_lookup_elem(&off_budget, &zero);

	if (!b)
		return 0;
	if (now - b->window >= OFF_WINDOW_NS) {
		b->window = now;
		b->used = 0;
	}
	if (b->used >= off_cpu_burst)
		return 0;
	b->used++;
	return 1;
}

/* Send the pending wait of the current thread, if it has one, with its user stack as it is now. */
static __always_inline void off_complete(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct off_pending *w;

	if (!tid)
		return;
	w = bpf_map_lookup_elem(&off_pending, &tid);
	if (!w)
		return;
	take_sample(ctx, id >> 32, tid, w);
	bpf_map_delete_elem(&off_pending, &tid);
}

/* 'prev' leaves the CPU: note when, and why (its state). */
static __always_inline void off_switch_out(bool preempt, struct task_struct *prev)
{
	__u32 tgid = prev->tgid, tid = prev->pid, state;
	struct off_start st = {};

	if (!tid || !prev->mm) /* the idle task; kernel threads have no user stack to show */
		return;
	if (filter_targets && !is_target(tgid))
		return;
	/* prev is still current here */
	if (cgroup_id && bpf_get_current_ancestor_cgroup_id(cgroup_level) != cgroup_id)
		return;
	state = task_state(prev);
	if (state & TASK_DEAD_) /* its last switch: it does not come back */
		return;
	st.ts = bpf_ktime_get_ns();
	if (preempt || !state)
		st.state = SCORCH_OFF_RUNQ;
	else if ((state & TASK_UNINTERRUPTIBLE_) && !(state & TASK_NOLOAD_))
		st.state = SCORCH_OFF_DISK;
	else
		st.state = SCORCH_OFF_SLEEP;
	if (bpf_map_update_elem(&off_start, &tid, &st, BPF_ANY))
		count(SCORCH_CNT_OFF_UNTIMED);
}

/* 'next' comes back on CPU: time its wait; keep a long one pending with its kernel stack. */
static __always_inline void off_switch_in(struct task_struct *next)
{
	__u32 tid = next->pid, zero = 0;
	struct off_start *st;
	struct off_pending *w;
	__u64 now, dur;
	long n;

	if (!tid)
		return;
	st = bpf_map_lookup_elem(&off_start, &tid);
	if (!st)
		return;
	now = bpf_ktime_get_ns();
	dur = now > st->ts ? now - st->ts : 1;
	w = bpf_map_lookup_elem(&off_build, &zero);
	if (!w) {
		bpf_map_delete_elem(&off_start, &tid);
		return;
	}
	w->state = st->state;
	w->ns = dur;
	bpf_map_delete_elem(&off_start, &tid);
	if (dur < off_cpu_min_ns) {
		count(SCORCH_CNT_OFF_SHORT);
		count_add(SCORCH_CNT_OFF_SHORT_NS, dur);
		return;
	}
	if (!off_budget_take(now)) {
		lost(dur);
		return;
	}
	n = bpf_get_task_stack(next, w->kstack, sizeof(w->kstack), 0);
	if (n < 0)
		count(SCORCH_CNT_KSTACK_ERR);
	w->nr_kstack = n > 0 ? n / sizeof(__u64) : 0;
	if (bpf_map_update_elem(&off_pending, &tid, w, BPF_ANY))
		lost(dur);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* A wait of prev's still pending (it ran without a system call's return): sent now. */
	off_complete(ctx);
	off_switch_out(preempt, prev);
	off_switch_in(next);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit_off, struct pt_regs *regs, long ret)
{
	off_complete(ctx);
	return 0;
}

SEC("tp_btf/rseq_update")
int BPF_PROG(on_rseq_off, struct task_struct *t)
{
	off_complete(ctx);
	return 0;
}

/* A thread exits with a wait pending (it was killed while blocked): sent, as the others. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_off, struct task_struct *p)
{
	off_complete(ctx);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid), one = 1, *n;
	__u8 *v = NULL;

	if (filter_targets && !(v = bpf_map_lookup_elem(&targets, &tgid)))
		return 0;
	/* The exec has succeeded and the new image's registers are set: sample from here on. */
	if (v && *v == SCORCH_TARGET_AT_EXEC)
		*v = SCORCH_TARGET_ON;
	bpf_map_delete_elem(&forked, &tgid); /* its own image now */
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
	__u8 *v, state;

	if (ptgid == ctgid || !(v = bpf_map_lookup_elem(&targets, &ptgid)))
		return 0;
	state = *v; /* a child forked before the command's exec waits for its own */
	if (bpf_map_update_elem(&targets, &ctgid, &state, BPF_ANY)) {
		count(SCORCH_CNT_LOST_TARGETS);
	} else {
		count(SCORCH_CNT_FORKS);
		bpf_map_update_elem(&forked, &ctgid, &ptgid, BPF_ANY);
	}
	return 0;
}

/*
 * Mapping events: when a target process exits (its last thread, before its mm is released) and when it
 * is about to exec (sched_prepare_exec: the old image is still mapped), its file mappings go to user
 * space, which uses them when /proc/PID/maps is gone by the time it reads it. The paths come
 * from a walk of the dentries (bpf_d_path() is not allowed on tracepoints), each file's once.
 *
 * The kernel's dev_t is MKDEV(major, minor) = major << 20 | minor; user space compares with st_dev
 * from glibc's makedev(), so the numbers are sent apart.
 */
#define KDEV_MAJOR(d) ((__u32)((d) >> 20))
#define KDEV_MINOR(d) ((__u32)((d) & ((1U << 20) - 1)))
/* Path components walked (leaf to root, across mounts); deeper paths are not sent. */
#define PATH_WALK_MAX 40
#define NAME_MAX_ 255

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 2 << 20);
} events SEC(".maps");

/* Files whose path was sent: each is sent about once (again after eviction, which is harmless). */
struct file_key {
	__u64 dev;
	__u64 ino;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct file_key);
	__type(value, __u8);
} paths_sent SEC(".maps");

/* Where a path event is assembled: the slack lets the verifier bound a name copy at any offset. */
struct path_buf {
	struct scorch_path_event e;
	char slack[NAME_MAX_ + 1];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_buf);
} path_scratch SEC(".maps");

struct walk {
	__u64 dentry; /* struct dentry * */
	__u64 mnt;    /* struct mount * */
	__u32 off;    /* bytes written to path[] */
	__u32 ok;     /* reached the root */
	struct path_buf *b;
};

/* One step of the walk: the name of 'dentry', then its parent (or the mount point below it). */
static long walk_step(__u32 i, struct walk *w)
{
	struct dentry *d = (struct dentry *)w->dentry, *parent;
	struct mount *m = (struct mount *)w->mnt, *mp;
	struct dentry *mnt_root = BPF_CORE_READ(m, mnt.mnt_root);
	const unsigned char *name;
	__u32 len, off;
	long n;

	if (d == mnt_root) {
		mp = BPF_CORE_READ(m, mnt_parent);
		if (mp == m) { /* the root of the namespace's tree */
			w->ok = 1;
			return 1;
		}
		w->dentry = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
		w->mnt = (__u64)mp;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (parent == d) { /* a root that is not a mount's: not reachable by path */
		return 1;
	}
	len = BPF_CORE_READ(d, d_name.len);
	name = BPF_CORE_READ(d, d_name.name);
	off = w->off;
	if (!len || len > NAME_MAX_ || off + len + 1 > SCORCH_PATH_MAX)
		return 1;
	off &= SCORCH_PATH_MAX - 1;
	n = bpf_probe_read_kernel_str(&w->b->e.path[off], (len + 1) & (2 * NAME_MAX_ + 1), name);
	if (n != len + 1)
		return 1;
	w->off += len + 1;
	w->dentry = (__u64)parent;
	return 0;
}

/* Send the path of a file that targets mapped, once per (dev, ino) as long as the LRU remembers. */
static __always_inline void send_path(__u32 tgid, struct file *f, __u64 dev, __u64 ino)
{
	struct file_key k = { .dev = dev, .ino = ino };
	struct walk w = {};
	struct path_buf *b;
	__u32 zero = 0;
	__u8 one = 1;

	if (bpf_map_lookup_elem(&paths_sent, &k))
		return;
	b = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!b)
		return;
	w.b = b;
	w.dentry = (__u64)BPF_CORE_READ(f, f_path.dentry);
	w.mnt = (__u64)BPF_CORE_READ(f, f_path.mnt) - bpf_core_field_offset(struct mount, mnt);
	bpf_loop(PATH_WALK_MAX, walk_step, &w, 0);
	if (!w.ok || !w.off)
		return;
	b->e.h.type = SCORCH_EV_PATH;
	b->e.h.pid = tgid;
	b->e.dev_major = KDEV_MAJOR(dev);
	b->e.dev_minor = KDEV_MINOR(dev);
	b->e.ino = ino;
	b->e.path_len = w.off;
	b->e.pad = 0;
	if (bpf_ringbuf_output(&events, &b->e, sizeof(b->e), BPF_RB_NO_WAKEUP)) {
		count(SCORCH_CNT_LOST_EVENTS);
		return;
	}
	bpf_map_update_elem(&paths_sent, &k, &one, BPF_ANY);
}

/* The file mappings of the current process, as exec 'seq' of it mapped them. */
static __always_inline void send_mappings(__u32 tgid, __u32 seq)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bpf_iter_task_vma it;
	struct vm_area_struct *vma;
	struct scorch_mmap_event *e;
	__u64 vdso = 0;

	if (!bpf_iter_task_vma_new) /* a weak kfunc: absent before 6.7 */
		return;
	if (!task->mm) /* a kernel thread (with --all): nothing mapped */
		return;
	/* Where the vDSO is (x86's mm context): samples in clock_gettime() land there. */
	if (bpf_core_field_exists(task->mm->context.vdso))
		vdso = (__u64)BPF_CORE_READ(task, mm, context.vdso);
	/* It only try-locks the mm (-EBUSY while a writer holds or waits for it) and allocates. */
	if (bpf_iter_task_vma_new(&it, task, 0)) {
		bpf_iter_task_vma_destroy(&it);
		count(SCORCH_CNT_WALKS_REFUSED);
		return;
	}
	while ((vma = bpf_iter_task_vma_next(&it))) {
		struct file *f;
		struct inode *ino;
		__u64 dev, i_ino;

		f = vma->vm_file;
		if (f) {
			ino = f->f_inode;
			dev = BPF_CORE_READ(ino, i_sb, s_dev);
			i_ino = BPF_CORE_READ(ino, i_ino);
		} else if (vma->vm_start == vdso) {
			dev = i_ino = 0;
		} else {
			continue;
		}
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			count(SCORCH_CNT_LOST_EVENTS);
			break;
		}
		e->h.type = SCORCH_EV_MMAP;
		e->h.pid = tgid;
		e->exec_seq = seq;
		e->dev_major = KDEV_MAJOR(dev);
		e->dev_minor = KDEV_MINOR(dev);
		/* VM_READ, VM_WRITE, VM_EXEC and VM_SHARED are bits 0-3, as enum scorch_mmap_prot */
		e->prot = (vma->vm_flags & 0xf) | (f ? 0 : SCORCH_PROT_VDSO);
		e->start = vma->vm_start;
		e->end = vma->vm_end;
		e->pgoff = vma->vm_pgoff << 12;
		e->ino = i_ino;
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
		if (f)
			send_path(tgid, f, dev, i_ino);
	}
	bpf_iter_task_vma_destroy(&it);
}

static __always_inline int wants_mappings(__u32 tgid)
{
	if (filter_targets && !is_target(tgid))
		return 0;
	return !cgroup_id || bpf_get_current_ancestor_cgroup_id(cgroup_level) == cgroup_id;
}

/*
 * A target is gone: forget it, so that a later process given the same pid is not taken for it (a
 * server followed for hours forks through the pid space), and the table does not fill up.
 */
static __always_inline void forget_target(__u32 tgid)
{
	bpf_map_delete_elem(&uw_procs, &tgid);
	bpf_map_delete_elem(&py_procs, &tgid);
	bpf_map_delete_elem(&forked, &tgid);
	if (!filter_targets)
		return;
	bpf_map_delete_elem(&targets, &tgid);
	bpf_map_delete_elem(&execs, &tgid);
}

/* The last thread of a target exits: its mm is still there (the tracepoint runs before exit_mm()). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p, bool group_dead)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, *ex;

	if (!group_dead)
		return 0;
	if (wants_mappings(tgid)) {
		ex = bpf_map_lookup_elem(&execs, &tgid);
		send_mappings(tgid, ex ? *ex : 0);
	}
	forget_target(tgid);
	return 0;
}

/* Without the mapping events (on_exit): only forget the targets that exit. Older kernels pass no
 * group_dead; signal->live has been counted down before the tracepoint on all of them. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_forget, struct task_struct *p)
{
	if (BPF_CORE_READ(p, signal, live.counter) == 0)
		forget_target(BPF_CORE_READ(p, tgid));
	return 0;
}

/* A target is about to exec: the image it replaces is still mapped. */
SEC("tp_btf/sched_prepare_exec")
int BPF_PROG(on_prepare_exec, struct task_struct *p, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, *ex;

	if (!wants_mappings(tgid))
		return 0;
	ex = bpf_map_lookup_elem(&execs, &tgid);
	send_mappings(tgid, ex ? *ex : 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
