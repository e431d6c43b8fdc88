// SPDX-License-Identifier: MIT
/*
 * scorch symbolize: print what addresses mean (function, file:line, inline chain), in the layout of
 * 'addr2line -f -i -C -e FILE', for an ELF file or for the runtime addresses of a live process.
 * Files are opened here (safeopen.h) and parsed by the sandboxed symbolizer (sandbox.h): a live
 * process chooses the bytes of the files it maps, and scorch often runs as root.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "options.h"
#include "procmaps.h"
#include "safeopen.h"
#include "sandbox.h"
#include "utf8.h"

#define MAX_DEBUG_DIRS 32
#define MAX_FRAMES 32
/* Addresses held for one batched lookup; a run of one file goes in a single call. */
#define PENDING_MAX SANDBOX_LOOKUP_BATCH

struct symbolize_opts {
	const char *exe;
	uint32_t pid;
	int addresses;
	const char *debug_dirs[MAX_DEBUG_DIRS];
	size_t nr_debug_dirs;
	int debuginfod;
	int no_demangle;
	int no_sandbox;
	int first_addr; /* index in argv of the first address given, argc if none */
};

static int opt_debug_dir(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct symbolize_opts *o = base;

	(void)e;
	(void)name;
	return cli__add_debug_dir(arg, o->debug_dirs, MAX_DEBUG_DIRS, &o->nr_debug_dirs);
}

static const struct opts_entry symbolize_options[] = {
	OPTS_STRING('e', "exe", "FILE", "the ELF file the addresses belong to", struct symbolize_opts, exe),
	OPTS_U32('p', "pid", "PID", "the process the addresses belong to", struct symbolize_opts, pid, 1,
		 INT32_MAX),
	OPTS_FLAG('a', "addresses", "print each address (0x...) before its frames", struct symbolize_opts,
		  addresses),
	OPTS_CALLBACK(0, "debug-dir", "DIR", "also look for separate debuginfo in DIR (repeatable)",
		      struct symbolize_opts, debug_dirs, opt_debug_dir),
	OPTS_FLAG(0, "debuginfod", "ask debuginfod servers (DEBUGINFOD_URLS) when nothing local matches",
		  struct symbolize_opts, debuginfod),
	OPTS_FLAG(0, "no-demangle", "print mangled C++ and Rust names as they are", struct symbolize_opts,
		  no_demangle),
	OPTS_FLAG(0, "no-sandbox", "parse ELF/DWARF in this process, not in an unprivileged child",
		  struct symbolize_opts, no_sandbox),
	OPTS_END(),
};

static const struct opts_cmd symbolize_cmd = {
	.name = "symbolize",
	.usage = "scorch symbolize [options] -e FILE [ADDR...]\n"
		 "scorch symbolize [options] -p PID ADDR...",
	.description =
		"Print, for each address, its inline chain innermost first: one line with the function and one\n"
		"with file:line per frame (the layout of 'addr2line -f -i -C -e FILE'). With -e, addresses are the\n"
		"file's virtual addresses, read from standard input when none are given; with -p, they are runtime\n"
		"addresses of a live process, resolved through its memory maps.",
	.options = symbolize_options,
	.in_order = 1,
};

struct symbolize_ctx {
	struct symbolize_opts *o;
	struct sandbox *sb;
	struct sandbox_elf *elf;       /* with -e; borrowed from sb */
	struct procmaps maps;          /* with -p */
	struct sandbox_elf **map_elfs; /* with -p: owned array, one per maps entry (borrowed from sb) */
	uint8_t *map_tried;            /* owned: whether map_elfs[i] was opened (or failed to) */
	char root[32];
	int sandboxed;
	int errors;
	/* Addresses read but not printed yet, looked up together (sandbox__lookup_many). */
	struct pending {
		uint64_t addr, vaddr;
		struct sandbox_elf *elf; /* NULL: printed as ?? */
	} pending[PENDING_MAX];
	size_t nr_pending;
	uint64_t vaddrs[PENDING_MAX];
	struct sandbox_frames answers[PENDING_MAX];
};

static int parse_args(int argc, char **argv, struct symbolize_opts *o)
{
	int err = opts__parse(&symbolize_cmd, argc, argv, o, &o->first_addr);

	if (err)
		return err;
	if (!o->exe == !o->pid) {
		pr_err(o->exe ? "give -e FILE or -p PID, not both"
			      : "nothing to symbolize: give -e FILE or -p PID");
		return -EINVAL;
	}
	if (o->pid && o->first_addr == argc) {
		pr_err("-p PID needs addresses on the command line");
		return -EINVAL;
	}
	return 0;
}

/* Parse a hexadecimal address, with or without 0x. */
static int parse_addr(const char *s, uint64_t *out)
{
	char *end;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 16);
	if (errno || *end || end == s)
		return -EINVAL;
	return 0;
}

