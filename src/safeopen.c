// SPDX-License-Identifier: MIT
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "safeopen.h"

#define OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/* Keep 'fd' only when it is a regular file of an acceptable size; closes it otherwise. */
static int check_regular(int fd, struct stat *st)
{
	int err = 0;

	if (fstat(fd, st) != 0)
		err = -errno;
	else if (!S_ISREG(st->st_mode))
		err = -EINVAL;
	else if ((uint64_t)st->st_size > SAFEOPEN_MAX_SIZE)
		err = -EFBIG;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int (*open_broker)(const char *root, const char *path);

void safeopen__set_broker(int (*broker)(const char *root, const char *path))
{
	open_broker = broker;
}

int safeopen__file(const char *path)
{
	struct stat st;
	int fd;

	if (open_broker)
		return open_broker(NULL, path);
	fd = open(path, OPEN_FLAGS);

	if (fd < 0)
		return -errno;
	return check_regular(fd, &st);
}

int safeopen__in_root(const char *root, const char *path)
{
	struct open_how how = {
		.flags = OPEN_FLAGS,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int rfd, fd;

	if (open_broker)
		return open_broker(root, path);
	if (!root || !root[0] || strcmp(root, "/") == 0)
		return safeopen__file(path);
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	while (*path == '/')
		path++;
	fd = (int)syscall(SYS_openat2, rfd, path[0] ? path : ".", &how, sizeof(how));
	if (fd < 0)
		fd = -errno;
	close(rfd);
	if (fd < 0)
		return fd;
	return check_regular(fd, &st);
}

int safeopen__mapping(uint32_t pid, uint64_t start, uint64_t end, const char *path, uint32_t dev_major,
		      uint32_t dev_minor, uint64_t inode)
{
	char buf[96];
	int attempt, err = -ENOENT;

	for (attempt = 0; attempt < 2; attempt++) {
		struct stat st;
		int fd;

		if (attempt == 0) {
			snprintf(buf, sizeof(buf), "/proc/%" PRIu32 "/map_files/%" PRIx64 "-%" PRIx64, pid, start,
				 end);
			fd = open(buf, OPEN_FLAGS);
			fd = fd < 0 ? -errno : check_regular(fd, &st);
		} else {
			if (path[0] != '/')
				break;
			snprintf(buf, sizeof(buf), "/proc/%" PRIu32 "/root", pid);
			fd = safeopen__in_root(buf, path);
			if (fd >= 0 && fstat(fd, &st) != 0) {
				close(fd);
				fd = -EIO;
			}
		}
		if (fd < 0) {
			err = fd;
			continue;
		}
		if (st.st_ino == inode && major(st.st_dev) == dev_major && minor(st.st_dev) == dev_minor)
			return fd;
		close(fd);
		err = -ESTALE;
	}
	return err;
}

int safeopen__is_elf(int fd)
{
	unsigned char magic[SELFMAG];

	return pread(fd, magic, SELFMAG, 0) == SELFMAG && memcmp(magic, ELFMAG, SELFMAG) == 0;
}
