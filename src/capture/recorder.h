/* SPDX-License-Identifier: MIT */
/*
 * recorder - turns raw samples into a profile.
 *
 * For each sample it maps every address to a mapping through the process table (proctab.h: the
 * process's /proc/PID/maps, read when a process is first seen and again when an address falls outside
 * what is known, and the files behind them), names it through the symbolizer (user code), the perf map
 * (JIT code, jitmap.h) or kallsyms (kernel), and interns locations, stacks and threads so that a
 * steady workload costs only a count increment per sample. Files are opened the way a root profiler
 * must: through /proc/PID/map_files (or /proc/PID/root), regular files only, never blocking, and only
 * when their (device, inode) matches the maps line.
 *
 * The recorder borrows the profile it fills; it owns its caches, the process table, the JIT maps, its
 * symbolizer and its kernel symbols.
 * A wait (recorder_sample.off_ns) goes to the profile's off-CPU time (profile__add_wait), its stack
 * built as a sample's, and its user stack counted in off_cpu_user_stacks and off_cpu_user_stacks_root too.
 * Unwind quality goes into counters: user_stacks, user_stacks_root (the DWARF unwind ended where the CFI
 * says there is no caller, or the outermost frame is _start, __libc_start_main, start_thread or clone),
 * unwind_truncated (the stack copy was too small), unwind_depth_cap, and unwind_failed:MODULE per library
 * whose code could not be stepped past; of the unwinding service: unwind_sandbox_batches and
 * unwind_sandbox_samples (round trips to the child and the samples they carried), unwind_sandbox_retries
 * (unwound again after a maps re-read or a file opened), unwind_sandbox_failures (samples kept as
 * frame-pointer stacks because the child failed) and unwind_images_evicted.
 *
 * Functions returning int return 0 or a negative errno (only -ENOMEM and -EINVAL are fatal; a process
 * that is gone or a file that cannot be read give unnamed frames and a counter, not an error).
 */
#ifndef SCORCH_RECORDER_H
#define SCORCH_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "scorch_abi.h"
#include "symbolizer.h"

enum recorder_call_graph {
	RECORDER_CG_FP =
		0, /* user IPs as the frame-pointer walk gave them; the leaf's caller repaired from CFI */
	RECORDER_CG_DWARF, /* user IPs unwound from the registers and stack copy */
	RECORDER_CG_AUTO,  /* DWARF, by frame pointer through frames without CFI; else the kernel's FP walk
			    * if that went deeper */
};

struct recorder_opts {
	int no_kernel;              /* drop kernel frames */
	int no_user;                /* drop user frames */
	struct symbolizer_opts sym; /* debuginfo directories, demangling, debuginfod */
	enum recorder_call_graph call_graph;
	int no_sandbox; /* run the symbolizer in this process, not in its unprivileged child (sandbox.h) */
	int no_python;  /* do not look for Python interpreters (pyproc.h) */
};

/* One sample, neutral of how it was taken: addresses leaf first, as the CPU saw them. */
struct recorder_sample {
	uint32_t pid, tid;
	uint32_t exec_seq; /* how many times the process has exec'd: a change replaces its address space */
	const char *comm;
	const uint64_t *kips;
	uint32_t nr_kips;
	const uint64_t *uips;
	uint32_t nr_uips;
	int kstack_error, ustack_error;         /* the stack could not be read */
	int kstack_truncated, ustack_truncated; /* the stack filled its buffer */
	/* Optional: the user registers (SCORCH_NR_REGS, enum scorch_reg) and a copy of the user stack from
	 * the user SP, which the recorder unwinds (or uses to repair the leaf's caller in FP mode). */
	const uint64_t *uregs; /* NULL when none */
	const uint8_t *ustack_bytes;
	uint32_t ustack_size;
	/* -g auto: uips were unwound in the kernel from the tables (uw_root: to the outermost frame), or
	 * that failed and the sample carries the copy instead (uw_fallback: the process's tables are loaded
	 * or brought up to date, uwload.h). */
	int unwound, uw_root, uw_fallback;
	/* The Python frames the BPF walk read (scorch_abi.h), innermost first, and how the walk went. */
	const struct scorch_py_frame *py;
	uint32_t nr_py, py_status;
	/* Not a CPU sample but a wait (record --off-cpu): off_ns nanoseconds off CPU in state off_state
	 * (enum scorch_off_state), its stacks where it blocked; 0 for a CPU sample. */
	uint64_t off_ns;
	uint32_t off_state;
};

struct recorder;

struct recorder *recorder__new(struct profile *p, const struct recorder_opts *opts);
void recorder__free(struct recorder *r);
/*
 * Start the sandboxed symbolizer's child now rather than at the first file, so that one that cannot
 * start (e.g. it cannot lock itself down) is known before sampling: then a warning says why and that
 * code will be unnamed, and the profile counts it in symbolizer_start_failed. Returns 0 or that
 * negative errno (not fatal: the samples are recorded, their code as [file+0xoffset]).
 */
