// SPDX-License-Identifier: MIT
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "safeopen.h"

#define OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
/* The first open of a path: no file is opened for real, no driver called (see reopen_regular). */
#define PATH_FLAGS (O_PATH | O_CLOEXEC)
/* Without openat2: directories held open at once, and symlinks followed (the kernel's limit). */
#define WALK_MAX_DEPTH 64
#define WALK_MAX_LINKS 40

/* Whether 'st' is a regular file of an acceptable size: 0, -EINVAL or -EFBIG. */
static int regular_ok(const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if ((uint64_t)st->st_size > SAFEOPEN_MAX_SIZE)
		return -EFBIG;
	return 0;
}

/*
 * The real open, of the file an O_PATH descriptor 'pfd' holds (closed here), once fstat() says it is
 * a regular file. Opening a device or a FIFO has effects of its own (a serial port raises its modem
 * lines, a watchdog arms, a FIFO wakes its writer), so what is not a regular file is never opened
 * beyond O_PATH, which calls no driver. The reopen goes through /proc/self/fd, which names the inode
 * held, not a path that could have been swapped since. 'st' gets the file's status.
 */
static int reopen_regular(int pfd, struct stat *st)
{
	char buf[64];
	struct stat st2;
	int fd, err;

	if (fstat(pfd, st) != 0)
		err = -errno;
	else
		err = regular_ok(st);
	if (err) {
		close(pfd);
		return err;
	}
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", pfd);
	fd = open(buf, OPEN_FLAGS);
	err = fd < 0 ? -errno : 0;
	close(pfd);
	if (err)
		return err;
	/* The same inode, unless /proc is not what it should be. */
	if (fstat(fd, &st2) != 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino ||
	    !S_ISREG(st2.st_mode)) {
		close(fd);
		return -ESTALE;
	}
	*st = st2;
	return fd;
}

static int (*open_broker)(const char *root, const char *path);

void safeopen__set_broker(int (*broker)(const char *root, const char *path))
{
	open_broker = broker;
}

static int file_open(const char *path)
{
	struct stat st;
	int fd;

	fd = open(path, PATH_FLAGS);
	if (fd < 0)
		return -errno;
	return reopen_regular(fd, &st);
}

/*
 * openat2(RESOLVE_IN_ROOT) by hand, where openat2 does not exist (ENOSYS: a kernel before 5.6, a
 * container's seccomp policy, valgrind): one component at a time from the root's descriptor 'rfd'.
 * Every directory of the walk is held open, so nothing can be swapped under it; ".." never goes above
 * the root; a symlink is opened itself (O_PATH|O_NOFOLLOW), read through that descriptor and followed
 * inside the root (an absolute one from the root), at most WALK_MAX_LINKS of them. The last component
 * is the O_PATH descriptor of that walk. Returns an O_PATH descriptor or a negative errno.
 */
static int walk_in_root(int rfd, const char *path)
{
	char rest[PATH_MAX], tmp[PATH_MAX], name[NAME_MAX + 1], target[PATH_MAX];
	int dirs[WALK_MAX_DEPTH], depth = 0, links = 0, err, fd, cur;
	const char *p;
	struct stat st;
	size_t len;
	ssize_t n;

	if (strlen(path) >= sizeof(rest))
		return -ENAMETOOLONG;
	strcpy(rest, path);
	p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p) {
			err = -EINVAL; /* the path names a directory */
			break;
		}
		len = strcspn(p, "/");
		if (len > NAME_MAX) {
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(name, p, len);
		name[len] = 0;
		p += len;
		cur = depth ? dirs[depth - 1] : rfd;
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (depth)
				close(dirs[--depth]);
			continue;
		}
		fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0) {
			err = -errno;
			if (fd >= 0)
				close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			n = ++links > WALK_MAX_LINKS ? -1 : readlinkat(fd, "", target, sizeof(target) - 1);
			err = links > WALK_MAX_LINKS ? -ELOOP : n < 0 ? -errno : 0;
			close(fd);
			if (err)
				break;
			target[n] = 0;
			if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", target, p) >= sizeof(tmp)) {
				err = -ENAMETOOLONG;
				break;
			}
			strcpy(rest, tmp);
			p = rest;
			if (target[0] == '/')
				while (depth)
					close(dirs[--depth]);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth == WALK_MAX_DEPTH) {
				close(fd);
				err = -ELOOP;
				break;
			}
			dirs[depth++] = fd;
			continue;
		}
		if (p[strspn(p, "/")]) {
			close(fd);
			err = -ENOTDIR;
			break;
		}
		err = fd;
		break;
	}
	while (depth)
		close(dirs[--depth]);
	return err;
}

