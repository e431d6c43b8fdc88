// SPDX-License-Identifier: MIT
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <elfutils/libdwfl.h>

#include "array.h"
#include "demangle.h"
#include "idxmap.h"
#include "log.h"
#include "safeopen.h"
#include "symbolizer.h"

#include "symbolizer_int.h"

static const Dwfl_Callbacks callbacks = {
	.find_elf = NULL,
	.find_debuginfo = debuginfo__find,
	.section_address = dwfl_offline_section_address,
};

/* --- files --------------------------------------------------------------------------------------- */

struct symbolizer *symbolizer__new(const struct symbolizer_opts *opts)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (opts)
		s->opts = *opts;
	u64map__init(&s->by_key);
	u64map__init(&s->demangled);
	u64map__init(&s->by_build_id);
	elf_version(EV_CURRENT);
	return s;
}

static void sym_elf_free(struct sym_elf *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->nr_cus; i++) {
		free(e->cus[i].nodes);
		free(e->cus[i].node_ranges);
		free(e->cus[i].sorted);
	}
	free(e->cus);
	free(e->cu_ranges);
	u64map__release(&e->cu_by_off);
	u64map__release(&e->results);
	if (e->dwfl)
		dwfl_end(e->dwfl);
	free(e->syms);
	free(e->segs);
	free(e->name);
	free(e->root);
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
	for (i = 0; i < s->nr_strs; i++)
		free(s->strs[i]);
	free(s->strs);
	free(s->frames);
	u64map__release(&s->by_key);
	u64map__release(&s->demangled);
	u64map__release(&s->by_build_id);
	free(s);
}

static int load_segments(struct sym_elf *e)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(e->mod, &bias);
	size_t n, i;

	if (!elf || elf_getphdrnum(elf, &n) != 0 || n > 65536)
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
	void **ud;
	int dfd;

	if (!safeopen__is_elf(fd))
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
	/* The debuginfo callback finds its file through the module's user data. */
	dwfl_module_info(e->mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
	*ud = e;
	if (load_segments(e))
		return -EINVAL;
	load_build_id(e);
	return 0;
}

struct sym_elf *symbolizer__open_fd(struct symbolizer *s, int fd, const char *name, const char *root)
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
	if (!e || !(e->name = strdup(name)) || (root && !(e->root = strdup(root)))) {
		if (e)
			free(e->name);
		free(e);
		errno = ENOMEM;
		return NULL;
	}
	e->s = s;
	u64map__init(&e->cu_by_off);
	u64map__init(&e->results);
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->size = st.st_size;
	e->mtime = st.st_mtim.tv_sec;
	e->uid = st.st_uid;
	err = open_elf(e, fd);
	e->ok = err == 0;
	if (err) {
		if (e->dwfl)
			dwfl_end(e->dwfl);
		e->dwfl = NULL;
		e->mod = NULL;
		pr_debug("cannot read '%s' as ELF: %s", name, strerror(-err));
	}
	/* Out of descriptors says nothing of the file: not remembered as bad, tried again next time. */
	if (err == -EMFILE || err == -ENFILE) {
		sym_elf_free(e);
		errno = -err;
		return NULL;
	}
	if (array__grow(&s->elfs, &s->cap_elfs, s->nr_elfs + 1, sizeof(*s->elfs))) {
		sym_elf_free(e);
		errno = ENOMEM;
		return NULL;
	}
	if (e->ok && e->build_id[0]) {
		uint64_t bkey = idxmap__hash_bytes(e->build_id, strlen(e->build_id), 0x5ca1ab1e);

		struct sym_elf *first = u64map__get(&s->by_build_id, bkey, &idx) ? s->elfs[idx - 1] : NULL;

		/*
		 * The same build id is the same code: a library seen through another inode (another
		 * container's copy) shares the first one's tables, DWARF and cached results. Only for
		 * root's files of the same size: a process could plant a file claiming another
		 * library's build id, and must not change how other processes' code is named.
		 */
		if (first && !strcmp(first->build_id, e->build_id) && first->size == e->size && !first->uid &&
		    !e->uid) {
			sym_elf_free(e);
			if (u64map__set(&s->by_key, key, idx)) {
				errno = ENOMEM;
				return NULL;
			}
			return s->elfs[idx - 1];
		}
		if (!first && u64map__set(&s->by_build_id, bkey, s->nr_elfs + 1)) {
			sym_elf_free(e);
			errno = ENOMEM;
			return NULL;
		}
	}
	if (e->ok)
		s->stats.elfs++;
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

