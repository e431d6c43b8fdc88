// SPDX-License-Identifier: MIT
/* What the read commands share: option entries and fragments, the parse of their arguments, the loader. */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "input.h"
#include "log.h"
#include "readcmd.h"
#include "resymbolize.h"

const struct opts_entry *const read_cmd_tables[] = {
	report_options, folded_options, info_options, flamegraph_options, export_options, NULL,
};

const char *const read_cmd_by_names[] = { "function", "line", "module", "process", NULL };

const char *const read_cmd_event_names[] = {
	"cpu", "off-cpu", "wall", "off-cpu:sleep", "off-cpu:disk", "off-cpu:runq", NULL,
};
const uint32_t read_cmd_event_masks[] = {
	PROFILE_EV_MASK(PROFILE_EV_CPU),
	PROFILE_EV_OFF_CPU,
	PROFILE_EV_WALL,
	PROFILE_EV_MASK(PROFILE_EV_OFF_SLEEP),
	PROFILE_EV_MASK(PROFILE_EV_OFF_DISK),
	PROFILE_EV_MASK(PROFILE_EV_OFF_RUNQ),
};

/* Make the counts the time of the events of --event. */
int read_cmd__select_event(const char *input, int event, struct profile *p)
{
	uint32_t mask = read_cmd_event_masks[event];
	int err;

	if (!event)
		return 0;
	if (!profile__has_off_cpu(p)) {
		pr_err("'%s' holds no off-CPU time: record it with 'scorch record --off-cpu'", input);
		return -EINVAL;
	}
	err = profile__select_event(p, mask);
	if (err == -EINVAL)
		pr_err("'%s' has no valid sampling frequency: its CPU time is unknown", input);
	else if (err)
		pr_err("cannot read the off-CPU time of '%s': %s", input, strerror(-err));
	return err;
}

static int parse_ids(const char *arg, const char *name, uint32_t *ids, uint32_t *nr)
{
	size_t n = *nr;
	int err = cli__parse_ids(arg, name, 0, "ids", ids, VIEW_MAX_IDS, &n);

	*nr = (uint32_t)n;
	return err ? -EINVAL : 0;
}

static int opt_pid(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct read_cmd_opts *o = base;

	(void)e;
	return parse_ids(arg, name, o->view.pids, &o->view.nr_pids);
}

static int opt_tid(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct read_cmd_opts *o = base;

	(void)e;
	return parse_ids(arg, name, o->view.tids, &o->view.nr_tids);
}

int read_cmd__opt_comm(const struct opts_entry *e, const char *arg, const char *name, void *base)
{
	struct read_cmd_opts *o = base;

	(void)e;
	if (o->view.nr_comms >= VIEW_MAX_IDS) {
		pr_err("%s: at most %d names", name, VIEW_MAX_IDS);
		return -EINVAL;
	}
	o->view.comms[o->view.nr_comms++] = arg;
	return 0;
}

const struct opts_entry read_cmd_id_filters[] = {
	OPTS_CALLBACK(0, "pid", "PID[,PID...]", "only these processes", struct read_cmd_opts, view.pids,
		      opt_pid),
	OPTS_CALLBACK(0, "tid", "TID[,TID...]", "only these threads", struct read_cmd_opts, view.tids,
		      opt_tid),
	READ_CMD_OPT_COMM,
	OPTS_END(),
};

const struct opts_entry read_cmd_stack_filters[] = {
	OPTS_STRING(0, "focus", "REGEX", "only stacks with a frame whose name matches", struct read_cmd_opts,
		    view.focus),
	OPTS_STRING(0, "ignore", "REGEX", "leave out stacks with a frame whose name matches",
		    struct read_cmd_opts, view.ignore),
	OPTS_FLAG(0, "no-inline", "fold inlined frames into their caller", struct read_cmd_opts,
		  view.no_inline),
	OPTS_FLAG(0, "no-kernel", "leave out kernel frames", struct read_cmd_opts, view.no_kernel),
	OPTS_FLAG(0, "python-only", "leave out every frame but Python frames", struct read_cmd_opts,
		  view.python_only),
	OPTS_END(),
};

int read_cmd__parse(int argc, char **argv, const struct opts_cmd *cmd, struct read_cmd_opts *o)
{
	int err, rest;

	o->input = "scorch.prof";
	if (!o->output)
		o->output = "-";
	o->top = 20;
	o->sort = REPORT_SORT_SELF;
	o->min_width = -1;
	err = opts__parse(cmd, argc, argv, o, &rest);
	if (err)
		return err;
	if (rest < argc) {
		pr_err("unexpected argument '%s'", argv[rest]);
		return -EINVAL;
	}
	if (o->nr_debug_dirs && !o->resymbolize) {
		pr_err("--debug-dir needs --resymbolize");
		return -EINVAL;
	}
	if (o->no_sandbox && !o->resymbolize) {
		pr_err("--no-sandbox needs --resymbolize");
		return -EINVAL;
	}
	return 0;
}

int read_cmd__load(const struct read_cmd_opts *o, struct profile *p)
{
	struct input_opts io = { .allow_partial = o->partial };
	int err;

	/* A scorch profile, or folded stacks from any tool (input.h). */
	profile__init(p);
	if (input__load(o->input, &io, p, NULL)) {
		profile__release(p);
		return -1;
	}
	if (o->resymbolize) {
		struct resymbolize_opts ro = { o->debug_dirs, o->nr_debug_dirs, o->no_sandbox };

		cli__raise_nofile();
		err = resymbolize__profile(p, &ro);
		if (err < 0) {
			pr_err("cannot resymbolize '%s': %s", o->input, strerror(-err));
			profile__release(p);
			return -1;
		}
		pr_debug("resymbolized %d locations", err);
	}
	if (read_cmd__select_event(o->input, o->event, p)) {
		profile__release(p);
		return -1;
	}
	return 0;
}

const char *read_cmd__input_name(const struct read_cmd_opts *o)
{
	return strcmp(o->input, "-") ? o->input : "<stdin>";
}
