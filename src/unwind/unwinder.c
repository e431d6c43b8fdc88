// SPDX-License-Identifier: MIT
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libunwind.h>
#include <zlib.h>

#include "idxmap.h"
#include "unwinder.h"

#include "unwind_int.h"

static int find_map(struct unwind_ctx *c, uint64_t addr, struct unwinder_map *out)
{
	int i;

	for (i = 0; i < c->nr_last; i++) {
		if (addr >= c->last[i].start && addr < c->last[i].end) {
			*out = c->last[i];
			return 0;
		}
	}
	memset(out, 0, sizeof(*out));
	if (c->in->find_map(c->in->ctx, addr, out) || !out->image || out->end <= out->start)
		return -ENOENT;
	c->last[c->next_last] = *out;
	c->next_last ^= 1;
	if (c->nr_last < 2)
		c->nr_last++;
	return 0;
}

/* Copy len bytes at runtime address addr from the file behind its mapping. */
static int read_file_mem(struct unwind_ctx *c, uint64_t addr, void *dst, size_t len)
{
	struct unwinder_map m;
	uint64_t off;

	if (find_map(c, addr, &m))
		return -1;
	off = addr - m.start + m.offset;
	if (off < m.offset || off > m.image_size || m.image_size - off < len)
		return -1;
	memcpy(dst, m.image + off, len);
	return 0;
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *valp, int write, void *arg)
{
	struct unwind_ctx *c = arg;

	(void)as;
	if (write)
		return -UNW_EREADONLYREG;
	if (addr >= SCRATCH_BASE && addr - SCRATCH_BASE < c->scratch_len) {
		memcpy(valp, c->u->scratch + (addr - SCRATCH_BASE),
		       sizeof(*valp)); /* padded: see dframe_find */
		return 0;
	}
	if (addr >= c->sp && addr - c->sp < c->in->stack_size && c->in->stack_size - (addr - c->sp) >= 8) {
		memcpy(valp, c->in->stack + (addr - c->sp), sizeof(*valp));
		return 0;
	}
	if (read_file_mem(c, addr, valp, sizeof(*valp)) == 0)
		return 0;
	if (addr >= c->sp && addr - c->sp < STACK_REACH) {
		c->stack_beyond = 1;
	}
	return -UNW_EINVAL;
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *valp, int write, void *arg)
{
	struct unwind_ctx *c = arg;

	(void)as;
	if (write)
		return -UNW_EREADONLYREG;
	if (reg < 0 || reg >= SCORCH_NR_REGS)
		return -UNW_EBADREG;
	*valp = c->regs[reg];
	return 0;
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write, void *arg)
{
	(void)as, (void)reg, (void)val, (void)write, (void)arg;
	return -UNW_EBADREG;
}

static int resume(unw_addr_space_t as, unw_cursor_t *cursor, void *arg)
{
	(void)as, (void)cursor, (void)arg;
	return -UNW_EINVAL;
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dilap, void *arg)
{
	(void)as, (void)dilap, (void)arg;
	return -UNW_ENOINFO;
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	/* dwarf_search_unwind_table's info lives in libunwind's own pools. */
	(void)as, (void)pi, (void)arg;
}

