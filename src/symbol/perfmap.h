/* SPDX-License-Identifier: MIT */
/*
 * perfmap - JIT symbols from a perf map file (/tmp/perf-PID.map), as written by node --perf-basic-prof,
 * the JVM's perf-map-agent, LuaJIT, .NET and others: one "START SIZE NAME" line per code region,
 * START and SIZE in hexadecimal (with or without 0x), NAME the rest of the line.
 *
 * The file is written by the profiled process: untrusted. perfmap__load() reads it only when it is a
 * regular file owned by the target's user or by root, at most PERFMAP_MAX_SIZE bytes, without following
 * a path out of the target's root. The parser skips (and counts) malformed lines, lines longer than
 * PERFMAP_MAX_LINE, empty regions and regions that wrap around; names have control characters replaced
 * by '?'. When regions overlap, the one written last wins (a JIT rewrites code in place).
 *
 * A struct perfmap owns its entries and names; perfmap__release() frees them. Functions return 0 or a
 * negative errno (-ENOMEM; for perfmap__load also the open error, -EPERM for a file owned by another
 * user, -EFBIG for a file too large).
 */
#ifndef SCORCH_PERFMAP_H
#define SCORCH_PERFMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PERFMAP_MAX_LINE 4096
/*
 * A larger map is refused: the recorder reads it again while the target runs, and a target that writes
 * a huge map whose entries miss its code would otherwise keep a root profiler parsing all the time.
 */
#define PERFMAP_MAX_SIZE (16u << 20)

struct perfmap_entry {
	uint64_t start, size;
	char *name; /* owned */
};

struct perfmap {
	struct perfmap_entry *entries; /* owned, sorted by start, not overlapping */
	size_t nr;
	size_t bad_lines; /* lines skipped by the parser */
	/* The file perfmap__load() read (all 0 otherwise): it is not parsed again while unchanged. */
	uint64_t dev, ino, size;
	int64_t mtime_ns;
};

void perfmap__init(struct perfmap *m);
void perfmap__release(struct perfmap *m);
/* Parse 'len' bytes of perf map text (need not be NUL-terminated), replacing what 'm' held. */
int perfmap__parse(struct perfmap *m, const char *text, size_t len);
/*
 * Load 'path' inside 'root' (NULL for ours) if it belongs to 'uid' or root. For process PID:
 * root "/proc/PID/root", path "/tmp/perf-PID.map" (PID as the process sees itself). When 'm' was
 * loaded from the same file (device, inode, size and modification time), -EALREADY and 'm' is kept.
 */
int perfmap__load(struct perfmap *m, const char *root, const char *path, uid_t uid);
/* The region holding 'addr', or NULL. Borrowed. */
const struct perfmap_entry *perfmap__find(const struct perfmap *m, uint64_t addr);
/*
 * Ask the JVM 'pid' to write its perf map now: run "jcmd PID Compiler.perfmap" (JDK 17 and later),
 * found in PATH, as user 'uid' and group 'gid' (the JVM's: the attach mechanism wants them, and a root
 * process need not run a Java program for a target), with no supplementary groups, in its own process
 * group, stdout discarded and stderr too unless 'verbose', for at most 'timeout_ms' (then it is
 * killed). Returns 0 when jcmd exited with status 0; -ENOENT when there is no jcmd, -ETIMEDOUT, -EIO
 * when it failed, or the errno of a failed fork.
 */
int perfmap__ask_jvm(uint32_t pid, uid_t uid, gid_t gid, int timeout_ms, int verbose);

#endif
