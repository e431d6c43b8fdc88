// SPDX-License-Identifier: MIT
/*
 * scorch symbolize: print what addresses mean (function, file:line, inline chain), in the layout of
 * 'addr2line -f -i -C -e FILE', for an ELF file or for the runtime addresses of a live process.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "procmaps.h"
#include "safeopen.h"
#include "symbolizer.h"

#define MAX_DEBUG_DIRS 32
#define MAX_FRAMES 32

static const char usage[] =
	"Usage: scorch symbolize [options] -e FILE [ADDR...]\n"
	"       scorch symbolize [options] -p PID ADDR...\n"
	"\n"
	"Print, for each address, its inline chain innermost first: one line with the function and one\n"
	"with file:line per frame (the layout of 'addr2line -f -i -C -e FILE'). With -e, addresses are the\n"
	"file's virtual addresses, read from standard input when none are given; with -p, they are runtime\n"
	"addresses of a live process, resolved through its memory maps.\n"
	"\n"
	"Options:\n"
	"  -e, --exe FILE           the ELF file the addresses belong to\n"
	"  -p, --pid PID            the process the addresses belong to\n"
	"  -a, --addresses          print each address (0x...) before its frames\n"
	"      --debug-dir DIR      also look for separate debuginfo in DIR (repeatable)\n"
	"      --debuginfod         ask debuginfod servers (DEBUGINFOD_URLS) when nothing local matches\n"
	"      --no-demangle        print mangled C++ and Rust names as they are\n"
	"  -q, --quiet              print errors only\n"
	"  -v, --verbose            print debug messages\n"
	"  -h, --help               show this help\n";

enum { OPT_DEBUG_DIR = 256, OPT_DEBUGINFOD, OPT_NO_DEMANGLE };

struct symbolize_opts {
	const char *exe;
	uint32_t pid;
	int addresses;
	const char *debug_dirs[MAX_DEBUG_DIRS];
	size_t nr_debug_dirs;
	int debuginfod;
	int no_demangle;
};

struct symbolize_ctx {
	struct symbolize_opts *o;
	struct symbolizer *sym;
	struct sym_elf *elf;     /* with -e */
	struct procmaps maps;    /* with -p */
	char root[32];
	int errors;
};