static int in_root_open(const char *root, const char *path)
{
	struct open_how how = {
		.flags = PATH_FLAGS,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int rfd, fd;

	if (!root || !root[0] || strcmp(root, "/") == 0)
		return file_open(path);
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	while (*path == '/')
		path++;
	fd = (int)syscall(SYS_openat2, rfd, path[0] ? path : ".", &how, sizeof(how));
	if (fd < 0)
		fd = errno == ENOSYS ? walk_in_root(rfd, path) : -errno;
	close(rfd);
	if (fd < 0)
		return fd;
	return reopen_regular(fd, &st);
}

/* Whether st is the file (dev_major:dev_minor, inode). */
static int same_file(const struct stat *st, uint32_t dev_major, uint32_t dev_minor, uint64_t inode)
{
	return (uint64_t)st->st_ino == inode && major(st->st_dev) == dev_major &&
	       minor(st->st_dev) == dev_minor;
}

static int identified_open(const char *path, uint32_t dev_major, uint32_t dev_minor, uint64_t inode)
{
	struct open_how how = {
		.flags = PATH_FLAGS,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int fd;

	if (!path || path[0] != '/')
		return -EINVAL;
	fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	fd = reopen_regular(fd, &st);
	if (fd >= 0 && !same_file(&st, dev_major, dev_minor, inode)) {
		close(fd);
		fd = -ESTALE;
	}
	return fd;
}

static int mapping_open(uint32_t pid, uint64_t start, uint64_t end, const char *path, uint32_t dev_major,
			uint32_t dev_minor, uint64_t inode)
{
	char buf[96];
	int attempt, err = -ENOENT;

	for (attempt = 0; attempt < 2; attempt++) {
		struct stat st;
		int fd;

		if (attempt == 0) {
			snprintf(buf, sizeof(buf), "/proc/%" PRIu32 "/map_files/%" PRIx64 "-%" PRIx64, pid,
				 start, end);
			/* A mapping of a device (a GPU's, /dev/mem) is held as O_PATH, never opened. */
			fd = open(buf, PATH_FLAGS);
			fd = fd < 0 ? -errno : reopen_regular(fd, &st);
		} else {
			if (path[0] != '/')
				break;
			snprintf(buf, sizeof(buf), "/proc/%" PRIu32 "/root", pid);
			fd = in_root_open(buf, path);
			if (fd >= 0 && fstat(fd, &st) != 0) {
				close(fd);
				fd = -EIO;
			}
		}
		if (fd < 0) {
			/* Out of descriptors is what to report, not the second attempt's answer. */
			if (err != -EMFILE && err != -ENFILE)
				err = fd;
			continue;
		}
		if (same_file(&st, dev_major, dev_minor, inode))
			return fd;
		close(fd);
		err = -ESTALE;
	}
	return err;
}

static uint64_t fd_exhausted;
static int fd_warned;

int safeopen__fd_error(int err)
{
	struct rlimit rl;

	if (err != -EMFILE && err != -ENFILE)
		return err;
	__atomic_add_fetch(&fd_exhausted, 1, __ATOMIC_RELAXED);
	if (!__atomic_exchange_n(&fd_warned, 1, __ATOMIC_RELAXED)) {
		if (err == -EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0)
			pr_warn("out of file descriptors (ulimit -n %llu): files left unopened are not named "
				"(counted in fd_exhausted); raise the limit",
				(unsigned long long)rl.rlim_cur);
		else
			pr_warn("out of file descriptors (%s): files left unopened are not named "
				"(counted in fd_exhausted)",
				strerror(-err));
	}
	return err;
}

uint64_t safeopen__fd_exhausted(void)
{
	return __atomic_load_n(&fd_exhausted, __ATOMIC_RELAXED);
}

/* The openers: the child's through its broker (the parent counts), ours counted here. */
int safeopen__file(const char *path)
{
	return open_broker ? open_broker(NULL, path) : safeopen__fd_error(file_open(path));
}

int safeopen__in_root(const char *root, const char *path)
{
	return open_broker ? open_broker(root, path) : safeopen__fd_error(in_root_open(root, path));
}

int safeopen__identified(const char *path, uint32_t dev_major, uint32_t dev_minor, uint64_t inode)
{
	return safeopen__fd_error(identified_open(path, dev_major, dev_minor, inode));
}

int safeopen__mapping(uint32_t pid, uint64_t start, uint64_t end, const char *path, uint32_t dev_major,
		      uint32_t dev_minor, uint64_t inode)
{
	return safeopen__fd_error(mapping_open(pid, start, end, path, dev_major, dev_minor, inode));
}

int safeopen__is_elf(int fd)
{
	unsigned char magic[SELFMAG];

	return pread(fd, magic, SELFMAG, 0) == SELFMAG && memcmp(magic, ELFMAG, SELFMAG) == 0;
}
