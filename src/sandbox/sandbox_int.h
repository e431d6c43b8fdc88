/* SPDX-License-Identifier: MIT */
/*
 * sandbox_int - internal to the sandbox module (sandbox.c, sandbox_child.c, sandbox_uw.c): not for
 * other modules, which use sandbox.h. What the symbolizer proxy (sandbox.c), the child (sandbox_child.c)
 * and the unwinding proxy (sandbox_uw.c) share: the child protocol's message types and framing, the
 * proxy's state, and the request machinery with its failure accounting (one child, started, stopped
 * and restarted for both proxies).
 */
#ifndef SCORCH_SANDBOX_INT_H
#define SCORCH_SANDBOX_INT_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "sandbox.h"

/* Message types. Parent to child: */
enum {
	M_OPEN = 1, /* fd + "name\0root\0" -> M_OPENED */
	M_VDSO,     /* -> M_OPENED */
	M_LOOKUP,   /* u32 handle, u64 vaddr, u32 max -> M_FRAMES */
	M_TEST,     /* u32 what, "arg\0" -> M_TESTED */
	M_FD,       /* i32 status (+ fd): answer to M_DEBUG_OPEN */
	M_LOOKUP_MANY, /* u32 handle, u32 max, u32 n, u32 ms, n x u64 vaddr -> M_FRAMES_MANY */
	/* child to parent: */
	M_OPENED = 16, /* i32 handle or -errno, u32 nsegs, nsegs x (u64 offset, vaddr, filesz), build id */
	M_FRAMES,      /* see sandbox__encode_frames */
	M_TESTED,      /* i32 result */
	M_DEBUG_OPEN,  /* "root\0path\0" -> M_FD */
	M_FRAMES_MANY, /* see sandbox__decode_frames_many */
	M_READY,       /* i32 0 or -errno, "what failed\0": the child's first message, locked down or not */
	/* unwinding (sandbox_uw.c): parent to child */
	M_UW_SETUP = 40, /* fd + u32 which (0 requests, read-only; 1 results), u32 0, u64 size -> M_UW_ACK */
	M_UW_MAPS,       /* u32 pid, u32 append, n x struct unwindsvc_map -> M_UW_ACK */
	M_UW_FORGET,     /* n x u32 pid -> M_UW_ACK */
	M_UW_BATCH,      /* u32 n, u32 0, u64 request bytes, n x u64 offset -> M_UW_DONE */
	/* child to parent */
	M_UW_ACK = 48,   /* i32 status */
	M_UW_DONE,       /* i32 status, u32 0, u64 result bytes, u64 images evicted */
};

/* Whether a file has DWARF (resymbolize), numbered apart from the others: */
enum {
	M_HAS_DWARF = 64, /* u32 handle -> M_DWARF */
	M_DWARF,          /* i32 0 or 1, see sandbox__decode_has_dwarf */
};

struct msg_hdr {
	uint32_t type, len;
};

#define MAX_SEGS 64
#define MAX_BUILD_ID 128
#define NULL_STR 0xffffffffu

struct sandbox_elf {
	struct sym_elf *local; /* disabled sandbox: the symbolizer's own */
	int fd;                /* owned dup, -1 for the vDSO */
	char *name, *root;     /* owned; root NULL for this process's root */
	uint32_t handle, gen;  /* the child's handle, valid in child generation 'gen' */
	int bad;               /* the child failed on it: no more lookups */
	int is_vdso;
	char build_id[MAX_BUILD_ID + 1];
	uint64_t segs[MAX_SEGS][3];
	size_t nr_segs;
	int uw_added;          /* disabled sandbox: registered with the in-process unwinding service */
	int uw_bad;            /* its file is one of the unwinding's dropped files (uw_dropped) */
	uint32_t uw_checked;   /* how many dropped files it was compared with */
};

struct sandbox_uw;

