/* SPDX-License-Identifier: MIT */
/*
 * sandbox_proxy - internal to the sandbox module: the parent's side of the child (sandbox_proxy.c),
 * for the unwinding's rounds in the child (sandbox_proxy_uw.c). One child serves both; it is started,
 * stopped and restarted here, with the failure accounting (sandbox.h) in sb->stats.
 */
#ifndef SCORCH_SANDBOX_PROXY_H
#define SCORCH_SANDBOX_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox_int.h"
#include "uwtable.h"

/*
 * Fork a child (the caller checked that none runs) and wait until it says it is locked down; 0 or a
 * negative errno. A child that cannot lock itself down makes every later start fail the same way
 * (sandbox_proxy_cannot_start), without a fork, and counts in stats.start_failures.
 */
int sandbox_proxy_start(struct sandbox *sb);
/* The sticky error of a child that could not lock itself down, else 0. */
int sandbox_proxy_cannot_start(const struct sandbox *sb);
/* The running child's generation (increments with each child), 0 when none runs. */
uint32_t sandbox_proxy_gen(const struct sandbox *sb);
/* The child failed (why: "died", "timed out", ...): stop it, count it, mark 'e' (if any) bad, warn. */
void sandbox_proxy_failed(struct sandbox *sb, struct sandbox_elf *e, const char *why);
/*
 * Send a request and wait for the answer of type 'want' (its body at sandbox_proxy_msg(), length
 * returned), serving the child's open requests meanwhile. On failure the child is gone and 'e' marked
 * bad; except -EAGAIN: the child was killed from outside (SIGKILL it did not bring on itself, see
 * child_reap), nothing is marked bad, and the caller sends the request again (to a new child, after
 * sandbox_proxy_open()). After SANDBOX_OUTSIDE_RETRIES such kills in one operation (each public
 * operation calls sandbox_proxy_new_operation() first) the request fails as any: a file that brings
 * the OOM killer costs that many restarts, then is blamed.
 */
#define SANDBOX_OUTSIDE_RETRIES 3
int sandbox_proxy_request(struct sandbox *sb, struct sandbox_elf *e, uint32_t type, const void *body,
			  size_t len, int fd, uint32_t want);
/*
 * The same for an answer that may carry a descriptor (SBP_UW_TABLED): in *rfd when it comes with the
 * answer of type 'want' (owned by the caller), SBPROTO_FD_LOST when one was sent but this process had
 * no room for it, else -1. A descriptor that comes with any other message is closed.
 */
int sandbox_proxy_request_fd(struct sandbox *sb, struct sandbox_elf *e, uint32_t type, const void *body,
			     size_t len, int fd, uint32_t want, int *rfd);
/* The last answer's body (valid until the next request). */
const uint8_t *sandbox_proxy_msg(const struct sandbox *sb);
void sandbox_proxy_new_operation(struct sandbox *sb);
/* Make 'e' known to the current child (after a restart, send it again). 0 or a negative errno. */
int sandbox_proxy_open(struct sandbox *sb, struct sandbox_elf *e);

/* The unwinding's rounds in the child (sandbox_proxy_uw.c): struct symsvc_ops's uw_* functions. */
int sandbox_proxy_uw_init(struct sandbox *sb, struct sandbox_uw *uw);
void sandbox_proxy_uw_release(struct sandbox *sb, struct sandbox_uw *uw);
uint32_t sandbox_proxy_uw_handle(struct sandbox *sb, struct sandbox_elf *e);
int sandbox_proxy_uw_round(struct sandbox *sb, const uint32_t *todo, uint32_t nt, uint32_t *gen);
uint64_t sandbox_proxy_uw_evicted(const struct sandbox *sb);
/* struct symsvc_ops's uw_table: SBP_UW_TABLE, the rows read by sandbox_proxy_uw_table_rows. */
int sandbox_proxy_uw_table(struct sandbox *sb, struct sandbox_elf *e, uint32_t max_rows, struct uwtable *out);
/*
 * The parent's check of SBP_UW_TABLED's memfd 'fd' (untrusted: any descriptor the child sent) that the
 * message says holds 'nr' rows (1..UWTABLE_MAX_ROWS): a regular file sealed with at least
 * SBPROTO_UW_TABLE_SEALS, of exactly nr * 8 bytes, whose rows pass uwtable__validate. They are read
 * (pread, never mapped) into out->rows (owned by the caller, uwtable__release), out->nr set; base and
 * counts are left to the caller. 0, -EPROTO (out empty), or -ENOMEM.
 */
int sandbox_proxy_uw_table_rows(int fd, uint32_t nr, struct uwtable *out);

#endif
