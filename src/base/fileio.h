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

int fileio__read_all(int fd, size_t max, char **buf, size_t *len);

#endif
