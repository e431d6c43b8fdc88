// SPDX-License-Identifier: MIT
/*
 * Unit tests for the unwind tables of the in-kernel unwinder (src/unwind/uwtable.h).
 *
 * Real files: tests/fixtures/uwfix.c built here with gcc and clang, linked by ld.bfd and lld, PIE and
 * not, with and without frame pointers (and once with .debug_frame only), and libc. Each table is
 * checked against readelf, which decodes the same CFI independently: the FDE count, and for every row
 * of 'readelf --debug-dump=frames-interp' the row we give for that address. Then the facts the BPF walk
 * relies on: fp_func's frame (CFA = RBP + 16, RBP saved at CFA - 16), the PLT's rows, _start's END.
 *
 * Made-up files: sections written byte by byte, for exact rows, every rule a row cannot hold, overlaps,
 * and broken input (truncation, garbage, lengths past the section, missing CIEs, state stacks), which
 * must give the documented errors or a table that validates, never a crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "uwtable.h"

static char dir[64];
static char src[4096];

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

static const struct scorch_uw_row *row_at(const struct uwtable *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nr, mid;

	if (addr < t->base || addr - t->base > UINT32_MAX)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->rows[mid].pc <= addr - t->base)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}

static uint64_t symbol(const char *file, const char *name)
{
	char cmd[512], line[512], sym[256], type;
	unsigned long long a;
	uint64_t addr = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm '%s' 2>/dev/null", file);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%llx %c %255s", &a, &type, sym) == 3 && !strcmp(sym, name))
			addr = a;
	pclose(p);
	return addr;
}

/* The row readelf's decoding of a CFA, RBP and RA column says we must give. */
static struct scorch_uw_row expected(const char *cfa, const char *rbp, const char *ra, int *plt)
{
	struct scorch_uw_row r = { 0 };
	long n;

	*plt = 0;
	if (!strcmp(ra, "u")) {
		r.kind = SCORCH_UW_END;
		return r;
	}
	if (strcmp(ra, "c-8"))
		return r;
	if (!strcmp(cfa, "exp")) {
		*plt = 1; /* PLT, or UNKNOWN for another expression */
		return r;
	}
	if (strncmp(cfa, "rsp+", 4) && strncmp(cfa, "rbp+", 4))
		return r;
	n = strtol(cfa + 4, NULL, 10);
	if (n < 8 || n > 65535)
		return r;
	if (rbp && strcmp(rbp, "u") && strcmp(rbp, "s")) {
		long o;

		if (strncmp(rbp, "c-", 2) && strncmp(rbp, "c+", 2))
			return r;
		o = strtol(rbp + 1, NULL, 10);
		if (!o || o % 8 || o < -1024 || o > 1016)
			return r;
		r.rbp_off = (int8_t)(o / 8);
	}
	r.kind = cfa[1] == 's' ? SCORCH_UW_CFA_RSP : SCORCH_UW_CFA_RBP;
	r.cfa_off = (uint16_t)n;
	return r;
}

struct xcheck {
	int fdes, rows, plt_rows;
};

static void check_row(const struct uwtable *t, uint64_t loc, const char *cfa, const char *rbp, const char *ra,
		      const char *what, struct xcheck *x)
{
	const struct scorch_uw_row *got = row_at(t, loc);
	struct scorch_uw_row want;
	int plt;

	want = expected(cfa, rbp, ra, &plt);
	if (!got)
		fail_msg("%s: no row at %#" PRIx64, what, loc);
	if (plt && (got->kind == SCORCH_UW_PLT || got->kind == SCORCH_UW_UNKNOWN)) {
		x->plt_rows += got->kind == SCORCH_UW_PLT;
	} else if (got->kind != want.kind || got->cfa_off != want.cfa_off || got->rbp_off != want.rbp_off) {
		fail_msg("%s: at %#" PRIx64
			 " readelf says CFA %s RBP %s RA %s, we give kind %u cfa_off %u rbp_off %d",
			 what, loc, cfa, rbp ? rbp : "-", ra, got->kind, got->cfa_off, got->rbp_off);
	}
	x->rows++;
}

/*
 * Every row readelf decodes from .eh_frame and .debug_frame (an FDE without instructions: its CIE's row
 * at its start),
 * checked against ours; the FDE count of both sections checked against stats.fdes.
 */
