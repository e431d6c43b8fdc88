/* SPDX-License-Identifier: MIT */
/*
 * safeopen - open files whose paths a profiled process chose, the way a root profiler must.
 *
 * Every function first resolves the path to an O_PATH descriptor, which opens nothing (no driver is
 * called, a FIFO's writer is not woken), fstat()s it, and opens the file for real (read-only with
 * O_NONBLOCK|O_NOCTTY|O_CLOEXEC, through /proc/self/fd: the inode held, not the path again) only when
 * it is a regular file no larger than SAFEOPEN_MAX_SIZE. So a path or symlink to a device (a serial
 * port, a watchdog, /dev/zero) or a FIFO is refused without opening it, even by root. Paths inside
 * another process's root are resolved with openat2(RESOLVE_IN_ROOT), so neither ".." nor an absolute
 * symlink leads out of that root; where openat2 does not exist (ENOSYS), by a walk that holds each
 * directory open and follows symlinks inside the root the same way. Functions return a descriptor the
 * caller owns, or a negative errno (-EINVAL for a file that is not regular, -EFBIG for one too large).
 * /proc must be mounted.
 */
#ifndef SCORCH_SAFEOPEN_H
#define SCORCH_SAFEOPEN_H

#include <stdint.h>
#include <sys/types.h>

#define SAFEOPEN_MAX_SIZE (4ULL << 30)

/* Open 'path' (resolved normally: for paths the user gave, or under trusted system directories). */
int safeopen__file(const char *path);
/* Open 'path' inside the directory tree 'root' (e.g. "/proc/PID/root"); root NULL or "/" = no jail. */
int safeopen__in_root(const char *root, const char *path);
/*
 * Open the file of a mapping [start, end) of process 'pid' whose maps line names 'path' and
 * (dev_major:dev_minor, inode): through /proc/PID/map_files first (the exact mapped inode, even when
 * deleted or replaced), else 'path' inside /proc/PID/root. The (device, inode) must match.
 */
int safeopen__mapping(uint32_t pid, uint64_t start, uint64_t end, const char *path, uint32_t dev_major,
		      uint32_t dev_minor, uint64_t inode);
/*
 * Open the absolute 'path' (a mapping event's, of a process that is gone) in our root, with no symlink
 * on the way (openat2 RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS), and keep it only when it is still
 * the file (dev_major:dev_minor, inode): a chrooted target's path may name another file here.
 * -EINVAL for a relative path or a file that is not regular, -ELOOP for a symlink, -ESTALE for
 * another file.
 */
int safeopen__identified(const char *path, uint32_t dev_major, uint32_t dev_minor, uint64_t inode);
/*
 * Route safeopen__file() and safeopen__in_root() through 'broker' (NULL: open directly). The sandboxed
 * symbolizer child (sandbox.h), which may not open files, asks its parent this way.
 */
void safeopen__set_broker(int (*broker)(const char *root, const char *path));
/*
 * Running out of descriptors (ulimit -n) must not pass for a missing file: each opener here, and
 * other code that opens or receives descriptors for a target's files (the sandbox), passes its error
 * through safeopen__fd_error(), which returns 'err' (a negative errno) as it is and, for -EMFILE or
 * -ENFILE, counts it (process-wide, thread-safe) and warns once on stderr. safeopen__fd_exhausted()
 * is that count (the recorder's fd_exhausted counter).
 */
int safeopen__fd_error(int err);
uint64_t safeopen__fd_exhausted(void);
/* Whether the first bytes of 'fd' are the ELF magic. */
int safeopen__is_elf(int fd);

#endif
