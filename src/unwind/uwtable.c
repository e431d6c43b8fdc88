// SPDX-License-Identifier: MIT
/*
 * uwtable - an ELF file's call frame information as rows for the in-kernel unwinder, by our own reader
 * of .eh_frame and .debug_frame (cfi.h reads the sections and entries): the file is untrusted, so every
 * length, offset and encoding is checked against the bytes actually read, and every loop is bounded by
 * the bytes it consumes or by a constant.
 *
 * Three steps: the sections are read (pread, or copied from an image in memory); the entries are
 * walked twice, once to parse every CIE (their initial instructions run once each) and once to turn
 * every FDE into a record (its range, where it lives, its CIE); the records are sorted once by start
 * and each FDE's instructions are run over the part of its range no earlier record covers, emitting a
 * row whenever the state that a row can hold changes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "array.h"
#include "cfi.h"
#include "uwtable.h"

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

/* Instructions run for one CIE or FDE (more: the entry is bad), and the depth of DW_CFA_remember_state. */
#define MAX_INSNS 100000
#define MAX_STATES 64

/* Where a record's FDE lives: the high bit of its offset. */
#define IN_DEBUG (1u << 31)

/* DWARF's call frame instructions (DW_CFA_*) that we run. */
enum {
	CFA_nop = 0x00,
	CFA_set_loc = 0x01,
	CFA_advance_loc1 = 0x02,
	CFA_advance_loc2 = 0x03,
	CFA_advance_loc4 = 0x04,
	CFA_offset_extended = 0x05,
	CFA_restore_extended = 0x06,
	CFA_undefined = 0x07,
	CFA_same_value = 0x08,
	CFA_register = 0x09,
	CFA_remember_state = 0x0a,
	CFA_restore_state = 0x0b,
	CFA_def_cfa = 0x0c,
	CFA_def_cfa_register = 0x0d,
	CFA_def_cfa_offset = 0x0e,
	CFA_def_cfa_expression = 0x0f,
	CFA_expression = 0x10,
	CFA_offset_extended_sf = 0x11,
	CFA_def_cfa_sf = 0x12,
	CFA_def_cfa_offset_sf = 0x13,
	CFA_val_offset = 0x14,
	CFA_val_offset_sf = 0x15,
	CFA_val_expression = 0x16,
	CFA_GNU_args_size = 0x2e,
	CFA_GNU_negative_offset_extended = 0x2f,
	/* the high two bits: */
	CFA_advance_loc = 1,
	CFA_offset = 2,
	CFA_restore = 3,
};

enum cfa_how { HOW_REG, HOW_PLT, HOW_EXPR };
enum rule { R_SAME, R_UNDEF, R_OFFSET, R_OTHER };

/* The part of a frame's rules a row can hold: the CFA, the return address and RBP. */
struct state {
	uint8_t cfa_how; /* enum cfa_how */
	uint8_t ra, rbp; /* enum rule */
	uint64_t cfa_reg;
	int64_t cfa_off; /* HOW_PLT: N of its DW_OP_litN */
	int64_t ra_off, rbp_off;
};

struct cie {
	uint32_t off; /* | IN_DEBUG */
	uint8_t fde_enc, has_z, ok;
	uint64_t caf;
	int64_t daf;
	struct state init; /* after the initial instructions */
};

/* An FDE with a non-empty range. */
struct rec {
	uint64_t start, end;
	uint32_t off; /* | IN_DEBUG */
	uint32_t cie; /* index into the CIEs */
};

struct builder {
	struct cfi_file f;
	struct cie *cies;
	size_t nr_cies, cap_cies;
	struct rec *recs;
	size_t nr_recs, cap_recs;
	size_t max_rows, cap_rows;
	struct uwtable *t;
};

/* a * b, wrapping: a hostile file's offsets may overflow, and must not be undefined behaviour */
static int64_t mul(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a * (uint64_t)b);
}

/* --- running instructions ------------------------------------------------------------------------- */

struct run {
	struct builder *b;
	const struct cie *cie; /* NULL while running the CIE's own instructions */
	struct state st;
	struct state stack[MAX_STATES];
	unsigned depth, insns;
	uint64_t loc, lo, hi;      /* the current address; rows only within [lo, hi) */
	const struct cfi_sec *sec; /* the instructions' section: DW_CFA_set_loc's pcrel address */
};

