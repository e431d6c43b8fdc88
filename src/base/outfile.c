// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

/* The invoking user under sudo (SUDO_UID, SUDO_GID), when root runs us. */
static int sudo_user(uid_t *uid, gid_t *gid)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	unsigned long lu, lg;
	char *end;

	if (geteuid() != 0 || !u || !g || !*u || !*g)
		return 0;
	lu = strtoul(u, &end, 10);
	if (*end)
		return 0;
	lg = strtoul(g, &end, 10);
	if (*end)
		return 0;
	*uid = (uid_t)lu;
	*gid = (gid_t)lg;
	return 1;
}

/* Under sudo, give the file to the user who ran sudo rather than to root. */
static void give_to_sudo_user(int fd)
{
	uid_t u;
	gid_t g;

	if (sudo_user(&u, &g) && fchown(fd, u, g))
		pr_debug("cannot give the output to uid %lu: %s", (unsigned long)u, strerror(errno));
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Standard output or standard error when it is the file 'st', else -1. */
static int std_stream_of(const struct stat *st)
{
	struct stat s;
	int fd;

	for (fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++)
		if (!fstat(fd, &s) && same_file(&s, st))
			return fd;
	return -1;
}

/*
 * A FIFO or socket that another user made in a sticky world-writable directory (/tmp) could hand our
 * output to that user: refuse it unless it belongs to us, to the directory's owner or to the user
 * who ran sudo (fs.protected_fifos=1 makes the same rule for O_CREAT).
 */
static int check_shared_dir(const char *path, const struct stat *st)
{
	char *real = realpath(path, NULL), *slash;
	struct stat dir;
	uid_t su;
	gid_t sg;
	int err = 0;

	if (!real)
		return 0; /* gone, or a /proc link to an anonymous pipe: nobody else's name */
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	if (!stat(real, &dir) && (dir.st_mode & S_ISVTX) && (dir.st_mode & S_IWOTH) &&
	    st->st_uid != geteuid() && st->st_uid != dir.st_uid &&
	    !(sudo_user(&su, &sg) && st->st_uid == su)) {
		pr_err("refusing to write to '%s': a %s of uid %lu in the shared directory '%s'", path,
		       S_ISFIFO(st->st_mode) ? "FIFO" : "socket", (unsigned long)st->st_uid, real);
		err = -EACCES;
	}
	free(real);
	return err;
}

static int connect_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Open the device, FIFO or socket 'st' at 'path' for writing, without creating or truncating
 * anything. The first open does not block: a FIFO without a reader says ENXIO, and only then do we
 * wait for one, saying so (a signal ends the wait with EINTR where it does not end the program).
 */
static int open_in_place(struct outfile *o, const char *path, const struct stat *st)
{
	const int flags = O_WRONLY | O_NOCTTY | O_CLOEXEC;
	struct stat got;
	int fd, err, fl;

	if (S_ISSOCK(st->st_mode)) {
		fd = connect_socket(path);
		if (fd < 0) {
			pr_err("cannot write to the socket '%s': %s", path, strerror(-fd));
			return fd;
		}
		goto opened; /* a connection is an inode of its own: nothing to compare */
	}
	fd = open(path, flags | O_NONBLOCK);
	if (fd < 0 && errno == ENXIO && S_ISFIFO(st->st_mode)) {
		pr_info("waiting for a reader on the FIFO '%s'", path);
		fd = open(path, flags);
		if (fd < 0 && errno == EINTR) {
			pr_err("interrupted while waiting for a reader on '%s'", path);
			return -EINTR;
		}
	}
	if (fd < 0) {
		err = -errno;
		pr_err("cannot open '%s': %s", path, strerror(errno));
		return err;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
		err = -errno;
		pr_err("cannot write '%s': %s", path, strerror(errno));
		close(fd);
		return err;
	}
	/* What we opened must be what we looked at: no regular file swapped in meanwhile. */
	if (fstat(fd, &got) || !same_file(&got, st) || (got.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
		pr_err("cannot write '%s': it changed while being opened", path);
		close(fd);
		return -EAGAIN;
	}
opened:
	o->fd = fd;
	o->in_place = 1;
	return 0;
}

static int open_temporary(struct outfile *o, const char *path)
{
	mode_t mask;
	int err;

	if (asprintf(&o->tmp, "%s.partial-XXXXXX", path) < 0) {
		o->tmp = NULL;
		return -ENOMEM;
	}
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		err = -errno;
		pr_err("cannot create '%s': %s", path, strerror(errno));
		return err;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(o->fd, 0644 & ~mask))
		pr_debug("cannot set the mode of '%s': %s", o->tmp, strerror(errno));
	give_to_sudo_user(o->fd);
	return 0;
}

/* Decide by what 'path' names now; see the header. */
static int open_path(struct outfile *o, const char *path)
{
	struct stat lst, st;
	int fd;

	if (lstat(path, &lst)) {
		if (errno == ENOENT)
			return open_temporary(o, path); /* it says which component is missing */
		fd = -errno;
		pr_err("cannot create '%s': %s", path, strerror(errno));
		return fd;
	}
	if (S_ISLNK(lst.st_mode)) {
		if (stat(path, &st))
			return open_temporary(o, path); /* dangling, or not ours to follow: replaced */
	} else {
		st = lst;
	}
	if (S_ISDIR(st.st_mode)) {
		pr_err("cannot write '%s': %s", path, strerror(EISDIR));
		return -EISDIR;
	}
	if (S_ISBLK(st.st_mode)) {
		pr_err("refusing to write to '%s': it is a block device", path);
		return -EINVAL;
	}
	fd = std_stream_of(&st);
	if (fd >= 0 && (S_ISLNK(lst.st_mode) || !S_ISREG(st.st_mode))) {
		o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (o->fd < 0) {
			fd = -errno;
			pr_err("cannot write '%s': %s", path, strerror(errno));
			return fd;
		}
		o->in_place = 1;
		o->shares_stdout = fd == STDOUT_FILENO;
		return 0;
	}
	if (S_ISREG(st.st_mode))
		return open_temporary(o, path);
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		int err = check_shared_dir(path, &st);

		if (err)
			return err;
	}
	return open_in_place(o, path, &st);
}