static void print_frames(const struct sym_frame *f, int n)
{
	int i;

	if (!n) {
		fputs("??\n??:0\n", stdout);
		return;
	}
	/* One name per line, as addr2line: a newline in a name would shift every answer after it. */
	for (i = 0; i < n; i++) {
		utf8__fputs(f[i].function ? f[i].function : "??", stdout);
		putchar('\n');
		utf8__fputs(f[i].file ? f[i].file : "??", stdout);
		printf(":%u\n", f[i].line);
	}
}

/* The ELF of maps entry 'e' (index 'i'), opened once: the file the process maps, or the vDSO. */
static struct sandbox_elf *map_elf(struct symbolize_ctx *c, const struct procmaps_entry *e, size_t i)
{
	int fd;

	if (c->map_tried[i])
		return c->map_elfs[i];
	c->map_tried[i] = 1;
	if (e->path[0] == '/' && e->inode) {
		fd = safeopen__mapping(c->o->pid, e->start, e->end, e->path, e->dev_major, e->dev_minor,
				       e->inode);
		if (fd < 0) {
			pr_debug("cannot open the file of mapping '%s': %s", e->path, strerror(-fd));
			return NULL;
		}
		c->map_elfs[i] = sandbox__open_fd(c->sb, fd, e->path, c->root);
		if (!c->map_elfs[i])
			pr_debug("cannot read the file of mapping '%s': %s", e->path, strerror(errno));
		close(fd);
	} else if (strcmp(e->path, "[vdso]") == 0) {
		/* Every process of this kernel maps the same vDSO: ours names it. */
		c->map_elfs[i] = sandbox__vdso(c->sb);
	}
	return c->map_elfs[i];
}

/*
 * Print the pending addresses, in order: each run of addresses in one file is looked up in one
 * sandbox__lookup_many() call (a few round trips to the child instead of one per address).
 */
static void flush_pending(struct symbolize_ctx *c)
{
	size_t i = 0, j, k;

	while (i < c->nr_pending) {
		struct sandbox_elf *elf = c->pending[i].elf;

		for (j = i; j < c->nr_pending && c->pending[j].elf == elf; j++)
			c->vaddrs[j - i] = c->pending[j].vaddr;
		if (!elf) {
			for (k = 0; k < j - i; k++)
				c->answers[k].n = 0;
		} else if (sandbox__lookup_many(c->sb, elf, c->vaddrs, j - i, MAX_FRAMES, c->answers)) {
			pr_err("cannot look up %zu addresses: %s", j - i, strerror(ENOMEM));
			c->errors++; /* printed as ?? (the answers are all empty) */
		}
		for (k = i; k < j; k++) {
			if (c->o->addresses)
				printf("0x%016" PRIx64 "\n", c->pending[k].addr);
			print_frames(c->answers[k - i].f, c->answers[k - i].n);
		}
		i = j;
	}
	c->nr_pending = 0;
}

static void symbolize_one(struct symbolize_ctx *c, uint64_t addr)
{
	struct sandbox_elf *elf = c->elf;
	uint64_t vaddr = addr;

	if (c->o->pid) {
		const struct procmaps_entry *e = procmaps__find(&c->maps, addr);

		elf = e ? map_elf(c, e, (size_t)(e - c->maps.entries)) : NULL;
		/* The vDSO's addresses are offsets into its image. */
		if (elf && sandbox__offset_to_vaddr(
				   elf, addr - e->start + (e->path[0] == '/' ? e->offset : 0), &vaddr))
			elf = NULL;
	}
	c->pending[c->nr_pending++] = (struct pending){ addr, vaddr, elf };
	if (c->nr_pending == PENDING_MAX)
		flush_pending(c);
}

/* Whether stdin's buffer is empty, so that the next read may block: then flush our answers. */
static int stdin_drained(void)
{
	return stdin->_IO_read_ptr >= stdin->_IO_read_end;
}

