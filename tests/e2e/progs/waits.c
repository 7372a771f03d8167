/*
 * waits - every wait a checkpoint must not cut short (wrappers/
 * wrap_poll.c), for tests/e2e/t_waits.sh.
 *
 *   waits ckpt GOFILE MS   one thread in each of poll, ppoll, select,
 *                          pselect, epoll_wait, epoll_pwait, epoll_pwait2,
 *                          sigtimedwait with a limit of MS ms on fds
 *                          (signals) that never get ready, and one in each
 *                          of poll, select, epoll_wait, sigwaitinfo with no
 *                          limit; READY once every thread is in its system
 *                          call.  After GOFILE exists (the test checkpoints
 *                          it meanwhile, and may kill and restart it), the
 *                          unlimited ones are woken (a byte, a signal);
 *                          each must end as the kernel ends it without a
 *                          checkpoint: the limited ones timed out (0, or
 *                          EAGAIN for sigtimedwait) after MS ms at least,
 *                          the others with their event; none with EINTR.
 *   app  GOFILE            the same waits, no limit, each interrupted by
 *                          the application's own SIGUSR1 handler (tgkill
 *                          once it is in its system call): each returns
 *                          -1 with EINTR, and errno is exact.
 * Prints OK, or BAD lines.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { W_POLL, W_PPOLL, W_SELECT, W_PSELECT, W_EPOLL, W_EPWAIT, W_EPWAIT2, W_SIGTIMED, W_SIGINFO,
       W_N };
static const char *const names[W_N] = { "poll", "ppoll", "select", "pselect", "epoll_wait",
					"epoll_pwait", "epoll_pwait2", "sigtimedwait", "sigwaitinfo" };

struct waiter {
	int kind, limited;
	int pipe[2], ep;
	pid_t tid;
	volatile int started;
	long r;
	int err;
	int64_t elapsed_ms;
	pthread_t th;
};

static struct waiter w[2 * W_N];
static int nw, ms, bad;
static const char *go;
static volatile sig_atomic_t handled;

#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); bad = 1; } while (0)

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void *run(void *arg)
{
	struct waiter *x = arg;
	int tmo = x->limited ? ms : -1;
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 }, *tsp = x->limited ? &ts : NULL;
	struct timeval tv = { ms / 1000, (long)(ms % 1000) * 1000 }, *tvp = x->limited ? &tv : NULL;
	struct pollfd p = { .fd = x->pipe[0], .events = POLLIN };
	struct epoll_event ev;
	fd_set rd;
	sigset_t usr2, none;
	siginfo_t si;
	int64_t t0;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigemptyset(&none);
	FD_ZERO(&rd);
	FD_SET(x->pipe[0], &rd);
	x->tid = (pid_t)syscall(SYS_gettid);
	x->started = 1;
	errno = 1234;		/* a success must leave it alone */
	t0 = now_ms();
	switch (x->kind) {
	case W_POLL:     x->r = poll(&p, 1, tmo); break;
	case W_PPOLL:    x->r = ppoll(&p, 1, tsp, &none); break;
	case W_SELECT:   x->r = select(x->pipe[0] + 1, &rd, NULL, NULL, tvp); break;
	case W_PSELECT:  x->r = pselect(x->pipe[0] + 1, &rd, NULL, NULL, tsp, &none); break;
	case W_EPOLL:    x->r = epoll_wait(x->ep, &ev, 1, tmo); break;
	case W_EPWAIT:   x->r = epoll_pwait(x->ep, &ev, 1, tmo, &none); break;
	case W_EPWAIT2:  x->r = epoll_pwait2(x->ep, &ev, 1, tsp, &none); break;
	case W_SIGTIMED: x->r = sigtimedwait(&usr2, &si, tsp); break;
	case W_SIGINFO:  x->r = sigwaitinfo(&usr2, &si); break;
	}
	x->err = errno;
	x->elapsed_ms = now_ms() - t0;
	return NULL;
}

/* Whether thread tid is blocked in a system call (not running, not between calls). */
static int in_call(pid_t tid)
{
	char name[64], buf[128];
	int fd, n;

	snprintf(name, sizeof(name), "/proc/self/task/%d/syscall", tid);
	if ((fd = open(name, O_RDONLY)) < 0)
		return 0;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (!strncmp(buf, "running", 7))
		return 0;
	switch (atoi(buf)) {
	case SYS_poll: case SYS_ppoll: case SYS_select: case SYS_pselect6: case SYS_epoll_wait:
	case SYS_epoll_pwait: case SYS_epoll_pwait2: case SYS_rt_sigtimedwait:
		return 1;
	default:
		return 0;
	}
}

