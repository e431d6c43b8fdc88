/* SPDX-License-Identifier: MIT */
/*
 * pyproc - Python frames of the CPython processes being recorded (3.8-3.13).
 *
 * When a process is first seen (and again after an exec, or when files that may hold one were mapped
 * since while none had been found), its mappings are searched for an interpreter: the executable or a
 * libpython3.X whose dynamic symbols have _PyRuntime. Its version comes from Py_Version (3.11+) or the
 * file's name, its layout from _Py_DebugOffsets at the start of _PyRuntime (3.13+) or from the table
 * (pyframes.h); the BPF walk is then told, through the sink, where _PyRuntime's interpreter list is and
 * what the offsets are (struct scorch_py_proc). The walk sends, per sample, the code object address
 * and instruction offset of each frame; pyproc__name() turns them into profile locations: one
 * mapping of kind PROFILE_MAP_PYTHON per .py file, a location per (function, line), its frame
 * (qualified name, file, line). Code objects are read from the target (process_vm_readv, bounded),
 * checked against PyCode_Type, and cached per process by address and first line (a code object freed
 * and another made at its address is read again).
 *
 * pyproc__merge() puts a sample's Python frames in place of the native _PyEval_EvalFrameDefault
 * frames that ran them: the walk marks the outermost frame of each evaluator call (enum
 * scorch_py_frame_flags), so the i-th such native frame from the leaf gets the i-th run of Python
 * frames. Runs left over (the native stack was cut short) go at the outer end.
 *
 * Counters (pyproc__store_counters): python_processes, python_probe_failed (an interpreter found but
 * not usable: version or layout unknown), python_samples (samples with Python frames), python_frames,
 * python_frames_failed (frames whose code object could not be read: kept as an unnamed "[python]"
 * frame), python_walk_failed (walks stopped by a read that failed), python_walk_truncated,
 * python_no_thread (samples of a Python process in a thread with no Python state).
 *
 * Ownership: pyproc owns its per-process caches; it borrows the profile and the sink. Functions
 * return 0 or a negative errno; only -ENOMEM is fatal (a process whose memory cannot be read gives
 * counters, not errors).
 */
#ifndef SCORCH_PYPROC_H
#define SCORCH_PYPROC_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "proctab.h"
#include "scorch_abi.h"

/* Where process configurations go (the BPF map): p NULL removes it. */
struct pyproc_sink {
	int (*set_proc)(void *ctx, uint32_t pid, const struct scorch_py_proc *p);
	void *ctx;
};

struct pyproc;

struct pyproc *pyproc__new(struct profile *p, const struct pyproc_sink *sink);
void pyproc__free(struct pyproc *pp);

/*
 * Look for an interpreter in process 'pr' (its maps as last read) unless that was done for the same
 * files (the executable, and those named like Python's); configure the walk when one is found. An
 * interpreter found but not usable is counted once (python_probe_failed) and not searched again until
 * the process execs. 0 or -ENOMEM.
 */
int pyproc__probe(struct pyproc *pp, struct proctab *pt, struct proctab_proc *pr);

/* A sample's Python frames named: location ids, innermost first, and which end an evaluator call. */
struct pyproc_frames {
	uint32_t nr;
	uint32_t locs[SCORCH_PY_MAX_FRAMES];
	uint8_t entry[SCORCH_PY_MAX_FRAMES];
};

/*
 * Name the 'n' frames 'f' of a sample of process 'pid' (exec 'exec_seq'; 'status' the walk's enum
 * scorch_py_status) into 'out'. 0 or -ENOMEM.
 */
int pyproc__name(struct pyproc *pp, uint32_t pid, uint32_t exec_seq, const struct scorch_py_frame *f,
		 uint32_t n, uint32_t status, struct pyproc_frames *out);

/*
 * Merge: 'locs' holds 'depth' locations, leaf first, of which those from 'first' on are user frames;
 * 'cap' is its room. Replaces the evaluator's frames by the runs of 'py' as said above. Returns the
 * new depth (at most 'cap'), or a negative errno.
 */
int pyproc__merge(struct pyproc *pp, uint32_t *locs, uint32_t depth, uint32_t first, uint32_t cap,
		  const struct pyproc_frames *py);

/*
 * Walk, from this process, the Python frames of the thread of 'pid' whose pthread_self() is 'fs_base',
 * as the BPF program does (scorch dump: while the thread is stopped, so that they hold still). The
 * process must have been probed. Fills 'out' (SCORCH_PY_MAX_FRAMES) and returns how many; *status is
 * the walk's enum scorch_py_status (SCORCH_PY_NONE: not a Python process).
 */
uint32_t pyproc__walk(struct pyproc *pp, uint32_t pid, uint64_t fs_base, struct scorch_py_frame *out,
		      uint32_t *status);

/* Forget processes that the table has forgotten. */
void pyproc__prune(struct pyproc *pp, const struct proctab *pt);

int pyproc__store_counters(struct pyproc *pp);

#endif
