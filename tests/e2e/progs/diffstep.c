/*
 * diffstep.c - a process that changes known things between two
 * checkpoints, for `ckpt-info --diff` (tests/e2e/t_info_bt.sh):
 *   diffstep NPAGES K
 * maps a region of NPAGES pages (each filled with its own pattern),
 * prints "REGION 0x<start> 0x<end>" and "STEP 0", then on each SIGUSR2:
 * rewrites pages 1..K of the region (the first and the rest untouched),
 * opens /dev/null once more, and prints "STEP n" with the new fd.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t steps;

static void on_usr2(int sig)
{
	steps++;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[1]) : 16, k = argc > 2 ? atol(argv[2]) : 3, page = 4096;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned char *r;
	int done = 0;

	if (n < 2 || k < 1 || k >= n)
		return 2;
	/* between two PROT_NONE pages: the kernel merges it with no neighbour */
	r = mmap(NULL, (n + 2) * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED || mprotect(r + page, n * page, PROT_READ | PROT_WRITE) < 0)
		return 1;
	r += page;
	for (long i = 0; i < n; i++)
		memset(r + i * page, 0x40 + (int)i, page);
	signal(SIGUSR2, on_usr2);
	printf("REGION %p %p\nSTEP 0\n", (void *)r, (void *)(r + n * page));
	fflush(stdout);
	for (;;) {
		nanosleep(&ts, NULL);
		while (done < steps) {
			int fd;

			done++;
			for (long i = 1; i <= k; i++)
				r[i * page + 100] ^= 0xff;
			fd = open("/dev/null", O_RDONLY);
			printf("STEP %d fd %d\n", done, fd);
			fflush(stdout);
		}
	}
}
