// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "perfmap.h"
#include "safeopen.h"

void perfmap__init(struct perfmap *m)
{
	memset(m, 0, sizeof(*m));
}

void perfmap__release(struct perfmap *m)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		free(m->entries[i].name);
	free(m->entries);
	perfmap__init(m);
}

/* Parse a hexadecimal number ending at a space; advances *p. */
static int parse_hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	if (end - s >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	while (s < end && isxdigit((unsigned char)*s)) {
		if (++digits > 16)
			return -1;
		v = v << 4 | (uint64_t)(isdigit((unsigned char)*s) ? *s - '0' : (*s | 0x20) - 'a' + 10);
		s++;
	}
	if (!digits || s >= end || *s != ' ')
		return -1;
	*p = s + 1;
	*out = v;
	return 0;
}

struct parsed {
	struct perfmap_entry e;
	size_t order;
};

static int cmp_parsed(const void *a, const void *b)
{
	const struct parsed *x = a, *y = b;

	if (x->e.start != y->e.start)
		return x->e.start < y->e.start ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* Parse one line; 0 on success (entry filled, name owned), 1 for a bad line, -ENOMEM. */
static int parse_line(const char *s, const char *end, struct perfmap_entry *e)
{
	size_t n, i;

	if (end > s && end[-1] == '\r')
		end--;
	if (parse_hex(&s, end, &e->start) || parse_hex(&s, end, &e->size))
		return 1;
	while (s < end && *s == ' ')
		s++;
	if (s >= end || !e->size || e->start + e->size < e->start)
		return 1;
	n = (size_t)(end - s);
	e->name = malloc(n + 1);
	if (!e->name)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		e->name[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	e->name[n] = '\0';
	return 0;
}

int perfmap__parse(struct perfmap *m, const char *text, size_t len)
{
	struct parsed *v = NULL;
	size_t nr = 0, cap = 0, bad = 0, i, out;
	const char *p = text, *end = text + len;
	int err = 0;

	perfmap__release(m);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct perfmap_entry e = { 0 };
		int r;

		if (le == p) {
			p = le + 1;
			continue;
		}
		/* A last line without newline may be half-written by the JIT: skip it too. */
		if ((size_t)(le - p) > PERFMAP_MAX_LINE || !nl) {
			bad++;
			p = le + 1;
			continue;
		}
		r = parse_line(p, le, &e);
		p = le + 1;
		if (r < 0) {
			err = r;
			goto fail;
		}
		if (r) {
			bad++;
			continue;
		}
		if (array__grow(&v, &cap, nr + 1, sizeof(*v))) {
			free(e.name);
			err = -ENOMEM;
			goto fail;
		}
		v[nr].e = e;
		v[nr].order = nr;
		nr++;
	}
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_parsed);
	/*
	 * Resolve overlaps in favour of the region written last (a JIT reuses code memory): walking by
	 * start, a later-written region clips (or, at the same start, replaces) the one before it; an
	 * earlier-written region that overlaps a kept later one is dropped.
	 */
	for (i = 0, out = 0; i < nr; i++) {
		struct parsed *prev = out ? &v[out - 1] : NULL;

		if (prev && v[i].e.start - prev->e.start < prev->e.size) {
			if (v[i].order < prev->order) {
				free(v[i].e.name);
				continue;
			}
			if (v[i].e.start == prev->e.start) {
				free(prev->e.name);
				out--;
			} else {
				prev->e.size = v[i].e.start - prev->e.start;
			}
		}
		v[out++] = v[i];
	}
	m->entries = calloc(out ? out : 1, sizeof(*m->entries));
	if (!m->entries) {
		nr = out;
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < out; i++)
		m->entries[i] = v[i].e;
	m->nr = out;
	m->bad_lines = bad;
	free(v);
	return 0;
fail:
	for (i = 0; i < nr; i++)
		free(v[i].e.name);
	free(v);
	perfmap__release(m);
	return err;
}

int perfmap__load(struct perfmap *m, const char *root, const char *path, uid_t uid)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int64_t mtime;
	int fd, err;

	fd = safeopen__in_root(root, path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		goto out;
	}
	/* perf trusts only the target's own files (or root's): anyone else could plant names. */
	if (st.st_uid != uid && st.st_uid != 0) {
		err = -EPERM;
		goto out;
	}
	if ((uint64_t)st.st_size > PERFMAP_MAX_SIZE) {
		err = -EFBIG;
		goto out;
	}
	mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (m->ino && m->ino == st.st_ino && m->dev == st.st_dev && m->size == (uint64_t)st.st_size &&
	    m->mtime_ns == mtime) {
		err = -EALREADY;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	err = perfmap__parse(m, buf, got);
	free(buf);
	if (!err) {
		m->dev = st.st_dev;
		m->ino = st.st_ino;
		m->size = (uint64_t)st.st_size;
		m->mtime_ns = mtime;
	}
out:
	close(fd);
	return err;
}

const struct perfmap_entry *perfmap__find(const struct perfmap *m, uint64_t addr)
{
	size_t i = array__upper_bound_u64(m->entries, m->nr, sizeof(*m->entries),
					  offsetof(struct perfmap_entry, start), addr);

	if (!i || addr - m->entries[i - 1].start >= m->entries[i - 1].size)
		return NULL;
	return &m->entries[i - 1];
}

/* The absolute path of 'name' in PATH (as the caller sees it), into buf; -ENOENT when there is none. */
static int find_in_path(const char *name, char *buf, size_t size)
{
	const char *path = getenv("PATH"), *p, *colon;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p; p = *colon ? colon + 1 : colon) {
		struct stat st;
		size_t len;

		colon = strchrnul(p, ':');
		len = (size_t)(colon - p);
		if (!len ||
		    p[0] != '/') /* relative PATH entries name the caller's cwd: not for a root tool */
			continue;
		if ((size_t)snprintf(buf, size, "%.*s/%s", (int)len, p, name) >= size)
			continue;
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return 0;
	}
	return -ENOENT;
}

int perfmap__ask_jvm(uint32_t pid, uid_t uid, gid_t gid, int timeout_ms, int verbose)
{
	char jcmd[PATH_MAX], pidarg[16], envpath[PATH_MAX + 8];
	struct timespec step = { 0, 20 * 1000 * 1000 };
	int status, waited = 0;
	pid_t child;

	if (find_in_path("jcmd", jcmd, sizeof(jcmd)))
		return -ENOENT;
	snprintf(pidarg, sizeof(pidarg), "%u", pid);
	snprintf(envpath, sizeof(envpath), "PATH=%s", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		char *argv[] = { jcmd, pidarg, "Compiler.perfmap", NULL };
		char *envp[] = { envpath, "LC_ALL=C", NULL };
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* Not in our process group: a Ctrl-C meant for the recorder does not cut it short. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    (!verbose && dup2(null, STDERR_FILENO) < 0))
			_exit(126);
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			_exit(126);
		execve(jcmd, argv, envp);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);

		if (w == child)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (waited >= timeout_ms) {
			kill(-child, SIGKILL);
			kill(child, SIGKILL);
			while (waitpid(child, &status, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		nanosleep(&step, NULL);
		waited += 20;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}
