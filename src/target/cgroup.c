// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "cgroup.h"
#include "log.h"

/* Where the (first) cgroup v2 file system is mounted, from /proc/self/mounts: 0 or -ENOENT. */
static int cgroup2_mount(char *buf, size_t size)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	int err = -ENOENT;

	if (!f)
		return -ENOENT;
	while ((m = getmntent(f)))
		if (strcmp(m->mnt_type, "cgroup2") == 0 && strlen(m->mnt_dir) < size) {
			snprintf(buf, size, "%s", m->mnt_dir);
			err = 0;
			break;
		}
	endmntent(f);
	return err;
}

/* 'path' resolved if it is a directory on a cgroup v2 file system; else NULL with errno set
 * (ENOTDIR when it is something else). Owned by the caller. */
static char *cgroup2_dir(const char *path)
{
	char *real = realpath(path, NULL);
	struct statfs sfs;
	struct stat st;

	if (!real)
		return NULL;
	if (stat(real, &st) || !S_ISDIR(st.st_mode) || statfs(real, &sfs) ||
	    sfs.f_type != CGROUP2_SUPER_MAGIC) {
		free(real);
		errno = ENOTDIR;
		return NULL;
	}
	return real;
}

/* The depth is found by walking up while the parent is on the same cgroup2 file system. */
int cgroup__resolve(const char *path, char resolved[PATH_MAX], uint64_t *id, uint32_t *level)
{
	char mnt[PATH_MAX], *real = cgroup2_dir(path), *slash, *under = NULL;
	int errno_given = errno, have_mnt = cgroup2_mount(mnt, sizeof(mnt)) == 0;
	struct statfs sfs;
	struct stat st, top;
	size_t ml = have_mnt ? strlen(mnt) : 0;
	uint32_t n = 0;

	/* A path already under the mount is not looked up again below it. */
	if (!real && have_mnt && !(strncmp(path, mnt, ml) == 0 && (path[ml] == '/' || !path[ml]))) {
		const char *rel = path;

		while (*rel == '/')
			rel++;
		if (asprintf(&under, "%s/%s", mnt, rel) < 0)
			return -ENOMEM;
		real = cgroup2_dir(under);
	}
	if (!real) {
		if (have_mnt && !under)
			pr_err("'%s' is not a cgroup v2 directory (%s; the cgroup v2 mount is '%s')", path,
			       errno_given == ENOTDIR ? "not on a cgroup2 file system"
						      : strerror(errno_given),
			       mnt);
		else if (!have_mnt)
			pr_err("'%s' is not a cgroup v2 directory (%s), and no cgroup v2 file system is mounted",
			       path,
			       errno_given == ENOTDIR ? "not on a cgroup2 file system"
						      : strerror(errno_given));
		else
			pr_err("'%s' is not a cgroup v2 directory (%s), nor is '%s' (the cgroup v2 mount is '%s')",
			       path,
			       errno_given == ENOTDIR ? "not on a cgroup2 file system"
						      : strerror(errno_given),
			       under, mnt);
		free(under);
		return -EINVAL;
	}
	free(under);
	if (stat(real, &st)) {
		pr_err("cannot use cgroup '%s': %s", real, strerror(errno));
		free(real);
		return -EINVAL;
	}
	snprintf(resolved, PATH_MAX, "%s", real); /* realpath() results fit */
	*id = st.st_ino;
	top = st;
	while ((slash = strrchr(real, '/')) && slash != real) {
		struct stat pst;

		*slash = '\0';
		if (stat(real, &pst) || pst.st_dev != top.st_dev || statfs(real, &sfs) ||
		    sfs.f_type != CGROUP2_SUPER_MAGIC)
			break;
		n++;
	}
	free(real);
	*level = n;
	return 0;
}
