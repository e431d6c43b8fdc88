// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "log.h"

static enum log_level cur_level = LOG_INFO;

void log__set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log__level(void)
{
	return cur_level;
}

void log__vprint(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const prefix[] = {
		[LOG_QUIET] = "scorch: error: ",
		[LOG_WARN] = "scorch: warning: ",
		[LOG_INFO] = "scorch: ",
		[LOG_DEBUG] = "scorch: debug: ",
	};

	if (level > cur_level)
		return;
	fputs(prefix[level], stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define DEFINE_PR(fn, level)                      \
	void fn(const char *fmt, ...)             \
	{                                         \
		va_list ap;                       \
		va_start(ap, fmt);                \
		log__vprint(level, fmt, ap);      \
		va_end(ap);                       \
	}

DEFINE_PR(pr_err, LOG_QUIET)
DEFINE_PR(pr_warn, LOG_WARN)
DEFINE_PR(pr_info, LOG_INFO)
DEFINE_PR(pr_debug, LOG_DEBUG)
