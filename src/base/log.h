/* SPDX-License-Identifier: MIT */
/*
 * log - diagnostics on stderr.
 *
 * Messages are lowercase, without a full stop, and name what failed first, quoting names as '%s'.
 * pr_err() prints "scorch: error: ...", pr_warn() "scorch: warning: ...", pr_info() only when not
 * quiet, pr_debug() only with -v. Data never goes through this module: it goes to stdout.
 */
#ifndef SCORCH_LOG_H
#define SCORCH_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_QUIET = 0, /* errors only */
	LOG_WARN = 1,  /* errors and warnings */
	LOG_INFO = 2,  /* default */
	LOG_DEBUG = 3, /* -v */
};

void log__set_level(enum log_level level);
enum log_level log__level(void);

void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log__vprint(enum log_level level, const char *fmt, va_list ap);

#endif
