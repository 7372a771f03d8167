/*
 * timers.c - interval timers (setitimer) and POSIX timers (timer_create)
 * survive a checkpoint and a restart with their remaining time: the same
 * timer ids, clocks, notifications and intervals, and the time left at
 * the checkpoint (the time between the checkpoint and the restart does
 * not count).
 *
 *   timers IMAGE
 * main blocks SIGALRM, SIGUSR1, SIGUSR2 and SIGVTALRM, then starts one
 * worker (which inherits the mask and waits on a semaphore), then arms,
 * with the system calls themselves (int ids: the kernel's):
 *   t0  CLOCK_MONOTONIC  SIGEV_SIGNAL SIGUSR1 value 1001   1.0 s, one-shot
 *   t1  created, then deleted (a gap in the ids)
 *   t2  CLOCK_REALTIME   SIGEV_THREAD_ID (the worker) SIGUSR2 value 1002
 *                        1.2 s, then every 0.3 s
 *   t3  CLOCK_MONOTONIC  SIGEV_NONE (value 1003)  100 s, then every 5 s
 *   t4  CLOCK_MONOTONIC  SIGEV_SIGNAL SIGUSR1 value 1004, never armed
 *   ITIMER_REAL     1.1 s, one-shot (SIGALRM)
 *   ITIMER_VIRTUAL  50 s, then every 7 s (never fires here)
 * It reads /proc/self/timers and checks it against the above, prints
 * "ARMED ids <t0> <t2> <t3> <t4> pid <pid> worker <tid>", reads every
 * timer (timer_gettime, getitimer) right before ckpt_save(IMAGE), and:
 *   original (CKPT_SAVED): prints "SAVED", checks that nothing changed
 *     (same /proc/self/timers entries; intervals equal; values > 0 and no
 *     larger than before; t4 and ITIMER_PROF disarmed) and exits without
 *     waiting for any timer.
 *   copy (CKPT_RESTORED): prints "RESTORED" and checks
 *     a) /proc/self/timers: exactly t0 t2 t3 t4 (a timer of libckpt's own
 *        signal 63 is ignored), each with the same signal, value, notify
 *        kind, pid/tid and ClockID as before the checkpoint;
 *     b) timer_gettime: interval equal, value in (0, value before] (t4 0/0);
 *     c) getitimer REAL and VIRTUAL likewise (VIRTUAL: one kernel tick
 *        more allowed, see struct itimer; PROF 0/0);
 *     d) the signals arrive, waited for with rt_sigtimedwait until 10 s
 *        after RESTORED: main takes SIGUSR1 from t0 (SI_TIMER, value 1001,
 *        si_timerid t0) and SIGALRM (SI_KERNEL); the worker two SIGUSR2
 *        from t2 (SI_TIMER, value 1002, si_timerid t2); none earlier than
 *        its remaining time before the checkpoint minus 50 ms after
 *        RESTORED (by CLOCK_MONOTONIC; t2's second one interval later);
 *        no SIGUSR1 of t4 (value 1004), no other SIGUSR1 or SIGALRM;
 *     e) a timer created now gets an id none of t0 t2 t3 t4 has, and
 *        fires (SIGVTALRM, value 1005, si_timerid its id).
 * Each difference is a line "BAD <what>: expected ..., got ..."; then
 * "ALL OK" (exit 0) or "FAILED" (exit 1), in the original too.  "INFO"
 * lines say when each signal came.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

#define LIBCKPT_SIG 63
/*
 * How early a signal may come: 50 ms, or CKPT_E2E_MARGIN_MS (check-kernel
 * sets it: under qemu's emulation the restorer arms a timer hundreds of
 * ms before the program prints RESTORED).  Kept below the test's 500 ms
 * gap between checkpoint and restart, which it must still catch.
 */
static long long margin_ns(void)
{
	const char *v = getenv("CKPT_E2E_MARGIN_MS");
	long long ms = v ? atoll(v) : 50;

	return (ms > 0 && ms < 450 ? ms : 50) * 1000000LL;
}
#define MARGIN_NS margin_ns()
#define DEADLINE_NS 10000000000LL	/* 10 s after RESTORED */
#define NSEC 1000000000LL
#define MAXT 16
#define MAXSIG 16

static int bad;
#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); bad++; } while (0)