struct sym_elf *symbolizer__vdso(struct symbolizer *s)
{
	const unsigned char *img = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	size_t size, k;
	int fd;

	if (s->vdso_tried)
		return s->vdso;
	s->vdso_tried = 1;
	if (!img || memcmp(img, ELFMAG, SELFMAG) != 0 || img[EI_CLASS] != ELFCLASS64)
		return NULL;
	/* The image ends with its section headers, or with its last segment. */
	size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	for (k = 0; k < eh->e_phnum; k++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff + k * eh->e_phentsize);

		if (ph->p_offset + ph->p_filesz > size)
			size = ph->p_offset + ph->p_filesz;
	}
	if (size > (1u << 20))
		return NULL;
	fd = memfd_create("scorch-vdso", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (write(fd, img, size) == (ssize_t)size)
		s->vdso = symbolizer__open_fd(s, fd, "[vdso]", NULL);
	close(fd);
	return s->vdso;
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

int symbolizer__load_segment(const struct sym_elf *e, size_t i, uint64_t *offset, uint64_t *vaddr,
			     uint64_t *filesz)
{
	if (i >= e->nr_segs)
		return -ENOENT;
	*offset = e->segs[i].offset;
	*vaddr = e->segs[i].vaddr;
	*filesz = e->segs[i].filesz;
	return 0;
}

const char *symbolizer__build_id(const struct sym_elf *e)
{
	return e->build_id;
}

void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *st)
{
	*st = s->stats;
}

/* --- symbol table -------------------------------------------------------------------------------- */

static int cmp_sym(const void *a, const void *b)
{
	const struct sym_entry *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/*
	 * At one address the best sorts last and wins, chosen as elfutils does (so that names agree
	 * with eu-addr2line): a sized symbol, then global over weak over local, then the first in
	 * the table.
	 */
	if (!x->size != !y->size)
		return x->size ? 1 : -1;
	if (x->label != y->label)
		return x->label ? -1 : 1;
	if (x->binding != y->binding)
		return x->binding < y->binding ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* Whether symbol section 'shndx' of 'elf' holds code (an assembler label there names code). */
static int in_code(Elf *elf, GElf_Word shndx)
{
	GElf_Shdr shdr;
	Elf_Scn *scn;

	if (!elf || shndx == SHN_UNDEF || shndx >= SHN_LORESERVE)
		return 0;
	scn = elf_getscn(elf, shndx);
	return scn && gelf_getshdr(scn, &shdr) && (shdr.sh_flags & SHF_EXECINSTR);
}

/*
 * Functions (STT_FUNC, STT_GNU_IFUNC) and labels: untyped symbols in code, as assembler routines
 * without .type have (glibc's ld.so _start and _dl_start_user), which eu-addr2line names too.
 */
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
		int type = GELF_ST_TYPE(sym.st_info), label = type == STT_NOTYPE;

		if (!name || !name[0] || shndx == SHN_UNDEF || addr == 0)
			continue;
		if (type != STT_FUNC && type != STT_GNU_IFUNC && !label)
			continue;
		/* ARM's mapping symbols ($x, $d) are untyped too, and name nothing. */
		if (label && (name[0] == '$' || !in_code(elf, shndx)))
			continue;
		e->syms[out].addr = addr;
		e->syms[out].size = sym.st_size;
		e->syms[out].name = name;
		e->syms[out].index = (uint32_t)i;
		e->syms[out].binding = GELF_ST_BIND(sym.st_info) == STB_GLOBAL  ? 3
				       : GELF_ST_BIND(sym.st_info) == STB_LOCAL ? 2
										: 1;
		e->syms[out].label = (uint8_t)label;
		out++;
	}
	if (out)
		qsort(e->syms, out, sizeof(*e->syms), cmp_sym);
	/* Keep one symbol per address: the last one, which cmp_sym made the best. */
	e->nr_syms = 0;
	for (i = 0; (size_t)i < out; i++) {
		if ((size_t)i + 1 < out && e->syms[i + 1].addr == e->syms[i].addr)
			continue;
		e->syms[e->nr_syms++] = e->syms[i];
	}
}

