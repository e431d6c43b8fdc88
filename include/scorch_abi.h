/* SPDX-License-Identifier: MIT */
/*
 * scorch_abi.h - the only ABI shared by the BPF sampler (bpf/sampler.bpf.c) and user space
 * (src/capture/sampler.c). Fixed-width __u32/__u64 types only; sizes are checked at compile time on both
 * sides.
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
	SCORCH_SAMPLE_KSTACK_ERR = 1 << 0,  /* bpf_get_stack failed for the kernel stack */
	SCORCH_SAMPLE_USTACK_ERR = 1 << 1,  /* bpf_get_stack failed for the user stack */
	SCORCH_SAMPLE_KSTACK_FULL = 1 << 2, /* kernel stack filled the buffer: may be truncated */
	SCORCH_SAMPLE_USTACK_FULL = 1 << 3, /* user stack filled the buffer: may be truncated */
	SCORCH_SAMPLE_REGS = 1 << 4,        /* the record carries the user registers (only with a copy) */
	SCORCH_SAMPLE_STACK_CUT = 1 << 5,   /* the stack copy stopped at an unreadable page before the size */
	SCORCH_SAMPLE_NO_FPSTACK = 1 << 6,  /* no frame-pointer walk was made (no user addresses) */
	SCORCH_SAMPLE_IN_EXEC = 1 << 7,     /* taken inside execve: no user stack, as the user registers
					     * belong to the image being replaced, perhaps with the new mm */
	SCORCH_SAMPLE_UNWOUND = 1 << 8,     /* the user addresses were unwound in the kernel from the
					     * unwind tables (uw_tables): complete, no registers or copy follow */
	SCORCH_SAMPLE_UW_ROOT = 1 << 9,     /* ... and it ended at the outermost frame (CFI or RA 0) */
	SCORCH_SAMPLE_OFF_CPU = 1 << 10,    /* not a CPU sample: a wait (off_ns, off_state), its stacks
					     * taken as the thread came back on CPU (record --off-cpu) */
};

/* Why a thread was off CPU: its state when it was switched out (scorch_sample.off_state). */
enum scorch_off_state {
	SCORCH_OFF_SLEEP = 1, /* sleeping, interruptible (S): a lock, a pipe, a socket, a timer */
	SCORCH_OFF_DISK = 2,  /* uninterruptible (D): mostly disk I/O */
	SCORCH_OFF_RUNQ = 3,  /* still runnable (R, preempted or yielding): waiting for a CPU */
};

/*
 * User registers, numbered as DWARF numbers them on x86-64 (and as libunwind's UNW_X86_64_* do), so
 * the unwinder indexes regs[] with the register number it is asked for.
 */
enum scorch_reg {
	SCORCH_REG_RAX = 0,
	SCORCH_REG_RDX,
	SCORCH_REG_RCX,
	SCORCH_REG_RBX,
	SCORCH_REG_RSI,
	SCORCH_REG_RDI,
	SCORCH_REG_RBP,
	SCORCH_REG_RSP,
	SCORCH_REG_R8,
	SCORCH_REG_R9,
	SCORCH_REG_R10,
	SCORCH_REG_R11,
	SCORCH_REG_R12,
	SCORCH_REG_R13,
	SCORCH_REG_R14,
	SCORCH_REG_R15,
	SCORCH_REG_RIP,
	SCORCH_NR_REGS,
};

/* User stack snapshot sizes (bytes from the user SP): DWARF mode default and maximum, FP leaf repair. */
#define SCORCH_STACK_DEFAULT (16u << 10)
#define SCORCH_STACK_MAX (64u << 10)
#define SCORCH_STACK_FP_REPAIR 512u
#define SCORCH_PAGE_SIZE 4096u

/*
 * One sample as it arrives from the ring buffer, a record of variable length, every part 8-byte aligned:
 *
 *   struct scorch_sample                 80 bytes
 *   __u64 kstack[nr_kstack]              kernel addresses, leaf first
 *   __u64 ustack[nr_ustack]              user addresses, leaf first
 *   struct scorch_py_frame py[nr_py]     Python frames, innermost first (24 bytes each)
 *   __u64 regs[SCORCH_NR_REGS]           136 bytes, only with SCORCH_SAMPLE_REGS
 *   __u8 stack[stack_size]               user stack copied from regs[SCORCH_REG_RSP] upwards
 *
 * and nothing else: the record is exactly scorch_sample__size() bytes. The registers are sent only with
 * a stack copy (the DWARF unwind of the copy and -g fp's leaf repair use them): never with a stack
 * unwound in the kernel (SCORCH_SAMPLE_UNWOUND), and a stack copy (stack_size > 0) only comes with them.
 *
 * A user stack of 20 frames unwound in the kernel, with 10 kernel frames: 80 + 8 * 30 = 320 bytes (the
 * fixed record of before, with all 127 + 127 addresses and the registers, took 2,232 + stack_size).
 * The most a record can take: SCORCH_SAMPLE_MAX_BYTES + SCORCH_PY_FRAME_BYTES * SCORCH_PY_MAX_FRAMES +
 * stack_size.
 */
