// SPDX-License-Identifier: MIT
/*
 * A workload that lives in the kernel: main -> copy_loop -> read_zero_chunk -> read(2) of /dev/zero
 * in 1 MiB chunks, for argv[1] seconds (default 2).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

__attribute__((noinline)) ssize_t read_zero_chunk(int fd)
{
	return read(fd, buf, sizeof(buf));
}

__attribute__((noinline)) void copy_loop(int fd, double secs)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int i;

		for (i = 0; i < 50; i++)
			if (read_zero_chunk(fd) < 0)
				exit(1);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
}

int main(int argc, char **argv)
{
	int fd = open("/dev/zero", O_RDONLY);

	if (fd < 0)
		return 1;
	copy_loop(fd, argc > 1 ? atof(argv[1]) : 2.0);
	return 0;
}