static void cross_check(const char *file, const struct uwtable *t, struct xcheck *x)
{
	char cmd[512], line[1024], cie_cfa[64] = "", cie_rbp[64] = "", cie_ra[64] = "";
	char col[32][64], prev[3][64] = { "" };
	int ncol = 0, in_cie = 0, in_eh = 0, fde_rows = 0, rbp_col = -1, ra_col = -1, i;
	unsigned long long lo = 0, hi = 0, loc, prev_loc = 0;
	int have_prev = 0;
	FILE *p;

	memset(x, 0, sizeof(*x));
	snprintf(cmd, sizeof(cmd), "readelf --debug-dump=frames-interp '%s' 2>/dev/null", file);
	p = popen(cmd, "r");
	assert_non_null(p);
#define FLUSH_PREV()                                                                                    \
	do {                                                                                            \
		if (have_prev)                                                                          \
			check_row(t, prev_loc, prev[0], prev[1][0] ? prev[1] : NULL, prev[2], file, x); \
		have_prev = 0;                                                                          \
	} while (0)
	while (fgets(line, sizeof(line), p)) {
		char *tok, *save;

		/* .debug_frame too: the files checked here have it only for what .eh_frame leaves out */
		if (strstr(line, "Contents of the ")) {
			FLUSH_PREV();
			in_eh = strstr(line, " .eh_frame section") || strstr(line, " .debug_frame section");
			continue;
		}
		if (strstr(line, " FDE cie=")) {
			x->fdes++;
			FLUSH_PREV();
			if (in_eh && !in_cie && fde_rows == 0 && lo < hi && cie_ra[0])
				check_row(t, lo, cie_cfa, cie_rbp[0] ? cie_rbp : NULL, cie_ra, file, x);
			if (sscanf(strstr(line, "pc="), "pc=%llx..%llx", &lo, &hi) != 2)
				fail_msg("%s: cannot read '%s'", file, line);
			in_cie = 0;
			fde_rows = 0;
			continue;
		}
		if (strstr(line, " CIE ")) {
			FLUSH_PREV();
			if (in_eh && !in_cie && fde_rows == 0 && lo < hi && cie_ra[0])
				check_row(t, lo, cie_cfa, cie_rbp[0] ? cie_rbp : NULL, cie_ra, file, x);
			lo = hi = 0;
			in_cie = 1;
			cie_ra[0] = 0;
			continue;
		}
		if (strstr(line, "LOC")) {
			ncol = 0;
			for (tok = strtok_r(line, " \n", &save); tok && ncol < 32;
			     tok = strtok_r(NULL, " \n", &save))
				snprintf(col[ncol++], sizeof(col[0]), "%s", tok);
			rbp_col = ra_col = -1;
			for (i = 0; i < ncol; i++) {
				if (!strcmp(col[i], "rbp"))
					rbp_col = i;
				if (!strcmp(col[i], "ra"))
					ra_col = i;
			}
			continue;
		}
		if (!in_eh || sscanf(line, "%llx", &loc) != 1 || strlen(line) < 17 || line[16] != ' ' ||
		    ra_col < 0)
			continue;
		/* a register rule is printed as two words, "r10 (r10)": the second is left out */
		ncol = 0;
		for (tok = strtok_r(line, " \n", &save); tok && ncol < 32; tok = strtok_r(NULL, " \n", &save))
			if (tok[0] != '(')
				snprintf(col[ncol++], sizeof(col[0]), "%s", tok);
		if (ra_col >= ncol)
			continue;
		if (in_cie) {
			snprintf(cie_cfa, sizeof(cie_cfa), "%s", col[1]);
			snprintf(cie_rbp, sizeof(cie_rbp), "%s", rbp_col > 0 ? col[rbp_col] : "");
			snprintf(cie_ra, sizeof(cie_ra), "%s", col[ra_col]);
			continue;
		}
		/* readelf may print one location twice (advance by 0): the last one holds */
		if (have_prev && prev_loc != loc)
			FLUSH_PREV();
		prev_loc = loc;
		snprintf(prev[0], sizeof(prev[0]), "%s", col[1]);
		snprintf(prev[1], sizeof(prev[1]), "%s", rbp_col > 0 ? col[rbp_col] : "");
		snprintf(prev[2], sizeof(prev[2]), "%s", col[ra_col]);
		have_prev = 1;
		fde_rows++;
	}
	FLUSH_PREV();
	if (in_eh && !in_cie && fde_rows == 0 && lo < hi && cie_ra[0])
		check_row(t, lo, cie_cfa, cie_rbp[0] ? cie_rbp : NULL, cie_ra, file, x);
#undef FLUSH_PREV
	pclose(p);
	assert_int_equal(x->fdes, t->st.fdes);
	assert_true(x->rows > 0);
}

static void build_file(const char *path, struct uwtable *t)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	assert_true(fd >= 0);
	err = uwtable__build_fd(fd, UWTABLE_MAX_ROWS, t);
	close(fd);
	if (err)
		fail_msg("%s: uwtable__build_fd: %s", path, strerror(-err));
	assert_int_equal(uwtable__validate(t->rows, t->nr), 0);
	assert_true(t->nr >= 2);
}

/* One variant of the fixture: built, its table made and checked. */
static void check_variant(const char *cc, const char *ld, int pie, int fp, int dframe)
{
	char bin[256], what[512];
	const struct scorch_uw_row *r;
	struct xcheck x;
	struct uwtable t;
	uint64_t start, fn, a;
	int rbp_rows = 0;

	snprintf(bin, sizeof(bin), "%s/%s_%s_%s_%s_%d", dir, cc, ld, pie ? "pie" : "nopie",
		 fp ? "fp" : "nofp", dframe);
	snprintf(
		what, sizeof(what), "%s -O2 -fuse-ld=%s %s %s %s", cc, ld,
		pie ? "-fPIE -pie" : "-fno-pie -no-pie",
		fp ? "-fno-omit-frame-pointer" : "-fomit-frame-pointer",
		!dframe ? ""
		: dframe == 1
			? "-g -fno-asynchronous-unwind-tables -fno-unwind-tables"
			: "-g -fno-asynchronous-unwind-tables -fno-unwind-tables -Wl,--compress-debug-sections=zlib");
	if (run("%s -o %s %s", what, bin, src))
		fail_msg("cannot build: %s", what);
	build_file(bin, &t);
	cross_check(bin, &t, &x);
	print_message("%s: %zu rows, %u FDEs, %d readelf rows agree, %d PLT rows\n", what, t.nr, t.st.fdes,
		      x.rows, x.plt_rows);
	/* the entry of every function: CFA = RSP + 8 (checked against readelf above); _start has no caller */
	start = symbol(bin, "_start");
	assert_true(start != 0);
	r = row_at(&t, start);
	assert_non_null(r);
	assert_int_equal(r->kind, SCORCH_UW_END);
	fn = symbol(bin, "fp_func");
	assert_true(fn != 0);
	r = row_at(&t, fn);
	assert_non_null(r);
	assert_int_equal(r->kind, SCORCH_UW_CFA_RSP);
	assert_int_equal(r->cfa_off, 8);
	for (a = fn; a < fn + 64; a++) {
		r = row_at(&t, a);
		if (r && r->kind == SCORCH_UW_CFA_RBP && r->cfa_off == 16 && r->rbp_off == -2)
			rbp_rows++;
	}
	if (fp)
		assert_true(rbp_rows > 0);
	/* ld.bfd describes its PLT with the expression; lld writes no CFI for it */
	if (!strcmp(ld, "bfd") && !dframe)
		assert_true(x.plt_rows > 0);
	uwtable__release(&t);
}