/* A POSIX timer of the test: how it is made, what it read before. */
struct ptimer {
	const char *name;
	int clock, notify, signo, value;	/* notify: SIGEV_* as given */
	int to_worker;				/* SIGEV_THREAD_ID to the worker */
	long long value_ns, interval_ns;	/* armed with; 0/0: never armed */
	int id;
	struct itimerspec before;
};

enum { T0, T1, T2, T3, T4, NT };
static struct ptimer pt[NT] = {
	[T0] = { "t0", CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 1001, 0, 1000000000LL, 0 },
	[T1] = { "t1", CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 1000, 0, 0, 0 },
	[T2] = { "t2", CLOCK_REALTIME, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGUSR2, 1002, 1,
		 1200000000LL, 300000000LL },
	[T3] = { "t3", CLOCK_MONOTONIC, SIGEV_NONE, 0, 1003, 0, 100 * NSEC, 5 * NSEC },
	[T4] = { "t4", CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 1004, 0, 0, 0 },
};

/*
 * An interval timer of the test.  setitimer() of a CPU-time timer adds
 * one tick to the value (set_cpu_itimer(): getitimer() right after
 * setting 50 s says 50.004 s with HZ=250), so a restart that sets the
 * value read at the checkpoint shows up to one tick more: `slack`,
 * measured when arming.
 */
struct itimer {
	const char *name;
	int which;
	struct itimerval arm, before;
	long long slack;
};
static struct itimer it[3] = {
	{ .name = "ITIMER_REAL", .which = ITIMER_REAL, .arm = { { 0, 0 }, { 1, 100000 } } },
	{ .name = "ITIMER_VIRTUAL", .which = ITIMER_VIRTUAL, .arm = { { 7, 0 }, { 50, 0 } } },
	{ .name = "ITIMER_PROF (never armed)", .which = ITIMER_PROF },
};

/* One entry of /proc/self/timers. */
struct pentry {
	int id, signo, who, clock;
	unsigned long long sigval;
	char kind[16], target[8];	/* "signal"/"none"/"thread", "pid"/"tid" */
};

/* A signal taken by rt_sigtimedwait, with when (ns after RESTORED). */
struct got {
	int signo, code, value, timerid, overrun;
	int pending;		/* found pending after the waits: came before `at` */
	long long at;
};

static const char *image;
static sem_t go;
static pid_t pid, worker_tid, worker_tid_now;
static struct pentry proc_before[MAXT];
static int n_proc_before;
static long long t_restored;		/* CLOCK_MONOTONIC of RESTORED */
static struct got worker_got[MAXSIG];
static int n_worker_got;

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static long long ts_ns(const struct timespec *ts) { return ts->tv_sec * NSEC + ts->tv_nsec; }
static long long tv_ns(const struct timeval *tv) { return tv->tv_sec * NSEC + tv->tv_usec * 1000LL; }

/* "1.234567890 s" */
static const char *fmt_ns(long long ns, char *buf, size_t len)
{
	const char *sign = ns < 0 ? "-" : "";

	if (ns < 0)
		ns = -ns;
	snprintf(buf, len, "%s%lld.%09lld s", sign, ns / NSEC, ns % NSEC);
	return buf;
}

static const char *signame(int sig)
{
	static char buf[32];

	switch (sig) {
	case 0:		return "0";
	case SIGALRM:	return "SIGALRM";
	case SIGUSR1:	return "SIGUSR1";
	case SIGUSR2:	return "SIGUSR2";
	case SIGVTALRM:	return "SIGVTALRM";
	}
	snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}

static const char *codename(int code)
{
	static char buf[32];

	switch (code) {
	case SI_USER:	return "SI_USER";
	case SI_QUEUE:	return "SI_QUEUE";
	case SI_TKILL:	return "SI_TKILL";
	case SI_KERNEL:	return "SI_KERNEL";
	case SI_TIMER:	return "SI_TIMER";
	}
	snprintf(buf, sizeof(buf), "si_code %d", code);
	return buf;
}

/* The test's name for a timer id ("t2"), or "id N". */
static const char *tname(int id)
{
	static char buf[4][32];
	static int k;

	for (int i = 0; i < NT; i++)
		if (i != T1 && pt[i].id == id)
			return pt[i].name;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "id %d", id);
	return buf[k];
}