struct scorch_sample {
	__u64 time_ns; /* bpf_ktime_get_ns() */
	__u32 pid;     /* tgid */
	__u32 tid;
	__u32 cpu;
	__u32 flags;     /* enum scorch_sample_flags */
	__u16 nr_kstack; /* <= SCORCH_MAX_STACK */
	__u16 nr_ustack; /* <= SCORCH_MAX_STACK */
	__s32 kstack_err;
	__s32 ustack_err;
	char comm[SCORCH_COMM_LEN];
	__u32 exec_seq;   /* execs of the process seen since sampling started */
	__u32 stack_size; /* bytes of user stack at the end of the record */
	__u32 stack_need; /* when the copy was not cut short: bytes from the user SP to the top of the stack
			   * it is in (what a whole copy would take); else 0 */
	__u16 nr_py;      /* <= SCORCH_PY_MAX_FRAMES Python frames (struct scorch_py_frame) */
	__u16 py_status;  /* enum scorch_py_status: how the Python walk went (0: not tried) */
	__u32 off_state;  /* with SCORCH_SAMPLE_OFF_CPU: enum scorch_off_state; else 0 */
	__u64 off_ns;     /* with SCORCH_SAMPLE_OFF_CPU: nanoseconds off CPU until time_ns; else 0 */
	/* followed by the addresses, the Python frames, the registers and the stack copy: see above */
};

_Static_assert(sizeof(struct scorch_sample) == 80, "struct scorch_sample layout changed: update both sides");
_Static_assert(sizeof(struct scorch_sample) % 8 == 0, "the addresses after struct scorch_sample are aligned");

#define SCORCH_REGS_BYTES (8 * SCORCH_NR_REGS)
/* The largest record without its stack copy and Python frames: both stacks full, and the registers. */
#define SCORCH_SAMPLE_MAX_BYTES (80 + 2 * 8 * SCORCH_MAX_STACK + SCORCH_REGS_BYTES)

_Static_assert(SCORCH_SAMPLE_MAX_BYTES == 2248, "a full record without its stack copy changed size");

/* Values of the BPF 'targets' map (key: process id). */
enum scorch_target_state {
	SCORCH_TARGET_ON = 1,      /* sampled */
	SCORCH_TARGET_AT_EXEC = 2, /* sampled from its next successful exec on (a launched command) */
};

/* Indexes into the per-CPU 'counters' array. */
enum scorch_counter {
	SCORCH_CNT_SAMPLES = 0,  /* samples of a target that reached the ring buffer */
	SCORCH_CNT_LOST_RINGBUF, /* samples of a target dropped: ring buffer full */
	SCORCH_CNT_KSTACK_ERR,   /* kernel stacks that could not be read */
	SCORCH_CNT_USTACK_ERR,   /* user stacks that could not be read */
	SCORCH_CNT_FORKS,        /* child processes of targets added to the target set */
	SCORCH_CNT_LOST_TARGETS, /* children not added: target map full */
	SCORCH_CNT_STACK_CUT, /* user stack copies that ended before the size: top of stack or unreadable page
			       */
	SCORCH_CNT_NO_REGS,   /* samples whose user registers could not be read */
	SCORCH_CNT_IN_EXEC,   /* samples taken inside execve: kernel stack only */
	SCORCH_CNT_LOST_EVENTS,   /* mapping events (struct scorch_event) dropped: event ring buffer full */
	SCORCH_CNT_WALKS_REFUSED, /* mapping walks the kernel refused (mmap lock contended, or no memory) */
	SCORCH_CNT_UW_DONE,       /* user stacks unwound in the kernel from the tables */
	SCORCH_CNT_UW_NO_PROC,    /* fell back to the copy: the process has no tables (yet) */
	SCORCH_CNT_UW_NO_TABLE,   /* fell back: an address in no mapping with a table (JIT, not loaded yet) */
	SCORCH_CNT_UW_UNKNOWN,    /* fell back: the row says the CFI cannot be followed in the kernel */
	SCORCH_CNT_UW_READ,       /* fell back: a return address or saved RBP could not be read */
	SCORCH_CNT_UW_BAD,        /* fell back: a step did not go up the stack (CFA <= SP), or a bad row */
	SCORCH_CNT_UW_DEPTH,      /* unwound in the kernel, cut at SCORCH_MAX_STACK frames */
	SCORCH_CNT_COPY_SHED,     /* stack copies left out: the ring buffer 3/4 full, or no room */
	SCORCH_CNT_UW_BY_FILE,    /* unwound in the kernel with mappings found by their file (no entry) */
	/* record --off-cpu: waits of target threads, as they end (the thread switched back in) */
	SCORCH_CNT_OFF_WAITS,    /* waits sent with their stacks */
	SCORCH_CNT_OFF_NS,       /* ... their nanoseconds */
	SCORCH_CNT_OFF_SHORT,    /* waits shorter than off_cpu_min_ns: counted here, no stack */
	SCORCH_CNT_OFF_SHORT_NS, /* ... their nanoseconds */
	SCORCH_CNT_OFF_DROPPED,  /* waits over the threshold dropped: stacks-per-second bound or ring full */
	SCORCH_CNT_OFF_DROPPED_NS, /* ... their nanoseconds */
	SCORCH_CNT_OFF_UNTIMED,    /* switches out not timed: the table of threads off CPU was full */
	SCORCH_CNT_MAX,
};

