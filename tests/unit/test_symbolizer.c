// SPDX-License-Identifier: MIT
/*
 * Unit tests for the symbolizer (src/symbol/symbolizer.h) and the safe file opening it relies on
 * (src/target/safeopen.h). The fixtures are compiled here from tests/fixtures/symfix.c: gcc and clang (clang
 * emits no .debug_aranges), PIE and non-PIE, and stripped copies whose DWARF lives in a separate file
 * found by build id or by .gnu_debuglink. The known answers are the marker lines of the source.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "safeopen.h"
#include "symbolizer.h"
#include "under_valgrind.h"

static char dir[64];
static char src[4096];
static uint32_t line_square, line_sum, line_work, line_leaf;

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static uint32_t marker_line(const char *marker)
{
	FILE *f = fopen(src, "r");
	char buf[512];
	uint32_t n = 0;

	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f)) {
		n++;
		if (strstr(buf, marker)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	return 0;
}

/* Address and size of symbol 'name' in 'file' (nm), or 0. */
static uint64_t symbol(const char *file, const char *name, uint64_t *size)
{
	char cmd[512], line[512];
	FILE *p;
	uint64_t addr = 0;

	snprintf(cmd, sizeof(cmd), "nm -S '%s/%s' 2>/dev/null", dir, file);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		unsigned long long a, s;
		char type, sym[256];

		if (sscanf(line, "%llx %llx %c %255s", &a, &s, &type, sym) == 4 && strcmp(sym, name) == 0) {
			addr = a;
			*size = s;
		} else if (sscanf(line, "%llx %c %255s", &a, &type, sym) == 3 && strcmp(sym, name) == 0) {
			addr = a; /* no size */
			*size = 0;
		}
	}
	pclose(p);
	return addr;
}