int unwinder__elf_header(const struct unwinder_map *m, Elf64_Ehdr *eh)
{
	if (m->image_size < sizeof(*eh))
		return -1;
	memcpy(eh, m->image, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return -1;
	return 0;
}

/*
 * The load bias of the file mapped at m (runtime address - link-time address), from the PT_LOAD
 * segment that holds the file offset of runtime address addr, and the file offset of its
 * PT_GNU_EH_FRAME segment (0 when it has none).
 *
 * The segment is chosen by addr's own offset, not by the mapping's: a mapping starts at a page
 * boundary, and lld (and mold) pack segments so that one file page holds the end of one segment and
 * the start of the next at virtual addresses a page apart (p_vaddr - p_offset differs by 0x1000
 * between them). Both then cover the mapping's offset; only one covers addr.
 */
static int load_bias(const struct unwinder_map *m, uint64_t addr, uint64_t *bias, uint64_t *ehf_off,
		     uint64_t *ehf_vaddr)
{
	const Elf64_Phdr *ph, *load = NULL, *page = NULL, *ehf = NULL;
	Elf64_Ehdr ehdr;
	Elf64_Phdr p;
	uint64_t off = addr - m->start + m->offset;
	size_t i;

	if (unwinder__elf_header(m, &ehdr) || ehdr.e_phentsize != sizeof(Elf64_Phdr) ||
	    ehdr.e_phoff > m->image_size ||
	    (m->image_size - ehdr.e_phoff) / sizeof(Elf64_Phdr) < ehdr.e_phnum)
		return -1;
	ph = (const void *)(m->image + ehdr.e_phoff);
	for (i = 0; i < ehdr.e_phnum; i++) {
		memcpy(&p, &ph[i], sizeof(p));
		if (p.p_type == PT_GNU_EH_FRAME) {
			ehf = &ph[i];
		} else if (p.p_type == PT_LOAD) {
			if (!load && off >= p.p_offset && off - p.p_offset < p.p_filesz)
				load = &ph[i];
			/* addr in the page padding around a segment: the first one of its page */
			if (!page && (p.p_offset & ~(uint64_t)0xfff) <= m->offset &&
			    m->offset < p.p_offset + p.p_filesz)
				page = &ph[i];
		}
	}
	if (!load)
		load = page;
	if (!load)
		return -1;
	memcpy(&p, load, sizeof(p));
	*bias = m->start - m->offset + p.p_offset - p.p_vaddr;
	*ehf_off = *ehf_vaddr = 0;
	if (ehf) {
		memcpy(&p, ehf, sizeof(p));
		*ehf_off = p.p_offset;
		*ehf_vaddr = p.p_vaddr;
	}
	return 0;
}

/* An unsigned LEB128 at *p (before end): 0, or -1 when it runs past end or past 64 bits. */
static int read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned int shift = 0;
	uint64_t r = 0;
	uint8_t b;

	do {
		if (*p >= end || shift >= 64)
			return -1;
		b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	*v = r;
	return 0;
}

/*
 * Whether a CIE, from its code alignment factor (at p, before end) on, names a return address column
 * libunwind can hold. libunwind (1.6) indexes its array of SCORCH_NR_REGS register locations with that
 * column unchecked when it steps, reading (and trusting) memory past the cursor: a fuzzed file crashed
 * it so, through .eh_frame and .debug_frame alike. The column is a byte in version 1, a ULEB128 after.
 */
int unwinder__cie_ra_ok(const uint8_t *p, const uint8_t *end, int version)
{
	uint64_t v;

	if (read_uleb(&p, end, &v) || read_uleb(&p, end, &v)) /* code and data alignment factors */
		return 0;
	if (version == 1) {
		if (p >= end)
			return 0;
		v = *p;
	} else if (read_uleb(&p, end, &v)) {
		return 0;
	}
	return v < SCORCH_NR_REGS;
}

/* The bytes of the file behind runtime address addr, and how many follow them in the file; or NULL. */
static const uint8_t *file_at(struct unwind_ctx *c, uint64_t addr, size_t *avail)
{
	struct unwinder_map m;
	uint64_t off;

	if (find_map(c, addr, &m))
		return NULL;
	off = addr - m.start + m.offset;
	if (off < m.offset || off >= m.image_size)
		return NULL;
	*avail = m.image_size - off;
	return m.image + off;
}

/*
 * Whether the .eh_frame FDE at runtime address fde_addr and its CIE can be given to libunwind: 32-bit
 * lengths inside the file, a CIE (id 0, version 1 or 3, as libunwind takes them) whose return address
 * column it can hold.
 */
static int eh_fde_ok(struct unwind_ctx *c, uint64_t fde_addr)
{
	const uint8_t *f, *cie, *p, *end;
	size_t avail, cavail;
	uint32_t len, ptr;

	f = file_at(c, fde_addr, &avail);
	if (!f || avail < 8)
		return 0;
	len = le32(f);
	ptr = le32(f + 4);
	if (len == 0xffffffff || len < 4 || len > avail - 4 || !ptr)
		return 0;
	cie = file_at(c, fde_addr + 4 - ptr, &cavail);
	if (!cie || cavail < 9)
		return 0;
	len = le32(cie);
	if (len == 0xffffffff || len < 5 || len > cavail - 4 || le32(cie + 4) != 0 ||
	    (cie[8] != 1 && cie[8] != 3))
		return 0;
	end = cie + 4 + len;
	for (p = cie + 9; p < end && *p; p++) /* the augmentation string */
		;
	return p < end && unwinder__cie_ra_ok(p + 1, end, cie[8]);
}

/* Room for 'need' bytes of scratch, plus a word of zeroes that aligned reads past the end may see. */
int unwinder__scratch_reserve(struct unwinder *u, size_t need)
{
	uint8_t *n;

	if (need + 8 <= u->scratch_cap)
		return 0;
	n = realloc(u->scratch, need + 64);
	if (!n)
		return -1;
	u->scratch = n;
	u->scratch_cap = need + 64;
	return 0;
}

/* Through .eh_frame_hdr (at hdr_off in the file, hdr_vaddr at link time), the table every linker writes. */
static int eh_frame_find(struct unwind_ctx *c, unw_addr_space_t as, const struct unwinder_map *m,
			 unw_word_t ip, unw_proc_info_t *pi, int need_unwind_info, uint64_t bias,
			 uint64_t hdr_off, uint64_t hdr_vaddr)
{
	uint64_t hdr_addr;
	unw_dyn_info_t di;
	const uint8_t *h, *table;
	uint32_t fde_count, lo, hi, mid;
	int32_t rel_ip;

	if (!hdr_off || hdr_off > m->image_size || m->image_size - hdr_off < 12)
		return -UNW_ENOINFO;
	hdr_addr = bias + hdr_vaddr;
	h = m->image + hdr_off;
	/* version 1, eh_frame_ptr pcrel|sdata4, fde_count udata4, table datarel|sdata4: what every linker
	 * writes */
	if (h[0] != 1 || h[1] != 0x1b || h[2] != 0x03 || h[3] != 0x3b)
		return -UNW_ENOINFO;
	memcpy(&fde_count, h + 8, sizeof(fde_count));
	if (!fde_count || fde_count > (m->image_size - hdr_off - 12) / 8)
		return -UNW_ENOINFO;
	/*
	 * The entry for ip, found here (libunwind's search: the last whose start, relative to the header as
	 * a signed 32-bit value, is not above ip's), so that its FDE and CIE are checked before libunwind
	 * sees them; libunwind then gets a table of that one entry, at SCRATCH_BASE.
	 */
	table = h + 12;
	rel_ip = (int32_t)(uint32_t)(ip - hdr_addr);
	for (lo = 0, hi = fde_count; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (rel_ip < (int32_t)le32(table + (size_t)mid * 8))
			hi = mid;
		else
			lo = mid + 1;
	}
	if (!hi ||
	    !eh_fde_ok(c, hdr_addr + (uint64_t)(int64_t)(int32_t)le32(table + (size_t)(hi - 1) * 8 + 4)))
		return -UNW_ENOINFO;
	if (unwinder__scratch_reserve(c->u, 8))
		return -UNW_ENOMEM;
	memset(c->u->scratch, 0, 16);
	memcpy(c->u->scratch, table + (size_t)(hi - 1) * 8, 8);
	c->scratch_len = 8;
	memset(&di, 0, sizeof(di));
	di.start_ip = m->start;
	di.end_ip = m->end;
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.u.rti.name_ptr = 0;
	di.u.rti.segbase = hdr_addr;
	di.u.rti.table_data = SCRATCH_BASE;
	di.u.rti.table_len = 8 / sizeof(unw_word_t);
	return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, c);
}

