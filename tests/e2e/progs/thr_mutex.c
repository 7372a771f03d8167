/*
 * thr_mutex.c - mutexes whose lock word holds the owner's tid, held by
 * threads across a checkpoint and restart.
 *
 *   thr_mutex
 * Before the checkpoint (all threads blocked; main in sigwaitinfo):
 *   E  holds an error-checking mutex (me) and a recursive one (mr, twice),
 *      and waits on a gate (a condition variable);
 *   R  holds two robust mutexes (rob1, rob2) and waits on the gate;
 *   W  is blocked locking rob1;
 *   P  holds a PTHREAD_PRIO_INHERIT error-checking mutex (pi), waits on
 *      the gate;
 *   C  is blocked locking pi (FUTEX_LOCK_PI: the kernel knows P owns it).
 * main prints "TID name tid" for each thread and itself and "READY pid".
 * After the restart the test sends SIGUSR2, and:
 *   main   unlock of me, mr and pi, owned by others: EPERM each;
 *   E      lock(me): EDEADLK (it owns it); trylock(mr): 0 (third level);
 *          unlock(mr) three times: 0; a fourth: EPERM; unlock(me): 0,
 *          again: EPERM;
 *   P      unlock(pi): 0 — C gets it (0), unlocks it (0);
 *   R      exits without unlocking: the kernel's robust-list walk must
 *          mark both mutexes owner-dead; W's lock returns EOWNERDEAD and
 *          so does main's timed lock of rob2 (ETIMEDOUT: the robust list
 *          was lost); pthread_mutex_consistent and unlock: 0;
 *   main   locks and unlocks every mutex: 0 (they work normally).
 * Prints "ALL OK" (exit 0) or "BAD ..." lines and "FAILED".
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t me, mr, rob1, rob2, pi;
static pthread_mutex_t gm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gc = PTHREAD_COND_INITIALIZER;
static int phase, nready;
static int bad;

static void expect(const char *what, int got, int want)
{
	if (got != want) {
		printf("BAD %s: %d (%s), want %d (%s)\n", what, got, strerror(got), want,
		       strerror(want));
		__atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
	}
}

static void ready(const char *name)
{
	printf("TID %s %d\n", name, (int)syscall(SYS_gettid));
	__atomic_add_fetch(&nready, 1, __ATOMIC_SEQ_CST);
}

static void wait_phase(int p)
{
	pthread_mutex_lock(&gm);
	while (phase < p)
		pthread_cond_wait(&gc, &gm);
	pthread_mutex_unlock(&gm);
}

static void set_phase(int p)
{
	pthread_mutex_lock(&gm);
	phase = p;
	pthread_cond_broadcast(&gc);
	pthread_mutex_unlock(&gm);
}

static void *t_e(void *arg)
{
	expect("E lock(me)", pthread_mutex_lock(&me), 0);
	expect("E lock(mr)", pthread_mutex_lock(&mr), 0);
	expect("E lock(mr) again", pthread_mutex_lock(&mr), 0);
	ready("E");
	wait_phase(1);
	expect("E lock(me) it owns (error-checking)", pthread_mutex_lock(&me), EDEADLK);
	expect("E trylock(mr) a third time (recursive)", pthread_mutex_trylock(&mr), 0);
	for (int i = 0; i < 3; i++)
		expect("E unlock(mr)", pthread_mutex_unlock(&mr), 0);
	expect("E unlock(mr) a fourth time", pthread_mutex_unlock(&mr), EPERM);
	expect("E unlock(me)", pthread_mutex_unlock(&me), 0);
	expect("E unlock(me) again", pthread_mutex_unlock(&me), EPERM);
	return NULL;
}

static void *t_r(void *arg)
{
	expect("R lock(rob1)", pthread_mutex_lock(&rob1), 0);
	expect("R lock(rob2)", pthread_mutex_lock(&rob2), 0);
	ready("R");
	wait_phase(1);
	return NULL;			/* dies holding both */
}

static int w_rc = -1;
static void *t_w(void *arg)
{
	ready("W");
	w_rc = pthread_mutex_lock(&rob1);
	if (w_rc == EOWNERDEAD) {
		expect("W consistent(rob1)", pthread_mutex_consistent(&rob1), 0);
		expect("W unlock(rob1)", pthread_mutex_unlock(&rob1), 0);
	}
	return NULL;
}

static void *t_p(void *arg)
{
	expect("P lock(pi)", pthread_mutex_lock(&pi), 0);
	ready("P");
	wait_phase(1);
	expect("P unlock(pi)", pthread_mutex_unlock(&pi), 0);
	return NULL;
}