static int setup(void **state)
{
	const char *tests = getenv("TESTS");
	static const char *const cc_variants[][2] = {
		{ "gcc_pie", "gcc -O2 -g -fPIE -pie" },
		{ "gcc_nopie", "gcc -O2 -g -fno-pie -no-pie" },
		{ "clang_pie", "clang -O2 -g -fPIE -pie" },
		{ "clang_nopie", "clang -O2 -g -fno-pie -no-pie" },
		{ "gcc_bid", "gcc -O2 -g -Wl,--build-id" },
		{ "gcc_link", "gcc -O2 -g -Wl,--build-id=none" },
		{ "gcc_badcrc", "gcc -O2 -g -Wl,--build-id=none" },
	};
	size_t i;

	(void)state;
	snprintf(src, sizeof(src), "%s/fixtures/symfix.c", tests ? tests : "tests");
	if (access(src, R_OK) != 0) {
		fprintf(stderr, "cannot find '%s' (run from the source tree or set TESTS)\n", src);
		return -1;
	}
	strcpy(dir, "/tmp/scorch-symtest.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	for (i = 0; i < sizeof(cc_variants) / sizeof(cc_variants[0]); i++)
		if (run("%s -o %s/%s %s", cc_variants[i][1], dir, cc_variants[i][0], src))
			return -1;
	/* Stripped, DWARF and .symtab in DIR/dbg/.build-id/xx/rest.debug. */
	if (run("cd %s && objcopy --only-keep-debug gcc_bid gcc_bid.full && strip --strip-all gcc_bid && "
		"id=$(readelf -n gcc_bid | awk '/Build ID/ { print $3 }') && mkdir -p dbg/.build-id/${id%%${id#??}} && "
		"mv gcc_bid.full dbg/.build-id/${id%%${id#??}}/${id#??}.debug", dir))
		return -1;
	/* Stripped, with a .gnu_debuglink to a file next to it; and one whose debug file changed since. */
	if (run("cd %s && objcopy --only-keep-debug gcc_link gcc_link.debug && strip --strip-all gcc_link && "
		"objcopy --add-gnu-debuglink=gcc_link.debug gcc_link && "
		"objcopy --only-keep-debug gcc_badcrc gcc_badcrc.debug && strip --strip-all gcc_badcrc && "
		"objcopy --add-gnu-debuglink=gcc_badcrc.debug gcc_badcrc && printf x >> gcc_badcrc.debug", dir))
		return -1;
	line_square = marker_line("MARK_SQUARE");
	line_sum = marker_line("MARK_SUM");
	line_work = marker_line("MARK_WORK");
	line_leaf = marker_line("MARK_LEAF");
	return line_square && line_sum && line_work && line_leaf ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (dir[0])
		run("rm -rf '%s'", dir);
	return 0;
}

static struct sym_elf *open_elf(struct symbolizer *s, const char *file)
{
	char path[256];
	struct sym_elf *e;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = safeopen__file(path);
	if (fd < 0)
		fail_msg("cannot open '%s': %s", path, strerror(-fd));
	e = symbolizer__open_fd(s, fd, path, NULL);
	close(fd);
	return e;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/*
 * Every address of work() must resolve with work as the outermost frame, and some address must give
 * the whole chain square (inlined) <- sum_squares (inlined) <- work, each at its marker line.
 */
static void check_work(struct symbolizer *s, struct sym_elf *e, uint64_t lo, uint64_t size, const char *what)
{
	struct sym_frame f[16];
	uint64_t a;
	int chains = 0;

	if (!lo || !size)
		fail_msg("%s: no symbol work", what);
	for (a = lo; a < lo + size; a++) {
		int n = symbolizer__lookup(s, e, a, f, 16);

		if (n < 1 || !f[n - 1].function || strcmp(f[n - 1].function, "work") || f[n - 1].inlined)
			fail_msg("%s: 0x%" PRIx64 " gave %d frames, outermost '%s'", what, a, n,
				 n ? (f[n - 1].function ? f[n - 1].function : "?") : "-");
		if (!ends_with(f[n - 1].file, "/symfix.c"))
			fail_msg("%s: 0x%" PRIx64 " file '%s'", what, a, f[n - 1].file ? f[n - 1].file : "(null)");
		if (n == 3 && !strcmp(f[0].function, "square") && f[0].inlined && f[0].line == line_square &&
		    !strcmp(f[1].function, "sum_squares") && f[1].inlined && f[1].line == line_sum &&
		    f[2].line == line_work)
			chains++;
	}
	if (!chains)
		fail_msg("%s: no address of work() gave square <- sum_squares <- work", what);
}

static void check_leaf(struct symbolizer *s, struct sym_elf *e, uint64_t lo, uint64_t size, const char *what)
{
	struct sym_frame f[16];
	uint64_t a;
	int found = 0;

	for (a = lo; a < lo + size; a++) {
		int n = symbolizer__lookup(s, e, a, f, 16);

		if (n == 1 && !strcmp(f[0].function, "leaf_function") && f[0].line == line_leaf && !f[0].inlined &&
		    f[0].offset == a - lo)
			found++;
	}
	if (!found)
		fail_msg("%s: no address of leaf_function() at line %u", what, line_leaf);
}

static void check_binary(const char *file, const char *symfile, const struct symbolizer_opts *opts)
{
	struct symbolizer *s = symbolizer__new(opts);
	struct sym_elf *e;
	uint64_t lo, size = 0;

	assert_non_null(s);
	e = open_elf(s, file);
	if (!e)
		fail_msg("'%s' was not opened: %s", file, strerror(errno));
	if (!symbolizer__has_dwarf(s, e))
		fail_msg("'%s': no DWARF found", file);
	lo = symbol(symfile, "work", &size);
	check_work(s, e, lo, size, file);
	lo = symbol(symfile, "leaf_function", &size);
	check_leaf(s, e, lo, size, file);
	symbolizer__free(s);
}

static void test_gcc_pie(void **state)
{
	(void)state;
	check_binary("gcc_pie", "gcc_pie", NULL);
}

static void test_gcc_nopie(void **state)
{
	(void)state;
	check_binary("gcc_nopie", "gcc_nopie", NULL);
}

static void test_clang_no_aranges(void **state)
{
	(void)state;
	assert_int_equal(run("readelf -SW %s/clang_pie | grep -q debug_aranges", dir) != 0, 1);
	check_binary("clang_pie", "clang_pie", NULL);
	check_binary("clang_nopie", "clang_nopie", NULL);
}

static void test_build_id_debug_dir(void **state)
{
	char dbg[128];
	const char *dirs[] = { dbg };
	struct symbolizer_opts o = { .debug_dirs = dirs, .nr_debug_dirs = 1 };

	(void)state;
	snprintf(dbg, sizeof(dbg), "%s/dbg", dir);
	/* The stripped binary has no symbols of its own: nm reads them from the debug file. */
	assert_int_equal(run("cd %s && cp dbg/.build-id/*/*.debug gcc_bid.syms", dir), 0);
	check_binary("gcc_bid", "gcc_bid.syms", &o);
	/* Without the directory, the DWARF is not found. */
	{
		struct symbolizer *s = symbolizer__new(NULL);
		struct sym_elf *e = open_elf(s, "gcc_bid");

		assert_non_null(e);
		assert_int_equal(symbolizer__has_dwarf(s, e), 0);
		symbolizer__free(s);
	}
}

static void test_debuglink(void **state)
{
	struct symbolizer *s;
	struct sym_elf *e;

	(void)state;
	check_binary("gcc_link", "gcc_link.debug", NULL);
	/* A debug file whose CRC does not match the link is not used. */
	s = symbolizer__new(NULL);
	e = open_elf(s, "gcc_badcrc");
	assert_non_null(e);
	assert_int_equal(symbolizer__has_dwarf(s, e), 0);
	symbolizer__free(s);
}

static void test_cache(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	struct symbolizer_stats st;
	struct sym_frame f1[16], f2[16];
	struct sym_elf *a, *b;
	uint64_t lo, size = 0;
	int n1, n2;

	(void)state;
	a = open_elf(s, "gcc_pie");
	b = open_elf(s, "gcc_pie");
	assert_ptr_equal(a, b);
	/* Another inode with the same build id (a container's copy) shares the same tables. */
	assert_int_equal(run("cp %s/gcc_pie %s/gcc_pie_copy", dir, dir), 0);
	b = open_elf(s, "gcc_pie_copy");
	assert_ptr_equal(a, b);
	lo = symbol("gcc_pie", "work", &size);
	n1 = symbolizer__lookup(s, a, lo + size / 2, f1, 16);
	n2 = symbolizer__lookup(s, a, lo + size / 2, f2, 16);
	assert_int_equal(n1, n2);
	assert_true(n1 > 0);
	assert_memory_equal(f1, f2, (size_t)n1 * sizeof(f1[0]));
	/* A smaller buffer gets the innermost frames. */
	assert_int_equal(symbolizer__lookup(s, a, lo + size / 2, f2, 1), 1);
	symbolizer__stats(s, &st);
	assert_int_equal(st.elfs, 1);
	assert_int_equal(st.lookups, 3);
	assert_int_equal(st.cache_hits, 2);
	symbolizer__free(s);
}

static void test_vdso(void **state)
{
	struct symbolizer *s;
	struct sym_elf *e;
	struct sym_frame f[16];
	uint64_t v = 0;
	char cmd[1024], line[256];
	FILE *p;
	int found = 0;

	(void)state;
	skip_under_valgrind();
	s = symbolizer__new(NULL);
	e = symbolizer__vdso(s);
	assert_non_null(e);
	assert_ptr_equal(symbolizer__vdso(s), e);
	/* Dump our vDSO (from our maps) and ask nm where clock_gettime lives; the symbolizer must name it. */
	p = fopen("/proc/self/maps", "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned long lo, hi;

		if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			FILE *out;

			snprintf(cmd, sizeof(cmd), "%s/vdso.so", dir);
			out = fopen(cmd, "w");
			assert_non_null(out);
			assert_int_equal(fwrite((const void *)lo, 1, hi - lo, out), hi - lo);
			fclose(out);
		}
	}
	fclose(p);
	snprintf(cmd, sizeof(cmd), "nm -D %s/vdso.so | awk '$3 ~ /^(__vdso_)?clock_gettime(@.*)?$/ { print $1; exit }'", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fgets(line, sizeof(line), p)) {
		v = strtoull(line, NULL, 16);
		found = 1;
	}
	pclose(p);
	if (!found)
		skip();
	assert_true(symbolizer__lookup(s, e, v, f, 16) >= 1);
	assert_non_null(strstr(f[0].function, "clock_gettime"));
	symbolizer__free(s);
}

static void test_offset_to_vaddr(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	struct sym_elf *e = open_elf(s, "gcc_nopie");
	uint64_t v = 0;

	(void)state;
	assert_non_null(e);
	/* The non-PIE text segment: file offset 0x1000 is loaded at 0x401000 by GNU ld's default layout. */
	assert_int_equal(symbolizer__offset_to_vaddr(e, 0x1000, &v), 0);
	assert_int_equal(v, 0x401000);
	assert_int_equal(symbolizer__offset_to_vaddr(e, 1ULL << 40, &v), -ENOENT);
	assert_string_not_equal(symbolizer__build_id(e), "");
	symbolizer__free(s);
}

static void test_no_demangle(void **state)
{
	struct symbolizer_opts o = { .no_demangle = 1 };
	struct symbolizer *s = symbolizer__new(&o);
	struct sym_frame f[16];
	struct sym_elf *e;
	uint64_t lo, size = 0;
	int n;

	(void)state;
	assert_int_equal(run("g++ -O2 -g -o %s/cxx $(dirname %s)/symfix.cc", dir, src), 0);
	e = open_elf(s, "cxx");
	assert_non_null(e);
	lo = symbol("cxx", "_ZN3geo5totalERKSt6vectorINS_3VecIdEESaIS2_EE", &size);
	assert_true(lo != 0);
	n = symbolizer__lookup(s, e, lo, f, 16);
	assert_true(n >= 1);
	assert_string_equal(f[n - 1].function, "_ZN3geo5totalERKSt6vectorINS_3VecIdEESaIS2_EE");
	symbolizer__free(s);
	s = symbolizer__new(NULL);
	e = open_elf(s, "cxx");
	n = symbolizer__lookup(s, e, lo, f, 16);
	assert_true(n >= 1);
	assert_string_equal(f[n - 1].function,
			    "geo::total(std::vector<geo::Vec<double>, std::allocator<geo::Vec<double> > > const&)");
	symbolizer__free(s);
}

/*
 * Assembler routines without .type (glibc's ld.so _start) are untyped symbols in code: they name what
 * no function covers, as eu-addr2line does, but a label inside a function does not hide the function,
 * and an untyped symbol in data names no code.
 */
static void test_code_labels(void **state)
{
	static const char prog[] =
		"__asm__(\".text\\n.globl entry_label\\nentry_label:\\n nop\\n nop\\n"
		"inner_label:\\n nop\\n nop\\n"
		".globl sized_asm\\n.type sized_asm,@function\\nsized_asm:\\n nop\\n"
		"inside_label:\\n nop\\n ret\\n.size sized_asm, .-sized_asm\\n"
		".data\\n.globl data_label\\ndata_label:\\n .quad 0\\n.text\");\n"
		"int main(void) { return 0; }\n";
	struct symbolizer *s = symbolizer__new(NULL);
	struct sym_frame f[16];
	struct sym_elf *e;
	uint64_t entry, inner, inside, sized, size = 0;
	char path[300];
	FILE *out;
	int n;

	(void)state;
	snprintf(path, sizeof(path), "%s/labels.c", dir);
	out = fopen(path, "w");
	assert_non_null(out);
	fputs(prog, out);
	fclose(out);
	assert_int_equal(run("gcc -O2 -no-pie -o %s/labels %s", dir, path), 0);
	entry = symbol("labels", "entry_label", &size);
	inner = symbol("labels", "inner_label", &size);
	inside = symbol("labels", "inside_label", &size);
	sized = symbol("labels", "sized_asm", &size);
	assert_true(entry && inner && inside && sized && size == 3);
	e = open_elf(s, "labels");
	assert_non_null(e);
	n = symbolizer__lookup(s, e, entry + 1, f, 16);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].function, "entry_label");
	assert_int_equal(f[0].offset, 1);
	n = symbolizer__lookup(s, e, inner + 1, f, 16);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].function, "inner_label");
	n = symbolizer__lookup(s, e, inside, f, 16);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].function, "sized_asm");
	assert_int_equal(f[0].offset, inside - sized);
	n = symbolizer__lookup(s, e, symbol("labels", "data_label", &size), f, 16);
	assert_true(n == 0 || strcmp(f[n - 1].function ? f[n - 1].function : "", "data_label") != 0);
	symbolizer__free(s);
}

