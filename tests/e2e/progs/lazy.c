/*
 * lazy.c - memory for ckpt-restart --lazy to serve (tests/e2e/t_lazy.sh).
 *
 *   lazy MIB IMG1 [IMG2]
 * Fills MIB MiB (half random, half text, so that the image compresses
 * part of it) from a generator that can recreate any slice, starts NT
 * threads that wait, and saves itself into IMG1 ("SAVED 1").  The
 * restarted copy ("RESTORED 1") saves itself into IMG2 at once if given
 * ("SAVED 2"), while its pages are still arriving, then checks, in this
 * order and before touching the memory itself:
 *  - EVENTS: a region moved (mremap), partly dropped (MADV_DONTNEED) and
 *    partly unmapped before its pages arrive reads right (events_check);
 *  - FORK: a child forked now compares slice 1 (its pages arrive in the
 *    child's own address space);
 *  - KERNEL: write()s the last slice straight from that memory to a pipe
 *    and reads it back elsewhere: its first touch is the kernel's;
 *  - THREADS: every thread compares its own slices, byte for byte, at once.
 * The copy restarted from IMG2 ("RESTORED 2") checks the same.
 * Prints "EVENTS ok", "FORK ok", "KERNEL ok", "THREADS ok" (or "BAD ..."
 * lines), and "ALL OK".
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ckpt.h"

#define NT	4
#define SLICES	32

static unsigned char *buf;
static size_t len, slice;
static uint64_t seed[SLICES];	/* the generator's state where each slice starts */
static int gen, bad;
static pthread_barrier_t go, done;

/* Slice k's bytes as they were written: half random (from seed[k]), half text. */
static void fill(int k, unsigned char *dst)
{
	uint64_t x = seed[k];
	size_t base = (size_t)k * slice;

	for (size_t i = 0; i < slice; i += 8) {
		if (base + i < len / 2) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(dst + i, &x, 8);
		} else {
			for (size_t j = i; j < i + 8; j++)
				dst[j] = "lazy pages arrive on first touch\n"[(base + j + (base + j) / 4099) % 33];
		}
	}
}

/* Byte for byte: p holds slice k? */
static int same(int k, const unsigned char *p)
{
	unsigned char *want = malloc(slice);
	int eq;

	if (!want)
		abort();
	fill(k, want);
	eq = !memcmp(p, want, slice);
	free(want);
	return eq;
}

static void check_slice(int k, const char *who)
{
	if (!same(k, buf + (size_t)k * slice)) {
		printf("BAD %s: slice %d differs (generation %d)\n", who, k, gen);
		__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
	}
}

/* Thread i checks slices i, i + NT, ...; runs once per restart. */
static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg;

	for (;;) {
		pthread_barrier_wait(&go);
		for (int k = i; k < SLICES - 1; k += NT)
			check_slice(k, "thread");
		pthread_barrier_wait(&done);
	}
	return NULL;
}

