/* SPDX-License-Identifier: MIT */
/*
 * fileio - read a whole file descriptor into memory, with a size cap.
 *
 * fileio__read_all() reads until end of file (pipes and /proc files included: their size is not
 * known in advance). On success *buf is a malloc'd buffer owned by the caller, NUL-terminated after
 * *len bytes. Returns 0, -EFBIG past 'max' bytes, -ENOMEM, or the read error; *buf is NULL on error.
 */
#ifndef SCORCH_FILEIO_H
#define SCORCH_FILEIO_H

#include <stddef.h>
#include <stdint.h>

int fileio__read_all(int fd, size_t max, char **buf, size_t *len);
/* Read exactly 'len' bytes at offset 'off' of 'fd' (pread, EINTR retried): 0, or -EIO (short or failed). */
int fileio__pread_all(int fd, uint64_t off, void *buf, size_t len);

/* How messages name 'path': "<stdin>" for "-", else the path itself. */
const char *fileio__name(const char *path);
/*
 * Read the whole file at 'path' ("-": standard input, left open) as fileio__read_all() does, at most
 * FILEIO_MAX_FILE bytes; an error is logged, naming the file. Returns 0 or a negative errno.
 */
#define FILEIO_MAX_FILE ((size_t)4 << 30)
int fileio__load(const char *path, char **buf, size_t *len);

#endif