static int parse_args(int argc, char **argv, struct symbolize_opts *o)
{
	static const struct option longopts[] = {
		{ "exe", required_argument, NULL, 'e' },
		{ "pid", required_argument, NULL, 'p' },
		{ "addresses", no_argument, NULL, 'a' },
		{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
		{ "debuginfod", no_argument, NULL, OPT_DEBUGINFOD },
		{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, verbose = 0, quiet = 0, idx;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:e:p:aqvh", longopts, &idx)) != -1) {
		switch (c) {
		case 'e':
			o->exe = optarg;
			break;
		case 'p':
			if (cli__parse_u32(optarg, 1, INT32_MAX, "-p", &o->pid))
				return -EINVAL;
			break;
		case 'a':
			o->addresses = 1;
			break;
		case OPT_DEBUG_DIR:
			if (o->nr_debug_dirs == MAX_DEBUG_DIRS) {
				pr_err("too many --debug-dir options: at most %d", MAX_DEBUG_DIRS);
				return -EINVAL;
			}
			if (!optarg[0]) {
				pr_err("--debug-dir takes a directory, not ''");
				return -EINVAL;
			}
			o->debug_dirs[o->nr_debug_dirs++] = optarg;
			break;
		case OPT_DEBUGINFOD:
			o->debuginfod = 1;
			break;
		case OPT_NO_DEMANGLE:
			o->no_demangle = 1;
			break;
		default: {
			int r = cli__option_tail(c, argv, usage, &verbose, &quiet);

			if (r)
				return r;
			break;
		}
		}
	}
	cli__verbosity(verbose, quiet);
	if (!o->exe == !o->pid) {
		pr_err(o->exe ? "give -e FILE or -p PID, not both" : "nothing to symbolize: give -e FILE or -p PID");
		return -EINVAL;
	}
	if (o->pid && optind == argc) {
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
	for (i = 0; i < n; i++)
		printf("%s\n%s:%u\n", f[i].function ? f[i].function : "??", f[i].file ? f[i].file : "??",
		       f[i].line);
}

static void symbolize_one(struct symbolize_ctx *c, uint64_t addr)
{
	struct sym_frame f[MAX_FRAMES];
	struct sym_elf *elf = c->elf;
	uint64_t vaddr = addr;
	int n = 0;

	if (c->o->addresses)
		printf("0x%016" PRIx64 "\n", addr);
	if (c->o->pid) {
		const struct procmaps_entry *e = procmaps__find(&c->maps, addr);
		int fd;

		elf = NULL;
		if (e && e->path[0] == '/' && e->inode) {
			fd = safeopen__mapping(c->o->pid, e->start, e->end, e->path, e->dev_major, e->dev_minor,
					       e->inode);
			if (fd >= 0) {
				elf = symbolizer__open_fd(c->sym, fd, e->path, c->root);
				close(fd);
			} else {
				pr_debug("cannot open the file of mapping '%s': %s", e->path, strerror(-fd));
			}
			if (elf && symbolizer__offset_to_vaddr(elf, addr - e->start + e->offset, &vaddr))
				elf = NULL;
		} else if (e && strcmp(e->path, "[vdso]") == 0) {
			/* Every process of this kernel maps the same vDSO: ours names it. */
			elf = symbolizer__vdso(c->sym);
			if (elf && symbolizer__offset_to_vaddr(elf, addr - e->start, &vaddr))
				elf = NULL;
		}
	}
	if (elf)
		n = symbolizer__lookup(c->sym, elf, vaddr, f, MAX_FRAMES);
	print_frames(f, n);
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
		if (stdin_drained() && fflush(stdout))
			break;
	}
	free(line);
	if (ferror(stdin)) {
		pr_err("cannot read standard input: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

int cmd_symbolize(int argc, char **argv)
{
	struct symbolize_opts o = { 0 };
	struct symbolizer_opts so = { 0 };
	struct symbolize_ctx c = { .o = &o };
	int err = parse_args(argc, argv, &o), i, fd, ret = EXIT_OK;

	if (err)
		return err > 0 ? EXIT_OK : cli__usage_error("symbolize");
	for (i = optind; i < argc; i++) {
		uint64_t a;

		if (parse_addr(argv[i], &a)) {
			pr_err("not an address: '%s' (give hexadecimal numbers)", argv[i]);
			return cli__usage_error("symbolize");
		}
	}
	/* debuginfod is a network client: only when asked for. */
	if (!o.debuginfod)
		unsetenv("DEBUGINFOD_URLS");
	so.debug_dirs = o.debug_dirs;
	so.nr_debug_dirs = o.nr_debug_dirs;
	so.no_demangle = o.no_demangle;
	so.debuginfod = o.debuginfod;
	c.sym = symbolizer__new(&so);
	procmaps__init(&c.maps);
	if (!c.sym) {
		pr_err("cannot create a symbolizer: %s", strerror(ENOMEM));
		return EXIT_ERROR;
	}
	if (o.exe) {
		fd = safeopen__file(o.exe);
		if (fd < 0) {
			pr_err("cannot open '%s': %s", o.exe,
			       fd == -EINVAL ? "not a regular file" : strerror(-fd));
			ret = EXIT_ERROR;
			goto out;
		}
		c.elf = symbolizer__open_fd(c.sym, fd, o.exe, NULL);
		err = errno;
		close(fd);
		if (!c.elf) {
			pr_err("cannot read '%s': %s", o.exe, err == ENOEXEC ? "not an ELF file" : strerror(err));
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
	}
	if (optind == argc) {
		if (read_stdin(&c))
			ret = EXIT_ERROR;
	} else {
		for (i = optind; i < argc; i++) {
			uint64_t a;

			parse_addr(argv[i], &a);
			symbolize_one(&c, a);
		}
	}
	if (c.errors)
		ret = EXIT_ERROR;
out:
	procmaps__release(&c.maps);
	symbolizer__free(c.sym);
	return ret;
}
