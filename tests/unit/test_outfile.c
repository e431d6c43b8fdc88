// SPDX-License-Identifier: MIT
/*
 * outfile: what is at the path decides how it is written. Regular files are replaced atomically;
 * devices, FIFOs, sockets and standard output's file are written in place and never replaced; a
 * directory is refused before anything is written; a complete file whose rename fails is kept.
 * Device nodes are private ones made with mknod in a temporary directory (root), never /dev's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "outfile.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_outfile.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	/* A FIFO test gone wrong blocks in open() or write(): fail (SIGALRM) instead of hanging. */
	alarm(20);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	alarm(0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* The number of entries in the test directory. */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void write_text(struct outfile *o, const char *text)
{
	FILE *f = outfile__fp(o);

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
}

static char *slurp(const char *p)
{
	static char buf[256];
	int fd = open(p, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void put(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_regular_file_replaced_atomically(void **state)
{
	struct outfile o;
	struct stat before, after;

	(void)state;
	put(path, "old\n");
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(outfile__open(&o, path, 0), 0);
	assert_false(o.in_place);
	write_text(&o, "new\n");
	/* Until the commit the old file is whole and untouched. */
	assert_string_equal(slurp(path), "old\n");
	assert_int_equal(entries(), 2);
	assert_int_equal(outfile__commit(&o), 0);
	assert_string_equal(slurp(path), "new\n");
	assert_int_equal(stat(path, &after), 0);
	assert_true(after.st_ino != before.st_ino); /* a new file renamed in, not the old one rewritten */
	assert_int_equal(entries(), 1);
}

static void test_symlink_to_regular_file_replaced_not_followed(void **state)
{
	char victim[160];
	struct outfile o;
	struct stat st;

	(void)state;
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	put(victim, "precious\n");
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(outfile__open(&o, path, 0), 0);
	write_text(&o, "new\n");
	assert_int_equal(outfile__commit(&o), 0);
	assert_string_equal(slurp(victim), "precious\n");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(slurp(path), "new\n");
}

static void test_directory_refused_before_anything_is_written(void **state)
{
	struct outfile o;

	(void)state;
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(outfile__open(&o, path, 0), -EISDIR);
	assert_int_equal(entries(), 1); /* no temporary file next to it */
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(symlink(dir, path), 0);
	assert_int_equal(outfile__open(&o, path, 0), -EISDIR);
}

static void test_rename_failure_keeps_the_complete_file(void **state)
{
	struct outfile o;
	char tmp[160];

	(void)state;
	assert_int_equal(outfile__open(&o, path, 0), 0);
	snprintf(tmp, sizeof(tmp), "%s", o.tmp);
	write_text(&o, "whole\n");
	/* Someone makes the path a directory while we write. */
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(outfile__commit(&o), -EISDIR);
	assert_string_equal(slurp(tmp), "whole\n");
}

static void test_abort_removes_the_temporary_file(void **state)
{
	struct outfile o;

	(void)state;
	assert_int_equal(outfile__open(&o, path, 0), 0);
	write_text(&o, "half");
	outfile__abort(&o);
	assert_int_equal(entries(), 0);
}

/*
 * Read a FIFO or socket in a child until EOF; return the child's pid; the data goes to 'sink'. The
 * child closes 'other' (the writer's end, if already open) so that EOF can come. With 'fd' < 0 the
 * child opens the FIFO at 'path' itself, blocking until a writer comes: a read end made before the
 * fork would read EOF at once if the child ran before the writer opened, and the writer would then
 * wait for a reader that is gone.
 */
static pid_t reader(int fd, const char *sink, int other)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[256];
		ssize_t n;
		int out = open(sink, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (other >= 0)
			close(other);
		if (fd < 0 && (fd = open(path, O_RDONLY)) < 0)
			_exit(1);

		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				_exit(1);
		_exit(n < 0 || close(out));
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_fifo_with_a_reader_gets_the_data(void **state)
{
	char sink[160];
	struct outfile o;
	struct stat st;
	pid_t pid;

	(void)state;
	snprintf(sink, sizeof(sink), "%s/sink", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	pid = reader(-1, sink, -1);
	assert_int_equal(outfile__open(&o, path, 0), 0);
	assert_true(o.in_place);
	write_text(&o, "through the pipe\n");
	assert_int_equal(outfile__commit(&o), 0);
	reap(pid);
	assert_string_equal(slurp(sink), "through the pipe\n");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(entries(), 2); /* the FIFO and the sink: no temporary file */
}

static void test_socket_gets_the_data(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char sink[160];
	struct outfile o;
	pid_t pid;
	int s, c;

	(void)state;
	snprintf(sink, sizeof(sink), "%s/sink", dir);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 1), 0);
	assert_int_equal(outfile__open(&o, path, 0), 0);
	c = accept(s, NULL, NULL);
	assert_true(c >= 0);
	pid = reader(c, sink, o.fd);
	close(c);
	close(s);
	write_text(&o, "through the socket\n");
	assert_int_equal(outfile__commit(&o), 0);
	reap(pid);
	assert_string_equal(slurp(sink), "through the socket\n");
}

/* /dev/stdout (here a private symlink to /proc/self/fd/1) while standard output is a pipe. */
static void test_stdout_link_into_a_pipe(void **state)
{
	int p[2], saved;
	struct outfile o;
	struct stat st;
	char buf[64];
	ssize_t n;

	(void)state;
	assert_int_equal(symlink("/proc/self/fd/1", path), 0);
	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);
	close(p[1]);
	assert_int_equal(outfile__open(&o, path, 0), 0);
	assert_true(o.in_place);
	assert_true(o.shares_stdout);
	write_text(&o, "piped\n");
	assert_int_equal(outfile__commit(&o), 0);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_int_equal(n, 6);
	buf[n] = '\0';
	assert_string_equal(buf, "piped\n");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(entries(), 1);
}

/*
 * A character device is written in place and stays what it was. As root, on a private node made
 * with mknod (the device of /dev/null); otherwise on /dev/null itself, which a user cannot replace
 * (there the old code failed with EACCES creating /dev/null.partial-XXXXXX).
 */
static void test_character_device_written_in_place(void **state)
{
	const char *dev = path;
	struct statvfs vfs;
	struct outfile o;
	struct stat st;

	(void)state;
	if (geteuid() == 0 && !statvfs(dir, &vfs) && !(vfs.f_flag & ST_NODEV))
		assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
	else if (geteuid() == 0)
		skip(); /* a nodev file system: root must not test on the real /dev/null */
	else
		dev = "/dev/null";
	assert_int_equal(outfile__open(&o, dev, 0), 0);
	assert_true(o.in_place);
	write_text(&o, "gone\n");
	assert_int_equal(outfile__commit(&o), 0);
	assert_int_equal(lstat(dev, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_true(st.st_rdev == makedev(1, 3));
	if (dev == path)
		assert_int_equal(entries(), 1);
}

/* A FIFO of another user in a sticky world-writable directory: refused, without waiting. */
static void test_foreign_fifo_in_sticky_directory_refused(void **state)
{
	char shared[160], fifo[192];
	struct outfile o;
	int rfd;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	snprintf(shared, sizeof(shared), "%s/shared", dir);
	snprintf(fifo, sizeof(fifo), "%s/p", shared);
	assert_int_equal(mkdir(shared, 0777), 0);
	assert_int_equal(chmod(shared, 01777), 0);
	assert_int_equal(mkfifo(fifo, 0666), 0);
	assert_int_equal(chown(fifo, 65534, 65534), 0);
	/* A reader, so that an open that should not happen would not block the test. */
	rfd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	unsetenv("SUDO_UID");
	assert_int_equal(outfile__open(&o, fifo, 0), -EACCES);
	/* Ours, or the sudo user's, is fine. */
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "65534", 1);
	assert_int_equal(outfile__open(&o, fifo, 0), 0);
	outfile__abort(&o);
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	close(rfd);
}

static void test_block_device_refused(void **state)
{
	struct outfile o;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(mknod(path, S_IFBLK | 0600, makedev(7, 0)), 0);
	assert_int_equal(outfile__open(&o, path, 0), -EINVAL);
	assert_int_equal(entries(), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regular_file_replaced_atomically, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_to_regular_file_replaced_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_refused_before_anything_is_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_failure_keeps_the_complete_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_removes_the_temporary_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_with_a_reader_gets_the_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_gets_the_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout_link_into_a_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_character_device_written_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_fifo_in_sticky_directory_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_device_refused, setup, teardown),
	};

	log__set_level(LOG_QUIET);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
