/* SPDX-License-Identifier: MIT */
/*
 * unwindsvc - the DWARF unwinding service: batches of samples (registers and a stack copy each) unwound
 * with the unwinder (unwinder.h) against file images that the service reads itself. It runs in the
 * sandboxed child (sandbox.h) or, with --no-sandbox, in the recorder's process, behind the same proxy.
 *
 * A struct unwindsvc owns the files it is given (one descriptor per distinct file, by device, inode,
 * size and mtime), their images (whole-file copies read with pread, never mmapped, within a byte budget,
 * least recently used dropped first but never one the sample being unwound uses), each process's
 * mappings as it was last told them, a copy of the vDSO, and one unwinder. The file bytes are untrusted.
 *
 * Wire formats (host byte order; the two sides are one program), shared by the proxy and the service:
 * - a request record (unwindsvc__encode_request): struct unwindsvc_req, then stack_size bytes of stack,
 *   padded to 8 bytes. A batch names its records by their offsets in the request buffer.
 * - a result record (unwindsvc__unwind_batch writes them in batch order): struct unwindsvc_res, then nr
 *   addresses (u64). unwindsvc__decode_results is the parent's defensive parser of a batch's results.
 *
 * A miss: an address the unwinder needs that no mapping holds, or that a mapping holds whose file the
 * caller has not resolved yet (UNWINDSVC_UNRESOLVED), fails that step as if unmapped and is reported
 * in the result (need = 1, need_addr), so the caller can read the maps again or open the file and
 * retry the sample.
 * Functions returning int return 0 or a negative errno.
 */
#ifndef SCORCH_UNWINDSVC_H
#define SCORCH_UNWINDSVC_H

#include <stddef.h>
#include <stdint.h>

#include "scorch_abi.h"

/* The most addresses one sample may ask for, and the largest stack copy taken. */
#define UNWINDSVC_MAX_DEPTH 128u
#define UNWINDSVC_MAX_STACK SCORCH_STACK_MAX
/* Bytes the image budget allows by default (SCORCH_TEST_IMAGES_BUDGET lowers it, for the tests only). */
#define UNWINDSVC_IMAGES_BUDGET (256ull << 20)

/* The handle of a mapping without a file: */
#define UNWINDSVC_NOFILE 0xfffffffeu     /* anonymous, or a file that cannot be read */
#define UNWINDSVC_UNRESOLVED 0xffffffffu /* a file the caller has not opened yet: a miss */
#define UNWINDSVC_VDSO 0xfffffffdu       /* the vDSO (the service's own copy) */

struct unwindsvc_map {
	uint64_t start, end, offset;
	uint32_t handle; /* from unwindsvc__add_file, or one of the above */
	uint32_t pad;
};

#define UNWINDSVC_FP_FALLBACK 1u /* flags: step past a frame without CFI by its frame pointer */

struct unwindsvc_req {
	uint32_t pid, max, flags, stack_size;
	uint64_t regs[SCORCH_NR_REGS];
};

struct unwindsvc_res {
	uint32_t status; /* enum unwinder_status */
	uint32_t nr;     /* addresses that follow, at most the max asked */
	uint32_t fp_steps;
	uint32_t need; /* 1: need_addr was missed (see above) */
	uint64_t fail_ip, need_addr;
};

/* A decoded result: 'ips' points into the caller's array. */
struct unwindsvc_result {
	struct unwindsvc_res r;
	const uint64_t *ips;
};

struct unwindsvc;

/* NULL on ENOMEM. Copies the vDSO of this process (the same in every process of a kernel). */
struct unwindsvc *unwindsvc__new(void);
void unwindsvc__free(struct unwindsvc *s);
/* Register 'fd' (taken: closed now or with the service) under 'handle' (< 2^24). -EINVAL, -ENOMEM. */
int unwindsvc__add_file(struct unwindsvc *s, uint32_t handle, int fd);
/* Set (append: add to) the mappings of 'pid', sorted by start; 0 entries without append forget it. */
int unwindsvc__set_maps(struct unwindsvc *s, uint32_t pid, const struct unwindsvc_map *m, size_t n,
			int append);
/*
 * Unwind the request records at offsets[0..n) of req[0..req_len) into out[0..cap): the results in
 * order; *out_len the bytes written. -EINVAL for a malformed record, -ENOSPC when out is too small,
 * -ENOMEM.
 */
int unwindsvc__unwind_batch(struct unwindsvc *s, const uint8_t *req, size_t req_len, const uint64_t *offsets,
			    uint32_t n, uint8_t *out, size_t cap, size_t *out_len);
/*
 * Watch what the service reads: from now on it stores in *slot the handle of each file whose bytes it
 * hands to the unwinder (UNWINDSVC_VDSO for the vDSO), and UNWINDSVC_NOFILE when a sample starts. In
 * the sandboxed child the slot is shared with the parent, which reads it after the child died: the file
 * whose call frame information was being parsed then.
 * SCORCH_TEST_UNWIND_CRASH_MARKER (tests only) makes the service abort when it hands over the bytes of
 * a file that contain that string: a stand-in for a file that crashes libunwind.
 */
void unwindsvc__watch(struct unwindsvc *s, volatile uint32_t *slot);
/* Images dropped to stay within the budget so far. */
uint64_t unwindsvc__images_evicted(const struct unwindsvc *s);
/*
 * The descriptor of the file registered under 'handle' (borrowed: the service keeps it; read it with
 * pread only, it may be shared by the handles of the same file), or -ENOENT.
 */
int unwindsvc__file_fd(const struct unwindsvc *s, uint32_t handle);
/*
 * The service's copy of the vDSO image (borrowed: valid while the service is; never evicted), its
 * length in *size; NULL when this process has no vDSO or it could not be copied.
 */
const uint8_t *unwindsvc__vdso(const struct unwindsvc *s, size_t *size);

/* The bytes one request record takes. */
size_t unwindsvc__request_size(uint32_t stack_size);
/* The most bytes the results of records asking for 'max' addresses each take. */
size_t unwindsvc__result_size(uint32_t max);
/*
 * Append a request record at buf + at (at a multiple of 8, cap bytes in all); the stack is cut to
 * UNWINDSVC_MAX_STACK bytes. Returns the offset after it, or 0 when it does not fit.
 */
size_t unwindsvc__encode_request(uint8_t *buf, size_t cap, size_t at, const struct unwindsvc_req *rq,
				 const uint8_t *stack);
/*
 * Decode the results of a batch of n samples, whose i-th asked for max[i] addresses, from buf[0..len)
 * (untrusted): statuses in range, counts within what was asked, need 0 or 1, every byte accounted
 * for. Addresses are copied into ips[0..ips_cap). Returns 0 or -EPROTO.
 */
int unwindsvc__decode_results(const uint8_t *buf, size_t len, uint32_t n, const uint32_t *max,
			      struct unwindsvc_result *out, uint64_t *ips, size_t ips_cap);
/* Encode results as the service does (for tests); returns the bytes written, 0 when they do not fit. */
size_t unwindsvc__encode_result(uint8_t *buf, size_t cap, size_t at, const struct unwindsvc_res *r,
				const uint64_t *ips);

#endif