/*
 * Mapping events, on their own ring buffer ('events'), so that the mappings of a process that is gone
 * before user space reads /proc/PID/maps are still known: when a target exits and before it execs,
 * its file mappings are sent (all of them: the unwinder reads .eh_frame from the read-only ones). Every
 * record starts with this header. Devices are given as user space numbers them (major, minor), not as the
 * kernel's MKDEV.
 */
enum scorch_event_type {
	SCORCH_EV_MMAP = 1, /* struct scorch_mmap_event */
	SCORCH_EV_PATH = 2, /* struct scorch_path_event */
};

struct scorch_event_hdr {
	__u32 type; /* enum scorch_event_type */
	__u32 pid;  /* tgid of the process the event concerns */
};

/* A file mapping the process has (at exit, or before exec). */
enum scorch_mmap_prot {
	SCORCH_PROT_READ = 1 << 0,
	SCORCH_PROT_WRITE = 1 << 1,
	SCORCH_PROT_EXEC = 1 << 2,
	SCORCH_PROT_SHARED = 1 << 3,
	SCORCH_PROT_VDSO = 1 << 4, /* the vDSO: no file (dev, ino and path are 0) */
};

struct scorch_mmap_event {
	struct scorch_event_hdr h;
	__u32 exec_seq; /* as samples carry it: the address space the mapping belongs to */
	__u32 dev_major;
	__u32 dev_minor;
	__u32 prot;       /* enum scorch_mmap_prot */
	__u64 start, end; /* [start, end) */
	__u64 pgoff;      /* file offset of start, in bytes */
	__u64 ino;
};

_Static_assert(sizeof(struct scorch_mmap_event) == 56,
	       "struct scorch_mmap_event layout changed: update both sides");

#define SCORCH_PATH_MAX 4096

/*
 * The path of a mapped file, as the target's root sees it (so it may name another file in ours), sent
 * about once per file. path[] holds the names from the file up to the root, leaf first, each followed
 * by a NUL: "c\0b\0a\0" is /a/b/c. path_len counts those bytes. Nothing in it is trusted.
 */
struct scorch_path_event {
	struct scorch_event_hdr h;
	__u32 dev_major;
	__u32 dev_minor;
	__u64 ino;
	__u32 path_len;
	__u32 pad;
	char path[SCORCH_PATH_MAX];
};

_Static_assert(sizeof(struct scorch_path_event) == 32 + SCORCH_PATH_MAX,
	       "struct scorch_path_event layout changed: update both sides");

/*
 * In-kernel unwinding (-g auto). The sandboxed child turns a file's .eh_frame/.debug_frame into rows
 * (src/unwind/uwtable.h); user space validates them and writes them into an array map of their own,
 * exactly as large as the table (so BPF memory follows what is loaded), put in slot 'table' of
 * 'uw_tables' (an array of maps), and tells the BPF program, per process, which mapping uses which
 * table ('uw_procs', key: tgid).
 *
 * A row covers the addresses from its pc up to the next row's pc (the last row of a table covers
 * nothing past its own pc: every table ends with an UNKNOWN row at the end of the last FDE). pc is
 * relative to the mapping's bias: the address in the process minus scorch_uw_map.bias.
 */
