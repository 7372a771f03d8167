/*
 * thr_barrier.c - 4 threads working in rounds separated by a
 * pthread_barrier, checkpointed while they run.
 *
 *   thr_barrier STOPFILE M1 M2
 * Round r: thread t computes work(t, r) into its slot; barrier A; the
 * one thread barrier A makes the serial thread recomputes and checks every
 * slot, counts the round, prints "AT M1" when the round count reaches M1
 * and "AT M2" at every 512th round from M2 on, and decides whether this was the last round (main has
 * seen STOPFILE); barrier B; everybody reads the decision.  main prints
 * "STARTED pid", polls for STOPFILE, joins the threads and checks: every
 * thread did every round, barrier A and barrier B each named exactly one
 * serial thread per round, no slot was ever wrong.  Prints
 * "RESULT rounds" and "ALL OK" (exit 0) or what is wrong (exit 1).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NT 4

static pthread_barrier_t bar_a, bar_b;
static uint64_t slot[NT];
static uint64_t rounds;			/* written by the serial thread only */
static uint64_t serial_a, serial_b;	/* atomics */
static uint64_t bad;
static uint64_t per_thread[NT];
static int stop_seen, last_round;
static uint64_t m1, m2;

static uint64_t work(int t, uint64_t r)
{
	uint64_t a = (r << 8) ^ (uint64_t)t ^ 0x9e3779b97f4a7c15ULL;

	for (int k = 0; k < 300; k++)
		a = a * 6364136223846793005ULL + 1442695040888963407ULL + k;
	return a;
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;

	for (uint64_t r = 0;; r++) {
		slot[t] = work(t, r);
		int s = pthread_barrier_wait(&bar_a);
		if (s == PTHREAD_BARRIER_SERIAL_THREAD) {
			__atomic_add_fetch(&serial_a, 1, __ATOMIC_RELAXED);
			for (int i = 0; i < NT; i++)
				if (slot[i] != work(i, r)) {
					printf("BAD round %lu: thread %d's slot is wrong\n",
					       (unsigned long)r, i);
					bad++;
				}
			if (rounds != r) {
				printf("BAD round %lu: %lu rounds counted\n", (unsigned long)r,
				       (unsigned long)rounds);
				bad++;
			}
			rounds = r + 1;
			if (rounds == m1)
				printf("AT M1 %lu\n", (unsigned long)rounds);
			/* From M2 on, every 512th (see thr_queue.c). */
			if (rounds >= m2 && rounds % 512 == 0)
				printf("AT M2 %lu\n", (unsigned long)rounds);
			last_round = __atomic_load_n(&stop_seen, __ATOMIC_ACQUIRE);
		} else if (s != 0) {
			printf("BAD barrier A: %d\n", s);
			bad++;
		}
		per_thread[t]++;
		s = pthread_barrier_wait(&bar_b);
		if (s == PTHREAD_BARRIER_SERIAL_THREAD)
			__atomic_add_fetch(&serial_b, 1, __ATOMIC_RELAXED);
		else if (s != 0) {
			printf("BAD barrier B: %d\n", s);
			bad++;
		}
		if (last_round)
			break;
		/* nobody writes last_round before everybody has passed barrier A again */
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NT];
	int ok = 1;

	if (argc != 4)
		return 2;
	m1 = strtoull(argv[2], NULL, 10);
	m2 = strtoull(argv[3], NULL, 10);
	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_barrier_init(&bar_a, NULL, NT);
	pthread_barrier_init(&bar_b, NULL, NT);
	for (int i = 0; i < NT; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	printf("STARTED pid %d\n", (int)getpid());
	while (access(argv[1], F_OK)) {
		struct timespec t = { 0, 2000000 };

		nanosleep(&t, NULL);
	}
	__atomic_store_n(&stop_seen, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	printf("RESULT %lu\n", (unsigned long)rounds);
	for (int i = 0; i < NT; i++)
		if (per_thread[i] != rounds) {
			printf("BAD thread %d did %lu rounds of %lu\n", i,
			       (unsigned long)per_thread[i], (unsigned long)rounds);
			ok = 0;
		}
	if (serial_a != rounds || serial_b != rounds) {
		printf("BAD serial threads: A %lu, B %lu, rounds %lu\n", (unsigned long)serial_a,
		       (unsigned long)serial_b, (unsigned long)rounds);
		ok = 0;
	}
	if (bad || rounds < m2) {
		printf("BAD: %lu wrong, %lu rounds (M2 %lu)\n", (unsigned long)bad,
		       (unsigned long)rounds, (unsigned long)m2);
		ok = 0;
	}
	printf(ok ? "ALL OK\n" : "FAILED\n");
	return ok ? 0 : 1;
}