struct sandbox {
	struct symbolizer_opts opts;
	int enabled;
	struct symbolizer *local; /* disabled: in-process */
	pid_t pid;                /* child, 0 when none */
	int sock;
	uint32_t gen;             /* increments with each child */
	int timeout_ms;
	uid_t uid;                /* the child's ids when started as root (sandbox_pick_ids), */
	gid_t gid;                /* (uid_t)-1: keep ours */
	int ids_picked;
	int start_err;            /* a child could not lock itself down: none will (sticky, < 0) */
	char start_why[160];      /* why, for sandbox__start() */
	uint32_t outside_streak;  /* outside kills in the current operation (see sandbox_request) */
	rlim_t cpu_limit;         /* the child's RLIMIT_CPU (soft), seconds */
	struct sandbox_elf **elfs;
	size_t nr_elfs, cap_elfs;
	struct sandbox_elf *vdso;
	int vdso_tried;
	struct sandbox_stats stats;
	struct sandbox_uw *uw;    /* owned: batched unwinding, made on first use */
	struct sym_frame *many;   /* owned: sandbox__lookup_many's frames */
	size_t cap_many;
	char **blocks;            /* owned: its strings, SANDBOX_MAX_MSG bytes per round trip */
	size_t nr_blocks;
	cpu_set_t saved_cpus;     /* this process's affinity before sandbox__share_cpu() */
	int cpus_saved;
	uint8_t msg[SANDBOX_MAX_MSG];
	char strbuf[SANDBOX_MAX_MSG];
};

/*
 * Framing (sandbox.c): one message per SOCK_SEQPACKET packet, struct msg_hdr then the body, with at
 * most one descriptor. sandbox_send_msg: 0 or a negative errno. sandbox_recv_msg: the type, 0 at end of
 * file, or a negative errno (-EPROTO for a malformed message); the body (at most SANDBOX_MAX_MSG
 * bytes) in 'buf', its length in '*len', a passed descriptor in '*fd' (NULL: none expected), which is
 * SANDBOX_FD_LOST when one was sent but could not be received (the receiver out of descriptors).
 */
#define SANDBOX_FD_LOST (-2)
int sandbox_send_msg(int sock, uint32_t type, const void *body, size_t len, int fd);
int sandbox_recv_msg(int sock, uint8_t *buf, size_t *len, int *fd);
/*
 * Append one answer (a FRAMES body) at 'at' of a FRAMES_MANY reply (sandbox.c): the first answer is cut
 * to fit, as a single lookup's is; a later one goes whole or not at all. The new end, or SIZE_MAX.
 */
size_t sandbox_put_answer(const struct sym_frame *f, int n, uint8_t *buf, size_t cap, size_t at, int first);
/* The child's life (sandbox_child.c), after the fork: never returns. */
void sandbox_child_main(int sock, const struct symbolizer_opts *opts, uid_t uid, gid_t gid)
	__attribute__((noreturn));

/*
 * Fork a child (the caller checked that none runs) and wait until it says it is locked down; 0 or a
 * negative errno. A child that cannot lock itself down makes every later start fail the same way
 * (sb->start_err), without a fork, and counts in stats.start_failures.
 */
int sandbox_child_start(struct sandbox *sb);
/* The child failed (why: "died", "timed out", ...): stop it, count it, mark 'e' (if any) bad, warn. */
void sandbox_child_failed(struct sandbox *sb, struct sandbox_elf *e, const char *why);
/*
 * Send a request and wait for the answer of type 'want' (its body in sb->msg, length returned),
 * serving the child's open requests meanwhile. On failure the child is gone and 'e' marked bad;
 * except -EAGAIN: the child was killed from outside (SIGKILL it did not bring on itself, see
 * sandbox.c), nothing is marked bad, and the caller sends the request again (to a new child, after
 * sandbox_child_open()). After SANDBOX_OUTSIDE_RETRIES such kills (sb->outside_streak, which each
 * public operation sets to 0 first) the request fails as any: a file that brings the OOM killer
 * costs that many restarts, then is blamed.
 */
#define SANDBOX_OUTSIDE_RETRIES 3
int sandbox_request(struct sandbox *sb, struct sandbox_elf *e, uint32_t type, const void *body, size_t len,
		    int fd, uint32_t want);
/* Make 'e' known to the current child (after a restart, send it again). 0 or a negative errno. */
int sandbox_child_open(struct sandbox *sb, struct sandbox_elf *e);
/* Free the unwinding proxy's state (sandbox_uw.c); NULL is fine. */
void sandbox_uw_free(struct sandbox_uw *uw);

#endif