static int read_stdin(struct symbolize_ctx *c)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		char *tok, *save = NULL;

		for (tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
			uint64_t a;

			if (parse_addr(tok, &a)) {
				pr_err("not an address: '%.64s'", tok);
				c->errors++;
				continue;
			}
			symbolize_one(c, a);
		}
		if (stdin_drained()) {
			flush_pending(c);
			if (fflush(stdout))
				break;
		}
	}
	free(line);
	flush_pending(c);
	if (ferror(stdin)) {
		pr_err("cannot read standard input: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* Why the sandbox could not read a file, for the error message. */
static const char *read_error(int err)
{
	switch (err) {
	case ENOEXEC:
		return "not an ELF file";
	case ETIMEDOUT:
		return "the symbolizer child timed out on it";
	case EPIPE:
	case EPROTO:
		return "the symbolizer child died on it";
	default:
		return strerror(err);
	}
}

/* After the run: say what the sandbox did (-v) and whether it gave up on files. */
static int sandbox_report(struct symbolize_ctx *c)
{
	struct sandbox_stats st;

	if (!c->sandboxed)
		return 0;
	sandbox__stats(c->sb, &st);
	pr_debug("symbolizer sandbox: %" PRIu64 " requests, %" PRIu64 " restarts, %" PRIu64
		 " timeouts, %" PRIu64 " files skipped, %" PRIu64 " opens brokered, %" PRIu64
		 " refused, %" PRIu64 " addresses looked up",
		 st.requests, st.restarts, st.timeouts, st.bad_files, st.opens_brokered, st.opens_refused,
		 st.lookups);
	if (!st.bad_files)
		return 0;
	pr_err("the symbolizer child failed on %" PRIu64 " file%s: %s addresses are printed as ??",
	       st.bad_files, st.bad_files == 1 ? "" : "s", st.bad_files == 1 ? "its" : "their");
	return -EIO;
}

int cmd_symbolize(int argc, char **argv)
{
	struct symbolize_opts o = { 0 };
	struct symbolizer_opts so = { 0 };
	struct symbolize_ctx c = { .o = &o };
	char why[192];
	int err = parse_args(argc, argv, &o), i, fd, ret = EXIT_OK;

	if (err)
		return cli__parse_status(err, "symbolize");
	for (i = o.first_addr; i < argc; i++) {
		uint64_t a;

		if (parse_addr(argv[i], &a)) {
			pr_err("not an address: '%s' (give hexadecimal numbers)", argv[i]);
			return cli__usage_error("symbolize");
		}
	}
	/* debuginfod is a network client: only when asked for. */
	if (!o.debuginfod)
		unsetenv("DEBUGINFOD_URLS");
	cli__raise_nofile();
	so.debug_dirs = o.debug_dirs;
	so.nr_debug_dirs = o.nr_debug_dirs;
	so.no_demangle = o.no_demangle;
	so.debuginfod = o.debuginfod;
	/* debuginfod is a network client: it has no place in the jail. */
	c.sandboxed = !o.no_sandbox && !o.debuginfod;
	c.sb = sandbox__new(&so, c.sandboxed);
	procmaps__init(&c.maps);
	if (!c.sb) {
		pr_err("cannot create a symbolizer: %s", strerror(ENOMEM));
		return EXIT_ERROR;
	}
	/* Each batch of addresses is a round trip to the child: cheapest on one CPU. */
	err = sandbox__share_cpu(c.sb);
	if (err)
		pr_debug("cannot keep the symbolizer child on this CPU: %s", strerror(-err));
	/* A sandbox that cannot start would print ?? for every address. */
	if (sandbox__start(c.sb, why, sizeof(why))) {
		pr_err("cannot start the symbolizer sandbox: %s (--no-sandbox parses in this process)", why);
		ret = EXIT_ERROR;
		goto out;
	}
	if (o.exe) {
		fd = safeopen__file(o.exe);
		if (fd < 0) {
			pr_err("cannot open '%s': %s", o.exe,
			       fd == -EINVAL ? "not a regular file" : strerror(-fd));
			ret = EXIT_ERROR;
			goto out;
		}
		c.elf = sandbox__open_fd(c.sb, fd, o.exe, NULL);
		err = errno;
		close(fd);
		if (!c.elf) {
			pr_err("cannot read '%s': %s", o.exe, read_error(err));
			ret = EXIT_ERROR;
			goto out;
		}
	} else {
		err = procmaps__read(&c.maps, (pid_t)o.pid);
		if (err) {
			pr_err("cannot read the maps of pid %u: %s", o.pid,
			       err == -ESRCH ? "no such process" : strerror(-err));
			ret = EXIT_ERROR;
			goto out;
		}
		snprintf(c.root, sizeof(c.root), "/proc/%u/root", o.pid);
		c.map_elfs = calloc(c.maps.nr ? c.maps.nr : 1, sizeof(*c.map_elfs));
		c.map_tried = calloc(c.maps.nr ? c.maps.nr : 1, 1);
		if (!c.map_elfs || !c.map_tried) {
			pr_err("cannot symbolize: %s", strerror(ENOMEM));
			ret = EXIT_ERROR;
			goto out;
		}
	}
	if (o.first_addr == argc) {
		if (read_stdin(&c))
			ret = EXIT_ERROR;
	} else {
		for (i = o.first_addr; i < argc; i++) {
			uint64_t a;

			parse_addr(argv[i], &a);
			symbolize_one(&c, a);
		}
		flush_pending(&c);
	}
	if (c.errors || sandbox_report(&c))
		ret = EXIT_ERROR;
out:
	procmaps__release(&c.maps);
	free(c.map_elfs);
	free(c.map_tried);
	sandbox__free(c.sb);
	return ret;
}