/* ---- /proc/self/timers ------------------------------------------------ */

/*
 * Parses /proc/self/timers: entries of
 *   ID: 2 / signal: 12/00000000000003ea / notify: signal/tid.1234 / ClockID: 0
 * (other lines, if a kernel adds some, are ignored).
 */
static int read_proc_timers(struct pentry *e, int max, const char *when)
{
	FILE *f = fopen("/proc/self/timers", "r");
	char line[256];
	int n = -1;

	if (!f) {
		BAD("%s: /proc/self/timers: %s", when, strerror(errno));
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		int id;

		if (sscanf(line, "ID: %d", &id) == 1) {
			if (n + 1 >= max) {
				BAD("%s: /proc/self/timers: more than %d timers", when, max);
				break;
			}
			n++;
			memset(&e[n], 0, sizeof(e[n]));
			e[n].id = id;
			e[n].signo = e[n].who = e[n].clock = -1;
		} else if (n < 0) {
			BAD("%s: /proc/self/timers: line before the first ID: %s", when, line);
		} else if (!strncmp(line, "signal:", 7)) {
			if (sscanf(line, "signal: %d/%llx", &e[n].signo, &e[n].sigval) != 2)
				BAD("%s: /proc/self/timers ID %d: unparsed %s", when, e[n].id, line);
		} else if (!strncmp(line, "notify:", 7)) {
			if (sscanf(line, "notify: %15[^/]/%7[^.].%d", e[n].kind, e[n].target, &e[n].who) != 3)
				BAD("%s: /proc/self/timers ID %d: unparsed %s", when, e[n].id, line);
		} else if (!strncmp(line, "ClockID:", 8)) {
			if (sscanf(line, "ClockID: %d", &e[n].clock) != 1)
				BAD("%s: /proc/self/timers ID %d: unparsed %s", when, e[n].id, line);
		}
	}
	fclose(f);
	return n + 1;
}

static void show_entry(const struct pentry *e, char *buf, size_t len)
{
	snprintf(buf, len, "signal %d/%llx notify %s/%s.%d ClockID %d", e->signo, e->sigval,
		 e->kind, e->target, e->who, e->clock);
}

static int libckpt_own(const struct pentry *e) { return e->signo == LIBCKPT_SIG; }

/* Field by field; `what` names the comparison. */
static void compare_entry(const char *what, const struct pentry *want, const struct pentry *got)
{
	const char *n = tname(want->id);

	if (want->signo != got->signo)
		BAD("%s: %s (ID %d) signal: expected %d, got %d", what, n, want->id, want->signo, got->signo);
	if (want->sigval != got->sigval)
		BAD("%s: %s (ID %d) sigev_value: expected %llx, got %llx", what, n, want->id,
		    want->sigval, got->sigval);
	if (strcmp(want->kind, got->kind))
		BAD("%s: %s (ID %d) notify: expected %s, got %s", what, n, want->id, want->kind, got->kind);
	if (strcmp(want->target, got->target) || want->who != got->who)
		BAD("%s: %s (ID %d) notify target: expected %s.%d, got %s.%d", what, n, want->id,
		    want->target, want->who, got->target, got->who);
	if (want->clock != got->clock)
		BAD("%s: %s (ID %d) ClockID: expected %d, got %d", what, n, want->id, want->clock, got->clock);
}

/* Same ids, and entry by entry the same, as `want`; libckpt's own ignored. */
static void compare_proc(const char *when, const struct pentry *want, int nwant)
{
	struct pentry got[MAXT];
	int ngot = read_proc_timers(got, MAXT, when);
	char what[64], b[160];

	snprintf(what, sizeof(what), "%s: /proc/self/timers", when);
	for (int i = 0; i < nwant; i++) {
		int j;

		if (libckpt_own(&want[i]))
			continue;
		for (j = 0; j < ngot && got[j].id != want[i].id; j++)
			;
		if (j == ngot) {
			show_entry(&want[i], b, sizeof(b));
			BAD("%s: %s (ID %d, %s) is missing", what, tname(want[i].id), want[i].id, b);
		} else {
			compare_entry(what, &want[i], &got[j]);
		}
	}
	for (int j = 0; j < ngot; j++) {
		int i;

		if (libckpt_own(&got[j]))
			continue;
		for (i = 0; i < nwant && want[i].id != got[j].id; i++)
			;
		if (i == nwant) {
			show_entry(&got[j], b, sizeof(b));
			BAD("%s: unexpected timer ID %d (%s)", what, got[j].id, b);
		}
	}
}

