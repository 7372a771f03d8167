/*
 * sigqueue.c - pending signals keep their siginfo and their queue (how
 * many, in which order, the thread's own or the process's) across a
 * checkpoint, in the original and in a restarted copy.
 *
 *   sigqueue IMAGE main|worker
 * main blocks every signal, then creates one worker (which inherits the
 * mask), so that everything below stays pending:
 *   process-wide   sigqueue RT1 101, 102, 103; sigqueue SIGUSR1 7;
 *                  SIGPROF from kill() by a forked child (SI_USER, the
 *                  child's pid); the child's SIGCHLD is taken at once
 *   the worker's   pthread_sigqueue RT2 201, 202; pthread_kill SIGUSR2
 *   main's own     pthread_sigqueue RT1 301 (RT1 is then pending both on
 *                  main and process-wide)
 * (RT1 = SIGRTMIN+1, RT2 = SIGRTMIN+2.)  It checks with /proc's SigPnd and
 * ShdPnd of both threads that all is pending where it should be and
 * prints "QUEUED".  Then ckpt_save(IMAGE) is called by main ("main": the
 * worker waits on a semaphore) or by the worker ("worker": main waits in
 * pthread_join), which prints "SAVED" (original) or "RESTORED" (copy made
 * by ckpt-restart) and checks SigPnd/ShdPnd again.  Then the worker takes
 * its signals with rt_sigtimedwait on {SIGUSR2, RT2} (zero timeout, until
 * EAGAIN), then main, once the worker has ended, every signal.  The
 * kernel gives a thread's own signals before the process's, lowest
 * number first, the instances of a real-time signal in queue order, so
 * the expected sequences are
 *   worker  SIGUSR2 (SI_TKILL), RT2 201, RT2 202 (SI_QUEUE)
 *   main    RT1 301, then SIGUSR1 7 (SI_QUEUE), SIGPROF (SI_USER, the
 *           child's pid), RT1 101, 102, 103 (SI_QUEUE)
 * each with si_pid getpid() (but SIGPROF) and si_uid getuid().  Every
 * difference is a line "BAD <thread> #<position>: expected ..., got ...";
 * prints "ALL OK" (exit 0) or "FAILED" (exit 1), in the original too.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"

#define LIBCKPT_SIG 63
#define MAXREC 32

static int bad;
#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); bad++; } while (0)

struct rec {
	int signo, code, value;
	pid_t pid;
	uid_t uid;
};

static int RT1, RT2;
static const char *image;
static int worker_saves;
static sem_t go;
static pid_t main_tid, worker_tid, child_pid;
static pthread_t main_th;
static struct rec got_worker[MAXREC], got_main[MAXREC];
static int n_worker, n_main;
static int save_rc;

static const char *signame(int sig, char *buf, size_t len)
{
	if (sig == SIGUSR1)
		return "SIGUSR1";
	if (sig == SIGUSR2)
		return "SIGUSR2";
	if (sig == SIGPROF)
		return "SIGPROF";
	if (sig == SIGCHLD)
		return "SIGCHLD";
	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

static const char *codename(int code, char *buf, size_t len)
{
	switch (code) {
	case SI_USER:	return "SI_USER";
	case SI_QUEUE:	return "SI_QUEUE";
	case SI_TKILL:	return "SI_TKILL";
	case SI_KERNEL:	return "SI_KERNEL";
	}
	snprintf(buf, len, "si_code %d", code);
	return buf;
}

static void show(const struct rec *r, char *out, size_t len)
{
	char b1[32], b2[32];

	snprintf(out, len, "%s %s value %d pid %d uid %d", signame(r->signo, b1, sizeof(b1)),
		 codename(r->code, b2, sizeof(b2)), r->value, (int)r->pid, (int)r->uid);
}

/* Compares what `who` dequeued with what it should have, position by position. */
static void compare(const char *who, const struct rec *want, int nwant, const struct rec *got, int ngot)
{
	char a[160], b[160];

	for (int i = 0; i < nwant || i < ngot; i++) {
		if (i < nwant)
			show(&want[i], a, sizeof(a));
		if (i < ngot)
			show(&got[i], b, sizeof(b));
		if (i >= ngot)
			BAD("%s #%d: expected %s, got nothing (queue empty)", who, i + 1, a);
		else if (i >= nwant)
			BAD("%s #%d: expected nothing, got %s", who, i + 1, b);
		else if (memcmp(&want[i], &got[i], sizeof(got[i])))
			BAD("%s #%d: expected %s, got %s", who, i + 1, a, b);
	}
	if (nwant != ngot)
		BAD("%s: dequeued %d signals, expected %d", who, ngot, nwant);
}

