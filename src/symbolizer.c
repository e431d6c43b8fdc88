// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>

#include "idxmap.h"
#include "log.h"
#include "symbolizer.h"

struct sym_entry {
	uint64_t addr;
	uint64_t size;
	const char *name; /* borrowed from libdwfl's copy of the ELF string table */
	int global;
};

struct load_seg {
	uint64_t offset, vaddr, filesz;
};

struct sym_elf {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime;
	int ok;                  /* 0: the file could not be used; lookups give no frames */
	Dwfl *dwfl;              /* owned */
	Dwfl_Module *mod;        /* borrowed from dwfl */
	struct sym_entry *syms;  /* owned, sorted by addr */
	size_t nr_syms;
	int syms_loaded;
	struct load_seg *segs;   /* owned */
	size_t nr_segs;
	char build_id[2 * 64 + 1];
	char *name;              /* owned */
};

struct symbolizer {
	struct sym_elf **elfs; /* owned */
	size_t nr_elfs, cap_elfs;
	struct u64map by_key;  /* hash of (dev, ino, size, mtime) -> index + 1 */
};

static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			char **debuginfo_file_name)
{
	(void)mod, (void)userdata, (void)modname, (void)base, (void)file_name, (void)debuglink_file;
	(void)debuglink_crc, (void)debuginfo_file_name;
	/* Symbol tables only, for now; never let libdwfl open files by names the target chose. */
	return -1;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = NULL,
	.find_debuginfo = no_debuginfo,
	.section_address = dwfl_offline_section_address,
};

struct symbolizer *symbolizer__new(void)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	u64map__init(&s->by_key);
	elf_version(EV_CURRENT);
	return s;
}

static void sym_elf_free(struct sym_elf *e)
{
	if (!e)
		return;
	if (e->dwfl)
		dwfl_end(e->dwfl);
	free(e->syms);
	free(e->segs);
	free(e->name);
	free(e);
}

void symbolizer__free(struct symbolizer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr_elfs; i++)
		sym_elf_free(s->elfs[i]);
	free(s->elfs);
	u64map__release(&s->by_key);
	free(s);
}

static int load_segments(struct sym_elf *e)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(e->mod, &bias);
	size_t n, i;

	if (!elf || elf_getphdrnum(elf, &n) != 0)
		return -EINVAL;
	e->segs = calloc(n ? n : 1, sizeof(*e->segs));
	if (!e->segs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		e->segs[e->nr_segs].offset = ph.p_offset;
		e->segs[e->nr_segs].vaddr = ph.p_vaddr;
		e->segs[e->nr_segs].filesz = ph.p_filesz;
		e->nr_segs++;
	}
	return 0;
}

static void load_build_id(struct sym_elf *e)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(e->mod, &bits, &vaddr), i;

	if (n <= 0 || n > 64)
		return;
	for (i = 0; i < n; i++) {
		static const char hex[] = "0123456789abcdef";

		e->build_id[2 * i] = hex[bits[i] >> 4];
		e->build_id[2 * i + 1] = hex[bits[i] & 15];
	}
	e->build_id[2 * n] = '\0';
}

