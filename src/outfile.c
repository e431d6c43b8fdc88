// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "outfile.h"

static void release(struct outfile *o)
{
	free(o->path);
	free(o->tmp);
	o->path = o->tmp = NULL;
	o->fp = NULL;
	o->fd = -1;
}

/* Under sudo, give the file to the user who ran sudo rather than to root. */
static void give_to_sudo_user(int fd)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");
	char *end;
	unsigned long u, g;

	if (geteuid() != 0 || !uid || !gid)
		return;
	u = strtoul(uid, &end, 10);
	if (*end || !*uid)
		return;
	g = strtoul(gid, &end, 10);
	if (*end || !*gid)
		return;
	if (fchown(fd, (uid_t)u, (gid_t)g))
		pr_debug("cannot give the output to uid %lu: %s", u, strerror(errno));
}

int outfile__open(struct outfile *o, const char *path, int binary)
{
	mode_t mask;
	int err;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (!path || strcmp(path, "-") == 0) {
		if (binary && isatty(STDOUT_FILENO)) {
			pr_err("refusing to write a binary profile to a terminal: redirect standard output or use -o FILE");
			return -EINVAL;
		}
		o->is_stdout = 1;
		o->fd = STDOUT_FILENO;
		o->path = strdup("<stdout>");
		return o->path ? 0 : -ENOMEM;
	}
	o->path = strdup(path);
	if (!o->path || asprintf(&o->tmp, "%s.partial-XXXXXX", path) < 0) {
		o->tmp = NULL;
		release(o);
		return -ENOMEM;
	}
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		err = -errno;
		pr_err("cannot create '%s': %s", path, strerror(errno));
		release(o);
		return err;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(o->fd, 0644 & ~mask))
		pr_debug("cannot set the mode of '%s': %s", o->tmp, strerror(errno));
	give_to_sudo_user(o->fd);
	return 0;
}

FILE *outfile__fp(struct outfile *o)
{
	if (!o->fp) {
		o->fp = o->is_stdout ? stdout : fdopen(o->fd, "w");
		if (!o->fp)
			pr_err("cannot write '%s': %s", o->path, strerror(errno));
	}
	return o->fp;
}

int outfile__commit(struct outfile *o)
{
	int err = 0;

	if (o->fp && (fflush(o->fp) || ferror(o->fp)))
		err = -(errno ? errno : EIO);
	if (o->is_stdout) {
		if (err)
			pr_err("cannot write to standard output: %s", strerror(-err));
		release(o);
		return err;
	}
	if (!err && fsync(o->fd))
		err = -errno;
	if (o->fp) {
		if (fclose(o->fp) && !err)
			err = -(errno ? errno : EIO);
	} else if (close(o->fd) && !err) {
		err = -errno;
	}
	o->fp = NULL;
	o->fd = -1;
	if (!err && rename(o->tmp, o->path))
		err = -errno;
	if (err) {
		pr_err("cannot write '%s': %s", o->path, strerror(-err));
		unlink(o->tmp);
	}
	release(o);
	return err;
}

void outfile__abort(struct outfile *o)
{
	if (!o->path)
		return;
	if (!o->is_stdout) {
		if (o->fp)
			fclose(o->fp);
		else if (o->fd >= 0)
			close(o->fd);
		unlink(o->tmp);
	} else if (o->fp) {
		fflush(o->fp);
	}
	release(o);
}