/*
 * Takes every signal of `set` pending for the calling thread, in order.
 * The system call itself: glibc's sigtimedwait() reports a SI_TKILL
 * signal as SI_USER (it folds tkill's code into kill's), which would hide
 * a thread-directed signal restored with kill().
 */
static int drain(const sigset_t *set, struct rec *out)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	int n = 0, s;

	for (;;) {
		memset(&si, 0, sizeof(si));
		s = syscall(SYS_rt_sigtimedwait, set, &si, &zero, 8);
		if (s < 0 && errno == EINTR)
			continue;
		if (s < 0)
			break;
		if (n < MAXREC) {
			out[n].signo = s;
			out[n].code = si.si_code;
			out[n].value = si.si_value.sival_int;
			out[n].pid = si.si_pid;
			out[n].uid = si.si_uid;
		}
		n++;
	}
	if (errno != EAGAIN)
		BAD("rt_sigtimedwait: %s", strerror(errno));
	if (n > MAXREC) {
		BAD("%d signals dequeued, only the first %d kept", n, MAXREC);
		n = MAXREC;
	}
	return n;
}

/* SigPnd and ShdPnd of thread `tid`, libckpt's own signal left out. */
static void pending_of(pid_t tid, uint64_t *own, uint64_t *shared)
{
	char path[64], line[256];
	FILE *f;

	*own = *shared = ~0ULL;
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	if (!(f = fopen(path, "r"))) {
		BAD("%s: %s", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "SigPnd:", 7))
			*own = strtoull(line + 7, NULL, 16);
		else if (!strncmp(line, "ShdPnd:", 7))
			*shared = strtoull(line + 7, NULL, 16);
	}
	fclose(f);
	*own &= ~(1ULL << (LIBCKPT_SIG - 1));
	*shared &= ~(1ULL << (LIBCKPT_SIG - 1));
}

#define BIT(s) (1ULL << ((s) - 1))

/* Which signals are pending where, before anything is dequeued. */
static void check_pending(const char *when)
{
	uint64_t want_main = BIT(RT1), want_worker = BIT(SIGUSR2) | BIT(RT2);
	uint64_t want_shared = BIT(SIGUSR1) | BIT(SIGPROF) | BIT(RT1);
	uint64_t own, shared;

	pending_of(main_tid, &own, &shared);
	if (own != want_main)
		BAD("%s: main's SigPnd %016llx, expected %016llx (RT1)", when,
		    (unsigned long long)own, (unsigned long long)want_main);
	if (shared != want_shared)
		BAD("%s: ShdPnd %016llx, expected %016llx (SIGUSR1 SIGPROF RT1)", when,
		    (unsigned long long)shared, (unsigned long long)want_shared);
	pending_of(worker_tid, &own, &shared);
	if (own != want_worker)
		BAD("%s: worker's SigPnd %016llx, expected %016llx (SIGUSR2 RT2)", when,
		    (unsigned long long)own, (unsigned long long)want_worker);
}

/* The checkpoint, by whichever thread the mode names. */
static void save(void)
{
	save_rc = ckpt_save(image);
	if (save_rc == CKPT_SAVED)
		printf("SAVED\n");
	else if (save_rc == CKPT_RESTORED)
		printf("RESTORED\n");
	else {
		printf("ckpt_save failed: %s\nFAILED\n", ckpt_last_error());
		exit(1);
	}
	check_pending(save_rc == CKPT_SAVED ? "after SAVED" : "after RESTORED");
}

