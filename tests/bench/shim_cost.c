/*
 * shim_cost.c - what libckpt's wrappers add to an fd-heavy loop.
 *
 *   shim_cost [ITERATIONS [FILE]]
 * Runs ITERATIONS (default 200000) of: open FILE (default /etc/hostname),
 * read, fstat, close, getpid, pipe, close, close, after a warm-up of a
 * tenth as many, and prints
 *   ns_per_iter N
 * Five of the eight calls are wrapped (open, close x3, pipe); read, fstat
 * and getpid are not, and stand for the work a program does between
 * them.
 *
 *   shim_cost --calls [ITERATIONS]
 * Only the wrapped calls: open, close, pipe, close, close.  Meant to run
 * with this same file built as a stand-in libc (-DSHIM_COST_FAKE_LIBC
 * -shared) preloaded after libckpt: the "real" calls then cost a few ns,
 * so the difference with and without libckpt is the wrappers' own cost,
 * which the system calls' noise hides in the first mode on a slow or
 * busy machine.
 *
 * tests/bench/run.sh builds and runs both (section shim_cost).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef SHIM_COST_FAKE_LIBC

/*
 * The stand-in libc: fd numbers cycle through 3..514, like a program
 * that keeps a few hundred fds; nothing reaches the kernel.
 */
static int fake_next = 3;

static int fake_fd(void)
{
	int fd = fake_next;

	fake_next = fd == 514 ? 3 : fd + 1;
	return fd;
}

int open(const char *path, int flags, ...)
{
	(void)path;
	(void)flags;
	return fake_fd();
}

int close(int fd)
{
	return fd < 0 ? -1 : 0;
}

int pipe(int fds[2])
{
	fds[0] = fake_fd();
	fds[1] = fake_fd();
	return 0;
}

#else

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int one_iteration(const char *file)
{
	char buf[256];
	struct stat st;
	int fd, p[2];

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf)) < 0 || fstat(fd, &st) < 0)
		return -1;
	close(fd);
	getpid();
	if (pipe(p) < 0)
		return -1;
	close(p[0]);
	close(p[1]);
	return 0;
}

static int calls_iteration(const char *file)
{
	int fd, p[2];

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	close(fd);
	if (pipe(p) < 0)
		return -1;
	close(p[0]);
	close(p[1]);
	return 0;
}

int main(int argc, char **argv)
{
	int (*iter)(const char *) = one_iteration;
	const char *file = "/etc/hostname";
	long n = 200000;
	uint64_t t0;
	int a = 1;

	if (a < argc && !strcmp(argv[a], "--calls")) {
		iter = calls_iteration;
		n = 2000000;
		a++;
	}
	if (a < argc)
		n = atol(argv[a++]);
	if (a < argc)
		file = argv[a++];
	if (n <= 0 || a < argc) {
		fprintf(stderr, "usage: shim_cost [--calls] [ITERATIONS [FILE]]\n");
		return 1;
	}
	for (long i = 0; i < n / 10; i++) {
		if (iter(file) < 0) {
			perror(file);
			return 1;
		}
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		iter(file);
	printf("ns_per_iter %.1f\n", (double)(now_ns() - t0) / n);
	return 0;
}

#endif