enum scorch_uw_kind {
	SCORCH_UW_UNKNOWN = 0, /* no CFI, or CFI the kernel walk cannot follow: fall back to the copy */
	SCORCH_UW_CFA_RSP = 1, /* CFA = RSP + cfa_off */
	SCORCH_UW_CFA_RBP = 2, /* CFA = RBP + cfa_off */
	SCORCH_UW_PLT = 3,     /* a PLT entry: CFA = RSP + 8, + 8 more when (RIP & 15) >= cfa_off */
	SCORCH_UW_END = 4,     /* the outermost frame: no caller (return address undefined) */
	SCORCH_UW_KIND_MAX = SCORCH_UW_END,
};

/* In every row, the return address is at CFA - 8 (x86-64: the CFI of anything else is UNKNOWN). */
struct scorch_uw_row {
	__u32 pc;      /* start of the range, relative to the mapping's bias */
	__u16 cfa_off; /* see enum scorch_uw_kind */
	__s8 rbp_off;  /* RBP saved at CFA + 8 * rbp_off; 0: RBP keeps its value in the caller */
	__u8 kind;     /* enum scorch_uw_kind */
};

_Static_assert(sizeof(struct scorch_uw_row) == 8, "struct scorch_uw_row layout changed: update both sides");

/* Rows of all tables at once by default (8 bytes each: 64 MiB); record --unwind-table-size sets it. */
#define SCORCH_UW_ROWS_MAX (8u << 20)
/* Tables loaded at once (slots of uw_tables). */
#define SCORCH_UW_TABLES 4096
/* Executable mappings with a table per process; a process with more falls back for the others. */
#define SCORCH_UW_MAPS 128
/* Processes with tables at once (others fall back to the copy). */
#define SCORCH_UW_PROCS 8192

struct scorch_uw_map {
	__u64 start, end; /* [start, end) in the process */
	__u64 bias;       /* address - bias = row pc */
	__u32 table, nr;  /* slot in uw_tables, and the rows of that table */
};

/* A process's mappings with tables, sorted by start, not overlapping. */
struct scorch_uw_proc {
	__u32 nr;
	__u32 exec_seq; /* the address space they describe: a sample of another exec_seq falls back */
	struct scorch_uw_map maps[SCORCH_UW_MAPS];
};

_Static_assert(sizeof(struct scorch_uw_map) == 32, "struct scorch_uw_map layout changed: update both sides");

/*
 * A file's table found by the file itself (BPF map uw_files), for addresses in no mapping of the
 * process's entry: a process exec'd a moment ago, whose entry user space has not written yet, is
 * unwound from its first sample when its files' tables are loaded (for another process). The BPF
 * program finds the mapping (bpf_find_vma) and its file: key (device as the kernel encodes it,
 * major << 20 | minor, inode, and the inode's change time, so that a file made since under a reused
 * inode number is another); then
 *   row pc = address - vm_start + vm_pgoff * 4096 + adj
 * where adj = (p_vaddr - p_offset of the file's executable segment) - the table's base.
 */
#define SCORCH_UW_FILES 4096

struct scorch_uw_file_key {
	__u32 dev;
	__u32 ctime_nsec;
	__u64 ino;
	__s64 ctime_sec;
};

struct scorch_uw_file {
	__s64 adj;
	__u32 table, nr; /* slot in uw_tables, and the rows of that table */
};

_Static_assert(sizeof(struct scorch_uw_file_key) == 24 && sizeof(struct scorch_uw_file) == 16,
	       "struct scorch_uw_file layout changed: update both sides");

/*
 * Python frames (CPython 3.8-3.13), read at sample time because from 3.11 on they live in heap chunks
 * that change under a reader that comes later. User space finds the interpreter of a process (its
 * _PyRuntime) and puts a struct scorch_py_proc in 'py_procs' (key: tgid); the BPF program then finds
 * the sampled thread's PyThreadState (the interpreter's thread list, matched by pthread_self(), which
 * is the thread's FS base on x86-64 glibc) and walks its frames, innermost first, into the record.
 */
#define SCORCH_PY_MAX_FRAMES 64

/* How frames are laid out (what the walk follows). */
enum scorch_py_kind {
	SCORCH_PY_FRAMEOBJ = 1, /* 3.8-3.10: tstate->frame, PyFrameObject.f_back, int f_lasti */
	SCORCH_PY_CFRAME = 2,   /* 3.11-3.12: tstate->cframe->current_frame, _PyInterpreterFrame */
	SCORCH_PY_DIRECT = 3,   /* 3.13: tstate->current_frame, _PyInterpreterFrame */
};

