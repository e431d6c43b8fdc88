// SPDX-License-Identifier: MIT
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libunwind.h>

#include "idxmap.h"
#include "unwinder.h"

/* Exported by libunwind-x86_64 but not declared by its headers. */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t *di,
					      unw_proc_info_t *pi, int need_unwind_info, void *arg);

_Static_assert((int)SCORCH_REG_RIP == (int)UNW_X86_64_RIP && (int)SCORCH_REG_RSP == (int)UNW_X86_64_RSP &&
		       (int)SCORCH_REG_RBP == (int)UNW_X86_64_RBP && (int)SCORCH_NR_REGS == (int)UNW_X86_64_RIP + 1,
	       "enum scorch_reg must follow libunwind's x86-64 register numbers");

/* How far above the copy a read still counts as "the stack" (a truncated copy, not a bad address). */
#define STACK_REACH (8u << 20)

/* libunwind address spaces kept at once (each holds a cache of parsed CFI). */
#define MAX_SPACES 256

struct unwinder {
	unw_addr_space_t spaces[MAX_SPACES]; /* owned */
	uint32_t owners[MAX_SPACES];         /* the space id each one serves now */
	size_t nr_spaces, next_reuse;
	struct u64map space_idx;             /* space id -> index + 1 (the slot may since serve another) */
};

/* One unwind: what the accessors see through their 'arg'. */
struct unwind_ctx {
	const struct unwinder_input *in;
	uint64_t regs[SCORCH_NR_REGS]; /* where unw_init_remote starts: the sample's, or a frame-pointer step's */
	uint64_t sp;                   /* the sample's SP: where the stack copy starts */
	struct unwinder_map last[2]; /* the two mappings used last: code and its unwind tables */
	int nr_last, next_last;
	int stack_beyond;            /* a read fell above the copy of the stack */
	int no_info;                 /* find_proc_info found no table */
};

static int find_map(struct unwind_ctx *c, uint64_t addr, struct unwinder_map *out)
{
	int i;

	for (i = 0; i < c->nr_last; i++) {
		if (addr >= c->last[i].start && addr < c->last[i].end) {
			*out = c->last[i];
			return 0;
		}
	}
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

/*
 * The .eh_frame_hdr of the file mapped at m: its runtime address, found through PT_GNU_EH_FRAME, with
 * the load bias computed from the PT_LOAD segment that holds the mapping's offset.
 */
static int eh_frame_hdr(const struct unwinder_map *m, uint64_t *hdr_addr, uint64_t *hdr_off)
{
	const Elf64_Ehdr *eh = (const void *)m->image;
	const Elf64_Phdr *ph, *load = NULL, *ehf = NULL;
	Elf64_Ehdr ehdr;
	Elf64_Phdr p;
	size_t i;
	uint64_t bias;

	if (m->image_size < sizeof(*eh))
		return -1;
	memcpy(&ehdr, eh, sizeof(ehdr));
	if (memcmp(ehdr.e_ident, ELFMAG, SELFMAG) || ehdr.e_ident[EI_CLASS] != ELFCLASS64 ||
	    ehdr.e_phentsize != sizeof(Elf64_Phdr) || ehdr.e_phoff > m->image_size ||
	    (m->image_size - ehdr.e_phoff) / sizeof(Elf64_Phdr) < ehdr.e_phnum)
		return -1;
	ph = (const void *)(m->image + ehdr.e_phoff);
	for (i = 0; i < ehdr.e_phnum; i++) {
		memcpy(&p, &ph[i], sizeof(p));
		if (p.p_type == PT_GNU_EH_FRAME)
			ehf = &ph[i];
		else if (p.p_type == PT_LOAD && !load && (p.p_offset & ~(uint64_t)0xfff) <= m->offset &&
			 m->offset < p.p_offset + p.p_filesz)
			load = &ph[i];
	}
	if (!ehf || !load)
		return -1;
	memcpy(&p, load, sizeof(p));
	bias = m->start - m->offset + p.p_offset - p.p_vaddr;
	memcpy(&p, ehf, sizeof(p));
	if (p.p_offset > m->image_size || m->image_size - p.p_offset < 12)
		return -1;
	*hdr_addr = bias + p.p_vaddr;
	*hdr_off = p.p_offset;
	return 0;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need_unwind_info,
			  void *arg)
{
	struct unwind_ctx *c = arg;
	struct unwinder_map m;
	unw_dyn_info_t di;
	uint64_t hdr_addr, hdr_off;
	const uint8_t *h;
	uint32_t fde_count;
	int ret;

	if (find_map(c, ip, &m) || eh_frame_hdr(&m, &hdr_addr, &hdr_off)) {
		c->no_info = 1;
		return -UNW_ENOINFO;
	}
	h = m.image + hdr_off;
	/* version 1, eh_frame_ptr pcrel|sdata4, fde_count udata4, table datarel|sdata4: what every linker writes */
	if (h[0] != 1 || h[1] != 0x1b || h[2] != 0x03 || h[3] != 0x3b) {
		c->no_info = 1;
		return -UNW_ENOINFO;
	}
	memcpy(&fde_count, h + 8, sizeof(fde_count));
	if (!fde_count || fde_count > (m.image_size - hdr_off - 12) / 8) {
		c->no_info = 1;
		return -UNW_ENOINFO;
	}
	memset(&di, 0, sizeof(di));
	di.start_ip = m.start;
	di.end_ip = m.end;
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.u.rti.name_ptr = 0;
	di.u.rti.segbase = hdr_addr;
	di.u.rti.table_data = hdr_addr + 12;
	di.u.rti.table_len = fde_count * 8 / sizeof(unw_word_t);
	ret = _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, arg);
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

int unwinder__unwind(struct unwinder *u, uint32_t space, const struct unwinder_input *in, uint64_t *ips,
		     uint32_t max, struct unwinder_result *res)
{
	struct unwind_ctx c;
	unw_cursor_t cursor;
	unw_addr_space_t as;
	unw_word_t ip, sp, prev_sp, rbp = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!in->regs || !in->find_map || !max)
		return -EINVAL;
	as = get_space(u, space);
	if (!as)
		return -ENOMEM;
	memset(&c, 0, sizeof(c));
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
		if (ret == 0 && !c.no_info) {
			res->status = UNWINDER_ROOT;
			return 0;
		}
		/*
		 * Without CFI for the frame, libunwind guesses from RBP; a guess has put frames of garbage
		 * (addresses on the stack) into stacks here, so such a frame ends the unwind, or is stepped
		 * past by its frame pointer when the caller asks for that.
		 */
		if (c.no_info && in->fp_fallback) {
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
