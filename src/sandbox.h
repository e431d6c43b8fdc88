/* SPDX-License-Identifier: MIT */
/*
 * sandbox - the symbolizer (libdw parsing target-controlled ELF/DWARF) in an unprivileged child.
 *
 * A struct sandbox is a proxy with the symbolizer's functions. Enabled, it forks a long-lived child
 * on first use that runs the symbolizer (symbolizer.h) after dropping everything: all fds but its
 * socket and stderr closed, PR_SET_NO_NEW_PRIVS, the capability bounding set dropped, uid/gid
 * 65534 (when started as root), no capabilities, not dumpable, RLIMIT_AS/CPU/NOFILE/CORE lowered,
 * and a seccomp filter that kills it on any system call beyond reading what it is given (no socket,
 * no exec, no kill; write only to stderr; open, readlink and access by path fail with EACCES). The parent keeps opening files safely (safeopen.h) and
 * passes descriptors over a SOCK_SEQPACKET socketpair (SCM_RIGHTS); when the child wants a separate
 * debuginfo file it asks the parent, which opens it only under the target's root
 * (/proc/PID/root) or under the debug directories, or, for a file opened with root NULL (a file the
 * user named), an ELF file in that file's directory or its .debug/ (debuglink candidates).
 *
 * Each request has a timeout (SANDBOX_TIMEOUT_MS, or SCORCH_SANDBOX_TIMEOUT_MS in the environment).
 * When the child dies, times out or answers garbage, the parent kills it, counts it, marks the file
 * of that request bad (its addresses get no names) and starts a fresh child on the next request,
 * resending the files it still holds. Replies are parsed defensively: bounded lengths, NUL-free
 * strings, counts checked against the bytes present.
 *
 * Disabled (enabled = 0, --no-sandbox of record, symbolize and report --resymbolize), the proxy calls the symbolizer in-process.
 * Strings in sym_frame results are valid until the next sandbox__lookup(); build ids until
 * sandbox__free().
 */
#ifndef SCORCH_SANDBOX_H
#define SCORCH_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "symbolizer.h"

#define SANDBOX_TIMEOUT_MS 10000
/* The largest message either side accepts. */
#define SANDBOX_MAX_MSG (64u << 10)
/* The longest string (function or file name) the child sends; longer ones are cut. */
#define SANDBOX_MAX_STR 2048u

struct sandbox;
struct sandbox_elf;

/* 'opts' is copied (directory strings stay borrowed). NULL on ENOMEM. The child starts lazily. */
struct sandbox *sandbox__new(const struct symbolizer_opts *opts, int enabled);
void sandbox__free(struct sandbox *sb);

/* As symbolizer__open_fd(): the sandbox dups 'fd' (kept to resend to a restarted child). */
struct sandbox_elf *sandbox__open_fd(struct sandbox *sb, int fd, const char *name, const char *root);
struct sandbox_elf *sandbox__vdso(struct sandbox *sb);
int sandbox__offset_to_vaddr(const struct sandbox_elf *e, uint64_t offset, uint64_t *vaddr);
const char *sandbox__build_id(const struct sandbox_elf *e);
/* As symbolizer__lookup(); 0 frames when the file was marked bad or the child failed. */
int sandbox__lookup(struct sandbox *sb, struct sandbox_elf *e, uint64_t vaddr, struct sym_frame *out,
		    int max);

/* As symbolizer__has_dwarf(), the child loading the DWARF; 0 when the file was marked bad or the child
 * failed on it. */
int sandbox__has_dwarf(struct sandbox *sb, struct sandbox_elf *e);

struct sandbox_stats {
	uint64_t requests, restarts, timeouts, bad_files, opens_brokered, opens_refused;
};
void sandbox__stats(const struct sandbox *sb, struct sandbox_stats *st);

/* --- for tests --------------------------------------------------------------------------------- */

/* The child's pid (starting it if needed), or a negative errno; -ENOSYS when disabled. */
int sandbox__child_pid(struct sandbox *sb);
enum sandbox_test {
	SANDBOX_TEST_OPEN = 1, /* the child tries open(arg): returns 0 on success or -errno */
	SANDBOX_TEST_CRASH,    /* the child aborts */
	SANDBOX_TEST_SLEEP,    /* the child sleeps for atoi(arg) ms before answering */
	SANDBOX_TEST_BROKER,   /* the child asks the parent to open "ROOT\nPATH": 0 when it got a file */
};
/* Run a test request in the child; while 'e' is given, a failure marks that file bad. */
int sandbox__test(struct sandbox *sb, struct sandbox_elf *e, enum sandbox_test what, const char *arg);
/*
 * Decode a FRAMES reply body (the parent's parser, exposed for unit tests) into at most 'max' frames,
 * strings copied into 'strbuf' (of 'cap' bytes). Returns the number of frames or -EPROTO.
 */
int sandbox__decode_frames(const uint8_t *buf, size_t len, struct sym_frame *out, int max, char *strbuf,
			   size_t cap);
/* Encode frames as the child does; returns the length written into 'buf' (at most 'cap'). */
size_t sandbox__encode_frames(const struct sym_frame *f, int n, uint8_t *buf, size_t cap);

/* Decode an M_DWARF reply body (sandbox__has_dwarf's answer): 0 or 1, else -EPROTO. */
int sandbox__decode_has_dwarf(const uint8_t *buf, size_t len);

#endif