int outfile__open(struct outfile *o, const char *path, int binary)
{
	int err;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (!path || strcmp(path, "-") == 0) {
		if (binary && isatty(STDOUT_FILENO)) {
			pr_err("refusing to write a binary profile to a terminal: redirect standard output or use -o FILE");
			return -EINVAL;
		}
		o->is_stdout = o->in_place = o->shares_stdout = 1;
		o->fd = STDOUT_FILENO;
		o->path = strdup("<stdout>");
		return o->path ? 0 : -ENOMEM;
	}
	o->path = strdup(path);
	if (!o->path) {
		release(o);
		return -ENOMEM;
	}
	err = open_path(o, path);
	if (!err && binary && isatty(o->fd)) {
		pr_err("refusing to write a binary profile to the terminal '%s'", path);
		err = -EINVAL;
	}
	if (err) {
		if (o->fd >= 0)
			close(o->fd);
		if (o->tmp && o->fd >= 0)
			unlink(o->tmp);
		release(o);
	}
	return err;
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

/* Close what outfile__open() opened (never standard output itself); returns 0 or a negative errno. */
static int close_output(struct outfile *o)
{
	int err = 0;

	if (o->is_stdout)
		return 0;
	if (o->fp) {
		if (fclose(o->fp))
			err = -(errno ? errno : EIO);
	} else if (o->fd >= 0 && close(o->fd)) {
		err = -errno;
	}
	o->fp = NULL;
	o->fd = -1;
	return err;
}

int outfile__commit(struct outfile *o)
{
	int err = 0, cerr;

	if (o->fp && (fflush(o->fp) || ferror(o->fp)))
		err = -(errno ? errno : EIO);
	/* Devices, FIFOs and sockets cannot be synced (EINVAL), and nothing is renamed over them. */
	if (!err && !o->in_place && fsync(o->fd))
		err = -errno;
	cerr = close_output(o);
	if (!err)
		err = cerr;
	if (err && o->is_stdout) {
		pr_err("cannot write to standard output: %s", strerror(-err));
	} else if (err) {
		pr_err("cannot write '%s': %s", o->path, strerror(-err));
		if (o->tmp)
			unlink(o->tmp);
	} else if (o->tmp && rename(o->tmp, o->path)) {
		/* The data is whole and synced: a recording is never thrown away for want of a name. */
		err = -errno;
		pr_err("cannot replace '%s': %s; the complete output is kept as '%s'", o->path,
		       strerror(errno), o->tmp);
	}
	release(o);
	return err;
}

void outfile__abort(struct outfile *o)
{
	if (!o->path)
		return;
	if (o->is_stdout && o->fp)
		fflush(o->fp);
	close_output(o);
	if (o->tmp)
		unlink(o->tmp);
	release(o);
}
