/* SPDX-License-Identifier: MIT */
/*
 * sandbox_int - internal to the sandbox module: not for other modules, which use sandbox.h.
 *
 * A struct sandbox is the front (sandbox.c: the public functions, the registry of files) over one of
 * two implementations of struct symsvc_ops: in-process (sandbox_local.c, --no-sandbox) or in the
 * unprivileged child (sandbox_proxy.c, whose child is sandbox_child.c and whose messages are
 * sbproto.h). The batched unwinding (sandbox_uw.c) queues samples and runs rounds through the same
 * ops. Ownership: the sandbox owns its files (struct sandbox_elf), their dup'd descriptors and names,
 * the implementation's state (impl) and the unwinding's (uw).
 */
#ifndef SCORCH_SANDBOX_INT_H
#define SCORCH_SANDBOX_INT_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "sandbox.h"
#include "sbproto.h"
#include "unwindsvc.h"

struct sandbox_elf {
	struct sym_elf *local; /* in-process: the symbolizer's own */
	int fd;                /* owned dup, -1 for the vDSO */
	char *name, *root;     /* owned; root NULL for this process's root */
	uint32_t handle, gen;  /* the child's handle, valid in child generation 'gen' (in-process: gen 0) */
	int bad;               /* the child failed on it: no more lookups */
	int is_vdso;
	char build_id[SBPROTO_MAX_BUILD_ID + 1];
	uint64_t segs[SBPROTO_MAX_SEGS][3];
	size_t nr_segs;
	int uw_added;        /* in-process: registered with the unwinding service */
	int uw_bad;          /* its file is one of the unwinding's dropped files (sandbox_uw.c) */
	uint32_t uw_checked; /* how many dropped files it was compared with */
};

struct sandbox_uw;

/*
 * What differs between in-process and sandboxed symbolizing and unwinding. Every function gets the
 * sandbox; its implementation's state is sb->impl. The front has done the argument checks and the
 * file's registration; what each returns is what the public function of the same name returns
 * (sandbox.h), unless said otherwise.
 */
struct symsvc_ops {
	/* Make sb->impl (sb->opts is set): 0 or -ENOMEM. */
	int (*init)(struct sandbox *sb);
	/* Free sb->impl (the front frees the files afterwards). */
	void (*release)(struct sandbox *sb);
	/* 0 or a negative errno with the reason in 'why' (of 'size' bytes). */
	int (*start)(struct sandbox *sb, char *why, size_t size);
	/* Whether no child will ever start (a child could not lock itself down), without starting one. */
	int (*start_failed)(const struct sandbox *sb);
	/* Open and register a file (sandbox_add_elf), as sandbox__open_fd(); NULL with errno set. */
	struct sandbox_elf *(*open_fd)(struct sandbox *sb, int fd, const char *name, const char *root);
	/* The same for the vDSO (asked once, sandbox__vdso() keeps the answer). */
	struct sandbox_elf *(*vdso)(struct sandbox *sb);
	int (*lookup)(struct sandbox *sb, struct sandbox_elf *e, uint64_t vaddr, struct sym_frame *out,
		      int max);
	/* out[i] filled for vaddrs[0..n), frames in 'frames' (n x max); max already capped. 0 or -ENOMEM. */
	int (*lookup_many)(struct sandbox *sb, struct sandbox_elf *e, const uint64_t *vaddrs, size_t n,
			   int max, struct sym_frame *frames, struct sandbox_frames *out);
	int (*has_dwarf)(struct sandbox *sb, struct sandbox_elf *e);
	int (*share_cpu)(struct sandbox *sb);
	int (*child_pid)(struct sandbox *sb);
	int (*test)(struct sandbox *sb, struct sandbox_elf *e, enum sandbox_test what, const char *arg);
	/* The most frames one lookup gives (SBPROTO_MAX_FRAMES in the child; INT32_MAX in-process). */
	int max_frames;

	/* --- unwinding (sandbox_uw.c) --- */
	/* Allocate uw->req (UW_REQ_CAP bytes) and uw->res (UW_RES_CAP, then the watch slot): 0 or -ENOMEM. */
	int (*uw_init)(struct sandbox *sb, struct sandbox_uw *uw);
	void (*uw_release)(struct sandbox *sb, struct sandbox_uw *uw);
	/* The handle under which the unwinder reads 'e', or UNWINDSVC_NOFILE. */
	uint32_t (*uw_handle)(struct sandbox *sb, struct sandbox_elf *e);
	/*
	 * Unwind todo[0..nt) (uw->offs, the maps of their processes) and decode the results into uw->tmp,
	 * in todo order: 0, -ENOMEM, or another negative errno when the samples are lost. *gen: the
	 * generation of the child that was asked (0 when none was, see uw_blame).
	 */
	int (*uw_round)(struct sandbox *sb, const uint32_t *todo, uint32_t nt, uint32_t *gen);
	/* File images the unwinder dropped so far (all its children). */
	uint64_t (*uw_evicted)(const struct sandbox *sb);