static void check_cc_ld(const char *cc, const char *ld)
{
	if (run("command -v %s >/dev/null 2>&1", cc)) {
		print_message("SKIP: '%s' is not installed\n", cc);
		skip();
	}
	if (!strcmp(ld, "lld") && run("command -v ld.lld >/dev/null 2>&1")) {
		print_message("SKIP: 'ld.lld' is not installed\n");
		skip();
	}
	check_variant(cc, ld, 1, 1, 0);
	check_variant(cc, ld, 1, 0, 0);
	check_variant(cc, ld, 0, 1, 0);
	check_variant(cc, ld, 0, 0, 0);
}

/* One test per compiler and linker, skipped by name when one of them is missing. */
#define CC_LD_TEST(cc, ld)                         \
	static void test_##cc##_##ld(void **state) \
	{                                          \
		(void)state;                       \
		check_cc_ld(#cc, #ld);             \
	}
CC_LD_TEST(gcc, bfd)
CC_LD_TEST(gcc, lld)
CC_LD_TEST(clang, bfd)
CC_LD_TEST(clang, lld)

/*
 * Code described by .debug_frame only: its FDEs fill the ranges .eh_frame (crt files) leaves; the
 * section as written, and compressed (zlib).
 */
static void test_debug_frame_only(void **state)
{
	(void)state;
	check_variant("gcc", "bfd", 1, 1, 1);
	check_variant("gcc", "bfd", 1, 1, 2);
	assert_int_equal(run("readelf -SW %s/gcc_bfd_pie_fp_2 | grep -q ' .debug_frame .* C '", dir), 0);
}

static void test_libc(void **state)
{
	const char *path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	struct timespec a, b;
	struct xcheck x;
	struct uwtable t;

	(void)state;
	if (access(path, R_OK)) {
		print_message("SKIP: no '%s'\n", path);
		skip();
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	build_file(path, &t);
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message(
		"%s: %zu rows in %.1f ms; fdes %u bad_fdes %u unknown %u (cfa_reg %u cfa_expr %u ra_rule %u "
		"rbp_rule %u too_large %u)\n",
		path, t.nr, (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6,
		t.st.fdes, t.st.bad_fdes, t.st.unknown, t.st.cfa_reg, t.st.cfa_expr, t.st.ra_rule,
		t.st.rbp_rule, t.st.too_large);
	assert_true(t.st.fdes > 1000);
	assert_int_equal(t.st.bad_fdes, 0);
	cross_check(path, &t, &x);
	print_message("%s: %d readelf rows agree\n", path, x.rows);
	uwtable__release(&t);
}

/* --- made-up sections ------------------------------------------------------------------------------ */

struct bytes {
	uint8_t b[1 << 18];
	size_t n;
};

static void put(struct bytes *x, const void *p, size_t n)
{
	assert_true(x->n + n <= sizeof(x->b));
	if (n)
		memcpy(x->b + x->n, p, n);
	x->n += n;
}

static void put_u8(struct bytes *x, uint8_t v)
{
	put(x, &v, 1);
}

static void put_u32(struct bytes *x, uint32_t v)
{
	put(x, &v, 4);
}

static void put_u64(struct bytes *x, uint64_t v)
{
	put(x, &v, 8);
}

static void set_u32(struct bytes *x, size_t at, uint32_t v)
{
	memcpy(x->b + at, &v, 4);
}

#define EH_ADDR 0x2000u

/* An .eh_frame CIE "zR" (pcrel sdata4), caf 1, daf -8, RA 16, then 'ins': its offset. */
static size_t eh_cie(struct bytes *x, const void *ins, size_t n)
{
	size_t at = x->n;

	put_u32(x, 0);
	put_u32(x, 0);
	put(x, "\1zR\0\1\x78\x10\1\x1b", 9);
	put(x, ins, n);
	set_u32(x, at, (uint32_t)(x->n - at - 4));
	return at;
}

/* The CIE every compiler writes: CFA = RSP + 8, RA at CFA - 8. */
static size_t std_cie(struct bytes *x)
{
	return eh_cie(x, "\x0c\x07\x08\x90\x01", 5);
}

static void eh_fde(struct bytes *x, size_t cie, uint64_t start, uint32_t range, const void *ins, size_t n)
{
	size_t at = x->n;

	put_u32(x, 0);
	put_u32(x, (uint32_t)(x->n - cie));
	put_u32(x, (uint32_t)(start - (EH_ADDR + x->n)));
	put_u32(x, range);
	put_u8(x, 0);
	put(x, ins, n);
	set_u32(x, at, (uint32_t)(x->n - at - 4));
}

/* A .debug_frame CIE (version 1, no augmentation), the same rules as std_cie. */
static size_t dbg_cie(struct bytes *x)
{
	size_t at = x->n;

	put_u32(x, 0);
	put_u32(x, 0xffffffff);
	put(x, "\1\0\1\x78\x10\x0c\x07\x08\x90\x01", 10);
	set_u32(x, at, (uint32_t)(x->n - at - 4));
	return at;
}

static void dbg_fde(struct bytes *x, size_t cie, uint64_t start, uint64_t range, const void *ins, size_t n)
{
	size_t at = x->n;

	put_u32(x, 0);
	put_u32(x, (uint32_t)cie);
	put_u64(x, start);
	put_u64(x, range);
	put(x, ins, n);
	set_u32(x, at, (uint32_t)(x->n - at - 4));
}

/* An x86-64 ELF file holding eh (at EH_ADDR) and dbg (either may be NULL) into img: its size. */
static size_t make_elf(struct bytes *img, const struct bytes *eh, const struct bytes *dbg)
{
	static const char names[] = "\0.eh_frame\0.debug_frame\0.shstrtab";
	Elf64_Shdr sh[4];
	Elf64_Ehdr h;
	size_t names_at, eh_at, dbg_at;

	memset(&h, 0, sizeof(h));
	memset(sh, 0, sizeof(sh));
	img->n = 0;
	memcpy(h.e_ident, ELFMAG, SELFMAG);
	h.e_ident[EI_CLASS] = ELFCLASS64;
	h.e_ident[EI_DATA] = ELFDATA2LSB;
	h.e_ident[EI_VERSION] = EV_CURRENT;
	h.e_type = ET_DYN;
	h.e_machine = EM_X86_64;
	h.e_version = EV_CURRENT;
	h.e_ehsize = sizeof(h);
	h.e_shentsize = sizeof(Elf64_Shdr);
	h.e_shnum = 4;
	h.e_shstrndx = 3;
	put(img, &h, sizeof(h));
	names_at = img->n;
	put(img, names, sizeof(names));
	eh_at = img->n;
	if (eh)
		put(img, eh->b, eh->n);
	dbg_at = img->n;
	if (dbg)
		put(img, dbg->b, dbg->n);
	while (img->n % 8)
		put_u8(img, 0);
	sh[1] = (Elf64_Shdr){ .sh_name = 1,
			      .sh_type = eh ? SHT_PROGBITS : SHT_NULL,
			      .sh_addr = EH_ADDR,
			      .sh_offset = eh_at,
			      .sh_size = eh ? eh->n : 0 };
	sh[2] = (Elf64_Shdr){ .sh_name = 11,
			      .sh_type = dbg ? SHT_PROGBITS : SHT_NULL,
			      .sh_offset = dbg_at,
			      .sh_size = dbg ? dbg->n : 0 };
	sh[3] = (Elf64_Shdr){
		.sh_name = 24, .sh_type = SHT_STRTAB, .sh_offset = names_at, .sh_size = sizeof(names)
	};
	((Elf64_Ehdr *)img->b)->e_shoff = img->n;
	put(img, sh, sizeof(sh));
	return img->n;
}

static struct bytes eh, dbg, img;

static int build_synth(const struct bytes *e, const struct bytes *d, uint32_t max_rows, struct uwtable *t)
{
	int err;

	make_elf(&img, e, d);
	err = uwtable__build(img.b, img.n, max_rows, t);
	if (!err)
		assert_int_equal(uwtable__validate(t->rows, t->nr), 0);
	else
		assert_int_equal(t->nr, 0);
	return err;
}

struct want {
	uint32_t pc;
	uint8_t kind;
	uint16_t cfa_off;
	int8_t rbp_off;
};

static void expect_rows(const struct uwtable *t, const struct want *w, size_t n)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		print_message("  row %zu: pc %#x kind %u cfa_off %u rbp_off %d\n", i, t->rows[i].pc,
			      t->rows[i].kind, t->rows[i].cfa_off, t->rows[i].rbp_off);
	assert_int_equal(t->nr, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(t->rows[i].pc, w[i].pc);
		assert_int_equal(t->rows[i].kind, w[i].kind);
		assert_int_equal(t->rows[i].cfa_off, w[i].cfa_off);
		assert_int_equal(t->rows[i].rbp_off, w[i].rbp_off);
	}
}

enum {
	U = SCORCH_UW_UNKNOWN,
	RSP = SCORCH_UW_CFA_RSP,
	RBP = SCORCH_UW_CFA_RBP,
	PLT = SCORCH_UW_PLT,
	END = SCORCH_UW_END
};

/* A function's prologue and epilogue, as gcc -fno-omit-frame-pointer writes them: rows exactly. */
static void test_synth_rows(void **state)
{
	/* adv 1; def_cfa_offset 16; offset rbp 2; adv 3; def_cfa_register rbp; adv 16; remember; def_cfa rsp
	 * 8; adv 1; restore_state; adv 2; nop */
	static const uint8_t ins[] = { 0x41, 0x0e, 0x10, 0x86, 0x02, 0x43, 0x0d, 0x06, 0x50,
				       0x0a, 0x0c, 0x07, 0x08, 0x41, 0x0b, 0x42, 0x00 };
	static const struct want w[] = {
		{ 0, RSP, 8, 0 },   { 1, RSP, 16, -2 },  { 4, RBP, 16, -2 },
		{ 20, RSP, 8, -2 }, { 21, RBP, 16, -2 }, { 32, U, 0, 0 },
	};
	struct uwtable t;
	size_t c;

	(void)state;
	eh.n = 0;
	c = std_cie(&eh);
	eh_fde(&eh, c, 0x401000, 32, ins, sizeof(ins));
	assert_int_equal(build_synth(&eh, NULL, UWTABLE_MAX_ROWS, &t), 0);
	assert_int_equal(t.base, 0x401000);
	expect_rows(&t, w, sizeof(w) / sizeof(w[0]));
	assert_int_equal(t.st.fdes, 1);
	assert_int_equal(t.st.unknown, 0);
	uwtable__release(&t);
}

/* The PLT's expression (litN 11 and 10), an undefined RA, and a gap between FDEs. */
static void test_synth_plt_end_gap(void **state)
{
	static const uint8_t plt11[] = { 0x0e, 0x10, 0x46, 0x0e, 0x18, 0x4a, 0x0f, 0x0b, 0x77, 0x08,
					 0x80, 0x00, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22 };
	static const uint8_t plt10[] = { 0x0f, 0x0b, 0x77, 0x08, 0x80, 0x00, 0x3f,
					 0x1a, 0x3a, 0x2a, 0x33, 0x24, 0x22 };
	static const uint8_t undef[] = { 0x07, 0x10 };
	static const struct want w[] = {
		{ 0, RSP, 16, 0 }, { 6, RSP, 24, 0 },    { 16, PLT, 11, 0 }, { 0x40, PLT, 10, 0 },
		{ 0x50, U, 0, 0 }, { 0x100, END, 0, 0 }, { 0x120, U, 0, 0 },
	};
	struct uwtable t;
	size_t c;

	(void)state;
	eh.n = 0;
	c = std_cie(&eh);
	eh_fde(&eh, c, 0x1000, 0x40, plt11, sizeof(plt11));
	eh_fde(&eh, c, 0x1040, 0x10, plt10, sizeof(plt10));
	eh_fde(&eh, c, 0x1100, 0x20, undef, sizeof(undef));
	assert_int_equal(build_synth(&eh, NULL, UWTABLE_MAX_ROWS, &t), 0);
	expect_rows(&t, w, sizeof(w) / sizeof(w[0]));
	assert_int_equal(t.st.fdes, 3);
	uwtable__release(&t);
}

/* Rules a row cannot hold: UNKNOWN, each counted by its reason. */
static void test_synth_reasons(void **state)
{
	static const struct {
		const char *what;
		uint8_t ins[16];
		size_t n;
		size_t stat; /* offset in struct uwtable_stats */
	} cases[] = {
		{ "def_cfa r10", { 0x0c, 0x0a, 0x08 }, 3, offsetof(struct uwtable_stats, cfa_reg) },
		{ "def_cfa_expression",
		  { 0x0f, 0x02, 0x77, 0x08 },
		  4,
		  offsetof(struct uwtable_stats, cfa_expr) },
		{ "ra at c-16", { 0x90, 0x02 }, 2, offsetof(struct uwtable_stats, ra_rule) },
		{ "ra in rbx", { 0x09, 0x10, 0x03 }, 3, offsetof(struct uwtable_stats, ra_rule) },
		{ "rbp undefined", { 0x07, 0x06 }, 2, offsetof(struct uwtable_stats, rbp_rule) },
		{ "rbp expression", { 0x10, 0x06, 0x01, 0x30 }, 4, offsetof(struct uwtable_stats, rbp_rule) },
		{ "rbp val_offset", { 0x14, 0x06, 0x01 }, 3, offsetof(struct uwtable_stats, rbp_rule) },
		{ "cfa rsp+70000", { 0x0e, 0xf0, 0xa2, 0x04 }, 4, offsetof(struct uwtable_stats, too_large) },
		{ "cfa rsp+4", { 0x0e, 0x04 }, 2, offsetof(struct uwtable_stats, too_large) },
		{ "rbp at c-2048", { 0x86, 0x80, 0x02 }, 3, offsetof(struct uwtable_stats, too_large) },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct uwtable t;
		uint8_t ins[32];
		size_t c;

		print_message("case %s\n", cases[i].what);
		/* the rule from pc 4 on: rows RSP 8 at 0, UNKNOWN at 4 */
		ins[0] = 0x44;
		memcpy(ins + 1, cases[i].ins, cases[i].n);
		eh.n = 0;
		c = std_cie(&eh);
		eh_fde(&eh, c, 0x1000, 0x10, ins, cases[i].n + 1);
		assert_int_equal(build_synth(&eh, NULL, UWTABLE_MAX_ROWS, &t), 0);
		assert_int_equal(t.nr, 2);
		assert_int_equal(t.rows[0].kind, RSP);
		assert_int_equal(t.rows[1].kind, U);
		assert_int_equal(t.rows[1].pc, 4);
		assert_int_equal(t.st.unknown, 1);
		assert_int_equal(*(const uint32_t *)((const char *)&t.st + cases[i].stat), 1);
		uwtable__release(&t);
	}
}

/* Overlapping FDEs clipped or skipped; .debug_frame only where .eh_frame has nothing. */
static void test_synth_overlap_and_debug_frame(void **state)
{
	static const uint8_t push[] = { 0x41, 0x0e, 0x10 };
	static const uint8_t fp[] = { 0x0c, 0x06, 0x10, 0x86, 0x02 };
	static const struct want w[] = {
		{ 0, RSP, 8, 0 },
		{ 1, RSP, 16, 0 }, /* A [0x1000, 0x1010) */
		/* B [0x1008, 0x1020) from 0x1010 on, in its own state there (RSP 16: merged); C skipped */
		{ 0x20, RBP, 16, -2 }, /* the .debug_frame FDE at 0x1020, cut where E starts */
		{ 0x28, RSP, 8, 0 },
		{ 0x29, RSP, 16, 0 }, /* E [0x1028, 0x1030) from .eh_frame */
		{ 0x30, U, 0, 0 },
	};
	struct uwtable t;
	size_t c;

	(void)state;
	eh.n = 0;
	dbg.n = 0;
	c = std_cie(&eh);
	eh_fde(&eh, c, 0x1000, 0x10, push, sizeof(push));
	eh_fde(&eh, c, 0x1008, 0x18, push, sizeof(push));
	eh_fde(&eh, c, 0x1009, 0x4, push, sizeof(push));
	eh_fde(&eh, c, 0x1028, 0x8, push, sizeof(push));
	c = dbg_cie(&dbg);
	dbg_fde(&dbg, c, 0x1000, 0x10, fp, sizeof(fp)); /* covered by .eh_frame: unused */
	dbg_fde(&dbg, c, 0x1020, 0x10, fp, sizeof(fp));
	assert_int_equal(build_synth(&eh, &dbg, UWTABLE_MAX_ROWS, &t), 0);
	expect_rows(&t, w, sizeof(w) / sizeof(w[0]));
	assert_int_equal(t.st.fdes, 6);
	uwtable__release(&t);
	/* .debug_frame alone */
	assert_int_equal(build_synth(NULL, &dbg, UWTABLE_MAX_ROWS, &t), 0);
	assert_int_equal(t.base, 0x1000);
	assert_int_equal(t.nr, 4);
	assert_int_equal(t.rows[0].kind, RBP);
	assert_int_equal(t.rows[1].kind, U);
	assert_int_equal(t.rows[1].pc, 0x10);
	assert_int_equal(t.rows[3].pc, 0x30);
	uwtable__release(&t);
}

/* Broken entries: their ranges UNKNOWN, counted, and nothing else lost. */
static void test_synth_bad_fdes(void **state)
{
	static const uint8_t restore_empty[] = { 0x41, 0x0b };
	static const uint8_t bad_op[] = { 0x41, 0x3f };
	static const uint8_t cut[] = { 0x41, 0x0e };
	static const uint8_t ok[] = { 0x41, 0x0e, 0x10 };
	uint8_t deep[300];
	struct uwtable t;
	size_t c, i;

	(void)state;
	memset(deep, 0x0a, sizeof(deep)); /* remember_state 300 times */
	eh.n = 0;
	c = std_cie(&eh);
	eh_fde(&eh, c, 0x1000, 0x10, ok, sizeof(ok));
	eh_fde(&eh, c, 0x1010, 0x10, restore_empty, sizeof(restore_empty));
	eh_fde(&eh, c, 0x1020, 0x10, bad_op, sizeof(bad_op));
	eh_fde(&eh, c, 0x1030, 0x10, cut, sizeof(cut));
	eh_fde(&eh, c, 0x1040, 0x10, deep, sizeof(deep));
	eh_fde(&eh, eh.n, 0x1050, 0x10, ok, sizeof(ok)); /* its CIE pointer: itself, no CIE */
	eh_fde(&eh, 0, 0x1060, 0x10, ok, sizeof(ok));
	assert_int_equal(build_synth(&eh, NULL, UWTABLE_MAX_ROWS, &t), 0);
	assert_int_equal(t.st.fdes, 7);
	assert_int_equal(t.st.bad_fdes, 5);
	assert_int_equal(t.nr, 6);
	assert_int_equal(t.rows[2].pc, 0x10);
	assert_int_equal(t.rows[2].kind, U);
	assert_int_equal(t.rows[3].pc, 0x60);
	assert_int_equal(t.rows[3].kind, RSP);
	uwtable__release(&t);

	/* FDEs whose CIE is missing only: no table */
	eh.n = 0;
	put_u32(&eh, 0);
	eh_fde(&eh, 0x1000, 0x1000, 0x10, ok, sizeof(ok));
	assert_int_equal(build_synth(&eh, NULL, UWTABLE_MAX_ROWS, &t), -ENOEXEC);
	assert_int_equal(t.st.fdes, 0);

	/* a length past the section: the walk stops there, the FDEs before it are kept */
	eh.n = 0;
	c = std_cie(&eh);
	eh_fde(&eh, c, 0x1000, 0x10, ok, sizeof(ok));
	put_u32(&eh, 0x7fffffff);
	put_u32(&eh, 0);
	assert_int_equal(build_synth(&eh, NULL, UWTABLE_MAX_ROWS, &t), 0);
	assert_int_equal(t.nr, 3);
	uwtable__release(&t);

	/* 64-bit lengths */
	eh.n = 0;
	c = std_cie(&eh);
	i = eh.n;
	put_u32(&eh, 0xffffffff);
	put_u64(&eh, 17);
	put_u32(&eh, (uint32_t)(eh.n - c));
	put_u32(&eh, (uint32_t)(0x1000 - (EH_ADDR + eh.n)));
	put_u32(&eh, 0x10);
	put(&eh, "\0\x41\x0e\x10\0", 5);
	assert_int_equal(eh.n - i, 12 + 17);
	assert_int_equal(build_synth(&eh, NULL, UWTABLE_MAX_ROWS, &t), 0);
	assert_int_equal(t.nr, 3);
	assert_int_equal(t.rows[1].cfa_off, 16);
	uwtable__release(&t);
}

/* max_rows: -E2BIG past it, exactly enough is enough; many tiny FDEs in well under a second. */
static void test_synth_limits(void **state)
{
	static const uint8_t ok[] = { 0x41, 0x0e, 0x10 };
	struct timespec a, b;
	struct uwtable t;
	size_t c, i;

	(void)state;
	eh.n = 0;
	c = std_cie(&eh);
	eh_fde(&eh, c, 0x1000, 0x10, ok, sizeof(ok));
	eh_fde(&eh, c, 0x1010, 0x10, ok, sizeof(ok));
	assert_int_equal(build_synth(&eh, NULL, 4, &t), -E2BIG);
	assert_int_equal(build_synth(&eh, NULL, 5, &t), 0);
	assert_int_equal(t.nr, 5);
	uwtable__release(&t);
	assert_int_equal(build_synth(&eh, NULL, 0, &t), -E2BIG);

	/* 4000 FDEs in reverse order, each twice: sorted once, the duplicates skipped */
	eh.n = 0;
	c = std_cie(&eh);
	for (i = 4000; i-- > 0;) {
		eh_fde(&eh, c, 0x10000 + 4 * i, 4, NULL, 0);
		eh_fde(&eh, c, 0x10000 + 4 * i, 4, ok, sizeof(ok));
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(build_synth(&eh, NULL, UWTABLE_MAX_ROWS, &t), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(t.st.fdes, 8000);
	/* every FDE starts RSP 8, and the first of each pair (without instructions) wins */
	assert_int_equal(t.nr, 2);
	assert_true(b.tv_sec - a.tv_sec < 2);
	uwtable__release(&t);
}

/* A code alignment factor other than 1, and pcs that do not fit 32 bits from the base. */
static void test_synth_caf_and_4g(void **state)
{
	static const uint8_t ins[] = { 0x41, 0x0e, 0x10, 0x02, 0x03 }; /* adv 1; cfa rsp+16; adv1 3 */
	static const uint8_t fp[] = { 0x0c, 0x06, 0x10, 0x86, 0x02 };
	const uint64_t base = 0x1000, limit = base + UINT32_MAX;
	struct uwtable t;
	size_t c;

	(void)state;
	eh.n = 0;
	put_u32(&eh, 0);
	put_u32(&eh, 0);
	put(&eh, "\1zR\0\4\x78\x10\1\x1b\x0c\x07\x08\x90\x01", 14); /* caf 4 */
	set_u32(&eh, 0, (uint32_t)(eh.n - 4));
	eh_fde(&eh, 0, 0x1000, 0x40, ins, sizeof(ins));
	assert_int_equal(build_synth(&eh, NULL, UWTABLE_MAX_ROWS, &t), 0);
	assert_int_equal(t.nr, 3);
	assert_int_equal(t.rows[1].pc, 4);
	assert_int_equal(t.rows[1].cfa_off, 16);
	assert_int_equal(t.rows[2].pc, 0x40);
	uwtable__release(&t);

	dbg.n = 0;
	c = dbg_cie(&dbg);
	dbg_fde(&dbg, c, base, 0x10, fp, sizeof(fp));
	dbg_fde(&dbg, c, limit - 7, 0x10, fp, sizeof(fp)); /* cut at the limit */
	dbg_fde(&dbg, c, limit + 1, 0x10, fp, sizeof(fp)); /* left out */
	assert_int_equal(build_synth(NULL, &dbg, UWTABLE_MAX_ROWS, &t), 0);
	assert_int_equal(t.base, base);
	assert_int_equal(t.st.too_large, 2);
	assert_int_equal(t.nr, 4);
	assert_int_equal(t.rows[2].pc, UINT32_MAX - 7);
	assert_int_equal(t.rows[2].kind, RBP);
	assert_int_equal(t.rows[3].pc, UINT32_MAX);
	uwtable__release(&t);
	/* at the top of the address space: the limit does not wrap */
	dbg.n = 0;
	c = dbg_cie(&dbg);
	dbg_fde(&dbg, c, UINT64_MAX - 0x100, 0x80, fp, sizeof(fp));
	assert_int_equal(build_synth(NULL, &dbg, UWTABLE_MAX_ROWS, &t), 0);
	assert_int_equal(t.nr, 2);
	assert_int_equal(t.rows[1].pc, 0x80);
	uwtable__release(&t);
}

/* Not ELF, truncated, garbage: an error or a table that validates, never a crash. */
static void test_bad_files(void **state)
{
	static const uint8_t ok[] = { 0x41, 0x0e, 0x10, 0x86, 0x02, 0x43, 0x0d, 0x06 };
	struct uwtable t;
	size_t c, n, i, j;
	uint32_t seed = 1;
	char path[256];
	int fd, err;

	(void)state;
	assert_int_equal(uwtable__build((const uint8_t *)"", 0, UWTABLE_MAX_ROWS, &t), -ENOEXEC);
	assert_int_equal(uwtable__build((const uint8_t *)"\177ELF", 4, UWTABLE_MAX_ROWS, &t), -ENOEXEC);
	eh.n = 0;
	dbg.n = 0;
	c = std_cie(&eh);
	for (i = 0; i < 8; i++)
		eh_fde(&eh, c, 0x1000 + 0x20 * i, 0x20, ok, sizeof(ok));
	c = dbg_cie(&dbg);
	dbg_fde(&dbg, c, 0x3000, 0x10, ok, sizeof(ok));
	n = make_elf(&img, &eh, &dbg);
	/* every prefix */
	for (i = 0; i < n; i++) {
		err = uwtable__build(img.b, i, UWTABLE_MAX_ROWS, &t);
		if (!err)
			assert_int_equal(uwtable__validate(t.rows, t.nr), 0);
		uwtable__release(&t);
	}
	/* random bytes changed, from a few to many */
	for (i = 0; i < 3000; i++) {
		static struct bytes bad;

		bad = img;
		for (j = 0; j <= i % 64; j++) {
			seed = seed * 1103515245 + 12345;
			bad.b[(seed >> 8) % n] = (uint8_t)(seed >> 20);
		}
		err = uwtable__build(bad.b, n, UWTABLE_MAX_ROWS, &t);
		if (!err)
			assert_int_equal(uwtable__validate(t.rows, t.nr), 0);
		uwtable__release(&t);
	}
	/* a section over UWTABLE_MAX_SECTION: -EFBIG, before anything is read or allocated */
	{
		static struct bytes big;
		Elf64_Shdr sh;
		size_t shoff;

		big = img;
		memcpy(&shoff, big.b + offsetof(Elf64_Ehdr, e_shoff), sizeof(shoff));
		memcpy(&sh, big.b + shoff + sizeof(sh), sizeof(sh));
		sh.sh_size = (uint64_t)UWTABLE_MAX_SECTION + 1;
		memcpy(big.b + shoff + sizeof(sh), &sh, sizeof(sh));
		assert_int_equal(uwtable__build(big.b, n, UWTABLE_MAX_ROWS, &t), -EFBIG);
		/* and one within the limit but past the end of the file */
		sh.sh_size = n;
		memcpy(big.b + shoff + sizeof(sh), &sh, sizeof(sh));
		assert_int_equal(uwtable__build(big.b, n, UWTABLE_MAX_ROWS, &t), -ENOEXEC);
	}
	/* through a file: a truncated copy, a directory */
	snprintf(path, sizeof(path), "%s/short", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img.b, n - 100), (ssize_t)(n - 100));
	assert_int_equal(uwtable__build_fd(fd, UWTABLE_MAX_ROWS, &t), -ENOEXEC);
	close(fd);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(uwtable__build_fd(fd, UWTABLE_MAX_ROWS, &t), -ENOEXEC);
	close(fd);
}

/* The root side's check. */
static void test_validate(void **state)
{
	struct scorch_uw_row r[3] = { { 0, 8, 0, RSP }, { 4, 16, -2, RBP }, { 8, 0, 0, U } };

	(void)state;
	assert_int_equal(uwtable__validate(r, 3), 0);
	assert_int_equal(uwtable__validate(r, 0), -EINVAL);
	assert_int_equal(uwtable__validate(r, 2), -EINVAL); /* the last is not UNKNOWN */
	r[1].pc = 0;
	assert_int_equal(uwtable__validate(r, 3), -EINVAL);
	r[1].pc = 4;
	r[1].kind = 5;
	assert_int_equal(uwtable__validate(r, 3), -EINVAL);
	r[1].kind = PLT;
	r[1].cfa_off = 16;
	assert_int_equal(uwtable__validate(r, 3), -EINVAL);
	r[1].cfa_off = 11;
	assert_int_equal(uwtable__validate(r, 3), 0);
	r[0].cfa_off = 7;
	assert_int_equal(uwtable__validate(r, 3), -EINVAL);
}

#define SYNTH_TESTS                                                                                         \
	cmocka_unit_test(test_synth_rows), cmocka_unit_test(test_synth_plt_end_gap),                        \
		cmocka_unit_test(test_synth_reasons), cmocka_unit_test(test_synth_overlap_and_debug_frame), \
		cmocka_unit_test(test_synth_bad_fdes), cmocka_unit_test(test_synth_limits),                 \
		cmocka_unit_test(test_synth_caf_and_4g), cmocka_unit_test(test_bad_files),                  \
		cmocka_unit_test(test_validate)

static int setup(void **state)
{
	const char *tests = getenv("TESTS");

	(void)state;
	snprintf(src, sizeof(src), "%s/fixtures/uwfix.c", tests ? tests : "tests");
	if (access(src, R_OK) != 0) {
		fprintf(stderr, "cannot find '%s' (run from the source tree or set TESTS)\n", src);
		return -1;
	}
	strcpy(dir, "/tmp/scorch-uwtest.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (dir[0])
		run("rm -rf '%s'", dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcc_bfd),
		cmocka_unit_test(test_gcc_lld),
		cmocka_unit_test(test_clang_bfd),
		cmocka_unit_test(test_clang_lld),
		cmocka_unit_test(test_debug_frame_only),
		cmocka_unit_test(test_libc),
		SYNTH_TESTS,
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
