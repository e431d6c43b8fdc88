/* SPDX-License-Identifier: MIT */
/*
 * sbproto - the protocol between the sandbox's parent (sandbox_proxy.c, sandbox_proxy_uw.c) and its child
 * (sandbox_child.c): the only place that knows how a message is laid out.
 *
 * Ownership: encoders write into the caller's buffer and return the length written (0 when it does
 * not fit); decoders fill the caller's struct, whose strings and arrays point into the decoded buffer
 * (borrowed: valid while that buffer is), and return 0 or -EPROTO. A decoder trusts nothing: lengths
 * are checked against the bytes present, strings must be NUL-free (or NUL-terminated, as stated) and
 * counts bounded. The parent treats the child as compromised, so every child-to-parent decoder is a
 * fuzz target (tests/fuzz/fuzz_sandbox.c).
 *
 * Framing: one message per SOCK_SEQPACKET packet, struct sbp_hdr then the body, with at most one
 * descriptor (SCM_RIGHTS). All integers are in the host's byte order (both sides are one binary).
 *
 * Adding a message: a type below (requests and their answers side by side), a struct with an encoder
 * and a decoder here (the child-to-parent decoder goes into tests/fuzz/fuzz_sandbox.c, with a seed),
 * a handler in the child's table (sandbox_child.c), and the parent's call in sandbox_proxy.c (or
 * sandbox_proxy_uw.c), with its in-process counterpart in sandbox_local.c when struct symsvc_ops
 * gains a function. An answer that can outgrow SANDBOX_MAX_MSG goes through a memfd, the message
 * carrying its length: SBP_UW_BATCH's results through one the parent made and shares with the child,
 * SBP_UW_TABLED's rows through one the child makes, fills and seals, passed with the answer.
 */
#ifndef SCORCH_SBPROTO_H
#define SCORCH_SBPROTO_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox.h"
#include "symbolizer.h"
#include "unwindsvc.h"
#include "uwtable.h"

/*
 * Limits shared with sandbox.h's callers: SANDBOX_MAX_MSG (the largest message either side accepts,
 * header included), SANDBOX_MAX_STR (the longest string the child sends; longer ones are cut),
 * SANDBOX_LOOKUP_BATCH (addresses in one SBP_LOOKUP_MANY), SANDBOX_UW_MAX_BATCH (samples in one
 * SBP_UW_BATCH).
 */
#define SBPROTO_MAX_BODY (SANDBOX_MAX_MSG - sizeof(struct sbp_hdr))
/* Segments and build id bytes of an opened file the child reports at most. */
#define SBPROTO_MAX_SEGS 64
#define SBPROTO_MAX_BUILD_ID 128
/* Paths (name, root) a request carries: shorter than this. */
#define SBPROTO_MAX_PATH 4096u
/* Frames per lookup answer. */
#define SBPROTO_MAX_FRAMES 64

/*
 * Message types, one numbering: each request (P: parent to child, C: child to parent) followed by its
 * answer. Message bodies are described with their structs below.
 */
enum sbp_type {
	SBP_READY = 1,   /* C: the child's first message, locked down or not (no request) */
	SBP_OPEN,        /* P: fd + sbp_open                    -> SBP_OPENED */
	SBP_VDSO,        /* P: empty                            -> SBP_OPENED */
	SBP_OPENED,      /* C: sbp_opened */
	SBP_LOOKUP,      /* P: sbp_lookup                       -> SBP_FRAMES */
	SBP_FRAMES,      /* C: see sbproto__encode_frames */
	SBP_LOOKUP_MANY, /* P: sbp_lookup_many                  -> SBP_FRAMES_MANY */
	SBP_FRAMES_MANY, /* C: see sbproto__decode_frames_many */
	SBP_HAS_DWARF,   /* P: sbp_handle                       -> SBP_DWARF */
	SBP_DWARF,       /* C: i32 0 or 1, see sbproto__decode_has_dwarf */
	SBP_DEBUG_OPEN,  /* C: sbp_debug_open (while serving a request) -> SBP_FD */
	SBP_FD,          /* P: sbp_status (+ fd when status is 0) */
	SBP_TEST,        /* P: sbp_test (honoured only with the test hook, testhooks.h) -> SBP_TESTED */
	SBP_TESTED,      /* C: sbp_status */
	SBP_UW_SETUP,    /* P: fd + sbp_uw_setup                -> SBP_UW_ACK */
	SBP_UW_MAPS,     /* P: sbp_uw_maps                      -> SBP_UW_ACK */
	SBP_UW_FORGET,   /* P: sbp_uw_forget                    -> SBP_UW_ACK */
	SBP_UW_ACK,      /* C: sbp_status */
	SBP_UW_BATCH,    /* P: sbp_uw_batch                     -> SBP_UW_DONE */
	SBP_UW_DONE,     /* C: sbp_uw_done */
	SBP_UW_TABLE,    /* P: sbp_uw_table                     -> SBP_UW_TABLED */
	SBP_UW_TABLED,   /* C: sbp_uw_tabled (+ the rows' memfd when status is 0) */
	SBP__NR
};

