// SPDX-License-Identifier: MIT
/*
 * Unit tests for the recorder (src/capture/recorder.h) that need no BPF: forgetting the processes that exited
 * (record -a keeps its caches bounded that way), and samples of a forgotten process still recorded;
 * the mappings of a process that is gone built from (synthetic) mapping events, and the files they
 * name refused when they are not the mapped file or a symlink is on their path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procmaps.h"
#include "profile.h"
#include "recorder.h"
#include "scorch_abi.h"

static pid_t dead_child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	return pid;
}

static void test_forget_exited(void **state)
{
	struct profile p;
	struct recorder *r;
	uint64_t ips[1];
	struct recorder_sample s = { .comm = "x", .uips = ips, .nr_uips = 1 };
	pid_t child = dead_child();

	(void)state;
	profile__init(&p);
	r = recorder__new(&p, NULL);
	assert_non_null(r);
	assert_int_equal(recorder__add_process(r, (uint32_t)getpid()), 0);
	assert_int_equal(recorder__add_process(r, (uint32_t)child), 0);
	/* Alive (a zombie still has its pid): nothing to forget. */
	assert_int_equal(recorder__forget_exited(r), 0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(recorder__forget_exited(r), 1);
	assert_int_equal(recorder__forget_exited(r), 0);
	/* This process is still known, and a sample of the forgotten one is still counted. */
	ips[0] = (uint64_t)(uintptr_t)test_forget_exited;
	s.pid = s.tid = (uint32_t)getpid();
	assert_int_equal(recorder__add_sample(r, &s), 0);
	s.pid = s.tid = (uint32_t)child;
	assert_int_equal(recorder__add_sample(r, &s), 0);
	/* Gone with no maps known: held for the mapping events the next flush brings in. */
	assert_int_equal(recorder__flush(r), 0);
	assert_int_equal(p.total, 2);
	recorder__free(r);
	profile__release(&p);
}

/* The function a sample of the gone child is taken in: the child is a fork, so it is at this address there.
 */
int gone_target_fn(int x); /* global, so that the symbolizer finds it by name */
__attribute__((noinline, used)) int gone_target_fn(int x)
{
	return x * 3 + 1;
}

/* Send the recorder a path event for 'path' (names leaf first, as the BPF walk writes them). */
static void send_path(struct recorder *r, const char *path, uint32_t dmaj, uint32_t dmin, uint64_t ino)
{
	struct scorch_path_event *e = calloc(1, sizeof(*e));
	size_t len = strlen(path), pos = 0, end = len;

	assert_non_null(e);
	e->h.type = SCORCH_EV_PATH;
	e->dev_major = dmaj;
	e->dev_minor = dmin;
	e->ino = ino;
	while (end > 0) {
		size_t start = end;

		while (start > 0 && path[start - 1] != '/')
			start--;
		memcpy(e->path + pos, path + start, end - start);
		pos += end - start;
		e->path[pos++] = '\0';
		end = start ? start - 1 : 0;
	}
	e->path_len = (uint32_t)pos;
	assert_int_equal(recorder__add_event(r, e, offsetof(struct scorch_path_event, path) + pos), 0);
	free(e);
}

/* A sample of a child that is gone, named through events of this binary's mappings (ino_delta shifts the
 * inode the events give) and a path event for 'path'. Returns whether the sample got gone_target_fn's name.
 */