static void *worker(void *arg)
{
	sigset_t mine;

	__atomic_store_n(&worker_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	while (sem_wait(&go) < 0)
		;
	if (worker_saves)
		save();
	sigemptyset(&mine);
	sigaddset(&mine, SIGUSR2);
	sigaddset(&mine, RT2);
	n_worker = drain(&mine, got_worker);
	return NULL;
}

int main(int argc, char **argv)
{
	sigset_t all;
	pthread_t th;
	int status;

	if (argc != 3 || (strcmp(argv[2], "main") && strcmp(argv[2], "worker"))) {
		fprintf(stderr, "usage: sigqueue IMAGE main|worker\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	image = argv[1];
	worker_saves = !strcmp(argv[2], "worker");
	RT1 = SIGRTMIN + 1;
	RT2 = SIGRTMIN + 2;
	if (RT1 == LIBCKPT_SIG || RT2 == LIBCKPT_SIG)
		return 2;
	main_tid = syscall(SYS_gettid);
	main_th = pthread_self();
	sem_init(&go, 0, 0);

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (pthread_create(&th, NULL, worker, NULL)) {
		printf("pthread_create failed\nFAILED\n");
		return 1;
	}
	while (!__atomic_load_n(&worker_tid, __ATOMIC_SEQ_CST))
		sched_yield();

	/* process-wide */
	sigqueue(getpid(), RT1, (union sigval){ .sival_int = 101 });
	sigqueue(getpid(), RT1, (union sigval){ .sival_int = 102 });
	sigqueue(getpid(), RT1, (union sigval){ .sival_int = 103 });
	sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 7 });
	child_pid = fork();
	if (child_pid < 0) {
		printf("fork failed\nFAILED\n");
		return 1;
	}
	if (child_pid == 0) {
		kill(getppid(), SIGPROF);
		_exit(0);
	}
	if (waitpid(child_pid, &status, 0) != child_pid || !WIFEXITED(status)) {
		printf("waitpid failed\nFAILED\n");
		return 1;
	}
	{	/* the child's SIGCHLD (blocked: pending) is not part of the test */
		struct timespec zero = { 0, 0 };
		sigset_t chld;

		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		while (sigtimedwait(&chld, NULL, &zero) == SIGCHLD || errno == EINTR)
			;
	}
	/* the worker's own */
	pthread_sigqueue(th, RT2, (union sigval){ .sival_int = 201 });
	pthread_sigqueue(th, RT2, (union sigval){ .sival_int = 202 });
	pthread_kill(th, SIGUSR2);
	/* main's own */
	pthread_sigqueue(main_th, RT1, (union sigval){ .sival_int = 301 });

	check_pending("before the checkpoint");
	printf("QUEUED pid %d main %d worker %d child %d\n", (int)getpid(), (int)main_tid,
	       (int)worker_tid, (int)child_pid);

	if (!worker_saves)
		save();
	sem_post(&go);
	if (pthread_join(th, NULL)) {
		printf("pthread_join failed\nFAILED\n");
		return 1;
	}
	sigfillset(&all);
	sigdelset(&all, LIBCKPT_SIG);
	n_main = drain(&all, got_main);

	pid_t me = getpid();
	uid_t uid = getuid();
	const struct rec want_worker[] = {
		{ SIGUSR2, SI_TKILL, 0, me, uid },
		{ RT2, SI_QUEUE, 201, me, uid },
		{ RT2, SI_QUEUE, 202, me, uid },
	};
	const struct rec want_main[] = {
		{ RT1, SI_QUEUE, 301, me, uid },	/* main's own queue first */
		{ SIGUSR1, SI_QUEUE, 7, me, uid },	/* then the process's */
		{ SIGPROF, SI_USER, 0, child_pid, uid },
		{ RT1, SI_QUEUE, 101, me, uid },
		{ RT1, SI_QUEUE, 102, me, uid },
		{ RT1, SI_QUEUE, 103, me, uid },
	};

	compare("worker", want_worker, 3, got_worker, n_worker);
	compare("main", want_main, 6, got_main, n_main);
	printf(bad ? "FAILED\n" : "ALL OK\n");
	return bad ? 1 : 0;
}