/*
 * Whether 'ip' (runtime, in the file mapped at m with load bias 'bias') lies in the routine at the
 * file's ELF entry point. The kernel starts a process there (in the interpreter, ld.so, or a static
 * program), so nothing called it: where that routine has no CFI (glibc's ld.so _start and
 * _dl_start_user have none), its frame is the outermost one, not a failure.
 */
static int at_entry(struct unwind_ctx *c, uint64_t ip)
{
	struct unwinder_map m;
	uint64_t bias, hdr_off, hdr_vaddr;
	Elf64_Ehdr eh;

	return find_map(c, ip, &m) == 0 && load_bias(&m, ip, &bias, &hdr_off, &hdr_vaddr) == 0 &&
	       unwinder__elf_header(&m, &eh) == 0 && eh.e_entry && ip - bias - eh.e_entry < ENTRY_ROUTINE_MAX;
}

/* The len bytes at addr, in the scratch or in one file: a pointer to them, or NULL. */
static const uint8_t *span_at(struct unwind_ctx *c, uint64_t addr, uint64_t len)
{
	const uint8_t *p;
	size_t avail;

	if (addr >= SCRATCH_BASE && addr - SCRATCH_BASE <= c->scratch_len)
		return c->scratch_len - (addr - SCRATCH_BASE) >= len ? c->u->scratch + (addr - SCRATCH_BASE)
								     : NULL;
	p = file_at(c, addr, &avail);
	return p && avail >= len ? p : NULL;
}