/* The entry mark: 3.11 is_entry, or (3.12+) the frame owned by the C stack that each
 * _PyEval_EvalFrameDefault call pushes below its frames. */
enum scorch_py_entry {
	SCORCH_PY_ENTRY_NONE = 0,  /* 3.8-3.10: every frame is a call of the evaluator */
	SCORCH_PY_ENTRY_FLAG = 1,  /* a byte at frame_entry, non-zero on the outermost frame of a call */
	SCORCH_PY_ENTRY_OWNER = 2, /* a byte at frame_entry (owner); == entry_owner: the shim below */
};

/* Offsets are bytes into the structure named; user space checks them against sizes it knows. */
struct scorch_py_proc {
	__u64 interp_head;      /* address of _PyRuntime.interpreters.head (a PyInterpreterState *) */
	__u32 exec_seq;         /* the address space it describes: a sample of another does not walk */
	__u16 version;          /* 0x030b for 3.11 */
	__u8 kind;              /* enum scorch_py_kind */
	__u8 entry;             /* enum scorch_py_entry */
	__u16 interp_threads;   /* PyInterpreterState: head of the thread list */
	__u16 tstate_next;      /* PyThreadState.next */
	__u16 tstate_thread_id; /* PyThreadState.thread_id (pthread_self()) */
	__u16 tstate_frame;     /* .frame, .cframe or .current_frame */
	__u16 cframe_current;   /* _PyCFrame.current_frame (SCORCH_PY_CFRAME) */
	__u16 frame_code;       /* f_code / f_executable */
	__u16 frame_previous;   /* f_back / previous */
	__u16 frame_instr;      /* int f_lasti (FRAMEOBJ), else prev_instr / instr_ptr */
	__u16 frame_entry;      /* see enum scorch_py_entry */
	__u16 code_firstlineno; /* int co_firstlineno: tells a code object from one at the same address */
	__u16 code_adaptive;    /* co_code_adaptive: instruction offset = instr - code - this */
	__u8 entry_owner;       /* FRAME_OWNED_BY_CSTACK */
	__u8 pad[5];
};

_Static_assert(sizeof(struct scorch_py_proc) == 48,
	       "struct scorch_py_proc layout changed: update both sides");

enum scorch_py_frame_flags {
	SCORCH_PY_FRAME_ENTRY = 1 << 0, /* the outermost frame of one _PyEval_EvalFrameDefault call */
};

struct scorch_py_frame {
	__u64 code;      /* the code object (f_code / f_executable), as read: not checked */
	__u32 instr;     /* FRAMEOBJ: f_lasti as read; else bytes from co_code_adaptive to the instruction */
	__s32 firstline; /* co_firstlineno as read */
	__u32 flags;     /* enum scorch_py_frame_flags */
	__u32 pad;
};

#define SCORCH_PY_FRAME_BYTES 24
_Static_assert(sizeof(struct scorch_py_frame) == SCORCH_PY_FRAME_BYTES,
	       "struct scorch_py_frame layout changed: update both sides");

/* The bytes of a record with these counts and flags (the counts as the header gives them). */
static inline __u64 scorch_sample__size(__u32 nr_kstack, __u32 nr_ustack, __u32 nr_py, __u32 flags,
					__u32 stack_size)
{
	return sizeof(struct scorch_sample) + 8 * ((__u64)nr_kstack + nr_ustack) +
	       (__u64)SCORCH_PY_FRAME_BYTES * nr_py + (flags & SCORCH_SAMPLE_REGS ? SCORCH_REGS_BYTES : 0) +
	       stack_size;
}

enum scorch_py_status {
	SCORCH_PY_NONE = 0,      /* not a Python process (no config), or not asked */
	SCORCH_PY_OK = 1,        /* walked to the outermost frame */
	SCORCH_PY_NO_THREAD = 2, /* no PyThreadState of this thread (not a Python thread, or not yet) */
	SCORCH_PY_READ = 3,      /* a read failed: the frames so far are kept */
	SCORCH_PY_TRUNCATED = 4, /* SCORCH_PY_MAX_FRAMES reached */
	SCORCH_PY_NO_FRAME = 5,  /* the thread runs no Python code (no current frame) */
	SCORCH_PY_STALE = 6,     /* the config is for another exec of the process */
};

#endif