/* The entries the kernel should show for what was armed. */
static int expected_proc(struct pentry *e)
{
	int n = 0;

	for (int i = 0; i < NT; i++) {
		if (i == T1)
			continue;
		memset(&e[n], 0, sizeof(e[n]));
		e[n].id = pt[i].id;
		e[n].signo = pt[i].signo;
		e[n].sigval = (unsigned long long)pt[i].value;
		snprintf(e[n].kind, sizeof(e[n].kind), "%s",
			 (pt[i].notify & ~SIGEV_THREAD_ID) == SIGEV_NONE ? "none" : "signal");
		snprintf(e[n].target, sizeof(e[n].target), "%s", pt[i].to_worker ? "tid" : "pid");
		e[n].who = pt[i].to_worker ? worker_tid : pid;
		e[n].clock = pt[i].clock;
		n++;
	}
	return n;
}

/* ---- values --------------------------------------------------------- */

static void read_before(void)
{
	for (int i = 0; i < NT; i++)
		if (i != T1 && syscall(SYS_timer_gettime, pt[i].id, &pt[i].before) < 0)
			BAD("before the checkpoint: timer_gettime %s (ID %d): %s", pt[i].name, pt[i].id,
			    strerror(errno));
	for (int i = 0; i < 3; i++)
		if (getitimer(it[i].which, &it[i].before) < 0)
			BAD("before the checkpoint: getitimer %s: %s", it[i].name, strerror(errno));
}

/* value in (0, before + slack] and interval == before; 0/0 for a disarmed one. */
static void check_one(const char *when, const char *name, long long v_before, long long i_before,
		      long long slack, long long v, long long i)
{
	char a[32], b[32], c[32];

	if (i != i_before)
		BAD("%s: %s interval: expected %s, got %s", when, name, fmt_ns(i_before, a, sizeof(a)),
		    fmt_ns(i, b, sizeof(b)));
	if (v_before == 0 && v != 0)
		BAD("%s: %s value: expected 0 (disarmed), got %s", when, name, fmt_ns(v, b, sizeof(b)));
	if (v_before != 0 && (v <= 0 || v > v_before + slack))
		BAD("%s: %s value: expected in (0, %s] (armed, no more than before the checkpoint%s%s), "
		    "got %s", when, name, fmt_ns(v_before + slack, a, sizeof(a)), slack ? " + one tick " : "",
		    slack ? fmt_ns(slack, c, sizeof(c)) : "", fmt_ns(v, b, sizeof(b)));
}

/* Every timer still armed as before the checkpoint (or disarmed, as before). */
static void check_values(const char *when)
{
	char name[64];

	for (int i = 0; i < NT; i++) {
		struct itimerspec now;

		if (i == T1)
			continue;
		snprintf(name, sizeof(name), "%s (ID %d) timer_gettime", pt[i].name, pt[i].id);
		if (syscall(SYS_timer_gettime, pt[i].id, &now) < 0) {
			BAD("%s: %s: %s", when, name, strerror(errno));
			continue;
		}
		check_one(when, name, ts_ns(&pt[i].before.it_value), ts_ns(&pt[i].before.it_interval), 0,
			  ts_ns(&now.it_value), ts_ns(&now.it_interval));
	}
	for (int i = 0; i < 3; i++) {
		struct itimerval now;

		snprintf(name, sizeof(name), "getitimer %s", it[i].name);
		if (getitimer(it[i].which, &now) < 0) {
			BAD("%s: %s: %s", when, name, strerror(errno));
			continue;
		}
		check_one(when, name, tv_ns(&it[i].before.it_value), tv_ns(&it[i].before.it_interval),
			  it[i].slack, tv_ns(&now.it_value), tv_ns(&now.it_interval));
	}
}

/* ---- signals -------------------------------------------------------- */