/* How many unsized symbols below an address are passed over looking for a sized one that covers it. */
#define SYM_SCAN_BACK 64

/*
 * The symbol that names vaddr, as elfutils chooses: a sized symbol that covers it (so a label inside
 * a function does not hide the function), else the closest unsized symbol below it.
 */
static const struct sym_entry *find_symbol(struct sym_elf *e, uint64_t vaddr)
{
	const struct sym_entry *unsized = NULL;
	size_t lo, k;

	if (!e->syms_loaded)
		load_symbols(e);
	lo = array__upper_bound_u64(e->syms, e->nr_syms, sizeof(*e->syms), offsetof(struct sym_entry, addr),
				    vaddr);
	for (k = lo; k > 0 && lo - k < SYM_SCAN_BACK; k--) {
		const struct sym_entry *sym = &e->syms[k - 1];

		if (sym->size)
			return vaddr - sym->addr < sym->size ? sym : unsized;
		if (!unsized)
			unsized = sym;
	}
	return unsized;
}

/* --- names --------------------------------------------------------------------------------------- */

/* The demangled form of 'raw' (cached by pointer: libdw's strings do not move), or 'raw' itself. */
static const char *demangled(struct symbolizer *s, const char *raw)
{
	uint64_t v;
	char *d;

	if (!raw || s->opts.no_demangle || raw[0] != '_')
		return raw;
	if (u64map__get(&s->demangled, (uint64_t)(uintptr_t)raw, &v))
		return v ? s->strs[v - 1] : raw;
	d = demangle__name(raw);
	if (d && array__grow(&s->strs, &s->cap_strs, s->nr_strs + 1, sizeof(*s->strs))) {
		free(d);
		return raw;
	}
	if (d)
		s->strs[s->nr_strs++] = d;
	/* Failing to cache only costs demangling again next time. */
	(void)u64map__set(&s->demangled, (uint64_t)(uintptr_t)raw, d ? s->nr_strs : 0);
	return d ? d : raw;
}

/* The name of a function DIE as addr2line gives it: its linkage name, else its name. */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr)
					?: dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
	return name;
}

/* --- DWARF indexes ------------------------------------------------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
	const struct addr_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	/* Two DIEs with the same range (assembler aliases): the first one wins, as in libdw. */
	return (x->idx < y->idx) - (x->idx > y->idx);
}

static int push_range(struct addr_range **arr, uint32_t *nr, size_t *cap, uint64_t lo, uint64_t hi,
		      uint32_t idx, uint32_t depth)
{
	/* The count is 32-bit: the array stops growing before it would wrap. */
	if (*nr == UINT32_MAX || array__grow(arr, cap, (size_t)*nr + 1, sizeof(**arr)))
		return -ENOMEM;
	(*arr)[*nr] = (struct addr_range){ .lo = lo, .hi = hi, .idx = idx, .depth = depth };
	(*nr)++;
	return 0;
}

