/* SPDX-License-Identifier: MIT */
/*
 * sandbox - the symbolizer (libdw parsing target-controlled ELF/DWARF) in an unprivileged child.
 *
 * A struct sandbox is a proxy with the symbolizer's functions. Enabled, it forks a long-lived child
 * on first use that runs the symbolizer (symbolizer.h) after dropping everything: all fds but its
 * socket and stderr closed, PR_SET_NO_NEW_PRIVS, the capability bounding set dropped, a uid and gid
 * of its own (when started as root: no account or group has them, so no other process but root can
 * signal it; see sandbox_pick_ids in sandbox_proxy.c), no capabilities, not dumpable, RLIMIT_AS/CPU/
 * NOFILE/CORE lowered (only ever lowered: an inherited lower hard limit is kept),
 * and a seccomp filter that kills it on any system call beyond reading what it is given (no socket,
 * no exec, no kill; write only to stderr; open, readlink and access by path fail with EACCES). The parent
 * keeps opening files safely (safeopen.h) and passes descriptors over a SOCK_SEQPACKET socketpair
 * (SCM_RIGHTS); when the child wants a separate debuginfo file it asks the parent, which opens it only under
 * the target's root
 * (/proc/PID/root) or under the debug directories, or, for a file opened with root NULL (a file the
 * user named), an ELF file in that file's directory or its .debug/ (debuglink candidates).
 *
 * Each request has a timeout (SANDBOX_TIMEOUT_MS, or SCORCH_SANDBOX_TIMEOUT_MS in the environment).
 * When the child dies, times out or answers garbage, the parent kills it, counts it, marks the file
 * of that request bad (its addresses get no names) and starts a fresh child on the next request,
 * resending the files it still holds. A child killed by SIGKILL that it did not bring on itself (its
 * CPU time below its RLIMIT_CPU; seccomp kills with SIGSYS) was killed from outside (root, the OOM
 * killer): that counts in outside_kills, the file is not blamed, and the request goes to a new child
 * (SANDBOX_OUTSIDE_RETRIES times in a row at most, sandbox_proxy.h; then it fails as any). Replies
 * are parsed defensively: bounded lengths, NUL-free strings, counts checked against the bytes present
 * (sbproto.h, the messages).
 *
 * The same child unwinds DWARF stacks (unwindsvc.h) in batches: see "unwinding" below, and builds
 * the unwind tables of the in-kernel unwinder (uwtable.h): see sandbox__uw_table().
 *
 * Disabled (enabled = 0, --no-sandbox of record, symbolize and report --resymbolize), the same
 * functions call the symbolizer and the unwinding service in-process (sandbox_local.c; both
 * implementations are one ops table, sandbox_int.h).
 * Strings in sym_frame results are valid until the next sandbox__lookup() or sandbox__lookup_many();
 * build ids until sandbox__free().
 */
#ifndef SCORCH_SANDBOX_H
#define SCORCH_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "symbolizer.h"

#define SANDBOX_TIMEOUT_MS 10000
/* The child's resource limits, or lower ones inherited: address space and CPU seconds. */
#define SANDBOX_MAX_AS (16ULL << 30)
#define SANDBOX_MAX_CPU 3600
/* The largest message either side accepts. */
#define SANDBOX_MAX_MSG (64u << 10)
/* The longest string (function or file name) the child sends; longer ones are cut. */
#define SANDBOX_MAX_STR 2048u

struct sandbox;
struct sandbox_elf;
struct uwtable; /* uwtable.h */

/* 'opts' is copied (directory strings stay borrowed). NULL on ENOMEM. The child starts lazily. */
struct sandbox *sandbox__new(const struct symbolizer_opts *opts, int enabled);
/*
 * Start the child now, if none runs, and wait until it is locked down: 0 (also when disabled), or a
 * negative errno with the reason in 'why' (of 'size' bytes, e.g. "lowering RLIMIT_AS: Operation not
 * permitted"). A child that cannot lock itself down never will: every later request fails at once
 * (no names; files are not marked bad), so callers check this first and refuse to go on silently.
 */
int sandbox__start(struct sandbox *sb, char *why, size_t size);
void sandbox__free(struct sandbox *sb);

/* As symbolizer__open_fd(): the sandbox dups 'fd' (kept to resend to a restarted child). */
struct sandbox_elf *sandbox__open_fd(struct sandbox *sb, int fd, const char *name, const char *root);
struct sandbox_elf *sandbox__vdso(struct sandbox *sb);
int sandbox__offset_to_vaddr(const struct sandbox_elf *e, uint64_t offset, uint64_t *vaddr);
const char *sandbox__build_id(const struct sandbox_elf *e);
/* As symbolizer__lookup(); 0 frames when the file was marked bad or the child failed. */
int sandbox__lookup(struct sandbox *sb, struct sandbox_elf *e, uint64_t vaddr, struct sym_frame *out,
		    int max);

