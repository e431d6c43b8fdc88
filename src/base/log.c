// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "utf8.h"

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

	char buf[1024], *msg = buf, *heap = NULL;
	va_list aq;
	int n;

	if (level > cur_level)
		return;
	/* Messages quote names the target chose (paths, comm): no byte of them may drive the terminal. */
	va_copy(aq, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, aq);
	va_end(aq);
	if (n >= (int)sizeof(buf) && vasprintf(&heap, fmt, ap) >= 0)
		msg = heap;
	fputs(prefix[level], stderr);
	utf8__fputs(n < 0 ? fmt : msg, stderr);
	fputc('\n', stderr);
	free(heap);
}

#define DEFINE_PR(fn, level)                 \
	void fn(const char *fmt, ...)        \
	{                                    \
		va_list ap;                  \
		va_start(ap, fmt);           \
		log__vprint(level, fmt, ap); \
		va_end(ap);                  \
	}

DEFINE_PR(pr_err, LOG_QUIET)
DEFINE_PR(pr_warn, LOG_WARN)
DEFINE_PR(pr_info, LOG_INFO)
DEFINE_PR(pr_debug, LOG_DEBUG)