/* Load the DWARF of a file and index its compile units by address (no .debug_aranges needed). */
static void load_dwarf(struct symbolizer *s, struct sym_elf *e)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, subdie;
	Dwarf_Half version;
	uint8_t unit_type;
	uint32_t nr = 0;
	size_t cap = 0, cap_cus = 0;

	e->dwarf_tried = 1;
	e->dw = dwfl_module_getdwarf(e->mod, &e->dwbias);
	if (!e->dw)
		return;
	s->stats.dwarfs++;
	while (e->nr_cus < MAX_CUS &&
	       dwarf_get_units(e->dw, cu, &cu, &version, &unit_type, &cudie, &subdie) == 0) {
		ptrdiff_t off = 0;
		Dwarf_Addr base, lo, hi;
		uint32_t k = 0;
		struct sym_cu *c;

		if (unit_type != DW_UT_compile && unit_type != DW_UT_partial)
			continue;
		if (array__grow(&e->cus, &cap_cus, e->nr_cus + 1, sizeof(*e->cus)))
			break;
		c = &e->cus[e->nr_cus];
		memset(c, 0, sizeof(*c));
		c->die = cudie;
		if (u64map__set(&e->cu_by_off, dwarf_dieoffset(&cudie), e->nr_cus + 1))
			break;
		while (k++ < MAX_DIE_RANGES && (off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0)
			if (lo < hi && lo &&
			    push_range(&e->cu_ranges, &nr, &cap, lo, hi, (uint32_t)e->nr_cus, 0))
				break;
		e->nr_cus++;
	}
	e->nr_cu_ranges = nr;
	if (nr)
		qsort(e->cu_ranges, nr, sizeof(*e->cu_ranges), cmp_range);
}

static int descend_into(int tag)
{
	switch (tag) {
	case DW_TAG_subprogram:
	case DW_TAG_inlined_subroutine:
	case DW_TAG_lexical_block:
	case DW_TAG_namespace:
	case DW_TAG_module:
	case DW_TAG_class_type:
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_try_block:
	case DW_TAG_catch_block:
		return 1;
	default:
		return 0;
	}
}

static void index_children(struct sym_cu *c, Dwarf_Die *parent, uint32_t parent_node, int depth)
{
	Dwarf_Die child;
	Dwarf_Off prev = 0;

	if (depth > MAX_DIE_DEPTH || dwarf_child(parent, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		uint32_t node = parent_node;
		Dwarf_Off off = dwarf_dieoffset(&child);

		/* Siblings only move forward; anything else is a loop in malformed DWARF. */
		if (off <= prev || ++c->visits > MAX_CU_DIES)
			return;
		prev = off;
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			ptrdiff_t roff = 0;
			Dwarf_Addr base, lo, hi;
			uint32_t k = 0, first = c->nr_node_ranges;
			struct fn_node *n;

			while (k++ < MAX_DIE_RANGES &&
			       (roff = dwarf_ranges(&child, roff, &base, &lo, &hi)) > 0)
				if (lo < hi && lo &&
				    push_range(&c->node_ranges, &c->nr_node_ranges, &c->cap_node_ranges, lo,
					       hi, c->nr_nodes, (uint32_t)depth))
					return;
			if (c->nr_node_ranges == first)
				continue; /* a declaration or code that was discarded */
			if (c->nr_nodes == UINT32_MAX ||
			    array__grow(&c->nodes, &c->cap_nodes, (size_t)c->nr_nodes + 1,
					sizeof(*c->nodes))) {
				c->nr_node_ranges = first;
				return;
			}
			n = &c->nodes[c->nr_nodes];
			memset(n, 0, sizeof(*n));
			n->die = child;
			n->parent = parent_node;
			n->rfirst = first;
			n->rcount = c->nr_node_ranges - first;
			n->depth = (uint16_t)depth;
			n->inlined = tag == DW_TAG_inlined_subroutine;
			if (n->inlined) {
				Dwarf_Attribute attr;
				Dwarf_Word v;

				if (dwarf_formudata(dwarf_attr(&child, DW_AT_call_file, &attr), &v) == 0 &&
				    v < UINT32_MAX)
					n->call_file = (uint32_t)v + 1;
				if (dwarf_formudata(dwarf_attr(&child, DW_AT_call_line, &attr), &v) == 0 &&
				    v < UINT32_MAX)
					n->call_line = (uint32_t)v;
			}
			node = c->nr_nodes++;
		} else if (!descend_into(tag)) {
			continue;
		}
		index_children(c, &child, node, depth + 1);
	} while (dwarf_siblingof(&child, &child) == 0);
}

