/*
 * sched.c - per-thread scheduling survives a restart.
 *
 *   sched IMAGE
 * Three threads: SCHED_BATCH with nice 5, SCHED_IDLE, and SCHED_OTHER
 * with nice 3 (the main thread); main checkpoints with ckpt_save(); the
 * restarted copy checks every thread's policy and nice again from inside.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ckpt.h"

static pthread_barrier_t ready, done;
static int tid[2], pol[2] = { SCHED_BATCH, SCHED_IDLE }, nic[2] = { 5, 0 };

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	struct sched_param sp = { 0 };

	tid[i] = syscall(SYS_gettid);
	sched_setscheduler(0, pol[i], &sp);
	setpriority(PRIO_PROCESS, tid[i], nic[i]);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&done);		/* through the checkpoint */
	if (sched_getscheduler(0) != pol[i] || getpriority(PRIO_PROCESS, tid[i]) != nic[i]) {
		printf("thread %d: policy %d nice %d, want %d %d\n", i, sched_getscheduler(0),
		       getpriority(PRIO_PROCESS, tid[i]), pol[i], nic[i]);
		return (void *)1;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[2];
	void *bad[2];
	int r;

	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_barrier_init(&ready, NULL, 3);
	pthread_barrier_init(&done, NULL, 3);
	for (long i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	setpriority(PRIO_PROCESS, syscall(SYS_gettid), 3);
	pthread_barrier_wait(&ready);
	r = ckpt_save(argv[1]);
	if (r == CKPT_SAVED) {
		printf("SAVED\n");
		return 0;
	}
	if (r != CKPT_RESTORED) {
		printf("ckpt_save: %s\n", ckpt_last_error());
		return 1;
	}
	pthread_barrier_wait(&done);
	pthread_join(th[0], &bad[0]);
	pthread_join(th[1], &bad[1]);
	if (getpriority(PRIO_PROCESS, syscall(SYS_gettid)) != 3)
		printf("main: nice %d, want 3\n", getpriority(PRIO_PROCESS, syscall(SYS_gettid)));
	else if (!bad[0] && !bad[1])
		printf("SCHED OK\n");
	return 0;
}