static const uint8_t plt_expr[] = {
	0x77, 0x08, /* DW_OP_breg7 (rsp) 8 */
	0x80, 0x00, /* DW_OP_breg16 (rip) 0 */
	0x3f,       /* DW_OP_lit15 */
	0x1a,       /* DW_OP_and */
	0x00,       /* DW_OP_litN: checked apart */
	0x2a,       /* DW_OP_ge */
	0x33,       /* DW_OP_lit3 */
	0x24,       /* DW_OP_shl */
	0x22,       /* DW_OP_plus */
};

static void set_rule(struct state *st, uint64_t reg, enum rule r, int64_t off)
{
	if (reg == REG_RA) {
		st->ra = (uint8_t)r;
		st->ra_off = off;
	} else if (reg == REG_RBP) {
		st->rbp = (uint8_t)r;
		st->rbp_off = off;
	}
}

static void restore_rule(struct run *r, uint64_t reg)
{
	const struct state *init = r->cie ? &r->cie->init : NULL;

	if (reg == REG_RA)
		set_rule(&r->st, reg, init ? init->ra : R_SAME, init ? init->ra_off : 0);
	else if (reg == REG_RBP)
		set_rule(&r->st, reg, init ? init->rbp : R_SAME, init ? init->rbp_off : 0);
}

/* The row for state st, and the reason when it is UNKNOWN (a pointer into the stats, or NULL). */
static struct scorch_uw_row state_row(struct uwtable_stats *stats, const struct state *st, uint32_t **why)
{
	struct scorch_uw_row row = { 0 };

	*why = NULL;
	if (st->ra == R_UNDEF) {
		row.kind = SCORCH_UW_END;
		return row;
	}
	if (st->cfa_how == HOW_EXPR)
		*why = &stats->cfa_expr;
	else if (st->cfa_how == HOW_REG && st->cfa_reg != REG_RSP && st->cfa_reg != REG_RBP)
		*why = &stats->cfa_reg;
	else if (st->ra != R_OFFSET || st->ra_off != -8)
		*why = &stats->ra_rule;
	else if ((st->rbp != R_SAME && st->rbp != R_OFFSET) ||
		 (st->rbp == R_OFFSET && (st->rbp_off == 0 || st->rbp_off % 8)))
		*why = &stats->rbp_rule;
	else if ((st->rbp == R_OFFSET && (st->rbp_off < -128 * 8 || st->rbp_off > 127 * 8)) ||
		 (st->cfa_how == HOW_REG && (st->cfa_off < 8 || st->cfa_off > UINT16_MAX)))
		*why = &stats->too_large;
	if (*why)
		return row;
	row.rbp_off = (int8_t)(st->rbp == R_OFFSET ? st->rbp_off / 8 : 0);
	row.cfa_off = (uint16_t)st->cfa_off;
	if (st->cfa_how == HOW_PLT)
		row.kind = SCORCH_UW_PLT;
	else
		row.kind = st->cfa_reg == REG_RSP ? SCORCH_UW_CFA_RSP : SCORCH_UW_CFA_RBP;
	return row;
}

static int same_row(const struct scorch_uw_row *a, const struct scorch_uw_row *b)
{
	return a->kind == b->kind && a->cfa_off == b->cfa_off && a->rbp_off == b->rbp_off;
}

/* Append 'row' at address 'addr' (base <= addr <= base + UINT32_MAX), merged with an equal last row. */
static int emit(struct builder *b, uint64_t addr, struct scorch_uw_row row, uint32_t *why)
{
	struct uwtable *t = b->t;

	row.pc = (uint32_t)(addr - t->base);
	if (t->nr && t->rows[t->nr - 1].pc >= row.pc) {
		/* never happens by construction; a table must stay strictly increasing all the same */
		if (t->rows[t->nr - 1].pc > row.pc)
			return -EINVAL;
		t->nr--;
	}
	if (t->nr && same_row(&t->rows[t->nr - 1], &row))
		return 0;
	if (t->nr >= b->max_rows)
		return -E2BIG;
	if (array__grow(&t->rows, &b->cap_rows, t->nr + 1, sizeof(*t->rows)))
		return -ENOMEM;
	t->rows[t->nr++] = row;
	if (row.kind == SCORCH_UW_UNKNOWN && why) {
		t->st.unknown++;
		(*why)++;
	}
	return 0;
}