static int gone_named(const char *path, uint64_t ino_delta, uint64_t *from_events)
{
	char exe[PATH_MAX];
	struct profile p;
	struct recorder *r;
	struct procmaps m;
	struct stat st;
	uint64_t ips[1] = { (uint64_t)(uintptr_t)gone_target_fn + 1 };
	struct recorder_sample s = { .comm = "x", .uips = ips, .nr_uips = 1 };
	pid_t child = dead_child();
	uint32_t i, found = 0;
	ssize_t n;

	assert_int_equal(waitpid(child, NULL, 0), child);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(stat(exe, &st), 0);
	profile__init(&p);
	r = recorder__new(&p, NULL);
	assert_non_null(r);
	recorder__set_events(r, RECORDER_EVENTS_ON);
	procmaps__init(&m);
	assert_int_equal(procmaps__read(&m, getpid()), 0);
	for (i = 0; i < m.nr; i++) {
		const struct procmaps_entry *e = &m.entries[i];
		struct scorch_mmap_event ev;

		if (e->inode != (uint64_t)st.st_ino || strcmp(e->path, exe) != 0)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.h.type = SCORCH_EV_MMAP;
		ev.h.pid = (uint32_t)child;
		ev.dev_major = e->dev_major;
		ev.dev_minor = e->dev_minor;
		ev.ino = e->inode + ino_delta;
		ev.start = e->start;
		ev.end = e->end;
		ev.pgoff = e->offset;
		ev.prot = (e->perms & PROCMAPS_R ? SCORCH_PROT_READ : 0) |
			  (e->perms & PROCMAPS_X ? SCORCH_PROT_EXEC : 0);
		assert_int_equal(recorder__add_event(r, &ev, sizeof(ev)), 0);
		if (!found++)
			send_path(r, path, e->dev_major, e->dev_minor, e->inode + ino_delta);
	}
	assert_true(found > 0);
	procmaps__release(&m);

	s.pid = s.tid = (uint32_t)child;
	assert_int_equal(recorder__add_sample(r, &s), 0);
	assert_int_equal(recorder__flush(r), 0);
	assert_int_equal(p.total, 1);
	assert_int_equal(recorder__store_counters(r), 0);
	*from_events = profile__counter_get(&p, "maps_from_events");
	found = 0;
	for (i = 0; i < p.nr_frames; i++)
		if (p.frames[i].function &&
		    strcmp(profile__str(&p, p.frames[i].function), "gone_target_fn") == 0)
			found = 1;
	recorder__free(r);
	profile__release(&p);
	return (int)found;
}

static void test_gone_from_events(void **state)
{
	char exe[PATH_MAX], dir[] = "/tmp/scorch-rec-XXXXXX", link[PATH_MAX + 32];
	uint64_t from_events;
	ssize_t n;

	(void)state;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	/* The events name the file and it is the mapped one. */
	assert_true(gone_named(exe, 0, &from_events));
	assert_int_equal(from_events, 1);
	/* They name a (dev, inode) that the path does not have: the file is not used. */
	assert_false(gone_named(exe, 1, &from_events));
	assert_int_equal(from_events, 1);
	/* The path goes through a symlink (to the right file): refused. */
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/exe", dir);
	assert_int_equal(symlink(exe, link), 0);
	assert_false(gone_named(link, 0, &from_events));
	unlink(link);
	rmdir(dir);
}

/* The depth of the one stack a profile holds after one sample. */
static uint32_t only_depth(const struct profile *p)
{
	assert_int_equal(p->nr_counts, 1);
	return p->stacks[p->counts[0].stack].depth;
}

/*
 * A frame-pointer walk that went through code without frame pointers gives garbage callers: the stack
 * ends before the first one that cannot be code (in no mapping, outside the mapped range), and that is
 * counted. A caller in a hole between mappings (perhaps mapped since) is kept.
 */