static int c_rc = -1;
static void *t_c(void *arg)
{
	ready("C");
	c_rc = pthread_mutex_lock(&pi);
	if (c_rc == 0) {
		expect("C unlock(pi)", pthread_mutex_unlock(&pi), 0);
	}
	return NULL;
}

/* pthread_timedjoin_np with a deadline S seconds away. */
static int join_within(pthread_t t, int s)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += s;
	return pthread_timedjoin_np(t, NULL, &dl);
}

static void init_mutex(pthread_mutex_t *m, int type, int robust, int proto)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	if (robust)
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (proto)
		pthread_mutexattr_setprotocol(&a, proto);
	if (pthread_mutex_init(m, &a))
		printf("BAD mutex init\n");
	pthread_mutexattr_destroy(&a);
}

int main(void)
{
	pthread_t e, r, w, p, c;
	sigset_t set;
	siginfo_t si;
	struct timespec dl;
	int rc;

	setvbuf(stdout, NULL, _IONBF, 0);
	init_mutex(&me, PTHREAD_MUTEX_ERRORCHECK, 0, 0);
	init_mutex(&mr, PTHREAD_MUTEX_RECURSIVE, 0, 0);
	init_mutex(&rob1, PTHREAD_MUTEX_NORMAL, 1, 0);
	init_mutex(&rob2, PTHREAD_MUTEX_NORMAL, 1, 0);
	init_mutex(&pi, PTHREAD_MUTEX_ERRORCHECK, 0, PTHREAD_PRIO_INHERIT);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	pthread_create(&e, NULL, t_e, NULL);
	pthread_create(&r, NULL, t_r, NULL);
	pthread_create(&p, NULL, t_p, NULL);
	while (__atomic_load_n(&nready, __ATOMIC_SEQ_CST) < 3)
		sched_yield();
	/* the waiters only once the owners hold their mutexes */
	pthread_create(&w, NULL, t_w, NULL);
	pthread_create(&c, NULL, t_c, NULL);
	while (__atomic_load_n(&nready, __ATOMIC_SEQ_CST) < 5)
		sched_yield();
	ready("main");
	printf("READY pid %d\n", (int)getpid());

	while ((rc = sigwaitinfo(&set, &si)) < 0 && errno == EINTR)
		;
	if (rc != SIGUSR2) {
		printf("BAD sigwaitinfo %d\n", rc);
		return 1;
	}
	/* owned by other threads */
	expect("main unlock(me) owned by E", pthread_mutex_unlock(&me), EPERM);
	expect("main unlock(mr) owned by E", pthread_mutex_unlock(&mr), EPERM);
	expect("main unlock(pi) owned by P", pthread_mutex_unlock(&pi), EPERM);
	expect("main trylock(me) owned by E", pthread_mutex_trylock(&me), EBUSY);
	expect("main trylock(mr) owned by E", pthread_mutex_trylock(&mr), EBUSY);
	expect("main trylock(rob2) owned by R", pthread_mutex_trylock(&rob2), EBUSY);
	set_phase(1);

	if ((rc = join_within(e, 5)))
		printf("BAD E not done: %d\n", rc), bad++;
	if ((rc = join_within(p, 5)))
		printf("BAD P not done: %d\n", rc), bad++;
	if ((rc = join_within(r, 5)))
		printf("BAD R not done: %d\n", rc), bad++;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 3;
	rc = pthread_mutex_timedlock(&rob2, &dl);
	expect("main timedlock(rob2) after its owner R died", rc, EOWNERDEAD);
	if (rc == EOWNERDEAD) {
		expect("main consistent(rob2)", pthread_mutex_consistent(&rob2), 0);
		expect("main unlock(rob2)", pthread_mutex_unlock(&rob2), 0);
	}
	if ((rc = join_within(w, 3))) {
		printf("BAD W still blocked in lock(rob1) 3 s after its owner died: %d\n", rc);
		bad++;
	} else {
		expect("W lock(rob1) after its owner R died", w_rc, EOWNERDEAD);
	}
	if ((rc = join_within(c, 3))) {
		printf("BAD C still blocked in lock(pi) 3 s after P unlocked it: %d\n", rc);
		bad++;
	} else {
		expect("C lock(pi)", c_rc, 0);
	}
	/* everything usable by somebody else now */
	pthread_mutex_t *all[] = { &me, &mr, &rob1, &rob2, &pi };
	for (int i = 0; i < 5; i++) {
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 2;
		expect("main timedlock, free now", pthread_mutex_timedlock(all[i], &dl), 0);
		expect("main unlock", pthread_mutex_unlock(all[i]), 0);
	}
	printf(bad ? "FAILED\n" : "ALL OK\n");
	return bad ? 1 : 0;
}