/* The rows of the current state for [r->loc, to), clipped to [r->lo, r->hi). */
static int emit_to(struct run *r, uint64_t to)
{
	uint64_t from = r->loc > r->lo ? r->loc : r->lo;
	struct scorch_uw_row row;
	uint32_t *why;

	if (to > r->hi)
		to = r->hi;
	if (from >= to)
		return 0;
	row = state_row(&r->b->t->st, &r->st, &why);
	return emit(r->b, from, row, why);
}

/* -1: a malformed instruction; -2: over a bound; else an emit() error (negative errno < -2). */
static int advance(struct run *r, uint64_t delta)
{
	uint64_t caf = r->cie->caf, to;
	int err;

	if (delta && caf > UINT64_MAX / delta)
		return -1;
	to = r->loc + delta * caf;
	if (to < r->loc)
		return -1;
	err = emit_to(r, to);
	r->loc = to;
	return err;
}

/*
 * Run the instructions in c: a CIE's initial ones (r->cie NULL: no advance allowed) or an FDE's.
 * 0 at the end of the instructions, or when the rows reach r->hi.
 */
static int run_insns(struct run *r, struct cfi_cur *c, const struct cie *cie)
{
	uint64_t reg, v;
	int64_t off;
	uint8_t op;
	int err;

	while (c->p < c->end && (!r->cie || r->loc < r->hi)) {
		if (++r->insns > MAX_INSNS)
			return -2;
		op = *c->p++;
		if (op >> 6 == CFA_advance_loc) {
			if (!r->cie)
				return -1;
			err = advance(r, op & 0x3f);
			if (err)
				return err;
			continue;
		}
		if (op >> 6 == CFA_offset) {
			v = cfi__uleb(c);
			set_rule(&r->st, op & 0x3f, R_OFFSET, mul((int64_t)v, cie->daf));
			if (c->bad)
				return -1;
			continue;
		}
		if (op >> 6 == CFA_restore) {
			restore_rule(r, op & 0x3f);
			continue;
		}
		switch (op) {
		case CFA_nop:
			break;
		case CFA_set_loc:
			if (!r->cie ||
			    cfi__pointer(&r->b->f, c, cie->fde_enc,
					 r->sec->addr + (uint64_t)(c->p - r->sec->data), &v) ||
			    v < r->loc)
				return -1;
			err = emit_to(r, v);
			r->loc = v;
			if (err)
				return err;
			break;
		case CFA_advance_loc1:
		case CFA_advance_loc2:
		case CFA_advance_loc4:
			v = cfi__rd(c, op == CFA_advance_loc1 ? 1 : op == CFA_advance_loc2 ? 2 : 4);
			if (!r->cie || c->bad)
				return -1;
			err = advance(r, v);
			if (err)
				return err;
			break;
		case CFA_offset_extended:
			reg = cfi__uleb(c);
			v = cfi__uleb(c);
			set_rule(&r->st, reg, R_OFFSET, mul((int64_t)v, cie->daf));
			break;
		case CFA_offset_extended_sf:
			reg = cfi__uleb(c);
			off = cfi__sleb(c);
			set_rule(&r->st, reg, R_OFFSET, mul(off, cie->daf));
			break;
		case CFA_restore_extended:
			restore_rule(r, cfi__uleb(c));
			break;
		case CFA_undefined:
			set_rule(&r->st, cfi__uleb(c), R_UNDEF, 0);
			break;
		case CFA_same_value:
			set_rule(&r->st, cfi__uleb(c), R_SAME, 0);
			break;
		case CFA_register:
			reg = cfi__uleb(c);
			cfi__uleb(c);
			set_rule(&r->st, reg, R_OTHER, 0);
			break;
		case CFA_remember_state:
			if (r->depth == MAX_STATES)
				return -2;
			r->stack[r->depth++] = r->st;
			break;
		case CFA_restore_state:
			if (!r->depth)
				return -1;
			r->st = r->stack[--r->depth];
			break;
		case CFA_def_cfa:
		case CFA_def_cfa_sf:
			r->st.cfa_how = HOW_REG;
			r->st.cfa_reg = cfi__uleb(c);
			r->st.cfa_off =
				op == CFA_def_cfa ? (int64_t)cfi__uleb(c) : mul(cfi__sleb(c), cie->daf);
			break;
		case CFA_def_cfa_register:
			/* only meaningful after a register rule; from an expression, it is not one we follow
			 */
			if (r->st.cfa_how != HOW_REG)
				r->st.cfa_how = HOW_EXPR;
			r->st.cfa_reg = cfi__uleb(c);
			break;
		case CFA_def_cfa_offset:
		case CFA_def_cfa_offset_sf:
			off = op == CFA_def_cfa_offset ? (int64_t)cfi__uleb(c) : mul(cfi__sleb(c), cie->daf);
			if (r->st.cfa_how != HOW_REG)
				r->st.cfa_how = HOW_EXPR;
			r->st.cfa_off = off;
			break;
		case CFA_def_cfa_expression:
			v = cfi__uleb(c);
			if (!cfi__need(c, v))
				return -1;
			r->st.cfa_how = HOW_EXPR;
			if (v == sizeof(plt_expr) && !memcmp(c->p, plt_expr, 6) &&
			    !memcmp(c->p + 7, plt_expr + 7, sizeof(plt_expr) - 7) && c->p[6] >= 0x30 &&
			    c->p[6] <= 0x3f) {
				r->st.cfa_how = HOW_PLT;
				r->st.cfa_off = c->p[6] - 0x30;
			}
			c->p += v;
			break;
		case CFA_expression:
		case CFA_val_expression:
			reg = cfi__uleb(c);
			v = cfi__uleb(c);
			if (!cfi__need(c, v))
				return -1;
			c->p += v;
			set_rule(&r->st, reg, R_OTHER, 0);
			break;
		case CFA_val_offset:
		case CFA_val_offset_sf:
			reg = cfi__uleb(c);
			if (op == CFA_val_offset)
				cfi__uleb(c);
			else
				cfi__sleb(c);
			set_rule(&r->st, reg, R_OTHER, 0);
			break;
		case CFA_GNU_args_size:
			cfi__uleb(c);
			break;
		case CFA_GNU_negative_offset_extended:
			reg = cfi__uleb(c);
			v = cfi__uleb(c);
			set_rule(&r->st, reg, R_OFFSET, mul(-(int64_t)(v & INT64_MAX), cie->daf));
			break;
		default:
			return -1;
		}
		if (c->bad)
			return -1;
	}
	return 0;
}