static void test_impossible_callers(void **state)
{
	static const uint64_t garbage[] = { 0, 0x10, 0xbf, 0x7ffe41d7794fffULL, 0x5952415242494bffULL };
	uint64_t ips[4], hole = 0;
	struct recorder_sample s = { .comm = "x", .uips = ips };
	struct procmaps m;
	size_t i;

	(void)state;
	procmaps__init(&m);
	assert_int_equal(procmaps__read(&m, getpid()), 0);
	for (i = 1; i < m.nr && !hole; i++)
		if (m.entries[i].start > m.entries[i - 1].end + 0x10000 &&
		    m.entries[i].start < 0x800000000000ULL)
			hole = m.entries[i - 1].end + 0x8000;
	procmaps__release(&m);
	assert_int_not_equal(hole, 0);
	s.pid = s.tid = (uint32_t)getpid();
	for (i = 0; i <= sizeof(garbage) / sizeof(garbage[0]); i++) {
		struct profile p;
		struct recorder *r;
		int cut = i < sizeof(garbage) / sizeof(garbage[0]);

		profile__init(&p);
		r = recorder__new(&p, NULL);
		assert_non_null(r);
		assert_int_equal(recorder__add_process(r, (uint32_t)getpid()), 0);
		ips[0] = (uint64_t)(uintptr_t)gone_target_fn;
		ips[1] = (uint64_t)(uintptr_t)test_impossible_callers + 1;
		ips[2] = cut ? garbage[i] : hole;
		ips[3] = (uint64_t)(uintptr_t)test_forget_exited + 1;
		s.nr_uips = 4;
		assert_int_equal(recorder__add_sample(r, &s), 0);
		assert_int_equal(recorder__flush(r), 0);
		assert_int_equal(recorder__store_counters(r), 0);
		assert_int_equal(only_depth(&p), cut ? 2 : 4);
		assert_int_equal(profile__counter_get(&p, "user_stacks_cut"), cut);
		recorder__free(r);
		profile__release(&p);
	}
}

/*
 * -g auto: where the DWARF unwind fails (here the leaf is in anonymous executable memory, with no CFI,
 * no return address at SP and no frame pointer) and the kernel's frame-pointer walk went deeper, that
 * walk is kept and counted in unwind_kernel_walk; -g dwarf keeps the unwind's one frame.
 */
static void test_auto_kernel_walk(void **state)
{
	uint64_t ips[3], regs[SCORCH_NR_REGS] = { 0 }, stack[64] = { 0 };
	struct recorder_sample s = { .comm = "x", .uips = ips, .nr_uips = 3, .uregs = regs };
	void *code = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int mode;

	(void)state;
	assert_true(code != MAP_FAILED);
	s.pid = s.tid = (uint32_t)getpid();
	s.ustack_bytes = (const uint8_t *)stack;
	s.ustack_size = sizeof(stack);
	regs[SCORCH_REG_RIP] = (uint64_t)(uintptr_t)code + 16;
	regs[SCORCH_REG_RSP] = (uint64_t)(uintptr_t)stack;
	regs[SCORCH_REG_RAX] = 1;
	ips[0] = regs[SCORCH_REG_RIP];
	ips[1] = (uint64_t)(uintptr_t)test_impossible_callers + 1;
	ips[2] = (uint64_t)(uintptr_t)test_forget_exited + 1;
	for (mode = 0; mode < 2; mode++) {
		struct recorder_opts o = { .call_graph = mode ? RECORDER_CG_AUTO : RECORDER_CG_DWARF };
		struct profile p;
		struct recorder *r;

		profile__init(&p);
		r = recorder__new(&p, &o);
		assert_non_null(r);
		assert_int_equal(recorder__add_process(r, (uint32_t)getpid()), 0);
		assert_int_equal(recorder__add_sample(r, &s), 0);
		assert_int_equal(recorder__flush(r), 0);
		assert_int_equal(recorder__store_counters(r), 0);
		assert_int_equal(only_depth(&p), mode ? 3 : 1);
		assert_int_equal(profile__counter_get(&p, "unwind_kernel_walk"), mode);
		recorder__free(r);
		profile__release(&p);
	}
	munmap(code, 4096);
}

/*
 * A child with JIT code (an executable anonymous page). It reports the page's address, then on each
 * byte 'm' from the parent writes a perf map naming the first 0x100 bytes, on 'M' also the next 0x100,
 * and on 'x' writes the full map and exits.
 */
static pid_t jit_child(uint64_t *addr, int *ctl)
{
	int up[2], down[2];
	pid_t pid;

	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		void *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);
		char path[64], c;
		uint64_t a = (uint64_t)(uintptr_t)mem;

		if (mem == MAP_FAILED || write(up[1], &a, sizeof(a)) != sizeof(a))
			_exit(1);
		snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
		while (read(down[0], &c, 1) == 1) {
			FILE *f = fopen(path, "w");

			if (!f)
				_exit(1);
			fprintf(f, "%llx 100 Jit::first\n", (unsigned long long)a);
			if (c != 'm')
				fprintf(f, "%llx 100 Jit::second\n", (unsigned long long)a + 0x100);
			fclose(f);
			if (c == 'x')
				_exit(0);
			if (write(up[1], &c, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], addr, sizeof(*addr)), sizeof(*addr));
	ctl[0] = up[0];
	ctl[1] = down[1];
	return pid;
}

