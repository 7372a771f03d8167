/*
 * sparse.c - the reservations of sanitizers, Go and JVMs: a 2 TiB
 * MAP_NORESERVE mapping with 5 pages touched, a guard region inside it,
 * and a 1 TiB PROT_NONE one, saved and restored (correctness only: the
 * times are `make bench`'s, tests/bench/sparse.c).
 *
 *   sparse IMAGE [mappable] [wait] [rawguard]
 * ckpt_save(IMAGE) (CKPT_OPT_MAPPABLE with "mappable"), or with "wait"
 * READY and a SIGUSR2 after ckpt-save, kill and restart.  The guard is
 * installed by libc's madvise(), or a raw system call with "rawguard";
 * where the kernel has no guard regions (EINVAL: before Linux 6.13, or
 * the test library acting so) the program says "note: ..." and goes on
 * without.  The restored
 * copy checks the 5 pages, that untouched pages read as zeros, that the
 * guard page faults and that the mapping is still MAP_NORESERVE (VmFlags
 * "nr"); it prints "RESTORED ok" and exits 0, or "BAD ..." and 1.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ckpt.h"

#define PG 4096
#define TIB (1ULL << 40)

static sigjmp_buf jb;
static void on_segv(int sig)
{
	siglongjmp(jb, 1);
}

static int faults(const volatile char *p)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	int r = 0;

	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(jb, 1))
		r = 1;
	else
		(void)*p;
	sigaction(SIGSEGV, &old, NULL);
	return r;
}

/* Whether the VmFlags of the mapping holding p have " nr". */
static int noreserve(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, nr = 0;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)p >= a && (uintptr_t)p < b;
		else if (in && !strncmp(line, "VmFlags:", 8))
			nr = strstr(line, " nr") != NULL;
	}
	if (f)
		fclose(f);
	return nr;
}

int main(int argc, char **argv)
{
	const size_t len = 2 * TIB;
	const size_t off[5] = { 0, 1ULL << 30, TIB, len - PG, 12345ULL << 20 };
	int mappable = 0, wait_mode = 0, rawguard = 0, bad = 0, guard;
	char *a, *none;

	for (int i = 2; i < argc; i++) {
		mappable |= !strcmp(argv[i], "mappable");
		wait_mode |= !strcmp(argv[i], "wait");
		rawguard |= !strcmp(argv[i], "rawguard");
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	none = mmap(NULL, TIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a == MAP_FAILED || none == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (int i = 0; i < 5; i++)
		memset(a + off[i], 'A' + i, 100);
	/* "rawguard": behind libc's back, where the test library cannot see it */
	guard = (rawguard ? syscall(SYS_madvise, a + 3 * PG, PG, 102) :
		 madvise(a + 3 * PG, PG, 102 /* MADV_GUARD_INSTALL */)) == 0;
	if (!guard && errno != EINVAL) {
		perror("madvise(MADV_GUARD_INSTALL)");
		return 2;
	}
	if (!guard)
		printf("note: no guard region: this kernel has none (MADV_GUARD_INSTALL, "
		       "Linux 6.13)\n");
	if (wait_mode) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("READY\n");
		sigwait(&set, &sig);
	} else {
		struct ckpt_options o = { .flags = mappable ? CKPT_OPT_MAPPABLE : 0 };
		int r = ckpt_save_opts(argv[1], &o);

		if (r == CKPT_SAVED) {
			printf("SAVED\n");
			return 0;
		}
		if (r != CKPT_RESTORED) {
			printf("ckpt_save failed: %s\n", ckpt_last_error());
			return 1;
		}
	}
	for (int i = 0; i < 5; i++) {
		for (int k = 0; k < 100; k++)
			if (a[off[i] + k] != 'A' + i) {
				printf("BAD page %d differs\n", i);
				bad++;
				break;
			}
		if (a[off[i] + 100] || a[off[i] + PG - 1]) {
			printf("BAD page %d: not zero after the data\n", i);
			bad++;
		}
	}
	if (a[PG] || a[len / 2 + 77 * PG] || a[len - 2 * PG]) {
		printf("BAD untouched pages are not zero\n");
		bad++;
	}
	if (guard && (!faults(a + 3 * PG) || faults(a + 4 * PG))) {
		printf("BAD the guard page does not fault, or its neighbour does\n");
		bad++;
	}
	if (!noreserve(a) || !faults(none)) {
		printf("BAD the reservations are not MAP_NORESERVE, or the PROT_NONE one is readable\n");
		bad++;
	}
	printf("RESTORED %s\n", bad ? "BAD" : "ok");
	return bad ? 1 : 0;
}