static void index_cu(struct sym_cu *c)
{
	c->indexed = 1;
	index_children(c, &c->die, UINT32_MAX, 0);
	if (!c->nr_node_ranges)
		return;
	c->sorted = malloc((size_t)c->nr_node_ranges * sizeof(*c->sorted));
	if (!c->sorted)
		return;
	memcpy(c->sorted, c->node_ranges, (size_t)c->nr_node_ranges * sizeof(*c->sorted));
	qsort(c->sorted, c->nr_node_ranges, sizeof(*c->sorted), cmp_range);
}

/* Index of the last range with lo <= pc, or SIZE_MAX. */
static size_t last_starting(const struct addr_range *r, size_t n, uint64_t pc)
{
	size_t i = array__upper_bound_u64(r, n, sizeof(*r), offsetof(struct addr_range, lo), pc);

	return i ? i - 1 : SIZE_MAX;
}

static struct sym_cu *find_cu(struct sym_elf *e, uint64_t pc)
{
	size_t i = last_starting(e->cu_ranges, e->nr_cu_ranges, pc), k;
	Dwarf_Die die;
	uint64_t idx;

	/*
	 * .debug_aranges first when the file has it (it decides between CUs that claim the same code,
	 * as libdw does); our own index of CU ranges for files without it (clang's default).
	 */
	if (dwarf_addrdie(e->dw, pc, &die) && u64map__get(&e->cu_by_off, dwarf_dieoffset(&die), &idx))
		return &e->cus[idx - 1];
	for (k = 0; i != SIZE_MAX && k < 64; k++, i--) {
		if (pc < e->cu_ranges[i].hi)
			return &e->cus[e->cu_ranges[i].idx];
		if (i == 0)
			break;
	}
	return NULL;
}

static int node_contains(const struct sym_cu *c, uint32_t node, uint64_t pc)
{
	const struct fn_node *n = &c->nodes[node];
	uint32_t i;

	for (i = 0; i < n->rcount; i++) {
		const struct addr_range *r = &c->node_ranges[n->rfirst + i];

		if (pc >= r->lo && pc < r->hi)
			return 1;
	}
	return 0;
}

/* The innermost function or inlined instance of the CU containing pc, or UINT32_MAX. */
static uint32_t find_node(struct sym_cu *c, uint64_t pc)
{
	size_t i, k;
	uint32_t node, best = UINT32_MAX, steps;

	if (!c->indexed)
		index_cu(c);
	if (!c->sorted)
		return UINT32_MAX;
	i = last_starting(c->sorted, c->nr_node_ranges, pc);
	if (i == SIZE_MAX)
		return UINT32_MAX;
	if (pc < c->sorted[i].hi)
		return c->sorted[i].idx;
	/* Ranges nest: the answer is the innermost ancestor of the last range started that holds pc. */
	for (node = c->nodes[c->sorted[i].idx].parent, steps = 0; node != UINT32_MAX && steps < MAX_DIE_DEPTH;
	     node = c->nodes[node].parent, steps++)
		if (node_contains(c, node, pc))
			return node;
	/* Malformed or unusual nesting: look back a little for the deepest range that holds pc. */
	for (k = 0; k < 256; k++, i--) {
		const struct addr_range *r = &c->sorted[i];

		if (pc >= r->lo && pc < r->hi && (best == UINT32_MAX || r->depth > c->nodes[best].depth))
			best = r->idx;
		if (i == 0)
			break;
	}
	return best;
}

static const char *node_name(struct symbolizer *s, struct fn_node *n)
{
	if (!n->name_done) {
		n->name_done = 1;
		n->name = demangled(s, die_name(&n->die));
	}
	return n->name;
}

static const char *cu_file(struct sym_cu *c, uint32_t idx)
{
	if (!c->files_done) {
		c->files_done = 1;
		if (dwarf_getsrcfiles(&c->die, &c->files, &c->nr_files) != 0)
			c->files = NULL;
	}
	if (!c->files || !idx || idx - 1 >= c->nr_files)
		return NULL;
	return dwarf_filesrc(c->files, idx - 1, NULL, NULL);
}