static int open_elf(struct sym_elf *e, int fd)
{
	unsigned char magic[SELFMAG];
	int dfd;

	if (pread(fd, magic, SELFMAG, 0) != SELFMAG || memcmp(magic, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	e->dwfl = dwfl_begin(&callbacks);
	if (!e->dwfl)
		return -ENOMEM;
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return -errno;
	/* Base 0 with add_p_vaddr: module addresses are the file's own virtual addresses. */
	e->mod = dwfl_report_elf(e->dwfl, e->name, e->name, dfd, 0, true);
	if (!e->mod) {
		close(dfd);
		pr_debug("'%s': %s", e->name, dwfl_errmsg(-1));
		return -EINVAL;
	}
	dwfl_report_end(e->dwfl, NULL, NULL);
	if (load_segments(e))
		return -EINVAL;
	load_build_id(e);
	return 0;
}

struct sym_elf *symbolizer__open_fd(struct symbolizer *s, int fd, const char *name)
{
	struct stat st;
	struct sym_elf *e;
	uint64_t key, idx;
	int err;

	if (fstat(fd, &st) != 0)
		return NULL;
	key = idxmap__hash_u64((uint64_t)st.st_dev * 0x9e3779b97f4a7c15ULL ^ (uint64_t)st.st_ino) ^
	      idxmap__hash_u64((uint64_t)st.st_size << 1 ^ (uint64_t)st.st_mtim.tv_sec * 1000000007ULL ^
			       (uint64_t)st.st_mtim.tv_nsec);
	if (u64map__get(&s->by_key, key, &idx)) {
		e = s->elfs[idx - 1];
		if (e->dev == st.st_dev && e->ino == st.st_ino && e->size == st.st_size) {
			if (!e->ok)
				errno = EINVAL;
			return e->ok ? e : NULL;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->name = strdup(name))) {
		free(e);
		errno = ENOMEM;
		return NULL;
	}
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->size = st.st_size;
	e->mtime = st.st_mtim.tv_sec;
	err = open_elf(e, fd);
	e->ok = err == 0;
	if (err) {
		if (e->dwfl)
			dwfl_end(e->dwfl);
		e->dwfl = NULL;
		e->mod = NULL;
		pr_debug("cannot read '%s' as ELF: %s", name, strerror(-err));
	}
	if (s->nr_elfs == s->cap_elfs) {
		size_t ncap = s->cap_elfs ? s->cap_elfs * 2 : 32;
		struct sym_elf **n = realloc(s->elfs, ncap * sizeof(*n));

		if (!n) {
			sym_elf_free(e);
			errno = ENOMEM;
			return NULL;
		}
		s->elfs = n;
		s->cap_elfs = ncap;
	}
	s->elfs[s->nr_elfs++] = e;
	if (u64map__set(&s->by_key, key, s->nr_elfs)) {
		errno = ENOMEM;
		return NULL;
	}
	if (!e->ok) {
		errno = -err;
		return NULL;
	}
	return e;
}

int symbolizer__offset_to_vaddr(const struct sym_elf *e, uint64_t offset, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < e->nr_segs; i++) {
		const struct load_seg *g = &e->segs[i];

		if (offset >= g->offset && offset - g->offset < g->filesz) {
			*vaddr = offset - g->offset + g->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

const char *symbolizer__build_id(const struct sym_elf *e)
{
	return e->build_id;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym_entry *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* At one address, prefer global symbols, then sized ones: they sort last and win. */
	if (x->global != y->global)
		return x->global - y->global;
	return (x->size > y->size) - (x->size < y->size);
}

static void load_symbols(struct sym_elf *e)
{
	int n = dwfl_module_getsymtab(e->mod), i;
	size_t out = 0;

	e->syms_loaded = 1;
	if (n <= 0)
		return;
	e->syms = malloc((size_t)n * sizeof(*e->syms));
	if (!e->syms)
		return;
	for (i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		Elf *elf;
		Dwarf_Addr bias;
		const char *name = dwfl_module_getsym_info(e->mod, i, &sym, &addr, &shndx, &elf, &bias);
		int type = GELF_ST_TYPE(sym.st_info);

		if (!name || !name[0] || shndx == SHN_UNDEF || addr == 0)
			continue;
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		e->syms[out].addr = addr;
		e->syms[out].size = sym.st_size;
		e->syms[out].name = name;
		e->syms[out].global = GELF_ST_BIND(sym.st_info) != STB_LOCAL;
		out++;
	}
	qsort(e->syms, out, sizeof(*e->syms), cmp_sym);
	/* Keep one symbol per address: the last one, which cmp_sym made the best. */
	e->nr_syms = 0;
	for (i = 0; (size_t)i < out; i++) {
		if ((size_t)i + 1 < out && e->syms[i + 1].addr == e->syms[i].addr)
			continue;
		e->syms[e->nr_syms++] = e->syms[i];
	}
}

int symbolizer__lookup(struct symbolizer *s, struct sym_elf *e, uint64_t vaddr, struct sym_frame *out, int max)
{
	size_t lo = 0, hi;
	const struct sym_entry *sym;

	(void)s;
	if (!e || !e->ok || max < 1)
		return 0;
	if (!e->syms_loaded)
		load_symbols(e);
	hi = e->nr_syms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return 0;
	sym = &e->syms[lo - 1];
	/* A sized symbol covers only its size; an unsized one reaches the next symbol. */
	if (sym->size && vaddr - sym->addr >= sym->size)
		return 0;
	out[0].function = sym->name;
	out[0].file = NULL;
	out[0].line = 0;
	out[0].inlined = 0;
	return 1;
}
