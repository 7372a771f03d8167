/*
 * thr_block.c - threads parked in blocking calls at checkpoint time, each
 * resuming correctly after a restart.
 *
 *   thr_block
 * With SIGUSR2 blocked everywhere, main starts:
 *   sigwait  sigwaitinfo({SIGUSR2}), retried on EINTR; records the signal
 *            and its sender, then exits;
 *   cond     pthread_cond_wait until `go`;
 *   tcond    pthread_cond_timedwait (deadline 60 s away) until `go`;
 *   sem      sem_wait;
 *   nsleep   300 ms nanosleeps in a loop until `stop`, each retried on
 *            EINTR with the remaining time the kernel gave back;
 *   poll     300 ms poll(NULL, 0) in a loop until `stop`, each retried
 *            on EINTR with the time left to its deadline;
 *   exited   returns (void *)0x1234 at once: main waits until it is gone
 *            from /proc/self/task, and joins it only after the restart;
 * prints "TID role tid" for each (main too, not exited) and "READY", and
 * joins sigwait.  The test checks every thread is blocked in its call,
 * checkpoints, kills, restarts, and sends SIGUSR2 to the restarted copy.
 * Then main sets `go`, signals the condition, posts the semaphore, joins
 * cond, tcond and sem (each call must have returned 0), sets `stop` and
 * joins the sleepers.  Every sleep must have lasted at least 300 ms, and
 * after an EINTR at least the remaining time the kernel reported.
 * Prints "SIGWAIT ...", "NANOSLEEP ...", "POLL ..." lines (what
 * happened), then "ALL OK" (exit 0) or "BAD ..." lines and "FAILED".
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SLEEP_NS	300000000LL

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static int go, stop;
static int nready;
static int bad;

static int64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void ready(const char *role)
{
	printf("TID %s %d\n", role, (int)syscall(SYS_gettid));
	__atomic_add_fetch(&nready, 1, __ATOMIC_SEQ_CST);
}

/* --- a thread that exited, joined only after the restart -------------- */
static pid_t exited_tid;

static void *t_exited(void *arg)
{
	__atomic_store_n(&exited_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	return (void *)0x1234;
}

/* --- sigwaitinfo ------------------------------------------------------ */
static int sw_signo, sw_pid, sw_eintr;

static void *t_sigwait(void *arg)
{
	sigset_t set;
	siginfo_t si;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	ready("sigwait");
	while ((r = sigwaitinfo(&set, &si)) < 0 && errno == EINTR)
		sw_eintr++;
	if (r < 0) {
		printf("BAD sigwaitinfo: %s\n", strerror(errno));
		bad++;
		return NULL;
	}
	sw_signo = si.si_signo;
	sw_pid = si.si_pid;
	return (void *)1;
}

/* --- condition variables and a semaphore ---------------------------- */
static int cond_rc = -1, tcond_rc = -1, sem_rc = -1, sem_errno;
static int cond_loops, tcond_loops;

static void *t_cond(void *arg)
{
	pthread_mutex_lock(&m);
	ready("cond");
	cond_rc = 0;
	while (!go && cond_rc == 0) {
		cond_rc = pthread_cond_wait(&cv, &m);
		cond_loops++;
	}
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *t_tcond(void *arg)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 60;
	pthread_mutex_lock(&m);
	ready("tcond");
	tcond_rc = 0;
	while (!go && tcond_rc == 0) {
		tcond_rc = pthread_cond_timedwait(&cv, &m, &dl);
		tcond_loops++;
	}
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *t_sem(void *arg)
{
	ready("sem");
	sem_rc = sem_wait(&sem);
	sem_errno = sem_rc ? errno : 0;
	return NULL;
}

/* --- sleepers -------------------------------------------------------- */
struct sleeper {
	int sleeps, eintr, other_err;
	int64_t short_total;		/* a sleep shorter than requested: by how much */
	int64_t short_after;		/* less than the remaining time after EINTR */
	int64_t last_rem, last_after;	/* ns: at the last EINTR */
};
static struct sleeper ns, pl;

static void *t_nsleep(void *arg)
{
	ready("nsleep");
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		struct timespec req = { 0, SLEEP_NS }, rem;
		int64_t t0 = mono(), te = 0, r = 0, t1;

		while (nanosleep(&req, &rem) < 0) {
			if (errno != EINTR) {
				ns.other_err++;
				break;
			}
			te = mono();
			r = rem.tv_sec * 1000000000LL + rem.tv_nsec;
			ns.eintr++;
			ns.last_rem = r;
			req = rem;
		}
		t1 = mono();
		ns.sleeps++;
		if (t1 - t0 < SLEEP_NS)
			ns.short_total = SLEEP_NS - (t1 - t0);
		if (te) {
			ns.last_after = t1 - te;
			if (t1 - te < r)
				ns.short_after = r - (t1 - te);
		}
	}
	return NULL;
}

static void *t_poll(void *arg)
{
	ready("poll");
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		int64_t t0 = mono(), dl = t0 + SLEEP_NS, te = 0, t1, left;

		while ((left = dl - mono()) > 0) {
			int r = poll(NULL, 0, (int)((left + 999999) / 1000000));

			if (r == 0)
				continue;	/* timed out: re-check the deadline */
			if (r < 0 && errno == EINTR) {
				te = mono();
				pl.eintr++;
				pl.last_rem = dl - te;	/* < 0: the deadline passed meanwhile */
				continue;
			}
			pl.other_err++;
			break;
		}
		t1 = mono();
		pl.sleeps++;
		if (t1 - t0 < SLEEP_NS)
			pl.short_total = SLEEP_NS - (t1 - t0);
		if (te) {
			pl.last_after = t1 - te;
			if (pl.last_rem > 0 && t1 - te < pl.last_rem)
				pl.short_after = pl.last_rem - (t1 - te);
		}
	}
	return NULL;
}

