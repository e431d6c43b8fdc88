/* SPDX-License-Identifier: MIT */
/*
 * outfile - the output of a command, written so that nothing already at its path is damaged and
 * nothing written is lost.
 *
 * outfile__open() looks at what the path names before writing anything:
 *  - nothing, a regular file, or a symlink that leads to one or nowhere: the output goes to a new
 *    "<path>.partial-XXXXXX" next to it (O_EXCL: a planted file or symlink is never followed), mode
 *    0644 less the umask, owned by the invoking user under sudo. outfile__commit() flushes, syncs and
 *    renames it over the path (a symlink there is replaced, not followed).
 *  - a character device, a FIFO or a socket, itself or at the end of symlinks (/dev/null, a named
 *    pipe, /dev/stdout when standard output is a pipe or a terminal): it is written in place, opened
 *    without O_CREAT and O_TRUNC (a socket is connected to); nothing is created, renamed or removed.
 *    Opening a FIFO waits for a reader, as `cat > FIFO` does, after saying so on stderr. A FIFO or
 *    socket owned by another user in a sticky world-writable directory such as /tmp is refused
 *    (-EACCES), as the kernel's fs.protected_fifos refuses it to O_CREAT.
 *  - the file that standard output or standard error already writes (/dev/stdout, /dev/stderr,
 *    /proc/self/fd/1, whatever it is): written through a duplicate of that descriptor.
 *  - a directory (-EISDIR) or a block device (-EINVAL): refused.
 * With path "-" the output is standard output. 'binary' refuses a terminal (-EINVAL).
 *
 * outfile__commit() never deletes data that was written whole: when the rename fails (say a
 * directory appeared at the path meanwhile), the complete file stays under its temporary name and
 * the error message names it. A write, flush or sync error removes the temporary file, as does
 * outfile__abort(). The struct is embedded by the caller and owns its fd, FILE and strings; its
 * flags stay valid after commit or abort. Errors are logged with the path; functions return 0 or a
 * negative errno.
 */
#ifndef SCORCH_OUTFILE_H
#define SCORCH_OUTFILE_H

#include <stdio.h>

struct outfile {
	char *path; /* owned; the destination ("<stdout>" for "-") */
	char *tmp;  /* owned; the temporary file, NULL when written in place */
	int fd;
	FILE *fp;          /* owned; NULL until outfile__fp() */
	int is_stdout;     /* path "-": fd is STDOUT_FILENO, never closed */
	int in_place;      /* written in place: "-", a device, FIFO or socket, or standard output's file */
	int shares_stdout; /* the output is standard output's file ("-", /dev/stdout) */
};

/* 'binary': refuse to write to a terminal. */
int outfile__open(struct outfile *o, const char *path, int binary);
/* A stdio stream on the file (created on first call), or NULL with errno set. */
FILE *outfile__fp(struct outfile *o);
int outfile__commit(struct outfile *o);
void outfile__abort(struct outfile *o);

#endif