/*
 * Whether a CFA program (p to end) only names registers libunwind can hold where it does not check
 * them itself: the second operand of DW_CFA_register, which libunwind 1.6 uses unchecked as an index
 * into its register locations when it steps (a fuzzed .debug_frame crashed it so). The other operands
 * are only skipped. An opcode this does not know is refused: libunwind skips most unknown opcodes as
 * if they had no operands, which would make their operand bytes opcodes; and so is DW_CFA_set_loc,
 * whose operand size depends on the FDE's pointer encoding (no compiler emits it).
 */
static int cfa_program_ok(const uint8_t *p, const uint8_t *end)
{
	uint64_t v, reg;
	uint8_t op;

	while (p < end) {
		op = *p++;
		if (op & 0xc0) { /* advance_loc, offset (a ULEB128 operand), restore */
			if ((op & 0xc0) == 0x80 && read_uleb(&p, end, &v))
				return 0;
			continue;
		}
		switch (op) {
		case 0x00:
		case 0x0a:
		case 0x0b: /* nop, remember_state, restore_state */
			break;
		case 0x02:
		case 0x03:
		case 0x04: /* advance_loc1, 2, 4 */
			if (end - p < (op == 0x04 ? 4 : op - 1))
				return 0;
			p += op == 0x04 ? 4 : op - 1;
			break;
		case 0x06:
		case 0x07:
		case 0x08:
		case 0x0d:
		case 0x0e:
		case 0x13:
		case 0x2e:
			/* one LEB128: restore_extended, undefined, same_value, def_cfa_register,
			 * def_cfa_offset, def_cfa_offset_sf, GNU_args_size */
			if (read_uleb(&p, end, &v))
				return 0;
			break;
		case 0x05:
		case 0x0c:
		case 0x11:
		case 0x12:
		case 0x14:
		case 0x15:
		case 0x2f:
			/* two: offset_extended(_sf), def_cfa(_sf), val_offset(_sf),
			 * GNU_negative_offset_extended */
			if (read_uleb(&p, end, &v) || read_uleb(&p, end, &v))
				return 0;
			break;
		case 0x09: /* register: the second one is the register the value is in */
			if (read_uleb(&p, end, &v) || read_uleb(&p, end, &reg) || reg >= SCORCH_NR_REGS)
				return 0;
			break;
		case 0x0f: /* def_cfa_expression: a block */
			if (read_uleb(&p, end, &v) || v > (uint64_t)(end - p))
				return 0;
			p += v;
			break;
		case 0x10:
		case 0x16: /* expression, val_expression: a register and a block */
			if (read_uleb(&p, end, &v) || read_uleb(&p, end, &v) || v > (uint64_t)(end - p))
				return 0;
			p += v;
			break;
		default: /* set_loc, and what libunwind would skip as if it had no operands */
			return 0;
		}
	}
	return 1;
}