struct sbp_hdr {
	uint32_t type, len; /* len: of the body */
};

/* --- framing ------------------------------------------------------------------------------------ */

/*
 * sbproto__send: 0 or a negative errno (-EMSGSIZE for a body over SBPROTO_MAX_BODY). sbproto__recv: the
 * type, 0 at end of file, or a negative errno (-EPROTO for a malformed message); the body in 'buf' (of
 * SANDBOX_MAX_MSG bytes), its length in '*len', a passed descriptor in '*fd' (NULL: none expected; any
 * beyond the first is closed), which is SBPROTO_FD_LOST when one was sent but could not be received
 * (the receiver out of descriptors).
 */
#define SBPROTO_FD_LOST (-2)
int sbproto__send(int sock, uint32_t type, const void *body, size_t len, int fd);
int sbproto__recv(int sock, uint8_t *buf, size_t *len, int *fd);

/* --- messages ----------------------------------------------------------------------------------- */

/* SBP_FD, SBP_TESTED, SBP_UW_ACK: i32 status (0 or -errno; SBP_TESTED: the test's result). */
struct sbp_status {
	int32_t status;
};
size_t sbproto__encode_status(uint8_t *buf, size_t cap, const struct sbp_status *m);
int sbproto__decode_status(const uint8_t *buf, size_t len, struct sbp_status *m);

/* SBP_READY: i32 0 or -errno, "what failed\0" (at most 127 bytes, empty when ready). */
struct sbp_ready {
	int32_t status;  /* decoded: 0 or -1..-4095 (anything else is -EPROTO) */
	const char *why; /* borrowed */
};
size_t sbproto__encode_ready(uint8_t *buf, size_t cap, const struct sbp_ready *m);
int sbproto__decode_ready(const uint8_t *buf, size_t len, struct sbp_ready *m);

/* SBP_OPEN: "name\0root\0", name not empty, root "" for this process's root (plus the fd). */
struct sbp_open {
	const char *name, *root; /* borrowed; decoded root NULL when empty */
};
size_t sbproto__encode_open(uint8_t *buf, size_t cap, const struct sbp_open *m);
int sbproto__decode_open(const uint8_t *buf, size_t len, struct sbp_open *m);

/*
 * SBP_OPENED: i32 handle or -errno, u32 nr_segs, nr_segs x (u64 offset, vaddr, filesz), the build id
 * (lowercase hex, the rest of the body). A failure carries no segments and no build id.
 */
struct sbp_opened {
	int32_t status;
	uint32_t nr_segs;
	uint64_t segs[SBPROTO_MAX_SEGS][3];
	char build_id[SBPROTO_MAX_BUILD_ID + 1];
};
size_t sbproto__encode_opened(uint8_t *buf, size_t cap, const struct sbp_opened *m);
int sbproto__decode_opened(const uint8_t *buf, size_t len, struct sbp_opened *m);

/* SBP_LOOKUP: u32 handle, u64 vaddr, u32 max. */
struct sbp_lookup {
	uint32_t handle;
	uint64_t vaddr;
	uint32_t max;
};
size_t sbproto__encode_lookup(uint8_t *buf, size_t cap, const struct sbp_lookup *m);
int sbproto__decode_lookup(const uint8_t *buf, size_t len, struct sbp_lookup *m);

/*
 * SBP_LOOKUP_MANY: u32 handle, u32 max, u32 n, u32 ms (the child's time budget), n x u64 vaddr,
 * 1 <= n <= SANDBOX_LOOKUP_BATCH. Decoded vaddrs point into the buffer, unaligned: read with memcpy
 * (sbproto__vaddr).
 */
