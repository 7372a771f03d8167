/*
 * thr_queue.c - producers and consumers sharing a bounded queue (a mutex
 * and two condition variables), checkpointed while they run.
 *
 *   thr_queue STOPFILE M1 M2
 * 2 producers take the next item (1, 2, 3, ...) under the queue's lock
 * and push it, waiting while the queue (8 slots) is full; 2 consumers pop
 * items, waiting while it is empty, and mark each in a seen-bitmap (a
 * bit already set is a duplicate), adding to a count and a sum.  The
 * consumers print "AT M1" when the total count reaches M1 and "AT M2" at
 * every 512th item from M2 on.  main prints "STARTED pid" and polls for STOPFILE; then the
 * producers stop, the consumers drain the queue, and with N the last
 * item produced main checks: count == N, sum == N(N+1)/2, no duplicate,
 * every bit 1..N set and none above.  Prints "RESULT N count sum dups"
 * and "ALL OK" (exit 0) or what is wrong (exit 1).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QCAP	8
#define MAXN	(1u << 24)		/* items; the bitmap is 2 MiB */
#define NPROD	2
#define NCONS	2

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static uint32_t queue[QCAP];
static unsigned qhead, qlen;
static uint32_t next_item = 1;		/* under lock */
static int stop, producers_done;	/* under lock */

static uint8_t seen[MAXN / 8 + 1];
static uint64_t count, sum, dups;	/* atomics */
static uint64_t m1, m2;

static void *producer(void *arg)
{
	pthread_mutex_lock(&lock);
	for (;;) {
		while (qlen == QCAP && !stop)
			pthread_cond_wait(&not_full, &lock);
		if (stop || next_item >= MAXN)
			break;
		queue[(qhead + qlen) % QCAP] = next_item++;
		qlen++;
		pthread_cond_signal(&not_empty);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *consumer(void *arg)
{
	for (;;) {
		uint32_t item;

		pthread_mutex_lock(&lock);
		while (qlen == 0 && !producers_done)
			pthread_cond_wait(&not_empty, &lock);
		if (qlen == 0) {
			pthread_mutex_unlock(&lock);
			return NULL;
		}
		item = queue[qhead];
		qhead = (qhead + 1) % QCAP;
		qlen--;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&lock);

		uint8_t bit = 1u << (item % 8);
		if (__atomic_fetch_or(&seen[item / 8], bit, __ATOMIC_RELAXED) & bit)
			__atomic_add_fetch(&dups, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sum, item, __ATOMIC_RELAXED);
		uint64_t c = __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
		if (c == m1)
			printf("AT M1 %lu\n", (unsigned long)c);
		/*
		 * From M2 on, every 512th: a copy restarted from a checkpoint
		 * taken after M2 (the original goes on until it is saved) still
		 * says it made progress.
		 */
		if (c >= m2 && c % 512 == 0)
			printf("AT M2 %lu\n", (unsigned long)c);
	}
}

int main(int argc, char **argv)
{
	pthread_t p[NPROD], c[NCONS];
	int ok = 1;

	if (argc != 4)
		return 2;
	m1 = strtoull(argv[2], NULL, 10);
	m2 = strtoull(argv[3], NULL, 10);
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < NCONS; i++)
		pthread_create(&c[i], NULL, consumer, NULL);
	for (int i = 0; i < NPROD; i++)
		pthread_create(&p[i], NULL, producer, NULL);
	printf("STARTED pid %d\n", (int)getpid());
	while (access(argv[1], F_OK)) {
		struct timespec t = { 0, 2000000 };

		nanosleep(&t, NULL);
	}
	pthread_mutex_lock(&lock);
	stop = 1;
	pthread_cond_broadcast(&not_full);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < NPROD; i++)
		pthread_join(p[i], NULL);
	pthread_mutex_lock(&lock);
	producers_done = 1;
	pthread_cond_broadcast(&not_empty);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < NCONS; i++)
		pthread_join(c[i], NULL);

	uint64_t n = next_item - 1, missing = 0, extra = 0;
	for (uint64_t i = 1; i <= n; i++)
		missing += !(seen[i / 8] & (1u << (i % 8)));
	for (uint64_t i = n + 1; i < (uint64_t)MAXN; i++)
		extra += !!(seen[i / 8] & (1u << (i % 8)));
	extra += seen[0] & 1;
	printf("RESULT %lu %lu %lu %lu\n", (unsigned long)n, (unsigned long)count,
	       (unsigned long)sum, (unsigned long)dups);
	if (count != n || sum != n * (n + 1) / 2 || dups || missing || extra || qlen) {
		printf("BAD: N %lu, count %lu, sum %lu (want %lu), %lu duplicates, %lu missing, "
		       "%lu never produced, %u left queued\n",
		       (unsigned long)n, (unsigned long)count, (unsigned long)sum,
		       (unsigned long)(n * (n + 1) / 2), (unsigned long)dups,
		       (unsigned long)missing, (unsigned long)extra, qlen);
		ok = 0;
	}
	if (count < m2) {
		printf("BAD: only %lu consumed, M2 is %lu\n", (unsigned long)count, (unsigned long)m2);
		ok = 0;
	}
	printf(ok ? "ALL OK\n" : "FAILED\n");
	return ok ? 0 : 1;
}