/*
 * The start of libunwind 1.6's struct dwarf_cie_info (72 bytes), which it hands out as
 * pi->unwind_info: where the CIE's and the FDE's CFA programs are in the target's memory (or in the
 * scratch). Internal to libunwind, hence the size check: another layout refuses every frame, which
 * test_own_stack shows at once.
 */
struct lu_cie_info {
	unw_word_t cie_instr_start, cie_instr_end, fde_instr_start, fde_instr_end;
};

#define LU_CIE_INFO_SIZE 72

/* Whether the CFA programs of the unwind info libunwind just parsed into pi are safe to run. */
static int cfa_programs_ok(struct unwind_ctx *c, const unw_proc_info_t *pi)
{
	struct lu_cie_info ci;
	const uint8_t *p;

	if (pi->format != UNW_INFO_FORMAT_TABLE || !pi->unwind_info ||
	    pi->unwind_info_size != LU_CIE_INFO_SIZE)
		return 0;
	memcpy(&ci, pi->unwind_info, sizeof(ci));
	if (ci.cie_instr_end < ci.cie_instr_start || ci.fde_instr_end < ci.fde_instr_start)
		return 0;
	p = span_at(c, ci.cie_instr_start, ci.cie_instr_end - ci.cie_instr_start);
	if (!p || !cfa_program_ok(p, p + (ci.cie_instr_end - ci.cie_instr_start)))
		return 0;
	p = span_at(c, ci.fde_instr_start, ci.fde_instr_end - ci.fde_instr_start);
	return p && cfa_program_ok(p, p + (ci.fde_instr_end - ci.fde_instr_start));
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need_unwind_info,
			  void *arg)
{
	struct unwind_ctx *c = arg;
	struct unwinder_map m;
	uint64_t bias, hdr_off, hdr_vaddr;
	int ret = -UNW_ENOINFO;

	if (find_map(c, ip, &m) == 0 && load_bias(&m, ip, &bias, &hdr_off, &hdr_vaddr) == 0) {
		ret = eh_frame_find(c, as, &m, ip, pi, need_unwind_info, bias, hdr_off, hdr_vaddr);
		if (ret == 0 && need_unwind_info && !cfa_programs_ok(c, pi))
			ret = -UNW_ENOINFO;
		if (ret == -UNW_ENOINFO) {
			ret = dframe__find(c, as, &m, ip, pi, need_unwind_info, bias);
			if (ret == 0 && need_unwind_info && !cfa_programs_ok(c, pi))
				ret = -UNW_ENOINFO;
		}
	}
	if (ret == -UNW_ENOINFO)
		c->no_info = 1;
	return ret;
}

static unw_accessors_t accessors = {
	.find_proc_info = find_proc_info,
	.put_unwind_info = put_unwind_info,
	.get_dyn_info_list_addr = get_dyn_info_list_addr,
	.access_mem = access_mem,
	.access_reg = access_reg,
	.access_fpreg = access_fpreg,
	.resume = resume,
	.get_proc_name = NULL,
};

struct unwinder *unwinder__new(void)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u64map__init(&u->space_idx);
	return u;
}

void unwinder__free(struct unwinder *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->nr_spaces; i++)
		unw_destroy_addr_space(u->spaces[i]);
	for (i = 0; i < u->nr_dframes; i++)
		dframe__release(u, &u->dframes[i]);
	dframe__release(u, &u->uncached);
	free(u->scratch);
	u64map__release(&u->space_idx);
	free(u);
}

/*
 * The address space of 'space'. Past MAX_SPACES (a recording that follows many short-lived processes),
 * slots are reused round robin: a slot's cache is flushed whenever its owner changes.
 */
