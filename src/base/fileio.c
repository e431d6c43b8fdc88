// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"

int fileio__pread_all(int fd, uint64_t off, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

int fileio__read_all(int fd, size_t max, char **bufp, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err;

	*bufp = NULL;
	*lenp = 0;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 1 << 16;
			char *nb;

			if (cap > max) {
				err = -EFBIG;
				goto fail;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				err = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			err = -EFBIG;
			goto fail;
		}
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	free(buf);
	return err;
}

const char *fileio__name(const char *path)
{
	return strcmp(path, "-") ? path : "<stdin>";
}

int fileio__load(const char *path, char **buf, size_t *len)
{
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int err;

	*buf = NULL;
	*len = 0;
	if (fd < 0) {
		err = -errno;
		pr_err("cannot open '%s': %s", path, strerror(errno));
		return err;
	}
	err = fileio__read_all(fd, FILEIO_MAX_FILE, buf, len);
	if (!is_stdin)
		close(fd);
	if (err == -EFBIG)
		pr_err("'%s' is larger than %zu GiB", fileio__name(path), FILEIO_MAX_FILE >> 30);
	else if (err)
		pr_err("cannot read '%s': %s", fileio__name(path), strerror(-err));
	return err;
}
