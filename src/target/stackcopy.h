/* SPDX-License-Identifier: MIT */
/*
 * stackcopy - the registers and user stack of every thread of a live process, copied while it is
 * stopped as briefly as possible (scorch dump).
 *
 * Each thread is stopped alone: PTRACE_SEIZE, PTRACE_INTERRUPT, wait for the stop, PTRACE_GETREGS, one
 * process_vm_readv of the stack from SP, PTRACE_DETACH. Nothing else happens while it is stopped:
 * unwinding and naming the copies is the caller's business, once every thread runs again.
 *
 * stackcopy__list() returns an array the caller owns, with each thread's stack copy; stackcopy__free()
 * frees both. Needs CAP_SYS_PTRACE, or the same user and kernel.yama.ptrace_scope 0.
 */
#ifndef SCORCH_STACKCOPY_H
#define SCORCH_STACKCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "scorch_abi.h"

/* Threads listed per process at most. */
#define STACKCOPY_MAX_THREADS 4096

struct stackcopy_thread {
	uint32_t tid;
	char comm[32];
	char state;                    /* from /proc/PID/task/TID/stat before the stop */
	int ok;                        /* registers read */
	uint64_t regs[SCORCH_NR_REGS]; /* enum scorch_reg */
	uint8_t *stack;                /* owned: a copy from SP */
	uint32_t stack_size;           /* bytes copied (a multiple of 8): the stack may end sooner */
	uint64_t stopped_ns;           /* how long the thread was stopped */
	int err;                       /* errno of what failed, 0 if nothing */
	uint64_t fs_base;              /* its FS base: pthread_self() on x86-64 glibc */
};

/*
 * The threads of 'pid' (their names and states read, nothing copied yet), sorted by tid, into *out
 * (owned by the caller) and *nr. Returns 0, -ENOMEM or the negative errno of opening
 * /proc/PID/task (-ENOENT: no such process).
 */
int stackcopy__list(uint32_t pid, struct stackcopy_thread **out, size_t *nr);
/* Whether 'pid' is a kernel thread: it has no user stack, and ptrace refuses it with EPERM even to root. */
int stackcopy__is_kernel_thread(uint32_t pid);
/*
 * Stop thread 't', copy its registers and up to 'stack_size' bytes of its stack, let it go. On
 * success t->ok is set; else t->err says what failed (ESRCH: it exited).
 */
void stackcopy__grab(struct stackcopy_thread *t, uint32_t stack_size);
/*
 * The same, calling 'fn' (when not NULL) while the thread is stopped, after its registers and stack
 * were copied: to read what only a stopped thread keeps still (its Python frames). 'fn' must be quick.
 */
void stackcopy__grab_with(struct stackcopy_thread *t, uint32_t stack_size,
			  void (*fn)(void *ctx, struct stackcopy_thread *t), void *ctx);
/* Free the array and its copies (NULL-safe). */
void stackcopy__free(struct stackcopy_thread *ts, size_t nr);

#endif