/*
 * Many addresses of one file, in as few round trips as the replies allow: each request carries up to
 * SANDBOX_LOOKUP_BATCH addresses and the child answers as many as fit in one message (at least one,
 * cut like a single lookup; it also stops after a fraction of the timeout so that each reply comes in
 * time). The answers are the ones sandbox__lookup() would give, one by one: out[i] gets the frames of
 * vaddrs[i] (at most 'max', 64 at most when enabled); out[i].n is 0 when nothing covers the address,
 * the file was marked bad, or the child failed on the batch that carried it (the child is killed and
 * counted, the file marked bad, as with sandbox__lookup(); the rest of the call gets 0 frames).
 * Ownership: 'out' is the caller's (n entries); the frames and their strings belong to the sandbox and
 * stay valid until the next sandbox__lookup(), sandbox__lookup_many() or sandbox__free(). Memory:
 * n * max frames, and 64 KiB of strings per round trip. 0, or -ENOMEM (out[] then all 0 frames).
 */
#define SANDBOX_LOOKUP_BATCH 1024u
struct sandbox_frames {
	const struct sym_frame *f; /* borrowed from the sandbox, see above */
	int n;
};
int sandbox__lookup_many(struct sandbox *sb, struct sandbox_elf *e, const uint64_t *vaddrs, size_t n, int max,
			 struct sandbox_frames *out);

/* As symbolizer__has_dwarf(), the child loading the DWARF; 0 when the file was marked bad or the child
 * failed on it. */
int sandbox__has_dwarf(struct sandbox *sb, struct sandbox_elf *e);

/*
 * The unwind table of an opened file, or of the vDSO (sandbox__vdso()), for the in-kernel unwinder
 * (uwtable.h), built where the file's bytes are parsed: in the child (uwtable__build_fd on its
 * descriptor of the file; for the vDSO, uwtable__build on the unwinding service's copy of the image,
 * unwindsvc__vdso; the rows come back in a memfd of the child's, sealed, of exactly nr * 8 bytes, which
 * this process reads and checks) or, disabled, in this process (from its own service's copy for the
 * vDSO). The vDSO's rows count from its ELF virtual addresses, as a file's: map them through
 * sandbox__offset_to_vaddr of its mapping's offset. max_rows as uwtable__build_fd's (1 or more; over
 * UWTABLE_MAX_ROWS is capped to it). Timeouts and restarts as for any request.
 * On success *out holds nr <= max_rows rows that pass uwtable__validate(), its base and counts; they
 * are the caller's (uwtable__release). On error *out is empty. Returns 0 or a negative errno:
 * the builder's (-ENOEXEC, -E2BIG, -EFBIG, -EIO, -ENOMEM), -ENOENT (a file without a descriptor, or a
 * vDSO that could not be copied), -EINVAL
 * (no file or out, max_rows 0), -EMFILE when this process or the child is out of descriptors; when
 * the child fails on the file it is killed, counted and the file marked bad as for a lookup, and the
 * error is -EPIPE (it died), -ETIMEDOUT, or -EPROTO (a bad answer: counts out of range, more rows than
 * asked, a memfd missing, unsealed or of another size, rows that fail uwtable__validate); a file
 * marked bad earlier gives -EIO.
 */
int sandbox__uw_table(struct sandbox *sb, struct sandbox_elf *e, uint32_t max_rows, struct uwtable *out);

/*
 * For commands that only wait on the child (symbolize, report --resymbolize): pin this process, and so
 * the child it forks, to the CPU it runs on now, where a round trip needs no cross-CPU wake-up (on a
 * 2-vCPU VM: about 100 us per lookup across vCPUs, 6 us on one). Call before the first request;
 * sandbox__free() restores the affinity. Not for the recorder, whose other threads need the CPUs.
 * Returns 0 (also when disabled) or a negative errno (the caller may go on unpinned).
 */
int sandbox__share_cpu(struct sandbox *sb);

struct sandbox_stats {
	uint64_t requests, restarts, timeouts, bad_files, opens_brokered, opens_refused;
	uint64_t lookups;        /* addresses the child answered (sandbox__lookup, sandbox__lookup_many) */
	uint64_t start_failures; /* children that could not start (see sandbox__start) */
	uint64_t outside_kills;  /* children killed from outside: replaced, the request sent again */
};
void sandbox__stats(const struct sandbox *sb, struct sandbox_stats *st);

/* --- for tests --------------------------------------------------------------------------------- */

/*
 * The child reads the test hooks (testhooks.h: SCORCH_TEST_SANDBOX_*) as it starts, from the
 * environment of that moment: a hook set later counts from the next child on.
 */
