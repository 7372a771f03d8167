/*
 * cpuclock.c - CPU-time clocks never run backwards across a restart.
 *
 *   cpuclock GOFILE
 * Two threads burn CPU (about 0.2 s and 0.1 s of their own clocks), then
 * it reads every CPU clock it has: CLOCK_PROCESS_CPUTIME_ID, each thread's
 * CLOCK_THREAD_CPUTIME_ID, the worker's clock from the main thread
 * (pthread_getcpuclockid), clock_getcpuclockid(getpid()), getrusage
 * (RUSAGE_SELF and RUSAGE_THREAD, user + system), times() and clock().
 * Prints them ("BEFORE name value"), "READY pid", waits for GOFILE
 * (through a checkpoint, a kill and a restart), reads them again and
 * prints "AFTER name value" and, for each, "BACKWARDS name" if it is
 * below the value before; then "DONE".
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#define N 9
static const char *const names[N] = {
	"process", "thread0", "thread1-own", "thread1-from-main", "process-by-pid",
	"rusage-self", "rusage-thread0", "times", "clock",
};
static double before[N], after[N], t1own[2];
static pthread_barrier_t bar;
static pthread_t worker_th;

static double ts(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double ru(int who)
{
	struct rusage r;

	getrusage(who, &r);
	return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec +
	       r.ru_stime.tv_usec / 1e6;
}

static void burn(double secs)
{
	double t0 = ts(CLOCK_THREAD_CPUTIME_ID);
	volatile unsigned long x = 0;

	while (ts(CLOCK_THREAD_CPUTIME_ID) - t0 < secs)
		for (int i = 0; i < 100000; i++)
			x += i;
}

static void read_all(double *v, int k)
{
	struct tms t;
	clockid_t c;

	v[0] = ts(CLOCK_PROCESS_CPUTIME_ID);
	v[1] = ts(CLOCK_THREAD_CPUTIME_ID);
	v[2] = t1own[k];
	pthread_getcpuclockid(worker_th, &c);
	v[3] = ts(c);
	clock_getcpuclockid(getpid(), &c);
	v[4] = ts(c);
	v[5] = ru(RUSAGE_SELF);
	v[6] = ru(RUSAGE_THREAD);
	times(&t);
	v[7] = (double)(t.tms_utime + t.tms_stime) / sysconf(_SC_CLK_TCK);
	v[8] = (double)clock() / CLOCKS_PER_SEC;
}

static void *worker(void *arg)
{
	burn(0.1);
	t1own[0] = ts(CLOCK_THREAD_CPUTIME_ID);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);		/* through the checkpoint */
	t1own[1] = ts(CLOCK_THREAD_CPUTIME_ID);
	pthread_barrier_wait(&bar);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&worker_th, NULL, worker, NULL);
	burn(0.2);
	pthread_barrier_wait(&bar);
	read_all(before, 0);
	for (int i = 0; i < N; i++)
		printf("BEFORE %s %.6f\n", names[i], before[i]);
	printf("READY %d\n", (int)getpid());
	while (access(argv[1], F_OK) != 0)
		usleep(10000);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);		/* the worker read its own clock */
	read_all(after, 1);
	for (int i = 0; i < N; i++) {
		printf("AFTER %s %.6f\n", names[i], after[i]);
		if (after[i] < before[i])
			printf("BACKWARDS %s %.6f -> %.6f\n", names[i], before[i], after[i]);
	}
	pthread_join(worker_th, NULL);
	printf("DONE\n");
	return 0;
}
