/* SPDX-License-Identifier: MIT */
/*
 * ksyms - kernel symbols from /proc/kallsyms.
 *
 * Text symbols only (types t/T/w/W), zero addresses skipped (kptr_restrict hides them), sorted; a symbol
 * ends where the next one starts. A struct ksyms owns its names; ksyms__free() frees everything.
 * Constructors return NULL with errno set (EINVAL for malformed text, ENOMEM, or the open error).
 */
#ifndef SCORCH_KSYMS_H
#define SCORCH_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksym {
	uint64_t addr;
	const char *name;   /* borrowed from the ksyms */
	const char *module; /* NULL for the kernel image, else the module name; borrowed */
};

struct ksyms;

struct ksyms *ksyms__parse(const char *text, size_t len);
struct ksyms *ksyms__load(void); /* /proc/kallsyms */
void ksyms__free(struct ksyms *k);
/* The symbol containing addr, or NULL. Borrowed. */
const struct ksym *ksyms__find(const struct ksyms *k, uint64_t addr);
size_t ksyms__count(const struct ksyms *k);

#endif