static const char *loc_name(const struct profile *p, uint32_t stack)
{
	const struct profile_location *l = &p->locations[profile__stack_locs(p, stack)[0]];

	return l->nr_frames ? profile__str(p, p->frames[l->frame].function) : NULL;
}

/*
 * JIT code and perf maps: a sample never reads the map (its JIT address is kept unnamed, under the
 * process's JIT mapping); recorder__reload_perfmaps() reads it and names what was recorded before;
 * a map written at exit is read before the process is forgotten.
 */
static void test_jit_perfmap(void **state)
{
	struct profile p;
	struct recorder *r;
	uint64_t addr, ip;
	struct recorder_sample s = { .comm = "jit", .uips = &ip, .nr_uips = 1 };
	int ctl[2], i, status;
	char c, path[64];
	pid_t child = jit_child(&addr, ctl);
	uint32_t first, second;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)child);
	profile__init(&p);
	r = recorder__new(&p, NULL);
	assert_non_null(r);
	assert_int_equal(recorder__add_process(r, (uint32_t)child), 0);
	/* The map exists before the sample: still, the sample does not read it. */
	assert_int_equal(write(ctl[1], "m", 1), 1);
	assert_int_equal(read(ctl[0], &c, 1), 1);
	s.pid = s.tid = (uint32_t)child;
	ip = addr + 0x10;
	assert_int_equal(recorder__add_sample(r, &s), 0);
	assert_int_equal(recorder__flush(r), 0);
	assert_int_equal(p.nr_stacks, 1);
	first = 0;
	assert_null(loc_name(&p, first));
	assert_int_equal(p.mappings[p.locations[profile__stack_locs(&p, first)[0]].mapping].kind,
			 PROFILE_MAP_JIT);
	assert_string_equal(
		profile__str(&p, p.mappings[p.locations[profile__stack_locs(&p, first)[0]].mapping].name),
		path);
	assert_int_equal(p.locations[profile__stack_locs(&p, first)[0]].addr, addr + 0x10);
	/* Read between ring-buffer reads (in a worker thread): the location is named. */
	for (i = 0; i < 500 && !loc_name(&p, first); i++) {
		assert_int_equal(recorder__reload_perfmaps(r), 0);
		usleep(10000);
	}
	assert_non_null(loc_name(&p, first));
	assert_string_equal(loc_name(&p, first), "Jit::first");
	/* Code the map does not name yet: unnamed; the map is written (with it) at exit. */
	ip = addr + 0x110;
	assert_int_equal(recorder__add_sample(r, &s), 0);
	assert_int_equal(recorder__flush(r), 0);
	second = p.nr_stacks - 1;
	assert_null(loc_name(&p, second));
	assert_int_equal(write(ctl[1], "x", 1), 1);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(status, 0);
	/* Gone, with code unnamed: kept until its map has been read a last time. */
	for (i = 0; i < 500 && recorder__forget_exited(r) == 0; i++) {
		assert_int_equal(recorder__reload_perfmaps(r), 0);
		usleep(10000);
	}
	assert_true(i < 500);
	assert_non_null(loc_name(&p, second));
	assert_string_equal(loc_name(&p, second), "Jit::second");
	assert_int_equal(recorder__store_counters(r), 0);
	assert_true(profile__counter_get(&p, "jit_named_late") >= 2);
	assert_int_equal(profile__counter_get(&p, "perfmap_too_large"), 0);
	close(ctl[0]);
	close(ctl[1]);
	unlink(path);
	recorder__free(r);
	profile__release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forget_exited),      cmocka_unit_test(test_gone_from_events),
		cmocka_unit_test(test_impossible_callers), cmocka_unit_test(test_auto_kernel_walk),
		cmocka_unit_test(test_jit_perfmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
