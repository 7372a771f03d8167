/*
 * sweeper.c - memory that changes all the time, checkpointed from outside.
 *
 *   sweeper MIB [shared|dontfork|rawdontfork]
 * Sweeps an array of MIB MiB over and over, writing the sweep number into
 * every word.  At any instant the array holds sweep v up to some index
 * and v-1 after it: a consistent snapshot has at most one step, of 1.
 * SIGUSR2 checks that, in the handler, and exits 0 ("SNAPSHOT ok") or 1.
 * The test sends it during the restart, so it runs on exactly the memory
 * the image gave back.  "shared": the array is MAP_SHARED anonymous;
 * "dontfork": it is MADV_DONTFORK (through libc); "rawdontfork": the same
 * advice by a raw system call, which libckpt's wrappers cannot see.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t *a;
static size_t n;

static void check(int sig)
{
	size_t steps = 0, bad = 0;
	char msg[80];
	int len;

	for (size_t i = 1; i < n; i++) {
		if (a[i] != a[i - 1]) {
			steps++;
			bad |= a[i] + 1 != a[i - 1];
		}
	}
	len = snprintf(msg, sizeof(msg), "SNAPSHOT %s: %zu steps, sweep %lu\n",
		       steps <= 1 && !bad ? "ok" : "TORN", steps, (unsigned long)a[0]);
	if (write(1, msg, len) < 0)
		_exit(3);
	_exit(steps <= 1 && !bad ? 0 : 1);
}

int main(int argc, char **argv)
{
	int shared = argc > 2 && !strcmp(argv[2], "shared");
	uint64_t v = 0;

	n = ((size_t)atol(argv[1]) << 20) / 8;
	a = mmap(NULL, n * 8, PROT_READ | PROT_WRITE,
		 (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
	if (argc > 2 && !strcmp(argv[2], "dontfork"))
		madvise(a, n * 8, MADV_DONTFORK);
	if (argc > 2 && !strcmp(argv[2], "rawdontfork"))
		syscall(SYS_madvise, a, n * 8, MADV_DONTFORK);
	signal(SIGUSR2, check);
	setvbuf(stdout, NULL, _IONBF, 0);
	for (;;) {
		v++;
		for (size_t i = 0; i < n; i++)
			((volatile uint64_t *)a)[i] = v;
		if (v == 3)
			printf("SWEEPING\n");
	}
}