static unw_addr_space_t get_space(struct unwinder *u, uint32_t space)
{
	unw_addr_space_t as;
	uint64_t idx;
	size_t slot;

	if (u64map__get(&u->space_idx, space, &idx)) {
		slot = (size_t)idx - 1;
		if (u->owners[slot] != space) {
			unw_flush_cache(u->spaces[slot], 0, 0);
			u->owners[slot] = space;
		}
		return u->spaces[slot];
	}
	if (u->nr_spaces == MAX_SPACES) {
		slot = u->next_reuse;
		u->next_reuse = (u->next_reuse + 1) % MAX_SPACES;
		if (u64map__set(&u->space_idx, space, slot + 1))
			return NULL;
		unw_flush_cache(u->spaces[slot], 0, 0);
		u->owners[slot] = space;
		return u->spaces[slot];
	}
	as = unw_create_addr_space(&accessors, 0);
	if (!as)
		return NULL;
	unw_set_caching_policy(as, UNW_CACHE_GLOBAL);
	if (u64map__set(&u->space_idx, space, u->nr_spaces + 1)) {
		unw_destroy_addr_space(as);
		return NULL;
	}
	u->owners[u->nr_spaces] = space;
	u->spaces[u->nr_spaces++] = as;
	return as;
}

void unwinder__stats(const struct unwinder *u, struct unwinder_stats *out)
{
	*out = u->stats;
}

void unwinder__flush(struct unwinder *u, uint32_t space)
{
	uint64_t idx;

	if (u && u64map__get(&u->space_idx, space, &idx) && u->owners[idx - 1] == space)
		unw_flush_cache(u->spaces[idx - 1], 0, 0);
}

/*
 * Step past a frame that has no CFI by its frame pointer, as code generated at run time usually keeps
 * one: the return address at [RBP + 8], the caller's RBP at [RBP], its SP at RBP + 16. Then restart
 * libunwind from there (the other callee-saved registers keep the values they had in the frame).
 */
static int fp_step_from(struct unwind_ctx *c, unw_cursor_t *cursor, unw_addr_space_t as, unw_word_t rbp,
			unw_word_t cur_sp, uint64_t *ip, uint64_t *sp)
{
	unw_word_t ra, next_rbp;

	if (rbp < cur_sp || rbp - c->sp >= c->in->stack_size || access_mem(NULL, rbp, &next_rbp, 0, c) ||
	    access_mem(NULL, rbp + 8, &ra, 0, c) || ra < 0x1000)
		return -1;
	c->regs[SCORCH_REG_RIP] = ra;
	c->regs[SCORCH_REG_RSP] = rbp + 16;
	c->regs[SCORCH_REG_RBP] = next_rbp;
	if (unw_init_remote(cursor, as, c) < 0)
		return -1;
	*ip = ra;
	*sp = rbp + 16;
	return 0;
}

/*
 * Whether the code before ip is a syscall instruction, followed by nothing but the test of its result
 * (test %rax,%rax and short conditional jumps, as in glibc's clone and clone3).
 */
static int after_syscall(struct unwind_ctx *c, uint64_t ip)
{
	uint8_t code[16];
	size_t n = sizeof(code), k, i;

	if (ip < n || read_file_mem(c, ip - n, code, n)) {
		n = 2;
		if (ip < n || read_file_mem(c, ip - n, code, n))
			return 0;
	}
	for (k = 2; k <= n; k++) {
		if (code[n - k] != 0x0f || code[n - k + 1] != 0x05)
			continue;
		for (i = n - k + 2; i < n;) {
			if (n - i >= 3 && code[i] == 0x48 && code[i + 1] == 0x85 && code[i + 2] == 0xc0)
				i += 3;
			else if (n - i >= 2 && (code[i] & 0xf0) == 0x70)
				i += 2;
			else
				break;
		}
		if (i == n)
			return 1;
	}
	return 0;
}

/* What ends just before a possible return address (call_before). */
enum call_kind {
	CALL_NONE,     /* no call instruction */
	CALL_DIRECT,   /* call rel32, its target known */
	CALL_GOT,      /* call *disp32(%rip): another file's routine through the GOT (-fno-plt) */
	CALL_INDIRECT, /* call through a register or other memory (ff /2) */
};

/*
 * The call instruction that ends just before 'addr', if any, so that 'addr' can be a return address;
 * *target is set for a direct call. An optional REX prefix comes before the ff opcode: not looked at.
 */