struct sbp_lookup_many {
	uint32_t handle, max, n, ms;
	const void *vaddrs; /* borrowed, n x u64 */
};
size_t sbproto__encode_lookup_many(uint8_t *buf, size_t cap, const struct sbp_lookup_many *m);
int sbproto__decode_lookup_many(const uint8_t *buf, size_t len, struct sbp_lookup_many *m);
uint64_t sbproto__vaddr(const struct sbp_lookup_many *m, uint32_t i);

/* SBP_HAS_DWARF: u32 handle. */
struct sbp_handle {
	uint32_t handle;
};
size_t sbproto__encode_handle(uint8_t *buf, size_t cap, const struct sbp_handle *m);
int sbproto__decode_handle(const uint8_t *buf, size_t len, struct sbp_handle *m);

/* SBP_DWARF: exactly an i32 0 or 1. Decoding returns that, else -EPROTO. */
size_t sbproto__encode_has_dwarf(uint8_t *buf, size_t cap, int has);
int sbproto__decode_has_dwarf(const uint8_t *buf, size_t len);

/* SBP_DEBUG_OPEN: "root\0path\0" (root "" for the files the user named, see sandbox.h). */
struct sbp_debug_open {
	const char *root, *path; /* borrowed; root never NULL */
};
size_t sbproto__encode_debug_open(uint8_t *buf, size_t cap, const struct sbp_debug_open *m);
int sbproto__decode_debug_open(const uint8_t *buf, size_t len, struct sbp_debug_open *m);

/* SBP_TEST: u32 what (enum sandbox_test), "arg\0". */
struct sbp_test {
	uint32_t what;
	const char *arg; /* borrowed */
};
size_t sbproto__encode_test(uint8_t *buf, size_t cap, const struct sbp_test *m);
int sbproto__decode_test(const uint8_t *buf, size_t len, struct sbp_test *m);

/* SBP_UW_SETUP: u32 which (0 requests, mapped read-only; 1 results), u32 0, u64 size (plus the fd). */
struct sbp_uw_setup {
	uint32_t which;
	uint64_t size;
};
size_t sbproto__encode_uw_setup(uint8_t *buf, size_t cap, const struct sbp_uw_setup *m);
int sbproto__decode_uw_setup(const uint8_t *buf, size_t len, struct sbp_uw_setup *m);

/* SBP_UW_MAPS: u32 pid, u32 append (0 or 1), n x struct unwindsvc_map. */
#define SBPROTO_UW_MAPS_CHUNK ((SBPROTO_MAX_BODY - 8) / sizeof(struct unwindsvc_map))
struct sbp_uw_maps {
	uint32_t pid, append;
	size_t n;         /* at most SBPROTO_UW_MAPS_CHUNK */
	const void *maps; /* borrowed, unaligned when decoded: copied out by sbproto__uw_maps_get */
};
size_t sbproto__encode_uw_maps(uint8_t *buf, size_t cap, const struct sbp_uw_maps *m);
int sbproto__decode_uw_maps(const uint8_t *buf, size_t len, struct sbp_uw_maps *m);
void sbproto__uw_maps_get(const struct sbp_uw_maps *m, struct unwindsvc_map *out);

/* SBP_UW_FORGET: n x u32 pid (n may be 0). */
#define SBPROTO_UW_FORGET_MAX (SBPROTO_MAX_BODY / 8 / 4 * 4)
struct sbp_uw_forget {
	size_t n;
	const void *pids; /* borrowed, n x u32, unaligned when decoded */
};
size_t sbproto__encode_uw_forget(uint8_t *buf, size_t cap, const struct sbp_uw_forget *m);
int sbproto__decode_uw_forget(const uint8_t *buf, size_t len, struct sbp_uw_forget *m);
uint32_t sbproto__uw_forget_pid(const struct sbp_uw_forget *m, size_t i);

/* SBP_UW_BATCH: u32 n, u32 0, u64 request bytes, n x u64 offset (n <= SANDBOX_UW_MAX_BATCH). */
struct sbp_uw_batch {
	uint32_t n;
	uint64_t req_len;
	uint64_t offs[SANDBOX_UW_MAX_BATCH];
};
size_t sbproto__encode_uw_batch(uint8_t *buf, size_t cap, const struct sbp_uw_batch *m);
int sbproto__decode_uw_batch(const uint8_t *buf, size_t len, struct sbp_uw_batch *m);

