/*
 * sanprog.c - a program built with AddressSanitizer or ThreadSanitizer
 * (t_sanitizers.sh builds it with clang -fsanitize=address|thread),
 * checkpointed, killed and restarted.
 *
 *   sanprog IMAGE [wait]
 * Fills heap blocks of many sizes (each with the sanitizer's redzones
 * around it), a freed block (ASan keeps it poisoned in quarantine), a
 * global array and a stack buffer, notes their checksums, then
 * ckpt_save(IMAGE) -- or with "wait" prints READY and waits for SIGUSR2
 * (the test checkpoints it with ckpt-save).  The restored copy checks
 * every byte and that the sanitizer still works on the restored memory:
 * a forked child reads one byte past a heap block, which ASan must report
 * (TSan: a thread runs and is joined).  A refused
 * checkpoint prints "REFUSED: <reason>" and exits 3 (the program goes on
 * to exit normally: the refusal must not harm it).
 * Prints "SAVED" / "RESTORED ok"; exits 0 when all is equal.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ckpt.h"

#define NBLK 64

static unsigned char global_buf[10000];
static unsigned char *blk[NBLK];
static size_t blen[NBLK];

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static uint64_t all_sum(const unsigned char *stack_buf, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < NBLK; i++)
		h = fnv(h, blk[i], blen[i]);
	h = fnv(h, global_buf, sizeof(global_buf));
	return fnv(h, stack_buf, n);
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SANPROG_TSAN 1
#endif
#endif

#ifdef SANPROG_TSAN
#include <pthread.h>

static void *bump(void *arg)
{
	++*(int *)arg;
	return NULL;
}

/* TSan finds races, not overflows: its runtime must run a thread again. */
static int overflow_caught(void)
{
	pthread_t t;
	int v = 0;

	if (pthread_create(&t, NULL, bump, &v) || pthread_join(t, NULL))
		return -1;
	return v == 1;
}
#else
/* In a child: one byte past a block.  ASan: reported, non-zero exit. */
static int overflow_caught(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		volatile unsigned char *p = blk[3];

		/* stderr to /dev/null: the report is expected */
		if (!freopen("/dev/null", "w", stderr))
			_exit(9);
		_exit(p[blen[3]] == 0x5a ? 7 : 0);	/* 0: not caught */
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
#endif

int main(int argc, char **argv)
{
	unsigned char stack_buf[3000];
	int wait_mode = argc > 2 && !strcmp(argv[2], "wait");
	uint64_t sum;
	void *freed;

	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < NBLK; i++) {
		blen[i] = 1 + (size_t)i * 97 % 5000;
		blk[i] = malloc(blen[i]);
		for (size_t k = 0; k < blen[i]; k++)
			blk[i][k] = (unsigned char)(i * 31 + k);
	}
	freed = malloc(777);
	memset(freed, 1, 777);
	free(freed);				/* poisoned, in quarantine */
	for (size_t k = 0; k < sizeof(global_buf); k++)
		global_buf[k] = (unsigned char)(k * 7);
	for (size_t k = 0; k < sizeof(stack_buf); k++)
		stack_buf[k] = (unsigned char)(k * 13);
	sum = all_sum(stack_buf, sizeof(stack_buf));

	if (wait_mode) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("READY\n");
		sigwait(&set, &sig);
	} else {
		int r = ckpt_save(argv[1]);

		if (r == CKPT_SAVED) {
			printf("SAVED\n");
			goto out;
		}
		if (r != CKPT_RESTORED) {
			printf("REFUSED: %s\n", ckpt_last_error());
			if (all_sum(stack_buf, sizeof(stack_buf)) != sum)
				printf("BAD: the refused checkpoint changed memory\n");
			for (int i = 0; i < NBLK; i++)
				free(blk[i]);
			return 3;
		}
	}
	int bad = 0;

	if (all_sum(stack_buf, sizeof(stack_buf)) != sum) {
		printf("BAD: memory differs\n");
		bad++;
	}
	if (overflow_caught() != 1) {
		printf("BAD: a heap overflow in the restored copy is not caught by the sanitizer\n");
		bad++;
	}
	printf("RESTORED %s\n", bad ? "BAD" : "ok");
	if (bad)
		return 1;
out:
	for (int i = 0; i < NBLK; i++)
		free(blk[i]);
	return 0;
}