/* One signal of `set`, until the absolute CLOCK_MONOTONIC `deadline`; 0: none. */
static int wait_one(const sigset_t *set, long long deadline, struct got *g)
{
	for (;;) {
		long long left = deadline - mono_ns();
		struct timespec ts;
		siginfo_t si;
		int s;

		if (left < 0)
			left = 0;
		ts.tv_sec = left / NSEC;
		ts.tv_nsec = left % NSEC;
		memset(&si, 0, sizeof(si));
		s = syscall(SYS_rt_sigtimedwait, set, &si, &ts, 8);
		if (s < 0 && errno == EINTR)
			continue;
		if (s < 0) {
			if (errno != EAGAIN)
				BAD("rt_sigtimedwait: %s", strerror(errno));
			return 0;
		}
		g->at = mono_ns() - t_restored;
		g->pending = 0;
		g->signo = s;
		g->code = si.si_code;
		g->value = si.si_value.sival_int;
		g->timerid = si.si_code == SI_TIMER ? si.si_timerid : -1;
		g->overrun = si.si_code == SI_TIMER ? si.si_overrun : 0;
		return 1;
	}
}

static void show_got(const struct got *g, char *buf, size_t len)
{
	char t[32];

	snprintf(buf, len, "%s %s value %d timerid %d overrun %d %s %s after RESTORED",
		 signame(g->signo), codename(g->code), g->value, g->timerid, g->overrun,
		 g->pending ? "found pending" : "at", fmt_ns(g->at, t, sizeof(t)));
}

/* g is timer `t`'s signal #k (k = 0, 1...), not earlier than it may be. */
static void check_timer_signal(const char *name, int k, const struct got *g, int code, int value,
			       int timerid, long long earliest)
{
	char a[200], t[32];

	show_got(g, a, sizeof(a));
	printf("INFO %s signal #%d: %s (earliest allowed %s)\n", name, k + 1, a,
	       fmt_ns(earliest, t, sizeof(t)));
	if (g->code != code)
		BAD("%s signal #%d: si_code expected %s, got %s", name, k + 1, codename(code),
		    codename(g->code));
	if (code == SI_TIMER && g->value != value)
		BAD("%s signal #%d: si_value expected %d, got %d", name, k + 1, value, g->value);
	if (code == SI_TIMER && g->timerid != timerid)
		BAD("%s signal #%d: si_timerid expected %d, got %d", name, k + 1, timerid, g->timerid);
	if (g->at < earliest)
		BAD("%s signal #%d: came %s after RESTORED, expected not before %s (its remaining time "
		    "at the checkpoint minus the margin)", name, k + 1, fmt_ns(g->at, a, sizeof(a)),
		    fmt_ns(earliest, t, sizeof(t)));
}