static void add(int kind, int limited)
{
	struct waiter *x = &w[nw++];
	struct epoll_event ev = { .events = EPOLLIN };

	x->kind = kind;
	x->limited = limited;
	if (pipe(x->pipe) < 0 || (x->ep = epoll_create1(0)) < 0 ||
	    epoll_ctl(x->ep, EPOLL_CTL_ADD, x->pipe[0], &ev) < 0) {
		perror("setup");
		exit(2);
	}
	pthread_create(&x->th, NULL, run, x);
}

static void all_in_calls(void)
{
	struct timespec t = { 0, 1000000 };
	int64_t until = now_ms() + 20000;

	for (int i = 0; i < nw; i++)
		while (!w[i].started || !in_call(w[i].tid)) {
			if (now_ms() > until) {
				printf("setup: thread %s never blocked\n", names[w[i].kind]);
				exit(2);
			}
			nanosleep(&t, NULL);
		}
}

static void wait_go(void)
{
	struct timespec t = { 0, 5000000 };

	while (access(go, F_OK))
		nanosleep(&t, NULL);
}

/* Wakes an unlimited waiter: a byte, or its signal. */
static void wake(struct waiter *x)
{
	if (x->kind == W_SIGINFO || x->kind == W_SIGTIMED)
		syscall(SYS_tgkill, getpid(), x->tid, SIGUSR2);
	else if (write(x->pipe[1], "x", 1) != 1)
		BAD("write: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	sigset_t usr2;
	int app;

	if (argc < 3 || (strcmp(argv[1], "ckpt") && strcmp(argv[1], "app")) ||
	    (!strcmp(argv[1], "ckpt") && argc < 4)) {
		fprintf(stderr, "usage: waits ckpt GOFILE MS | waits app GOFILE\n");
		return 2;
	}
	app = !strcmp(argv[1], "app");
	go = argv[2];
	ms = app ? 0 : atoi(argv[3]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* SIGUSR2 is what the sigwait threads wait for: blocked everywhere */
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr2, NULL);
	if (app) {
		struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };

		sigaction(SIGUSR1, &sa, NULL);
		for (int k = 0; k < W_N; k++)
			add(k, 0);
	} else {
		for (int k = 0; k < W_N; k++)
			if (k != W_SIGINFO)
				add(k, 1);
		add(W_POLL, 0);
		add(W_SELECT, 0);
		add(W_EPOLL, 0);
		add(W_SIGINFO, 0);
	}
	all_in_calls();
	printf("READY\n");
	wait_go();
	for (int i = 0; i < nw; i++) {
		if (app)	/* (SA_RESTART or not: these calls end with EINTR) */
			syscall(SYS_tgkill, getpid(), w[i].tid, SIGUSR1);
		else if (!w[i].limited)
			wake(&w[i]);
		pthread_join(w[i].th, NULL);
	}
	for (int i = 0; i < nw; i++) {
		const struct waiter *x = &w[i];
		const char *n = names[x->kind];

		if (app) {
			if (x->r != -1 || x->err != EINTR)
				BAD("%s: returned %ld (%s), want -1 EINTR", n, x->r, strerror(x->err));
		} else if (x->limited && x->kind == W_SIGTIMED) {
			if (x->r != -1 || x->err != EAGAIN || x->elapsed_ms < ms)
				BAD("%s: returned %ld (%s) after %lld ms, want -1 EAGAIN after %d ms",
				    n, x->r, strerror(x->err), (long long)x->elapsed_ms, ms);
		} else if (x->limited) {
			if (x->r != 0 || x->err != 1234 || x->elapsed_ms < ms)
				BAD("%s: returned %ld (errno %d) after %lld ms, want 0 after %d ms", n,
				    x->r, x->err, (long long)x->elapsed_ms, ms);
		} else {
			long want = x->kind == W_SIGINFO ? SIGUSR2 : 1;

			if (x->r != want || x->err != 1234)
				BAD("%s (no limit): returned %ld (errno %d: %s), want %ld", n, x->r,
				    x->err, strerror(x->err), want);
		}
	}
	if (app && handled != nw)
		BAD("the handler ran %d times, want %d", (int)handled, nw);
	if (bad)
		return 1;
	printf("OK %s\n", argv[1]);
	return 0;
}
