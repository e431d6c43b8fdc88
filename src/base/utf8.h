/* SPDX-License-Identifier: MIT */
/*
 * utf8 - validation of UTF-8 sequences, for the writers of text formats (JSON, SVG/XML).
 */
#ifndef SCORCH_UTF8_H
#define SCORCH_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The length (1 to 4) of the well-formed UTF-8 sequence at s, of at most n bytes (n >= 1), and its code
 * point in *cp; 0 when the bytes are not well-formed UTF-8 (overlong forms, surrogates and code points
 * past U+10FFFF are not).
 */
size_t utf8__seq(const unsigned char *s, size_t n, uint32_t *cp);

#endif
