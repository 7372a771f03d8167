/*
 * thr_selfsave.c - ckpt_save() called by threads other than main, and by
 * several threads at once.
 *
 *   thr_selfsave worker IMG
 * main and 3 workers compute deterministic results; worker 2, half-way,
 * calls ckpt_save(IMG) and prints "SAVED" (or "RESTORED" in a restarted
 * copy, or "ckpt_save failed: why"); main joins everybody and compares
 * each result with a recomputation.  Prints "ALL OK" (exit 0) or
 * "FAILED".
 *
 *   thr_selfsave race DIR DIR2 ROUNDS KEEP
 * 4 threads, ROUNDS rounds: all meet at a barrier, then each calls
 * ckpt_save(DIR/r.i.img) at once.  Each call must return CKPT_SAVED with
 * a complete image at its path, or -1 with errno EBUSY (another
 * checkpoint of the process was in progress) and nothing at its path (no
 * temporary either); every round at least one call must succeed.  A
 * thread that gets CKPT_RESTORED (a restarted copy) prints "RESTORED
 * round r thread i"; from the next round on the copy writes into DIR2
 * (the round it was restored in is only checked for its results).
 * Images of rounds other than KEEP are removed once checked.
 * Prints "ROUND r saved s busy b" per round and "ALL OK" (exit 0) or
 * "BAD ..." lines and "FAILED".
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ckpt.h"

#define NT 4
#define ITER 20000000ULL

static int bad;

static uint64_t compute(int i, uint64_t from, uint64_t to, uint64_t a)
{
	for (uint64_t k = from; k < to; k++)
		a = a * 6364136223846793005ULL + k + i;
	return a;
}

/* --- worker mode ------------------------------------------------------ */
static const char *img;
static uint64_t results[NT];

static void *w_thread(void *arg)
{
	int i = (int)(intptr_t)arg;
	uint64_t a = compute(i, 0, ITER / 2, i + 1);

	if (i == 2) {
		int r = ckpt_save(img);

		if (r == CKPT_SAVED)
			printf("SAVED by thread %d (tid %ld)\n", i, (long)syscall(SYS_gettid));
		else if (r == CKPT_RESTORED)
			printf("RESTORED in thread %d (tid %ld)\n", i, (long)syscall(SYS_gettid));
		else {
			printf("ckpt_save failed: %s\n", ckpt_last_error());
			bad++;
		}
	}
	results[i] = compute(i, ITER / 2, ITER, a);
	return NULL;
}

static int worker_mode(void)
{
	pthread_t th[NT];

	for (int i = 1; i < NT; i++)
		pthread_create(&th[i], NULL, w_thread, (void *)(intptr_t)i);
	w_thread((void *)0);		/* main is thread 0 */
	for (int i = 1; i < NT; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NT; i++)
		if (results[i] != compute(i, 0, ITER, i + 1)) {
			printf("BAD thread %d's result\n", i);
			bad++;
		}
	printf(bad ? "FAILED\n" : "ALL OK\n");
	return bad ? 1 : 0;
}

/* --- race mode -------------------------------------------------------- */
static const char *dir, *dir2;
static int rounds, keep, restored_round = -1;
static pthread_barrier_t bar;
static int res[NT], err[NT];
static char why[NT][256];
static char paths[NT][4096];

static void *r_thread(void *arg)
{
	int i = (int)(intptr_t)arg;

	for (int r = 0; r < rounds; r++) {
		pthread_barrier_wait(&bar);	/* main sets up the round */
		snprintf(paths[i], sizeof(paths[i]), "%s/%d.%d.img",
			 restored_round >= 0 ? dir2 : dir, r, i);
		pthread_barrier_wait(&bar);	/* all at once */
		res[i] = ckpt_save(paths[i]);
		err[i] = errno;
		snprintf(why[i], sizeof(why[i]), "%s", res[i] < 0 ? ckpt_last_error() : "");
		if (res[i] == CKPT_RESTORED) {
			printf("RESTORED round %d thread %d\n", r, i);
			restored_round = r;
		}
		pthread_barrier_wait(&bar);	/* main checks */
	}
	return NULL;
}

static int leftovers(const char *d, int r, int i)
{
	char prefix[64];
	struct dirent *e;
	DIR *dd = opendir(d);
	int n = 0;

	snprintf(prefix, sizeof(prefix), "%d.%d.img", r, i);
	while (dd && (e = readdir(dd)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			n++;
	if (dd)
		closedir(dd);
	return n;
}

static int race_mode(void)
{
	pthread_t th[NT];

	pthread_barrier_init(&bar, NULL, NT + 1);
	for (int i = 0; i < NT; i++)
		pthread_create(&th[i], NULL, r_thread, (void *)(intptr_t)i);
	for (int r = 0; r < rounds; r++) {
		int strict = restored_round < 0, saved = 0, busy = 0;
		const char *d = restored_round >= 0 ? dir2 : dir;

		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
		if (restored_round == r)
			strict = 0;	/* the others' calls of this round began before */
		for (int i = 0; i < NT; i++) {
			struct stat st;
			int there = stat(paths[i], &st) == 0 && st.st_size > 0;

			if (res[i] == CKPT_SAVED || res[i] == CKPT_RESTORED) {
				saved++;
				if (!there) {
					printf("BAD round %d thread %d: %s and no image at %s\n", r, i,
					       res[i] == CKPT_SAVED ? "CKPT_SAVED" : "CKPT_RESTORED",
					       paths[i]);
					bad++;
				}
			} else if (res[i] == -1 && err[i] == EBUSY) {
				busy++;
				if (strict && leftovers(d, r, i)) {
					printf("BAD round %d thread %d: EBUSY and something at %s*\n", r,
					       i, paths[i]);
					bad++;
				}
			} else {
				printf("BAD round %d thread %d: ckpt_save returned %d, errno %d (%s): %s\n",
				       r, i, res[i], err[i], strerror(err[i]), why[i]);
				bad++;
			}
		}
		if (r != keep)
			for (int i = 0; i < NT; i++)
				if (res[i] == CKPT_SAVED)
					unlink(paths[i]);
		if (!saved) {
			printf("BAD round %d: no checkpoint succeeded\n", r);
			bad++;
		}
		printf("ROUND %d saved %d busy %d\n", r, saved, busy);
	}
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	printf(bad ? "FAILED\n" : "ALL OK\n");
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && !strcmp(argv[1], "worker")) {
		img = argv[2];
		return worker_mode();
	}
	if (argc == 6 && !strcmp(argv[1], "race")) {
		dir = argv[2];
		dir2 = argv[3];
		rounds = atoi(argv[4]);
		keep = atoi(argv[5]);
		return race_mode();
	}
	return 2;
}