static enum call_kind call_before(struct unwind_ctx *c, uint64_t addr, uint64_t *target)
{
	uint8_t b[7];
	int32_t rel;
	int len;

	if (addr < 0x1000 || read_file_mem(c, addr - sizeof(b), b, sizeof(b)))
		return CALL_NONE;
	if (b[2] == 0xe8) {
		memcpy(&rel, b + 3, sizeof(rel));
		*target = addr + (uint64_t)(int64_t)rel;
		return CALL_DIRECT;
	}
	/* ff /2: the ModRM byte at 7 - len, the opcode just before it; len counts ModRM, SIB and disp. */
	for (len = 1; len <= 6; len++) {
		uint8_t modrm = b[7 - len], mod = modrm >> 6, rm = modrm & 7;
		int want;

		if (b[6 - len] != 0xff || ((modrm >> 3) & 7) != 2)
			continue;
		if (mod == 3)
			want = 1;
		else if (mod == 0 && rm == 5)
			want = 5;
		else
			want = 1 + (rm == 4) + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
		/* A SIB byte with base 5 and mod 0: a disp32 follows it. */
		if (mod == 0 && rm == 4 && len >= 2 && (b[8 - len] & 7) == 5)
			want += 4;
		if (len == want)
			return mod == 0 && rm == 5 ? CALL_GOT : CALL_INDIRECT;
	}
	return CALL_NONE;
}

/*
 * Whether the code at 'addr' is a PLT entry: an indirect jump through a GOT slot (jmp *disp32(%rip)),
 * perhaps after endbr64 and with a bnd prefix. Where it leads is in the GOT, which the snapshot
 * does not hold.
 */
static int is_plt_entry(struct unwind_ctx *c, uint64_t addr)
{
	uint8_t b[7];
	size_t i = 0;

	if (read_file_mem(c, addr, b, sizeof(b)))
		return 0;
	if (b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa) /* endbr64 */
		i = 4;
	if (b[i] == 0xf2) /* bnd */
		i++;
	return b[i] == 0xff && b[i + 1] == 0x25;
}

/*
 * Whether a call of kind 'k' to 'target' called the routine that holds 'leaf': a direct call to it (its
 * start at most LEAF_ROUTINE_MAX bytes below 'leaf'), or a call to another file's routine, which goes
 * through the PLT (call rel32 to a PLT entry) or the GOT and cannot be followed further: a routine
 * without CFI is most often such a libc routine (clone).
 */
static int calls_leaf_routine(struct unwind_ctx *c, enum call_kind k, uint64_t target, uint64_t leaf)
{
	return k == CALL_GOT || (k == CALL_DIRECT && ((target <= leaf && leaf - target < LEAF_ROUTINE_MAX) ||
						      is_plt_entry(c, target)));
}

/*
 * A leaf frame without CFI: glibc's clone and clone3 end theirs before the syscall (the child returns on
 * another stack), so without this every sample taken while pthread_create's clone runs would end there;
 * hand-written assembly often has none either. When the word at SP is a return address just after a
 * call to the routine that holds the leaf (calls_leaf_routine), the leaf has pushed nothing: step to
 * it (0). When the leaf stopped after a syscall instruction that returned 0 (RAX), or after it and the
 * test of its result, and the word at SP is no return address (0 for clone3's child; for the legacy clone's,
 * the function it is to call), this is the child of clone on its new stack, where nothing called it: the
 * outermost frame (1). Otherwise -1: no information (a read that fails here does not make the unwind
 * "truncated").
 */