/* Files that are not ELF, cut short, or carry garbage DWARF: no crash, no frames or fewer. */
static void test_bad_files(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	struct sym_frame f[16];
	struct sym_elf *e;
	uint64_t lo, size = 0, a;

	(void)state;
	assert_int_equal(run("cd %s && echo 'not an elf file' > text && head -c 300 gcc_pie > trunc && "
			     "head -c 5000 gcc_pie > trunc2 && : > empty && "
			     "head -c 65536 /dev/urandom > garbage.bin && cp gcc_pie garbled && "
			     "objcopy --update-section .debug_info=garbage.bin --update-section .debug_line=garbage.bin "
			     "--update-section .debug_abbrev=garbage.bin garbled",
			     dir),
			 0);
	errno = 0;
	assert_null(open_elf(s, "text"));
	assert_int_equal(errno, ENOEXEC);
	assert_null(open_elf(s, "empty"));
	e = open_elf(s, "trunc");
	if (e)
		assert_int_equal(symbolizer__lookup(s, e, 0x1100, f, 16), 0);
	e = open_elf(s, "trunc2");
	for (a = 0; e && a < 0x3000; a += 7)
		symbolizer__lookup(s, e, a, f, 16);
	e = open_elf(s, "garbled");
	assert_non_null(e); /* the ELF itself is fine */
	lo = symbol("gcc_pie", "work", &size);
	for (a = lo; a < lo + size; a++) {
		int n = symbolizer__lookup(s, e, a, f, 16);

		/* The symbol table still names the function. */
		assert_true(n >= 1);
		assert_string_equal(f[n - 1].function, "work");
	}
	symbolizer__free(s);
}