static void *worker(void *arg)
{
	sigset_t usr2;

	__atomic_store_n(&worker_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	while (sem_wait(&go) < 0)
		;
	worker_tid_now = syscall(SYS_gettid);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	while (n_worker_got < 2 && wait_one(&usr2, t_restored + DEADLINE_NS, &worker_got[n_worker_got]))
		n_worker_got++;
	return NULL;
}

/* d): the signals of t0, t2 and ITIMER_REAL, and nothing else. */
static void check_signals(pthread_t th)
{
	long long rem_t0 = ts_ns(&pt[T0].before.it_value);
	long long rem_t2 = ts_ns(&pt[T2].before.it_value);
	long long int_t2 = ts_ns(&pt[T2].before.it_interval);
	long long rem_real = tv_ns(&it[0].before.it_value);
	struct got g[MAXSIG], t0_got, alrm_got;
	int have_t0 = 0, have_alrm = 0, n = 0;
	struct timespec zero = { 0, 0 };
	sigset_t set;
	char a[200], t[32], u[32];

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGALRM);
	while (!(have_t0 && have_alrm) && n < MAXSIG && wait_one(&set, t_restored + DEADLINE_NS, &g[n])) {
		if (g[n].signo == SIGALRM && !have_alrm) {
			alrm_got = g[n];
			have_alrm = 1;
		} else if (g[n].signo == SIGUSR1 && g[n].value == pt[T0].value && !have_t0) {
			t0_got = g[n];
			have_t0 = 1;
		} else {
			show_got(&g[n], a, sizeof(a));
			if (g[n].signo == SIGUSR1 && g[n].value == pt[T4].value)
				BAD("t4 (ID %d, never armed) fired: %s", pt[T4].id, a);
			else
				BAD("unexpected signal for main: %s", a);
		}
		n++;
	}
	if (have_t0)
		check_timer_signal("t0", 0, &t0_got, SI_TIMER, pt[T0].value, pt[T0].id, rem_t0 - MARGIN_NS);
	else
		BAD("t0 (ID %d): no SIGUSR1 value %d within %s of RESTORED (remaining at the "
		    "checkpoint %s)", pt[T0].id, pt[T0].value, fmt_ns(DEADLINE_NS, a, sizeof(a)),
		    fmt_ns(rem_t0, t, sizeof(t)));
	if (have_alrm)
		check_timer_signal("ITIMER_REAL", 0, &alrm_got, SI_KERNEL, 0, 0, rem_real - MARGIN_NS);
	else
		BAD("ITIMER_REAL: no SIGALRM within %s of RESTORED (remaining at the checkpoint %s)",
		    fmt_ns(DEADLINE_NS, a, sizeof(a)), fmt_ns(rem_real, t, sizeof(t)));

	if (pthread_join(th, NULL))
		BAD("pthread_join failed");
	if (worker_tid_now != worker_tid)
		BAD("the worker's tid: expected %d, got %d", (int)worker_tid, (int)worker_tid_now);
	for (int k = 0; k < n_worker_got; k++)
		check_timer_signal("t2", k, &worker_got[k], SI_TIMER, pt[T2].value, pt[T2].id,
				   rem_t2 + k * int_t2 - MARGIN_NS);
	if (n_worker_got < 2)
		BAD("t2 (ID %d): the worker got %d SIGUSR2 within %s of RESTORED, expected 2 (remaining at "
		    "the checkpoint %s, interval %s)", pt[T2].id, n_worker_got,
		    fmt_ns(DEADLINE_NS, a, sizeof(a)), fmt_ns(rem_t2, t, sizeof(t)),
		    fmt_ns(int_t2, u, sizeof(u)));

	/* t0 and ITIMER_REAL are one-shot, t4 never armed: nothing more. */
	for (;;) {
		struct got x;
		siginfo_t si;
		int s;

		memset(&si, 0, sizeof(si));
		s = syscall(SYS_rt_sigtimedwait, &set, &si, &zero, 8);
		if (s < 0 && errno == EINTR)
			continue;
		if (s < 0)
			break;
		x.signo = s;
		x.code = si.si_code;
		x.value = si.si_value.sival_int;
		x.timerid = si.si_code == SI_TIMER ? si.si_timerid : -1;
		x.overrun = si.si_code == SI_TIMER ? si.si_overrun : 0;
		x.at = mono_ns() - t_restored;
		x.pending = 1;
		show_got(&x, a, sizeof(a));
		if (s == SIGUSR1 && x.value == pt[T4].value)
			BAD("t4 (ID %d, never armed) fired: %s", pt[T4].id, a);
		else
			BAD("one signal too many for main: %s", a);
	}
}

/* e): a new timer does not take an id of the restored ones, and fires. */
static void check_new_timer(void)
{
	struct sigevent ev;
	struct itimerspec its = { { 0, 0 }, { 0, 10000000 } };
	sigset_t vt;
	struct got g;
	int id = -1;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGVTALRM;
	ev.sigev_value.sival_int = 1005;
	if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) < 0) {
		BAD("new timer: timer_create: %s", strerror(errno));
		return;
	}
	printf("INFO new timer after the restart: ID %d (t1 was ID %d)\n", id, pt[T1].id);
	for (int i = 0; i < NT; i++)
		if (i != T1 && pt[i].id == id)
			BAD("new timer: got ID %d, the id of %s", id, pt[i].name);
	if (syscall(SYS_timer_settime, id, 0, &its, NULL) < 0) {
		BAD("new timer (ID %d): timer_settime: %s", id, strerror(errno));
		return;
	}
	sigemptyset(&vt);
	sigaddset(&vt, SIGVTALRM);
	if (!wait_one(&vt, mono_ns() + DEADLINE_NS, &g))
		BAD("new timer (ID %d): no SIGVTALRM within 10 s of arming it for 10 ms", id);
	else if (g.code != SI_TIMER || g.value != 1005 || g.timerid != id) {
		char a[200];

		show_got(&g, a, sizeof(a));
		BAD("new timer (ID %d): expected SIGVTALRM SI_TIMER value 1005 timerid %d, got %s", id, id, a);
	}
	syscall(SYS_timer_delete, id);
}