static int leaf_step(struct unwind_ctx *c, unw_cursor_t *cursor, unw_addr_space_t as, uint64_t *ip,
		     uint64_t *sp)
{
	uint64_t leaf = c->regs[SCORCH_REG_RIP], target = 0;
	int beyond = c->stack_beyond;
	enum call_kind k;
	unw_word_t ra;

	if (access_mem(NULL, c->sp, &ra, 0, c)) {
		c->stack_beyond = beyond;
		return -1;
	}
	k = call_before(c, ra, &target);
	if (!calls_leaf_routine(c, k, target, leaf))
		return c->regs[SCORCH_REG_RAX] == 0 && after_syscall(c, leaf) && k == CALL_NONE ? 1 : -1;
	c->regs[SCORCH_REG_RIP] = ra;
	c->regs[SCORCH_REG_RSP] = c->sp + 8;
	if (unw_init_remote(cursor, as, c) < 0)
		return -1;
	*ip = ra;
	*sp = c->sp + 8;
	return 0;
}

int unwinder__unwind(struct unwinder *u, uint32_t space, const struct unwinder_input *in, uint64_t *ips,
		     uint32_t max, struct unwinder_result *res)
{
	struct unwind_ctx c;
	unw_cursor_t cursor;
	unw_addr_space_t as;
	unw_word_t ip, sp, prev_sp, rbp = 0;
	int ret, leaf;

	memset(res, 0, sizeof(*res));
	if (!in->regs || !in->find_map || !max)
		return -EINVAL;
	as = get_space(u, space);
	if (!as)
		return -ENOMEM;
	memset(&c, 0, sizeof(c));
	c.u = u;
	c.in = in;
	memcpy(c.regs, in->regs, sizeof(c.regs));
	c.sp = in->regs[SCORCH_REG_RSP];
	prev_sp = c.sp;
	ips[res->nr++] = in->regs[SCORCH_REG_RIP];
	if (unw_init_remote(&cursor, as, &c) < 0) {
		res->status = UNWINDER_FAILED;
		res->fail_ip = ips[0];
		return 0;
	}
	for (;;) {
		if (res->nr == max) {
			res->status = UNWINDER_DEPTH;
			return 0;
		}
		c.stack_beyond = c.no_info = 0;
		/* This frame's RBP, before libunwind's step overwrites the cursor. */
		if (in->fp_fallback && unw_get_reg(&cursor, UNW_X86_64_RBP, &rbp))
			rbp = 0;
		ret = unw_step(&cursor);
		if ((ret == 0 && !c.no_info) || (c.no_info && at_entry(&c, ips[res->nr - 1]))) {
			res->status = UNWINDER_ROOT;
			return 0;
		}
		/*
		 * Without CFI for the frame, libunwind guesses from RBP; a guess has put frames of garbage
		 * (addresses on the stack) into stacks here, so such a frame ends the unwind, or is stepped
		 * past by its frame pointer when the caller asks for that. A leaf is first checked for a
		 * return address at SP that comes from a call to it (leaf_step).
		 */
		/* What libunwind's guess read does not make the unwind "truncated": the frame has no CFI. */
		if (c.no_info)
			c.stack_beyond = 0;
		if (c.no_info && res->nr == 1 && (leaf = leaf_step(&c, &cursor, as, &ip, &sp)) >= 0) {
			if (leaf) {
				res->status = UNWINDER_ROOT;
				return 0;
			}
		} else if (c.no_info && in->fp_fallback) {
			if (fp_step_from(&c, &cursor, as, rbp, prev_sp, &ip, &sp))
				goto failed;
			res->fp_steps++;
		} else if (ret < 0 || c.no_info || unw_get_reg(&cursor, UNW_REG_IP, &ip) ||
			   unw_get_reg(&cursor, UNW_REG_SP, &sp)) {
			goto failed;
		}
		/* The outermost frames end with no return address; libunwind 1.6 reports IP 0 or 1 there. */
		if (ip < 0x1000) {
			res->status = UNWINDER_ROOT;
			return 0;
		}
		/* The stack only grows down: a caller's SP below its callee's is a loop or garbage. */
		if (sp < prev_sp || (sp == prev_sp && ip == ips[res->nr - 1]))
			goto failed;
		prev_sp = sp;
		ips[res->nr++] = ip;
	}
failed:
	res->status = c.stack_beyond ? UNWINDER_TRUNCATED : c.no_info ? UNWINDER_NO_INFO : UNWINDER_FAILED;
	res->fail_ip = ips[res->nr - 1];
	return 0;
}
