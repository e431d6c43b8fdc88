/* SPDX-License-Identifier: MIT */
/*
 * uwtable - unwind tables for the in-kernel unwinder (-g auto): the call frame information of one ELF
 * file (.eh_frame, and .debug_frame for the code .eh_frame does not cover) turned into fixed-size rows,
 * struct scorch_uw_row (scorch_abi.h), that the BPF program follows without running any CFA program.
 *
 * It runs in the sandboxed child (sandbox.h): the file bytes are untrusted. What a row cannot express
 * (a CFA from another register or an expression other than the PLT's, a return address not at CFA - 8,
 * RBP saved by an expression, offsets that do not fit) becomes an UNKNOWN row, counted by reason in
 * struct uwtable_stats, and the BPF walk falls back to the stack copy there. The root side only
 * checks the rows (uwtable__validate) before writing them into the BPF map.
 *
 * Row pcs are relative to t->base, an ELF virtual address: a mapping of the file at 'start' with file
 * offset 'pgoff' in segment (p_offset, p_vaddr) has bias = start - pgoff + p_offset - p_vaddr + base.
 *
 * Functions returning int return 0 or a negative errno.
 */
#ifndef SCORCH_UWTABLE_H
#define SCORCH_UWTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "scorch_abi.h"

/* Rows one file may have (a table over it is refused with -E2BIG): 8 bytes each. */
#define UWTABLE_MAX_ROWS (4u << 20)
/* Bytes of .eh_frame or .debug_frame read at most (a larger section is refused with -EFBIG). */
#define UWTABLE_MAX_SECTION (256u << 20)

struct uwtable_stats {
	uint32_t fdes;      /* FDEs read */
	uint32_t bad_fdes;  /* FDEs (or CIEs) that could not be parsed: their range is UNKNOWN */
	uint32_t unknown;   /* UNKNOWN rows within FDEs, by reason: */
	uint32_t cfa_reg;   /*   the CFA from a register other than RSP or RBP */
	uint32_t cfa_expr;  /*   the CFA by an expression that is not the PLT's */
	uint32_t ra_rule;   /*   the return address not at CFA - 8 */
	uint32_t rbp_rule;  /*   RBP restored by a rule other than "saved at CFA + N" */
	uint32_t too_large; /*   a CFA offset over 16 bits, RBP offset over 8 bits x 8, pc over 32 bits */
};

struct uwtable {
	struct scorch_uw_row *rows; /* owned; sorted by pc, strictly increasing; the last is UNKNOWN */
	size_t nr;
	uint64_t base; /* the ELF virtual address of pc 0 */
	struct uwtable_stats st;
};

/*
 * Build the table of the ELF file open at 'fd' (read with pread: never mmapped). Sections are read
 * only as far as UWTABLE_MAX_SECTION. -ENOEXEC: not an x86-64 ELF file, or no call frame information;
 * -E2BIG: over max_rows rows (at most UWTABLE_MAX_ROWS); -EFBIG; -EIO; -ENOMEM. On error t is empty.
 */
int uwtable__build_fd(int fd, uint32_t max_rows, struct uwtable *t);
/* The same over an ELF image in memory (size bytes). */
int uwtable__build(const uint8_t *img, size_t size, uint32_t max_rows, struct uwtable *t);
void uwtable__release(struct uwtable *t);

/*
 * The root side's check of rows from the child, before they reach a BPF map: at least one row, pcs
 * strictly increasing, every kind known, a PLT row's cfa_off below 16, RSP/RBP rows with cfa_off at
 * least 8 (CFA - 8 holds the return address: the CFA is above the SP), the last row UNKNOWN.
 * 0 or -EINVAL.
 */
int uwtable__validate(const struct scorch_uw_row *rows, size_t nr);

#endif