/* ---- setup ---------------------------------------------------------- */

static int arm(void)
{
	for (int i = 0; i < NT; i++) {
		struct ptimer *p = &pt[i];
		struct itimerspec its = { { p->interval_ns / NSEC, p->interval_ns % NSEC },
					  { p->value_ns / NSEC, p->value_ns % NSEC } };
		struct sigevent ev;

		memset(&ev, 0, sizeof(ev));
		ev.sigev_notify = p->notify;
		ev.sigev_signo = p->signo;
		ev.sigev_value.sival_int = p->value;
		if (p->to_worker)
			ev._sigev_un._tid = worker_tid;
		if (syscall(SYS_timer_create, p->clock, &ev, &p->id) < 0) {
			printf("timer_create %s: %s\n", p->name, strerror(errno));
			return -1;
		}
		if (p->value_ns && syscall(SYS_timer_settime, p->id, 0, &its, NULL) < 0) {
			printf("timer_settime %s: %s\n", p->name, strerror(errno));
			return -1;
		}
		if (i == T1 && syscall(SYS_timer_delete, p->id) < 0) {
			printf("timer_delete %s: %s\n", p->name, strerror(errno));
			return -1;
		}
	}
	for (int i = 0; i < 2; i++) {
		struct itimerval now;

		if (setitimer(it[i].which, &it[i].arm, NULL) < 0 || getitimer(it[i].which, &now) < 0) {
			printf("setitimer %s: %s\n", it[i].name, strerror(errno));
			return -1;
		}
		if (it[i].which != ITIMER_REAL && tv_ns(&now.it_value) > tv_ns(&it[i].arm.it_value))
			it[i].slack = tv_ns(&now.it_value) - tv_ns(&it[i].arm.it_value);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pentry want[MAXT];
	long long t_before;
	sigset_t set;
	pthread_t th;
	char a[32];
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: timers IMAGE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	image = argv[1];
	pid = getpid();
	sem_init(&go, 0, 0);

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGVTALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (pthread_create(&th, NULL, worker, NULL)) {
		printf("pthread_create failed\nFAILED\n");
		return 1;
	}
	while (!__atomic_load_n(&worker_tid, __ATOMIC_SEQ_CST))
		sched_yield();
	if (arm() < 0) {
		printf("FAILED\n");
		return 1;
	}

	/* What the kernel shows is what was armed (else "the same as before" means little). */
	compare_proc("before the checkpoint", want, expected_proc(want));
	printf("ARMED ids %d %d %d %d pid %d worker %d (t1 was %d)\n", pt[T0].id, pt[T2].id, pt[T3].id,
	       pt[T4].id, (int)pid, (int)worker_tid, pt[T1].id);
	printf("INFO setitimer(ITIMER_VIRTUAL) adds %s (one tick)\n", fmt_ns(it[1].slack, a, sizeof(a)));
	n_proc_before = read_proc_timers(proc_before, MAXT, "before the checkpoint");
	read_before();
	t_before = mono_ns();

	rc = ckpt_save(image);
	if (rc == CKPT_SAVED) {
		printf("SAVED (ckpt_save took %s)\n", fmt_ns(mono_ns() - t_before, a, sizeof(a)));
		compare_proc("original after SAVED", proc_before, n_proc_before);
		check_values("original after SAVED");
		printf(bad ? "FAILED\n" : "ALL OK\n");
		exit(bad ? 1 : 0);	/* the worker ends with it; no timer waited for */
	}
	if (rc != CKPT_RESTORED) {
		printf("ckpt_save failed: %s\nFAILED\n", ckpt_last_error());
		exit(1);
	}
	t_restored = mono_ns();
	sem_post(&go);		/* the worker waits for t2's signals from now on */
	printf("RESTORED (%s after the checkpoint began, by CLOCK_MONOTONIC)\n",
	       fmt_ns(t_restored - t_before, a, sizeof(a)));
	compare_proc("restarted", proc_before, n_proc_before);
	check_values("restarted");
	check_signals(th);
	check_new_timer();
	printf(bad ? "FAILED\n" : "ALL OK\n");
	return bad ? 1 : 0;
}