int recorder__start_sandbox(struct recorder *r);
/* Read a process's maps now (for targets known before sampling starts). */
int recorder__add_process(struct recorder *r, uint32_t pid);
/*
 * Add a sample. One whose user stack is to be unwound (DWARF and auto modes, and the leaf repair of fp
 * mode) is queued: its registers and stack go to the unwinding service (sandbox.h), and it reaches the
 * profile at the next recorder__flush(), which also runs when the queue is full and before the maps of
 * a process with queued samples change (exec, dlopen).
 */
int recorder__add_sample(struct recorder *r, const struct recorder_sample *s);
/*
 * Unwind the queued samples as one batch in the sandboxed child (in this process with no_sandbox) and
 * add them to the profile. Samples the child could not unwind (it died, hung or answered garbage: it
 * is restarted) keep their kernel and frame-pointer stacks and count in unwind_sandbox_failures.
 * Call it after draining the ring buffer and before reading the profile.
 */
int recorder__flush(struct recorder *r);
/*
 * Forget the processes that have exited (their caches; what they added to the profile stays), so that
 * recording every process for a long time keeps memory bounded: proctab__forget_exited(), after the
 * queued samples are flushed. Returns how many were forgotten.
 */
size_t recorder__forget_exited(struct recorder *r);
/*
 * Take one mapping event from the sampler (bytes as they came; see maplog.h). The recorder keeps a
 * bounded log of the file mappings and file paths they name; when a process's
 * /proc/PID/maps cannot be read (it is gone), its mappings are built from that log (counted in
 * maps_from_events) and its files opened by the logged path in our root, only if (device, inode)
 * still match. Returns 0, -EINVAL for a malformed event (counted in mapping_events_bad), or -ENOMEM.
 */
int recorder__add_event(struct recorder *r, const void *data, size_t size);
/*
 * Called by recorder__flush() before it names queued samples, to bring in the mapping events pending
 * (those of processes that exited meanwhile). NULL: none. Its error is returned by the flush.
 */
void recorder__set_event_drain(struct recorder *r, int (*drain)(void *ctx), void *ctx);
/* Whether mapping events are being received: the meta key mapping_events. */
enum recorder_events {
	RECORDER_EVENTS_UNAVAILABLE = 0, /* "unavailable": the kernel cannot send them */
	RECORDER_EVENTS_ON,              /* "yes" */
	RECORDER_EVENTS_OFF,             /* "off": not asked for (record --no-mapping-events) */
};
void recorder__set_events(struct recorder *r, enum recorder_events state);
/*
 * JIT code is named by the process's perf map, never read from the sample callback (jitmap.h says how).
 * recorder__reload_perfmaps(), called between ring-buffer reads, takes the read in flight, if done, and
 * starts the next one in a worker thread (jitmap__reload()). A process that exited with JIT code
 * unnamed is kept by recorder__forget_exited() until its map has been read a last time, and
 * recorder__final_perfmaps() (end of the recording: waits for the read in flight, then reads in this
 * thread, for at most ~5 s in all) reads the map of every process with JIT code unnamed
 * (jitmap__final()). Counters: jit_locations (named), jit_named_late (named by a later read of the
 * map), perfmap_reads, perfmap_too_large (processes whose map was over PERFMAP_MAX_SIZE, ignored).
 * Return 0 or -ENOMEM.
 */
int recorder__reload_perfmaps(struct recorder *r);
int recorder__final_perfmaps(struct recorder *r);
/* For --java-perfmap: jitmap__ask_jvms(). The number of JVMs that answered, or -ENOMEM. */
int recorder__ask_jvms(struct recorder *r, int timeout_ms);
/* Store the recorder's quality counters in the profile. */
int recorder__store_counters(struct recorder *r);

/*
 * In-kernel unwinding: load the unwind tables of the processes sampled into 'sink' (uwload.h). Then
 * recorder__load_tables(), called between ring-buffer reads, brings the tables of the processes added
 * and of those with samples that fell back up to date (for about 20 ms per call at most; the rest
 * at the next call). 0 or -ENOMEM.
 */
struct uwload_sink;
int recorder__enable_tables(struct recorder *r, const struct uwload_sink *sink);

/*
 * Python frames (pyproc.h): look for interpreters in the processes sampled and configure the BPF walk
 * through 'sink'; the samples' Python frames then replace the evaluator's native frames. Not done
 * with recorder_opts.no_python. 0 or -ENOMEM.
 */
struct pyproc_sink;
int recorder__enable_python(struct recorder *r, const struct pyproc_sink *sink);
/* pyproc__walk() of the recorder's Python processes (0 frames when Python is off). */
uint32_t recorder__python_walk(struct recorder *r, uint32_t pid, uint64_t fs_base,
			       struct scorch_py_frame *out, uint32_t *status);
int recorder__load_tables(struct recorder *r);

#endif