	/* --- unwind tables: sandbox__uw_table(), max_rows in 1..UWTABLE_MAX_ROWS, *out zeroed --- */
	int (*uw_table)(struct sandbox *sb, struct sandbox_elf *e, uint32_t max_rows, struct uwtable *out);
};

extern const struct symsvc_ops sandbox_local_ops; /* sandbox_local.c */
extern const struct symsvc_ops sandbox_proxy_ops; /* sandbox_proxy.c */

struct sandbox {
	const struct symsvc_ops *ops;
	void *impl; /* owned: the implementation's state */
	struct symbolizer_opts opts;
	struct sandbox_elf **elfs; /* owned, in the order opened */
	size_t nr_elfs, cap_elfs;
	struct sandbox_elf *vdso;
	int vdso_tried;
	struct sandbox_stats stats;
	struct sandbox_uw *uw;  /* owned: batched unwinding, made on first use */
	int uw_err;             /* why it could not be made the last time (-ENOMEM, -EMFILE) */
	struct sym_frame *many; /* owned: sandbox__lookup_many's frames */
	size_t cap_many;
};

/* Register a file (sandbox.c): a new entry with fd -1, or NULL on ENOMEM. */
struct sandbox_elf *sandbox_add_elf(struct sandbox *sb, const char *name, const char *root);

/* --- the unwinding's state (sandbox_uw.c), shared with the implementations' rounds ------------------- */

/* The request buffer holds a full batch of the largest stacks. */
#define UW_REQ_CAP ((size_t)SANDBOX_UW_MAX_BATCH * (sizeof(struct unwindsvc_req) + UNWINDSVC_MAX_STACK))
#define UW_RES_CAP ((size_t)SANDBOX_UW_MAX_BATCH * (sizeof(struct unwindsvc_res) + UNWINDSVC_MAX_DEPTH * 8))
/* The shared results buffer: the results, then the child's watch slot (unwindsvc__watch). */
#define UW_RES_MAP (UW_RES_CAP + 8)
#define UW_MAX_DROPPED 64

struct uw_proc {
	uint32_t pid;
	struct sandbox_uw_map *m; /* owned copy */
	size_t n, cap;
	uint32_t sent_gen; /* the child generation that has them, 0: none */
};

struct sandbox_uw {
	void *impl;         /* owned by the implementation (uw_init, uw_release) */
	uint8_t *req, *res; /* the implementation's (uw_init) */
	size_t req_used;
	uint32_t n;
	uint64_t offs[SANDBOX_UW_MAX_BATCH];
	uint32_t max[SANDBOX_UW_MAX_BATCH], pids[SANDBOX_UW_MAX_BATCH];
	struct sandbox_uw_result res_out[SANDBOX_UW_MAX_BATCH];
	uint64_t ips[SANDBOX_UW_MAX_BATCH][UNWINDSVC_MAX_DEPTH];
	struct unwindsvc_result tmp[SANDBOX_UW_MAX_BATCH];
	uint64_t tmp_ips[SANDBOX_UW_MAX_BATCH * UNWINDSVC_MAX_DEPTH];
	struct uw_proc *procs;
	size_t nr_procs, cap_procs;
	uint32_t *forget; /* pids to forget in the child */
	size_t nr_forget, cap_forget;
	uint32_t failed_in_row;              /* batches failed in a row without a file to blame */
	struct stat dropped[UW_MAX_DROPPED]; /* files the child died reading (st_dev, st_ino) */
	uint32_t nr_dropped;
	int given_up; /* no more unwinding */
	struct sandbox_uw_stats stats;
};

/*
 * The unwinding's state, made (ops->uw_init) on first use; NULL when it cannot be made, sb->uw_err
 * saying why (-ENOMEM, or -EMFILE when the descriptors ran out: tried again at the next call).
 */
struct sandbox_uw *sandbox_uw_get(struct sandbox *sb);
/* The process 'pid' of the unwinding's maps, or NULL. */
struct uw_proc *sandbox_uw_proc(struct sandbox_uw *uw, uint32_t pid);
/* The wire form of a mapping: the file's handle in the current child (ops->uw_handle). */
struct unwindsvc_map sandbox_uw_wire_map(struct sandbox *sb, const struct sandbox_uw_map *m);
/* Free the unwinding's state (sandbox_uw.c); NULL is fine. */
void sandbox_uw_free(struct sandbox *sb, struct sandbox_uw *uw);

/* --- the child (sandbox_child.c) ---------------------------------------------------------------- */

/* The child's life, after the fork: never returns. */
void sandbox_child_main(int sock, const struct symbolizer_opts *opts, uid_t uid, gid_t gid)
	__attribute__((noreturn));

#endif
