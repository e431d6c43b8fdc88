// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "resymbolize.h"
#include "safeopen.h"
#include "sandbox.h"

#define MAX_FRAMES 32

static int is_build_id(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 4 || n > 128 || n % 2)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* The ELF to name mapping 'm' with: a debug file by build id, else the file itself if it matches. */
static struct sandbox_elf *find_elf(struct sandbox *s, const struct profile *p, uint32_t m,
				    const char *const *dirs, size_t nr_dirs)
{
	const char *path = profile__str(p, p->mappings[m].name);
	const char *bid = profile__str(p, p->mappings[m].build_id);
	char cand[PATH_MAX];
	struct sandbox_elf *e = NULL;
	size_t d;
	int fd;

	for (d = 0; d <= nr_dirs && !e; d++) {
		snprintf(cand, sizeof(cand), "%s/.build-id/%.2s/%s.debug", d < nr_dirs ? dirs[d] : "/usr/lib/debug",
			 bid, bid + 2);
		fd = safeopen__file(cand);
		if (fd < 0)
			continue;
		e = sandbox__open_fd(s, fd, path, NULL);
		close(fd);
		if (e && strcmp(sandbox__build_id(e), bid) != 0)
			e = NULL;
		if (e && !sandbox__has_dwarf(s, e))
			e = NULL;
	}
	if (e || path[0] != '/')
		return e;
	fd = safeopen__file(path);
	if (fd < 0)
		return NULL;
	e = sandbox__open_fd(s, fd, path, NULL);
	close(fd);
	if (e && strcmp(sandbox__build_id(e), bid) != 0) {
		pr_debug("'%s' has changed since the recording (build id): not used", path);
		e = NULL;
	}
	return e;
}

int resymbolize__profile(struct profile *p, const struct resymbolize_opts *o)
{
	const char *const *debug_dirs = o->debug_dirs;
	size_t nr_dirs = o->nr_debug_dirs;
	struct symbolizer_opts so = { .debug_dirs = debug_dirs, .nr_debug_dirs = nr_dirs };
	struct sandbox *s = sandbox__new(&so, !o->no_sandbox);
	struct sandbox_stats st;
	struct sandbox_elf **elfs = NULL;
	uint8_t *tried = NULL;
	uint32_t i, nr_maps = p->nr_mappings;
	int changed = 0, err = 0;

	if (!s)
		return -ENOMEM;
	/* Each location is a round trip to the child: cheapest on one CPU. */
	err = sandbox__share_cpu(s);
	if (err)
		pr_debug("cannot keep the symbolizer child on this CPU: %s", strerror(-err));
	err = 0;
	elfs = calloc(nr_maps ? nr_maps : 1, sizeof(*elfs));
	tried = calloc(nr_maps ? nr_maps : 1, 1);
	if (!elfs || !tried) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < p->nr_locations; i++) {
		const struct profile_location *l = &p->locations[i];
		const struct profile_mapping *m = &p->mappings[l->mapping];
		struct profile_frame pf[MAX_FRAMES];
		struct sym_frame sf[MAX_FRAMES];
		int n, k;

		if (m->kind != PROFILE_MAP_FILE || (l->flags & PROFILE_LOC_FILE_OFFSET) ||
		    !is_build_id(profile__str(p, m->build_id)))
			continue;
		if (!tried[l->mapping]) {
			tried[l->mapping] = 1;
			elfs[l->mapping] = find_elf(s, p, l->mapping, debug_dirs, nr_dirs);
			if (!elfs[l->mapping])
				pr_debug("no file or debuginfo for '%s' (build id %s)", profile__str(p, m->name),
					 profile__str(p, m->build_id));
		}
		if (!elfs[l->mapping])
			continue;
		n = sandbox__lookup(s, elfs[l->mapping], l->addr, sf, MAX_FRAMES);
		if (n <= 0)
			continue;
		for (k = 0; k < n; k++) {
			pf[k].function = sf[k].function ? profile__intern_cstr(p, sf[k].function) : 0;
			pf[k].file = sf[k].file ? profile__intern_cstr(p, sf[k].file) : 0;
			pf[k].line = sf[k].line;
			pf[k].flags = sf[k].inlined ? PROFILE_FRAME_INLINE : 0;
			if (pf[k].function == PROFILE_NONE || pf[k].file == PROFILE_NONE) {
				err = -ENOMEM;
				goto out;
			}
		}
		err = profile__set_location_frames(p, i, pf, (uint32_t)n);
		if (err)
			goto out;
		changed++;
	}
out:
	sandbox__stats(s, &st);
	if (!o->no_sandbox)
		pr_debug("symbolizer sandbox: %" PRIu64 " requests, %" PRIu64 " restarts, %" PRIu64 " timeouts, %" PRIu64
			 " files skipped, %" PRIu64 " opens brokered, %" PRIu64 " refused",
			 st.requests, st.restarts, st.timeouts, st.bad_files, st.opens_brokered, st.opens_refused);
	if (st.bad_files)
		pr_warn("the symbolizer child failed on %" PRIu64 " file%s: %s locations keep the names they had",
			st.bad_files, st.bad_files == 1 ? "" : "s", st.bad_files == 1 ? "its" : "their");
	free(elfs);
	free(tried);
	sandbox__free(s);
	return err ? err : changed;
}
