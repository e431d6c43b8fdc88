/* SPDX-License-Identifier: MIT */
/*
 * cgroup - naming the cgroup v2 directory that a recording is limited to (record --cgroup).
 *
 * Nothing is owned: the results are written into the caller's buffers.
 */
#ifndef SCORCH_CGROUP_H
#define SCORCH_CGROUP_H

#include <limits.h>
#include <stdint.h>

/*
 * The cgroup v2 directory 'path', as given or else under the cgroup v2 mount (where cgroup v1 and
 * v2 are mounted side by side, v2 is not /sys/fs/cgroup: /sys/fs/cgroup/unified): its resolved
 * path into 'resolved', its id (the directory's inode number) into *id and its depth below the
 * cgroup v2 root into *level. Returns 0; -EINVAL when it is no cgroup v2 directory (the error
 * printed, saying why and where the cgroup v2 mount is); or -ENOMEM.
 */
int cgroup__resolve(const char *path, char resolved[PATH_MAX], uint64_t *id, uint32_t *level);

#endif
