/* SPDX-License-Identifier: MIT */
/*
 * outfile - an output file that appears whole or not at all.
 *
 * outfile__open() creates "<path>.partial-XXXXXX" next to the destination (O_EXCL: a planted file or
 * symlink is never followed), mode 0644 less the umask, owned by the invoking user under sudo.
 * outfile__commit() flushes, syncs and renames it over the destination; outfile__abort() removes it.
 * With path "-" the output is standard output and nothing is renamed. The struct is embedded by the
 * caller and owns its fd, FILE and strings. Errors are logged with the path; functions return 0 or a
 * negative errno.
 */
#ifndef SCORCH_OUTFILE_H
#define SCORCH_OUTFILE_H

#include <stdio.h>

struct outfile {
	char *path;   /* owned; the destination */
	char *tmp;    /* owned; NULL for standard output */
	int fd;
	FILE *fp;     /* owned; NULL until outfile__fp() */
	int is_stdout;
};

/* 'binary': refuse to write to a terminal. */
int outfile__open(struct outfile *o, const char *path, int binary);
/* A stdio stream on the file (created on first call), or NULL with errno set. */
FILE *outfile__fp(struct outfile *o);
int outfile__commit(struct outfile *o);
void outfile__abort(struct outfile *o);

#endif
