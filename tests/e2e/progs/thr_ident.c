/*
 * thr_ident.c - a thread's identity after a restart: pthread_self,
 * pthread_equal, gettid, its name, and signals aimed at one thread.
 *
 *   thr_ident
 * main blocks SIGUSR2, installs a SIGUSR1 handler, starts 4 workers and
 * prints "TID i tid" for each (main is "TID 4"), then "READY pid", and
 * waits in sigwaitinfo for SIGUSR2 (retried on EINTR).  Each worker
 * records gettid() and pthread_self(), names itself "ident-i" and
 * computes until main says go: then it checks pthread_self() is what it
 * was, pthread_equal() with main's handle for it, gettid() and its name.
 * The test checkpoints while the workers compute, kills, restarts and
 * sends SIGUSR2; main then pthread_kill()s each worker (and itself) with
 * SIGUSR1 and pthread_sigqueue()s each with its index: the handler
 * records, in the receiving thread's slot (found through its TLS index),
 * gettid() and the value, which must be that thread's original tid and
 * index; no other thread may see the signal.
 * Thread-directed pending signals: every thread blocks SIGWINCH and
 * SIGURG; before "READY" main pthread_kill()s worker 1 with SIGWINCH,
 * worker 2 and itself with SIGURG.  After the restart each thread's
 * sigpending() must show exactly its own, and unblocking must run the
 * handler once, on that thread.
 * Alternate stacks: worker 3 has one, and computes inside a SIGPWR
 * handler running on it (SA_ONSTACK) when the checkpoint comes; after
 * the restart sigaltstack() must say it is on its altstack there, then,
 * back from the handler, that the same altstack is set and unused; the
 * SIGUSR1 handler (SA_ONSTACK) must run on it for worker 3 only.  Prints "ALL OK" (exit 0) or "BAD ..."
 * lines and "FAILED".
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

#define NT 4

static pthread_t th[NT + 1];
static pthread_t self_rec[NT + 1];
static pid_t tids[NT + 1];
static int started, go, done, checked;
static int bad;
static __thread int my_index = -1;

/* per receiving thread (index from its TLS): what the handler saw */
static int hits[NT + 1];
static pid_t hit_tid[NT + 1];
static int hit_value[NT + 1];
static int hit_from_queue[NT + 1];
static int stray;
static int hit_on_alt[NT + 1];

/* worker 3's alternate stack */
#define ALT_WORKER 3
static char alt_stack[1 << 16];

static int on_alt(const void *p)
{
	return (const char *)p >= alt_stack && (const char *)p < alt_stack + sizeof(alt_stack);
}

/* pending thread-directed signals: what each thread got, as a bit set */
static int pend_got[NT + 1];
static const int pend_want[NT + 1] = { 0, 1 << 0, 1 << 1, 0, 1 << 1 };	/* WINCH, URG */
static pid_t pend_tid[NT + 1];

static void pend_handler(int sig)
{
	int i = my_index;

	if (i < 0 || i > NT) {
		__atomic_add_fetch(&stray, 1, __ATOMIC_SEQ_CST);
		return;
	}
	pend_got[i] |= sig == SIGWINCH ? 1 << 0 : 1 << 1;
	if (syscall(SYS_gettid) != tids[i])
		pend_tid[i] = syscall(SYS_gettid);
}

/* Thread i's pending SIGWINCH/SIGURG are what main sent it; unblocked,
 * they run the handler here. */
static void check_pending(int i)
{
	sigset_t set, pend;
	int have = 0;

	sigpending(&pend);
	have |= sigismember(&pend, SIGWINCH) ? 1 << 0 : 0;
	have |= sigismember(&pend, SIGURG) ? 1 << 1 : 0;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGURG);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (have != pend_want[i] || pend_got[i] != pend_want[i] || pend_tid[i]) {
		printf("BAD thread %d's pending signals: sigpending %#x, handled %#x, want %#x "
		       "(1 SIGWINCH, 2 SIGURG)%s\n", i, have, pend_got[i], pend_want[i],
		       pend_tid[i] ? ", handled on another tid" : "");
		__atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
	}
}

static void handler(int sig, siginfo_t *si, void *uc)
{
	int i = my_index;

	if (i < 0 || i > NT) {
		__atomic_add_fetch(&stray, 1, __ATOMIC_SEQ_CST);
		return;
	}
	hit_tid[i] = syscall(SYS_gettid);
	hit_on_alt[i] = on_alt(&i);
	hit_from_queue[i] = si->si_code == SI_QUEUE;
	hit_value[i] = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
	__atomic_add_fetch(&hits[i], 1, __ATOMIC_SEQ_CST);
}

static void check_identity(int i)
{
	char name[16] = "", want[16];

	snprintf(want, sizeof(want), "ident-%d", i);
	if (i == NT)
		snprintf(want, sizeof(want), "ident-main");
	pthread_getname_np(pthread_self(), name, sizeof(name));
	if (!pthread_equal(pthread_self(), self_rec[i]) || !pthread_equal(pthread_self(), th[i]) ||
	    syscall(SYS_gettid) != tids[i] || strcmp(name, want)) {
		printf("BAD thread %d: pthread_self %s, pthread_equal with its handle %s, tid %ld "
		       "(was %d), name \"%s\" (was \"%s\")\n", i,
		       pthread_equal(pthread_self(), self_rec[i]) ? "same" : "CHANGED",
		       pthread_equal(pthread_self(), th[i]) ? "yes" : "NO",
		       (long)syscall(SYS_gettid), tids[i], name, want);
		__atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
	}
	/* every other thread's handle is a different thread */
	for (int j = 0; j <= NT; j++)
		if (j != i && pthread_equal(pthread_self(), th[j])) {
			printf("BAD thread %d is pthread_equal to thread %d\n", i, j);
			__atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
		}
}