/* Resolve through DWARF; returns the number of frames, 0 when the DWARF does not cover vaddr. */
static int lookup_dwarf(struct symbolizer *s, struct sym_elf *e, uint64_t vaddr, struct sym_frame *out)
{
	uint64_t pc = vaddr - e->dwbias;
	struct sym_cu *c = find_cu(e, pc);
	Dwarf_Line *line;
	const char *file = NULL;
	uint32_t node, lineno = 0;
	int n = 0, lno;

	if (!c)
		return 0;
	line = dwarf_getsrc_die(&c->die, pc);
	if (line) {
		file = dwarf_linesrc(line, NULL, NULL);
		if (dwarf_lineno(line, &lno) == 0 && lno > 0)
			lineno = (uint32_t)lno;
	}
	node = find_node(c, pc);
	while (node != UINT32_MAX && n < MAX_CHAIN) {
		struct fn_node *fn = &c->nodes[node];

		out[n] = (struct sym_frame){
			.function = node_name(s, fn),
			.file = file,
			.line = lineno,
			.inlined = fn->inlined,
		};
		n++;
		if (!fn->inlined)
			break;
		file = cu_file(c, fn->call_file);
		lineno = fn->call_line;
		node = fn->parent;
	}
	if (n && out[n - 1].inlined && n < MAX_CHAIN) {
		/* An inlined instance with no enclosing function in the index: still give its call site. */
		out[n++] = (struct sym_frame){ .file = file, .line = lineno };
	}
	if (!n && (file || lineno))
		out[n++] = (struct sym_frame){ .file = file, .line = lineno };
	return n;
}

int symbolizer__has_dwarf(struct symbolizer *s, struct sym_elf *e)
{
	if (!e || !e->ok)
		return 0;
	if (!e->dwarf_tried)
		load_dwarf(s, e);
	return e->dw != NULL;
}

static int resolve(struct symbolizer *s, struct sym_elf *e, uint64_t vaddr, struct sym_frame *out)
{
	const struct sym_entry *sym = find_symbol(e, vaddr);
	int n = 0;

	if (!e->dwarf_tried)
		load_dwarf(s, e);
	if (e->dw)
		n = lookup_dwarf(s, e, vaddr, out);
	if (sym && n && !out[n - 1].function)
		out[n - 1].function = demangled(s, sym->name);
	if (!n && sym)
		out[n++] = (struct sym_frame){ .function = demangled(s, sym->name) };
	if (n && sym)
		out[n - 1].offset = vaddr - sym->addr;
	return n;
}

int symbolizer__lookup(struct symbolizer *s, struct sym_elf *e, uint64_t vaddr, struct sym_frame *out,
		       int max)
{
	struct sym_frame tmp[MAX_CHAIN];
	uint64_t v;
	int n, i;

	if (!e || !e->ok || max < 1)
		return 0;
	s->stats.lookups++;
	if (u64map__get(&e->results, vaddr, &v)) {
		s->stats.cache_hits++;
		n = (int)(v & 0xff);
		if (n > max)
			n = max;
		if (n)
			memcpy(out, s->frames + (v >> 8), (size_t)n * sizeof(*out));
		return n;
	}
	n = resolve(s, e, vaddr, tmp);
	/* A failed growth only leaves this result uncached (the test below). */
	(void)array__grow(&s->frames, &s->cap_frames, s->nr_frames + (size_t)n, sizeof(*s->frames));
	if (s->nr_frames + (size_t)n <= s->cap_frames) {
		if (n)
			memcpy(s->frames + s->nr_frames, tmp, (size_t)n * sizeof(*tmp));
		if (u64map__set(&e->results, vaddr, (uint64_t)s->nr_frames << 8 | (uint64_t)n) == 0)
			s->nr_frames += (size_t)n;
	}
	for (i = 0; i < n && i < max; i++)
		out[i] = tmp[i];
	return i;
}