static void check_sleeper(const char *name, const struct sleeper *s)
{
	printf("%s sleeps=%d eintr=%d", name, s->sleeps, s->eintr);
	if (s->eintr)
		printf(" last_rem_ms=%.1f after_eintr_ms=%.1f", s->last_rem / 1e6,
		       s->last_after / 1e6);
	printf("\n");
	if (s->other_err || s->short_total || s->short_after) {
		printf("BAD %s: %d errors other than EINTR, a sleep %.3f ms short, "
		       "%.3f ms short of the remaining time after EINTR\n",
		       name, s->other_err, s->short_total / 1e6, s->short_after / 1e6);
		bad++;
	}
}

int main(void)
{
	pthread_t sw, c, tc, sm, nsl, pol, ex;
	sigset_t set;
	void *ret = NULL;

	setvbuf(stdout, NULL, _IONBF, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sem_init(&sem, 0, 0);
	pthread_create(&ex, NULL, t_exited, NULL);
	while (!__atomic_load_n(&exited_tid, __ATOMIC_SEQ_CST))
		sched_yield();
	char task[64];
	snprintf(task, sizeof(task), "/proc/self/task/%d", (int)exited_tid);
	while (access(task, F_OK) == 0)
		sched_yield();
	pthread_create(&sw, NULL, t_sigwait, NULL);
	pthread_create(&c, NULL, t_cond, NULL);
	pthread_create(&tc, NULL, t_tcond, NULL);
	pthread_create(&sm, NULL, t_sem, NULL);
	pthread_create(&nsl, NULL, t_nsleep, NULL);
	pthread_create(&pol, NULL, t_poll, NULL);
	while (__atomic_load_n(&nready, __ATOMIC_SEQ_CST) < 6)
		sched_yield();
	ready("main");
	printf("READY pid %d\n", (int)getpid());

	int jr = pthread_join(sw, &ret);
	if (jr || ret != (void *)1) {
		printf("BAD join of sigwait: %d, returned %p\n", jr, ret);
		bad++;
	}
	printf("SIGWAIT signo=%d from=%d eintr=%d\n", sw_signo, sw_pid, sw_eintr);
	if (sw_signo != SIGUSR2) {
		printf("BAD sigwaitinfo gave signal %d\n", sw_signo);
		bad++;
	}

	ret = NULL;
	jr = pthread_join(ex, &ret);
	printf("EXITED join=%d ret=%p\n", jr, ret);
	if (jr || ret != (void *)0x1234) {
		printf("BAD join of the thread that exited before the checkpoint: %d, %p\n", jr, ret);
		bad++;
	}

	pthread_mutex_lock(&m);
	go = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&m);
	sem_post(&sem);
	pthread_join(c, NULL);
	pthread_join(tc, NULL);
	pthread_join(sm, NULL);
	printf("COND rc=%d waits=%d TIMEDCOND rc=%d waits=%d SEM rc=%d errno=%d\n", cond_rc,
	       cond_loops, tcond_rc, tcond_loops, sem_rc, sem_errno);
	if (cond_rc || tcond_rc || sem_rc) {
		printf("BAD cond %d, timed cond %d (%s), sem_wait %d (%s)\n", cond_rc, tcond_rc,
		       strerror(tcond_rc), sem_rc, strerror(sem_errno));
		bad++;
	}

	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(nsl, NULL);
	pthread_join(pol, NULL);
	check_sleeper("NANOSLEEP", &ns);
	check_sleeper("POLL", &pl);
	printf(bad ? "FAILED\n" : "ALL OK\n");
	return bad ? 1 : 0;
}
