// SPDX-License-Identifier: MIT
/*
 * debuginfo - finding a file's separate debuginfo for libdwfl, safely: see symbolizer_int.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <elfutils/libdwfl.h>

#include "log.h"
#include "safeopen.h"
#include "symbolizer_int.h"

/* --- debuginfo lookup ---------------------------------------------------------------------------- */

/* Open a candidate debuginfo file (inside 'root' when given) if it is a regular ELF file. */
static int open_debug_candidate(const char *root, const char *path)
{
	int fd = safeopen__in_root(root, path);

	if (fd < 0)
		return -1;
	if (!safeopen__is_elf(fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int crc_matches(int fd, uint32_t want)
{
	unsigned char buf[65536];
	uLong crc = crc32(0L, Z_NULL, 0);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		crc = crc32(crc, buf, (uInt)n);
		off += n;
		if ((uint64_t)off > SAFEOPEN_MAX_SIZE)
			return 0;
	}
	return n == 0 && (uint32_t)crc == want;
}

static int return_found(int fd, const char *root, const char *path, char **name_out)
{
	if (asprintf(name_out, "%s%s", root ? root : "", path) < 0) {
		*name_out = NULL;
		close(fd);
		return -1;
	}
	pr_debug("debuginfo: '%s'", *name_out);
	return fd;
}

static int find_by_build_id(struct sym_elf *e, Dwfl_Module *mod, char **name_out)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &bits, &vaddr), i, fd;
	char hex[2 * 64 + 1], path[PATH_MAX];
	size_t d;

	if (n <= 1 || n > 64)
		return -1;
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", bits[i]);
	for (d = 0; d <= e->s->opts.nr_debug_dirs + 1; d++) {
		const char *dir, *root = NULL;

		if (d < e->s->opts.nr_debug_dirs) {
			dir = e->s->opts.debug_dirs[d];
		} else if (d == e->s->opts.nr_debug_dirs) {
			if (!e->root)
				continue;
			dir = SYSTEM_DEBUG_DIR;
			root = e->root;
		} else {
			dir = SYSTEM_DEBUG_DIR;
		}
		snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", dir, hex, hex + 2);
		fd = open_debug_candidate(root, path);
		if (fd >= 0)
			return return_found(fd, root, path, name_out);
	}
	return -1;
}

static int find_by_debuglink(struct sym_elf *e, const char *link, uint32_t crc, char **name_out)
{
	char dir[PATH_MAX], path[2 * PATH_MAX + 64];
	const char *slash = strrchr(e->name, '/');
	size_t d, nr_dirs = e->s->opts.nr_debug_dirs;
	int k, fd;

	/* The link is a file name the target chose: never a path. */
	if (!link || !link[0] || strchr(link, '/') || !strcmp(link, ".") || !strcmp(link, "..") ||
	    strlen(link) > 255 || !slash)
		return -1;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - e->name), e->name);
	for (d = 0; d < nr_dirs + 2; d++) {
		for (k = 0; k < 3; k++) {
			const char *root = NULL;

			if (d < nr_dirs) {
				/* A user directory: DIR/LINK and DIR/FILEDIR/LINK. */
				if (k == 2)
					continue;
				snprintf(path, sizeof(path), "%s%s/%s", e->s->opts.debug_dirs[d],
					 k ? dir : "", link);
			} else {
				/* Next to the file, in its .debug/, and under /usr/lib/debug: in the target's
				 * root first, then in ours for the system directory. */
				if (d == nr_dirs + 1 && k != 2)
					continue;
				root = d == nr_dirs ? e->root : NULL;
				if (k == 0)
					snprintf(path, sizeof(path), "%s/%s", dir, link);
				else if (k == 1)
					snprintf(path, sizeof(path), "%s/.debug/%s", dir, link);
				else
					snprintf(path, sizeof(path), SYSTEM_DEBUG_DIR "%s/%s", dir, link);
			}
			fd = open_debug_candidate(root, path);
			if (fd < 0)
				continue;
			if (crc_matches(fd, crc))
				return return_found(fd, root, path, name_out);
			pr_debug("debuginfo: '%s' has the wrong CRC", path);
			close(fd);
		}
	}
	return -1;
}

/*
 * libdwfl asks here when the file has no DWARF (or no .symtab) of its own. Never let libdwfl open
 * files by names the target chose: every candidate is opened by us, safely.
 */
int debuginfo__find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		    char **debuginfo_file_name)
{
	struct sym_elf *e = *userdata;
	int fd;

	if (!e)
		return -1;
	fd = find_by_build_id(e, mod, debuginfo_file_name);
	if (fd < 0)
		fd = find_by_debuglink(e, debuglink_file, debuglink_crc, debuginfo_file_name);
	if (fd < 0 && e->s->opts.debuginfod && getenv("DEBUGINFOD_URLS"))
		fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
						  debuglink_crc, debuginfo_file_name);
	return fd;
}