/*
 * The answers of safeopen__in_root() in the tree test_safeopen builds under 'root': 0 when all are as
 * expected, else the number of the first that is not (printed). No cmocka asserts: also run in a child.
 */
static int jail_checks(const char *root)
{
	static const struct { const char *path; int want; } cases[] = {
		{ "/etc/passwd", -ENOENT },                /* the host's, not the root's */
		{ "/../../../../etc/passwd", -ENOENT },    /* '..' stops at the root */
		{ "/escape", -ENOENT },                    /* absolute symlink: from the root */
		{ "/escape2", -ENOENT },                   /* relative symlink climbing out */
		{ "/abs_inside", 0 },                      /* absolute symlink to a file inside */
		{ "/etc/sub/rel", 0 },                     /* relative symlink inside */
		{ "/etcdir/sub/../inside", 0 },            /* a symlinked directory, then '..' */
		{ "etc/./inside", 0 },                     /* relative to the root, '.' */
		{ "/loop1", -ELOOP },                      /* a symlink loop */
		{ "/etc", -EINVAL },                       /* a directory */
		{ "/etc/inside/x", -ENOTDIR },             /* through a file */
	};
	size_t i;
	int fd;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fd = safeopen__in_root(root, cases[i].path);
		if (fd >= 0)
			close(fd);
		if ((fd >= 0 ? 0 : fd) != cases[i].want) {
			fprintf(stderr, "safeopen__in_root(%s): %d, want %d\n", cases[i].path, fd, cases[i].want);
			return (int)i + 1;
		}
	}
	return 0;
}