static uint64_t compute_until_go(uint64_t a)
{
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		for (int k = 0; k < 1000; k++)
			a = a * 6364136223846793005ULL + 1442695040888963407ULL;
	return a;
}

/* Worker 3 computes in here, on its altstack, until main says go. */
static volatile uint64_t alt_result;
static void alt_handler(int sig)
{
	stack_t ss;
	int here;

	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	alt_result = compute_until_go(ALT_WORKER);
	if (!on_alt(&here) || sigaltstack(NULL, &ss) || !(ss.ss_flags & SS_ONSTACK) ||
	    ss.ss_sp != alt_stack || ss.ss_size != sizeof(alt_stack)) {
		printf("BAD in the handler on worker %d's altstack: on it %d, sigaltstack says "
		       "sp %p size %zu flags %#x\n", ALT_WORKER, on_alt(&here), ss.ss_sp,
		       ss.ss_size, ss.ss_flags);
		__atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
	}
}

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	char name[16];
	uint64_t a = i;

	my_index = i;
	tids[i] = syscall(SYS_gettid);
	self_rec[i] = pthread_self();
	snprintf(name, sizeof(name), "ident-%d", i);
	pthread_setname_np(pthread_self(), name);
	if (i == ALT_WORKER) {
		stack_t ss = { .ss_sp = alt_stack, .ss_size = sizeof(alt_stack) };

		sigaltstack(&ss, NULL);
		pthread_kill(pthread_self(), SIGPWR);	/* runs alt_handler until go */
		memset(&ss, 0, sizeof(ss));
		if (sigaltstack(NULL, &ss) || ss.ss_flags || ss.ss_sp != alt_stack ||
		    ss.ss_size != sizeof(alt_stack)) {
			printf("BAD worker %d's altstack after its handler: sp %p size %zu flags %#x\n",
			       i, ss.ss_sp, ss.ss_size, ss.ss_flags);
			__atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
		}
	} else {
		__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
		a = compute_until_go(a);
	}
	check_identity(i);
	check_pending(i);
	__atomic_add_fetch(&checked, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		struct timespec t = { 0, 1000000 };

		nanosleep(&t, NULL);	/* signals arrive meanwhile */
	}
	return (void *)(uintptr_t)(a | 1);
}

/* Waits up to 3 s for thread i's hit count to reach n. */
static int wait_hits(int i, int n)
{
	for (int k = 0; k < 3000; k++) {
		if (__atomic_load_n(&hits[i], __ATOMIC_SEQ_CST) >= n)
			return 1;
		struct timespec t = { 0, 1000000 };
		nanosleep(&t, NULL);
	}
	return 0;
}

int main(void)
{
	struct sigaction sa;
	sigset_t set;
	siginfo_t si;
	int r;

	setvbuf(stdout, NULL, _IONBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alt_handler;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGPWR, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pend_handler;
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGURG, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGURG);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* the workers inherit it */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	my_index = NT;
	th[NT] = self_rec[NT] = pthread_self();
	tids[NT] = syscall(SYS_gettid);
	pthread_setname_np(pthread_self(), "ident-main");
	for (int i = 0; i < NT; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < NT)
		sched_yield();
	pthread_kill(th[1], SIGWINCH);
	pthread_kill(th[2], SIGURG);
	pthread_kill(th[NT], SIGURG);
	for (int i = 0; i <= NT; i++)
		printf("TID %d %d\n", i, tids[i]);
	printf("READY pid %d\n", (int)getpid());

	while ((r = sigwaitinfo(&set, &si)) < 0 && errno == EINTR)
		;
	if (r != SIGUSR2) {
		printf("BAD sigwaitinfo: %d %s\n", r, strerror(errno));
		return 1;
	}
	check_identity(NT);
	check_pending(NT);
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&checked, __ATOMIC_SEQ_CST) < NT)
		sched_yield();

	/* pthread_kill each thread, main last (delivered before it returns) */
	for (int i = 0; i <= NT; i++) {
		int e = pthread_kill(th[i], SIGUSR1);

		if (e || !wait_hits(i, 1) || hit_tid[i] != tids[i] || hit_from_queue[i] ||
		    hit_on_alt[i] != (i == ALT_WORKER)) {
			printf("BAD pthread_kill of thread %d (tid %d): rc %d, %d hits, handler's "
			       "gettid %d, on worker %d's altstack: %d\n", i, tids[i], e, hits[i],
			       hit_tid[i], ALT_WORKER, hit_on_alt[i]);
			bad++;
		}
	}
	/* pthread_sigqueue with the index as the value */
	for (int i = 0; i <= NT; i++) {
		int e = pthread_sigqueue(th[i], SIGUSR1, (union sigval){ .sival_int = i });

		if (e || !wait_hits(i, 2) || hit_tid[i] != tids[i] || !hit_from_queue[i] ||
		    hit_value[i] != i) {
			printf("BAD pthread_sigqueue to thread %d (tid %d): rc %d, %d hits, handler's "
			       "gettid %d, value %d\n", i, tids[i], e, hits[i], hit_tid[i],
			       hit_value[i]);
			bad++;
		}
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NT; i++) {
		void *ret;

		if (pthread_join(th[i], &ret) || !ret) {
			printf("BAD join of worker %d\n", i);
			bad++;
		}
	}
	for (int i = 0; i <= NT; i++)
		if (hits[i] != 2) {
			printf("BAD thread %d got %d signals, want 2\n", i, hits[i]);
			bad++;
		}
	if (stray) {
		printf("BAD %d signals on a thread without an index\n", stray);
		bad++;
	}
	printf(bad ? "FAILED\n" : "ALL OK\n");
	return bad ? 1 : 0;
}