/* The child's pid (starting it if needed), or a negative errno; -ENOSYS when disabled. */
int sandbox__child_pid(struct sandbox *sb);
enum sandbox_test {
	SANDBOX_TEST_OPEN = 1, /* the child tries open(arg): returns 0 on success or -errno */
	SANDBOX_TEST_CRASH,    /* the child aborts */
	SANDBOX_TEST_SLEEP,    /* the child sleeps for atoi(arg) ms before answering */
	SANDBOX_TEST_BROKER,   /* the child asks the parent to open "ROOT\nPATH": 0 when it got a file */
};
/*
 * Run a test request in the child; while 'e' is given, a failure marks that file bad. Only a child
 * started with SCORCH_TEST_SANDBOX_REQUESTS set honours one; any other dies of it (the request fails
 * as with a child that died). -ENOSYS when disabled.
 */
int sandbox__test(struct sandbox *sb, struct sandbox_elf *e, enum sandbox_test what, const char *arg);
/* The messages' encoders and decoders (the child's replies are fuzzed): sbproto.h. */

/*
 * --- unwinding (unwindsvc.h) in the child, by batches -------------------------------------------
 *
 * The caller tells the sandbox each process's mappings (copied; sent to the child before the next
 * batch that has a sample of that process, and again after a restart), queues samples, and runs the
 * queue as one batch: the stacks go into a memfd that the child maps read-only, the results come back
 * through a second memfd that the parent copies before parsing them defensively. A sample whose unwind
 * missed an address (unwindsvc.h) is offered to the 'need' callback, which may re-read the maps or open
 * the file (calling sandbox__uw_maps again) and return 1 to have it unwound again (16 rounds at most).
 * When the child dies, hangs or answers garbage, the samples of that round are marked lost (counted
 * in failures) and the child is restarted on the next request. Disabled, the same service runs in
 * this process.
 */
#define SANDBOX_UW_MAX_BATCH 128u

enum sandbox_uw_kind {
	SANDBOX_UW_NOFILE = 0, /* anonymous, or a file that could not be opened */
	SANDBOX_UW_UNRESOLVED, /* a file not opened yet: the child reports a miss */
	SANDBOX_UW_FILE,       /* 'elf' */
	SANDBOX_UW_VDSO,
};

struct sandbox_uw_map {
	uint64_t start, end, offset;
	struct sandbox_elf *elf; /* borrowed, with SANDBOX_UW_FILE */
	enum sandbox_uw_kind kind;
};

struct sandbox_uw_result {
	int lost;                      /* the child failed: nothing below is valid */
	uint32_t status, nr, fp_steps; /* as struct unwinder_result */
	uint64_t fail_ip;
	const uint64_t *ips; /* nr addresses, valid until sandbox__uw_reset() */
};

/* 1: the maps changed so that the sample should be unwound again; 0: no; a negative errno: fatal. */
typedef int (*sandbox_uw_need_fn)(void *ctx, uint32_t pid, uint64_t addr);

/* Set the mappings of 'pid' (sorted by start); n = 0 forgets the process. 0, -ENOMEM. */
int sandbox__uw_maps(struct sandbox *sb, uint32_t pid, const struct sandbox_uw_map *m, size_t n);
/*
 * Queue a sample (stack cut to 64 KiB, max addresses at most 128). Returns its index in the batch,
 * -ENOSPC when the batch is full (run it first), -ENOMEM, -EINVAL.
 */
int sandbox__uw_queue(struct sandbox *sb, uint32_t pid, const uint64_t *regs, const uint8_t *stack,
		      uint32_t stack_size, uint32_t max, int fp_fallback);
uint32_t sandbox__uw_queued(const struct sandbox *sb);
/* Unwind the queued samples. 0 (lost samples are not an error), or -ENOMEM or the callback's error. */
int sandbox__uw_run(struct sandbox *sb, sandbox_uw_need_fn need, void *ctx);
const struct sandbox_uw_result *sandbox__uw_result(const struct sandbox *sb, uint32_t i);
/* Empty the queue. */
void sandbox__uw_reset(struct sandbox *sb);

struct sandbox_uw_stats {
	uint64_t batches;        /* round trips to the child (0 when disabled) */
	uint64_t samples;        /* samples those carried, retries included */
	uint64_t retries;        /* samples unwound again after a miss */
	uint64_t failures;       /* samples not unwound because the child failed */
	uint64_t images_evicted; /* file images dropped to stay within the budget */
	uint64_t files_dropped;  /* files the child died parsing: no longer unwound through */
	uint64_t given_up;       /* 1 once the unwinding has stopped for good (too many failures or
				  * dropped files): every later sample counts in failures */
};
void sandbox__uw_stats(const struct sandbox *sb, struct sandbox_uw_stats *st);

#endif