/* --- CIEs and FDEs --------------------------------------------------------------------------------- */

/* Parse the CIE e (of section s) into *ci: ci->ok stays 0 when it is not one we can read. */
static void parse_cie(struct builder *b, int in_debug, struct cfi_entry *e, struct cie *ci)
{
	struct cfi_cur c = e->body;
	const char *aug;
	uint8_t version;
	uint64_t ra, auglen = 0, v;
	struct run *r;
	size_t n;

	memset(ci, 0, sizeof(*ci));
	ci->off = (uint32_t)e->off | (in_debug ? IN_DEBUG : 0);
	ci->fde_enc = PE_absptr;
	version = (uint8_t)cfi__rd(&c, 1);
	if (version != 1 && version != 3 && version != 4)
		return;
	aug = (const char *)c.p;
	n = c.bad ? 0 : strnlen(aug, (size_t)(c.end - c.p));
	if (!cfi__need(&c, n + 1))
		return;
	c.p += n + 1;
	if (n && aug[0] != 'z')
		return; /* "eh" and other old forms: not ours */
	if (version == 4 && (cfi__rd(&c, 1) != 8 || cfi__rd(&c, 1) != 0))
		return;
	ci->caf = cfi__uleb(&c);
	ci->daf = cfi__sleb(&c);
	ra = version == 1 ? cfi__rd(&c, 1) : cfi__uleb(&c);
	if (c.bad || ra != REG_RA || !ci->caf)
		return;
	if (n) {
		struct cfi_cur a;

		ci->has_z = 1;
		auglen = cfi__uleb(&c);
		if (!cfi__need(&c, auglen))
			return;
		a = (struct cfi_cur){ c.p, c.p + auglen, 0 };
		c.p += auglen;
		for (size_t i = 1; i < n && !a.bad; i++) {
			if (aug[i] == 'R') {
				ci->fde_enc = (uint8_t)cfi__rd(&a, 1);
			} else if (aug[i] == 'P') {
				if (cfi__pointer(&b->f, &a, (uint8_t)(cfi__rd(&a, 1) & 0x7f), 0, &v))
					return;
			} else if (aug[i] == 'L') {
				cfi__rd(&a, 1);
			} else if (aug[i] != 'S') {
				break; /* the rest is unknown to us, and its data skipped by the length */
			}
		}
		if (a.bad)
			return;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	r->b = b;
	r->st.cfa_how = HOW_REG;
	if (run_insns(r, &c, ci) == 0 && r->depth == 0) {
		ci->init = r->st;
		ci->ok = 1;
	}
	free(r);
}

static int cie_cmp(const void *key, const void *elem)
{
	uint32_t k = *(const uint32_t *)key, o = ((const struct cie *)elem)->off;

	return k < o ? -1 : k > o;
}

/* Walk section s twice: its CIEs parsed, then its FDEs made records. */
static int walk(struct builder *b, const struct cfi_sec *s, int in_debug)
{
	size_t first_cie = b->nr_cies, nr_fdes = 0;
	struct cfi_entry e;
	uint64_t off;

	for (off = 0; cfi__next_entry(s, in_debug, off, &e); off = e.next) {
		if (!e.is_cie)
			continue;
		if (array__grow(&b->cies, &b->cap_cies, b->nr_cies + 1, sizeof(*b->cies)))
			return -ENOMEM;
		parse_cie(b, in_debug, &e, &b->cies[b->nr_cies++]);
	}
	for (off = 0; cfi__next_entry(s, in_debug, off, &e); off = e.next) {
		uint64_t cie_off, start, range;
		const struct cie *ci;
		uint32_t key;

		if (e.is_cie)
			continue;
		b->t->st.fdes++;
		cie_off = in_debug ? e.id : e.id_pos - e.id;
		key = (uint32_t)cie_off | (in_debug ? IN_DEBUG : 0);
		ci = cie_off < s->size && b->nr_cies > first_cie
			     ? bsearch(&key, b->cies + first_cie, b->nr_cies - first_cie, sizeof(*b->cies),
				       cie_cmp)
			     : NULL;
		if (e.id_pos < e.id && !in_debug)
			ci = NULL;
		if (!ci || !ci->ok ||
		    cfi__pointer(&b->f, &e.body, ci->fde_enc, s->addr + (uint64_t)(e.body.p - s->data),
				 &start) ||
		    cfi__pointer(&b->f, &e.body, ci->fde_enc & 0x0f, 0, &range) || start + range < start) {
			b->t->st.bad_fdes++;
			continue;
		}
		if (!range)
			continue;
		/* every distinct range needs a row: more FDEs than rows can only be a hostile file */
		if (++nr_fdes > b->max_rows)
			return -E2BIG;
		if (array__grow(&b->recs, &b->cap_recs, b->nr_recs + 1, sizeof(*b->recs)))
			return -ENOMEM;
		b->recs[b->nr_recs++] =
			(struct rec){ start, start + range, (uint32_t)e.off | (in_debug ? IN_DEBUG : 0),
				      (uint32_t)(ci - b->cies) };
	}
	return 0;
}

/* .eh_frame first at equal starts; then the order in the file. */
static int rec_cmp(const void *x, const void *y)
{
	const struct rec *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->off < b->off ? -1 : a->off > b->off;
}

/* The rows of the FDE of record rc over [lo, hi): UNKNOWN there when its instructions are not usable. */
static int run_fde(struct builder *b, struct run *r, const struct rec *rc, uint64_t lo, uint64_t hi)
{
	const struct cfi_sec *s = rc->off & IN_DEBUG ? &b->f.dbg : &b->f.eh;
	const struct cie *ci = &b->cies[rc->cie];
	struct uwtable_stats saved = b->t->st;
	size_t nr = b->t->nr;
	struct cfi_entry e;
	uint64_t v;
	int err;

	if (!cfi__next_entry(s, (rc->off & IN_DEBUG) != 0, rc->off & ~IN_DEBUG, &e))
		return -EINVAL;
	/* the header again, known good: the start and the range, then the augmentation data */
	cfi__pointer(&b->f, &e.body, ci->fde_enc, 0, &v);
	cfi__pointer(&b->f, &e.body, ci->fde_enc & 0x0f, 0, &v);
	/* the remembered states are not cleared: only those below depth are ever read */
	r->depth = 0;
	r->insns = 0;
	r->b = b;
	r->cie = ci;
	r->st = ci->init;
	r->loc = rc->start;
	r->lo = lo;
	r->hi = hi;
	r->sec = s;
	err = 0;
	if (ci->has_z) {
		v = cfi__uleb(&e.body);
		err = cfi__need(&e.body, v) ? 0 : -1;
		e.body.p += err ? 0 : v;
	}
	if (!err)
		err = run_insns(r, &e.body, ci);
	if (!err)
		err = emit_to(r, hi);
	if (err == -1 || err == -2) {
		b->t->nr = nr;
		b->t->st = saved;
		b->t->st.bad_fdes++;
		return emit(b, lo, (struct scorch_uw_row){ .kind = SCORCH_UW_UNKNOWN }, NULL);
	}
	return err;
}

/* The rows of every record, sorted: gaps and the end UNKNOWN, overlaps clipped. */
static int make_rows(struct builder *b)
{
	const uint64_t base = b->recs[0].start;
	const uint64_t limit = base > UINT64_MAX - UINT32_MAX ? UINT64_MAX : base + UINT32_MAX;
	uint64_t covered = base, next_eh = UINT64_MAX, lo, hi;
	struct uwtable *t = b->t;
	struct run *r;
	size_t i;
	int err = 0;

	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	t->base = base;
	/*
	 * A .debug_frame FDE ends where the next .eh_frame FDE starts (the part of its range past that one
	 * is left UNKNOWN): the ends written backwards, so the loop below sees one record at a time.
	 */
	for (i = b->nr_recs; i-- > 0;) {
		struct rec *rc = &b->recs[i];

		if (!(rc->off & IN_DEBUG))
			next_eh = rc->start;
		else if (rc->end > next_eh)
			rc->end = next_eh > rc->start ? next_eh : rc->start;
	}
	for (i = 0; i < b->nr_recs && !err; i++) {
		const struct rec *rc = &b->recs[i];

		lo = rc->start > covered ? rc->start : covered;
		hi = rc->end < limit ? rc->end : limit;
		if (rc->start >= limit) {
			t->st.too_large++;
			continue;
		}
		if (lo >= hi)
			continue; /* within an earlier FDE's range: skipped */
		if (lo > covered)
			err = emit(b, covered, (struct scorch_uw_row){ .kind = SCORCH_UW_UNKNOWN }, NULL);
		if (!err)
			err = run_fde(b, r, rc, lo, hi);
		if (rc->end > limit)
			t->st.too_large++;
		covered = hi;
	}
	if (!err)
		err = emit(b, covered, (struct scorch_uw_row){ .kind = SCORCH_UW_UNKNOWN }, NULL);
	free(r);
	return err;
}

static int build(const struct cfi_src *s, uint32_t max_rows, struct uwtable *t)
{
	struct builder b;
	int err;

	memset(t, 0, sizeof(*t));
	memset(&b, 0, sizeof(b));
	b.t = t;
	b.max_rows = max_rows < UWTABLE_MAX_ROWS ? max_rows : UWTABLE_MAX_ROWS;
	err = cfi__read(s, &b.f);
	if (!err && b.f.eh.size)
		err = walk(&b, &b.f.eh, 0);
	if (!err && b.f.dbg.size)
		err = walk(&b, &b.f.dbg, 1);
	if (!err && !b.nr_recs)
		err = -ENOEXEC;
	if (!err) {
		qsort(b.recs, b.nr_recs, sizeof(*b.recs), rec_cmp);
		err = make_rows(&b);
	}
	cfi__release(&b.f);
	free(b.cies);
	free(b.recs);
	if (err)
		uwtable__release(t);
	return err;
}

int uwtable__build_fd(int fd, uint32_t max_rows, struct uwtable *t)
{
	struct cfi_src s = { .fd = fd };
	struct stat st;

	memset(t, 0, sizeof(*t));
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	s.size = (uint64_t)st.st_size;
	return build(&s, max_rows, t);
}

int uwtable__build(const uint8_t *img, size_t size, uint32_t max_rows, struct uwtable *t)
{
	struct cfi_src s = { .fd = -1, .img = img, .size = size };

	return build(&s, max_rows, t);
}

void uwtable__release(struct uwtable *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

int uwtable__validate(const struct scorch_uw_row *rows, size_t nr)
{
	size_t i;

	if (!rows || !nr || rows[nr - 1].kind != SCORCH_UW_UNKNOWN)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		const struct scorch_uw_row *r = &rows[i];

		if (i && r->pc <= rows[i - 1].pc)
			return -EINVAL;
		if (r->kind > SCORCH_UW_KIND_MAX)
			return -EINVAL;
		if (r->kind == SCORCH_UW_PLT && r->cfa_off >= 16)
			return -EINVAL;
		if ((r->kind == SCORCH_UW_CFA_RSP || r->kind == SCORCH_UW_CFA_RBP) && r->cfa_off < 8)
			return -EINVAL;
	}
	return 0;
}