/* SBP_UW_DONE: i32 status, u32 0, u64 result bytes, u64 images evicted. */
struct sbp_uw_done {
	int32_t status;
	uint64_t res_len, evicted;
};
size_t sbproto__encode_uw_done(uint8_t *buf, size_t cap, const struct sbp_uw_done *m);
int sbproto__decode_uw_done(const uint8_t *buf, size_t len, struct sbp_uw_done *m);

/*
 * SBP_UW_TABLE: u32 handle, u32 max_rows (1 <= max_rows <= UWTABLE_MAX_ROWS). The handle is an
 * SBP_OPENED one: of a file (SBP_OPEN; the child builds from its descriptor) or of the vDSO (SBP_VDSO;
 * the child builds from the copy of the image it took before locking itself down). Either answer is
 * SBP_UW_TABLED, checked the same way.
 */
struct sbp_uw_table {
	uint32_t handle, max_rows;
};
size_t sbproto__encode_uw_table(uint8_t *buf, size_t cap, const struct sbp_uw_table *m);
int sbproto__decode_uw_table(const uint8_t *buf, size_t len, struct sbp_uw_table *m);

/*
 * SBP_UW_TABLED: i32 status, u32 nr, u64 base, then the struct uwtable_stats fields in their order
 * (8 x u32: fdes, bad_fdes, unknown, cfa_reg, cfa_expr, ra_rule, rbp_rule, too_large); 48 bytes.
 * Status 0: 1 <= nr <= UWTABLE_MAX_ROWS, and the message carries a memfd holding exactly the nr rows
 * (struct scorch_uw_row, nr * 8 bytes), sealed against shrinking, growing and writing
 * (SBPROTO_UW_TABLE_SEALS). Status -1..-4095 (the builder's error): nr, base and the counts all 0,
 * no descriptor. The decoder checks the message alone; the memfd is checked by its reader
 * (sandbox_proxy_uw_table_rows).
 */
#define SBPROTO_UW_TABLE_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
struct sbp_uw_tabled {
	int32_t status;
	uint32_t nr;
	uint64_t base;
	struct uwtable_stats st;
};
size_t sbproto__encode_uw_tabled(uint8_t *buf, size_t cap, const struct sbp_uw_tabled *m);
int sbproto__decode_uw_tabled(const uint8_t *buf, size_t len, struct sbp_uw_tabled *m);

/* --- frames (SBP_FRAMES, SBP_FRAMES_MANY) -------------------------------------------------------- */

/*
 * A FRAMES body: u32 n, then n x (u32 line, u32 inlined (0 or 1), u64 offset, function, file), each
 * string as u32 length (0xffffffff: NULL) and its bytes (NUL-free, at most SANDBOX_MAX_STR).
 *
 * Decode one into at most 'max' frames, strings copied into 'strbuf' (of 'cap' bytes): the number of
 * frames or -EPROTO. Encoding cuts the outer frames that do not fit in 'cap', and strings to
 * SANDBOX_MAX_STR; it returns the length written (0 when 'cap' < 4).
 */
int sbproto__decode_frames(const uint8_t *buf, size_t len, struct sym_frame *out, int max, char *strbuf,
			   size_t cap);
size_t sbproto__encode_frames(const struct sym_frame *f, int n, uint8_t *buf, size_t cap);

/*
 * A FRAMES_MANY body: u32 k, then k FRAMES bodies, the answers to the first k addresses asked.
 * Decode it for 'asked' addresses into out[i * max ...] with counts[i], strings into 'strbuf' (of 'cap'
 * bytes): returns k (1 <= k <= asked) or -EPROTO.
 */
int sbproto__decode_frames_many(const uint8_t *buf, size_t len, uint32_t asked, struct sym_frame *out,
				int max, int *counts, char *strbuf, size_t cap);
/*
 * Encode answers: the frames of answer i are f[i * max ...], nf[i] of them; as many answers as fit in
 * 'cap' (the first one cut to fit, the others whole). Returns the length written.
 */
size_t sbproto__encode_frames_many(const struct sym_frame *f, const int *nf, int max, uint32_t n,
				   uint8_t *buf, size_t cap);
/*
 * Build a FRAMES_MANY body one answer at a time (the child, which stops on time too): start with
 * at = 4, append each answer at 'at' (the first one is cut to fit, a later one goes whole or not at
 * all: returns the new end, or SIZE_MAX), then sbproto__frames_many_done() writes the count k.
 */
size_t sbproto__put_answer(const struct sym_frame *f, int n, uint8_t *buf, size_t cap, size_t at, int first);
void sbproto__frames_many_done(uint8_t *buf, uint32_t k);

#endif
