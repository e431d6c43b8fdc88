// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"

int cli__parse_u32(const char *s, uint32_t min, uint32_t max, const char *opt, uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		goto bad;
	if (v < min || v > max) {
		pr_err("%s %s is out of range: use %u to %u", opt, s, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
bad:
	pr_err("%s takes a whole number, not '%s'", opt, s ? s : "");
	return -EINVAL;
}

int cli__parse_choice(const char *s, const char *what, const char *const *names, int *out)
{
	char choices[256] = "";
	size_t len = 0;
	int i;

	for (i = 0; names[i]; i++)
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	for (i = 0; names[i] && len < sizeof(choices); i++)
		len += (size_t)snprintf(choices + len, sizeof(choices) - len, "%s%s",
					!i             ? ""
					: names[i + 1] ? ", "
						       : " or ",
					names[i]);
	pr_err("unknown %s '%s': use %s", what, s, choices);
	return -EINVAL;
}

int cli__parse_seconds(const char *s, const char *opt, uint64_t *ns)
{
	double v;
	char *end;

	errno = 0;
	v = s && *s ? strtod(s, &end) : NAN;
	if (!s || !*s || errno || *end || isnan(v)) {
		pr_err("%s takes a number of seconds, not '%s'", opt, s ? s : "");
		return -EINVAL;
	}
	if (!(v > 0) || v > 7 * 24 * 3600.0) {
		pr_err("%s %s is out of range: use more than 0 and at most 604800 seconds", opt, s);
		return -EINVAL;
	}
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

int cli__parse_duration(const char *s, const char *opt, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "", 1e6 } };
	double v, mul = 0;
	char *end;
	size_t i;

	errno = 0;
	v = s && *s && !isspace((unsigned char)*s) ? strtod(s, &end) : NAN;
	for (i = 0; !isnan(v) && !errno && i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit)) {
			mul = units[i].ns;
			break;
		}
	if (!mul || isnan(v) || isinf(v)) {
		pr_err("%s takes a duration such as 500us, 1ms or 0.1s, not '%s'", opt, s ? s : "");
		return -EINVAL;
	}
	v *= mul;
	if (!(v >= 0) || v > 60e9) {
		pr_err("%s %s is out of range: use 0 to 60s", opt, s);
		return -EINVAL;
	}
	*ns = (uint64_t)(v + 0.5);
	return 0;
}

void cli__verbosity(int verbose, int quiet)
{
	if (quiet)
		log__set_level(LOG_QUIET);
	else if (verbose)
		log__set_level(LOG_DEBUG);
}

int cli__usage_error(const char *cmd)
{
	fprintf(stderr, "Try 'scorch %s --help' for more information.\n", cmd);
	return EXIT_USAGE;
}

int cli__add_debug_dir(const char *arg, const char **dirs, size_t max, size_t *nr)
{
	if (*nr == max) {
		pr_err("too many --debug-dir options: at most %zu", max);
		return -EINVAL;
	}
	if (!arg[0]) {
		pr_err("--debug-dir takes a directory, not ''");
		return -EINVAL;
	}
	dirs[(*nr)++] = arg;
	return 0;
}

int cli__parse_status(int err, const char *cmd)
{
	return err > 0 ? EXIT_OK : err == -ENOMEM ? EXIT_ERROR : cli__usage_error(cmd);
}

int cli__parse_ids(const char *arg, const char *opt, uint32_t min, const char *noun, uint32_t *ids,
		   size_t max, size_t *nr)
{
	char *copy = strdup(arg), *rest = copy, *tok;
	size_t before = *nr;
	int err = 0;

	if (!copy) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	/* strsep, not strtok: "1,,2" has an empty field, which is an error, not a separator. */
	while ((tok = strsep(&rest, ","))) {
		if (*nr == max) {
			pr_err("%s: at most %zu %s", opt, max, noun);
			err = -EINVAL;
			break;
		}
		if (cli__parse_u32(tok, min, INT_MAX, opt, &ids[*nr])) {
			err = -EINVAL;
			break;
		}
		(*nr)++;
	}
	if (!err && *nr == before) {
		pr_err("%s needs at least one %.*s", opt, (int)strlen(noun) - 1, noun);
		err = -EINVAL;
	}
	free(copy);
	return err;
}

int cli__parse_pids(const char *arg, uint32_t *pids, size_t max, size_t *nr)
{
	return cli__parse_ids(arg, "-p", 1, "pids", pids, max, nr);
}

int cli__parse_double(const char *s, const char *opt, double min, double max, unsigned bounds, double *out)
{
	int min_open = bounds & CLI_MIN_OPEN, max_open = bounds & CLI_MAX_OPEN;
	char *end;
	double v;

	errno = 0;
	v = s && *s ? strtod(s, &end) : NAN;
	if (!s || !*s || errno || *end || isnan(v)) {
		pr_err("%s takes a number, not '%s'", opt, s ? s : "");
		return -EINVAL;
	}
	if ((min_open ? !(v > min) : !(v >= min)) || (max_open ? !(v < max) : !(v <= max))) {
		if (!min_open && !max_open)
			pr_err("%s %s is out of range: use %g to %g", opt, s, min, max);
		else
			pr_err("%s %s is out of range: use %s %g and %s %g", opt, s,
			       min_open ? "more than" : "at least", min, max_open ? "less than" : "at most",
			       max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

void cli__raise_nofile(void)
{
	struct rlimit rl;
	unsigned long long nr_open = 0;
	FILE *f;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	/* An unlimited hard limit is capped by fs.nr_open: setrlimit refuses more (EPERM). */
	if (rl.rlim_max == RLIM_INFINITY && (f = fopen("/proc/sys/fs/nr_open", "re"))) {
		if (fscanf(f, "%llu", &nr_open) == 1 && nr_open)
			rl.rlim_max = (rlim_t)nr_open;
		fclose(f);
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		pr_debug("cannot raise the soft RLIMIT_NOFILE to %llu: %s", (unsigned long long)rl.rlim_cur,
			 strerror(errno));
}