static void test_safeopen(void **state)
{
	char path[256], root[256];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* A FIFO nobody writes to: opening must neither block nor succeed. */
	assert_int_equal(safeopen__file(path), -EINVAL);
	assert_int_equal(safeopen__file(dir), -EINVAL);
	assert_int_equal(safeopen__file("/dev/zero"), -EINVAL);
	assert_int_equal(safeopen__file("/nonexistent/x"), -ENOENT);
	snprintf(path, sizeof(path), "%s/gcc_pie", dir);
	fd = safeopen__file(path);
	assert_true(fd >= 0);
	assert_true(safeopen__is_elf(fd));
	close(fd);
	/* Inside a root, neither '..' nor absolute symlinks lead out of it. */
	snprintf(root, sizeof(root), "%s/root", dir);
	assert_int_equal(run("mkdir -p %s/etc/sub && echo inside > %s/etc/inside && ln -s /etc/passwd %s/escape && "
			     "ln -s ../../../../../etc/passwd %s/escape2 && ln -s /etc/inside %s/abs_inside && "
			     "ln -s ../inside %s/etc/sub/rel && ln -s loop2 %s/loop1 && ln -s loop1 %s/loop2 && "
			     "ln -s /etc %s/etcdir",
			     root, root, root, root, root, root, root, root, root),
			 0);
	assert_int_equal(jail_checks(root), 0);
}

/*
 * The same jail where openat2 does not exist (a kernel before 5.6, a container's seccomp policy): in a
 * child whose seccomp filter answers openat2 with ENOSYS, the hand-made walk must agree.
 */
static void test_safeopen_no_openat2(void **state)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };
	char root[256];
	int status;
	pid_t pid;

	(void)state;
	snprintf(root, sizeof(root), "%s/root", dir); /* made by test_safeopen */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
			_exit(100);
		if (syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0) != -1 || errno != ENOSYS)
			_exit(101);
		_exit(jail_checks(root));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcc_pie),
		cmocka_unit_test(test_gcc_nopie),
		cmocka_unit_test(test_clang_no_aranges),
		cmocka_unit_test(test_build_id_debug_dir),
		cmocka_unit_test(test_debuglink),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_offset_to_vaddr),
		cmocka_unit_test(test_vdso),
		cmocka_unit_test(test_no_demangle),
		cmocka_unit_test(test_code_labels),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_safeopen),
		cmocka_unit_test(test_safeopen_no_openat2),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