/* The last slice goes through a pipe, written straight from buf. */
static void kernel_check(void)
{
	unsigned char *copy = malloc(slice);
	size_t got = 0, put = 0;
	int p[2];

	if (!copy || pipe(p) < 0) {
		printf("BAD kernel: no pipe\n");
		bad++;
		return;
	}
	while (got < slice) {
		if (put < slice) {	/* one pipe buffer at a time */
			ssize_t k = write(p[1], buf + (SLICES - 1) * slice + put,
					  slice - put < 65536 ? slice - put : 65536);
			if (k <= 0) {
				perror("BAD kernel: write from lazy memory");
				bad++;
				break;
			}
			put += (size_t)k;
		}
		ssize_t k = read(p[0], copy + got, slice - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(p[0]);
	close(p[1]);
	if (got != slice || !same(SLICES - 1, copy)) {
		printf("BAD kernel: data written from lazy memory differs\n");
		bad++;
	} else {
		printf("KERNEL ok\n");
	}
	free(copy);
}

/*
 * Lazy memory moved and dropped before its pages arrive: `extra` (8 MiB of
 * its own mapping) is moved with mremap, its first MiB dropped with
 * MADV_DONTNEED (zeros, not the saved data, afterwards), its last MiB
 * unmapped; the rest must read as saved at the new place.
 */
#define EXTRA	(8u << 20)
static unsigned char *extra;

static unsigned char extra_byte(size_t i)
{
	return (unsigned char)(i * 31 + i / 4096 + 7);
}

static void events_check(void)
{
	unsigned char *to = mmap(NULL, EXTRA, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t mib = 1u << 20;
	int ok = 1;

	if (to == MAP_FAILED ||
	    mremap(extra, EXTRA, EXTRA, MREMAP_MAYMOVE | MREMAP_FIXED, to) != to ||
	    madvise(to, mib, MADV_DONTNEED) < 0 || munmap(to + EXTRA - mib, mib) < 0) {
		perror("BAD events: mremap/madvise/munmap");
		bad++;
		return;
	}
	for (size_t i = 0; i < mib; i++)
		ok &= to[i] == 0;
	for (size_t i = mib; i < EXTRA - mib; i++)
		ok &= to[i] == extra_byte(i);
	if (!ok) {
		printf("BAD events: moved or dropped memory reads wrong\n");
		bad++;
	} else {
		printf("EVENTS ok\n");
	}
	munmap(to, EXTRA - mib);
}

/* A fork made while pages arrive must see them too: it checks slice 1. */
static void fork_check(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(same(1, buf + slice) ? 0 : 3);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		printf("BAD fork: the child saw different memory\n");
		bad++;
	} else {
		printf("FORK ok\n");
	}
}

static void check_all(void)
{
	events_check();
	fork_check();
	kernel_check();
	pthread_barrier_wait(&go);
	pthread_barrier_wait(&done);
	if (!bad)
		printf("THREADS ok\n");
}

int main(int argc, char **argv)
{
	uint64_t x = 88172645463325252ULL;
	pthread_t th;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 3)
		return 2;
	len = (size_t)atol(argv[1]) << 20;
	slice = len / SLICES;
	buf = malloc(len);
	for (int k = 0; k < SLICES; k++) {
		seed[k] = x;
		fill(k, buf + (size_t)k * slice);
		for (size_t i = (size_t)k * slice; i < (size_t)(k + 1) * slice && i < len / 2; i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
	}
	extra = mmap(NULL, EXTRA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (extra == MAP_FAILED)
		return 2;
	for (size_t i = 0; i < EXTRA; i++)
		extra[i] = extra_byte(i);
	pthread_barrier_init(&go, NULL, NT + 1);
	pthread_barrier_init(&done, NULL, NT + 1);
	for (int i = 0; i < NT; i++)
		pthread_create(&th, NULL, worker, (void *)(intptr_t)i);

	/*
	 * Each image in turn: the copy restarted from IMG1 saves IMG2 at
	 * once, while its pages are still arriving, then checks its memory
	 * (the checkpoint must have waited for them: IMG2 has no holes).
	 */
	for (int arg = 2; arg < argc; arg++) {
		int r;

		gen = arg - 1;
		/*
		 * Right after a restart the other threads may still be on their
		 * way out of the restorer: until then a checkpoint is EBUSY.
		 */
		for (int tries = 0; (r = ckpt_save(argv[arg])) < 0 && errno == EBUSY &&
				    tries < 5000; tries++)
			usleep(1000);
		if (r == CKPT_SAVED && gen == 1)
			return printf("SAVED 1\n") < 0;
		if (r == CKPT_SAVED) {
			printf("SAVED %d\n", gen);
			break;
		}
		if (r != CKPT_RESTORED) {
			printf("BAD ckpt_save %d: %s\n", gen, ckpt_last_error());
			return 1;
		}
		printf("RESTORED %d\n", gen);
	}
	check_all();
	printf(bad ? "FAILED\n" : "ALL OK\n");
	return bad ? 1 : 0;
}
