/* SPDX-License-Identifier: MIT */
/*
 * demangle - readable names for mangled symbols: C++ (Itanium ABI, through libiberty's streaming
 * cplus_demangle_v3_callback, stopped at DEMANGLE_MAX_OUTPUT), Rust legacy (_ZN...17h<hash>E, our own
 * decoder, hash dropped as addr2line -C does) and Rust v0 (_R..., our own decoder).
 *
 * Names come from untrusted ELF files: the decoders are bounded (input length, output length,
 * recursion depth) and reject what they do not understand. demangle__name() returns a malloc'd
 * string the caller frees, or NULL when the name is not mangled or not valid (errno EINVAL) or on
 * ENOMEM; the caller then keeps the raw name.
 */
#ifndef SCORCH_DEMANGLE_H
#define SCORCH_DEMANGLE_H

#include <stddef.h>

#define DEMANGLE_MAX_INPUT 4096
#define DEMANGLE_MAX_OUTPUT 8192

char *demangle__name(const char *name);
/* The decoders on their own (exposed for tests): same contract as demangle__name(). */
char *demangle__rust_legacy(const char *name);
char *demangle__rust_v0(const char *name);

#endif
