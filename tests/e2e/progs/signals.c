/*
 * signals.c - signal state survives a transparent checkpoint and restart,
 * and libckpt's own signal stays out of the application's way.
 *
 *   signals GOFILE
 * Sets up: a SIGUSR2 handler (SA_SIGINFO|SA_RESTART|SA_ONSTACK, sa_mask
 * {SIGQUIT, SIGWINCH}), a sigaltstack, SIGHUP and SIGTSTP ignored, a
 * SIGUSR1 handler with SIGUSR1 blocked and raised (pending), SIGINT
 * blocked, its own handler for signal 63 (libckpt's default signal: the
 * application must see its own view and never be called for libckpt's
 * use); then blocks every signal, records what it sees (every
 * disposition, the mask, the pending set, the altstack, and the kernel's
 * SigBlk/SigIgn/SigCgt/ShdPnd) and prints "READY".  The test checkpoints
 * it with ckpt-save (all signals blocked!), kills it, restarts it and
 * creates GOFILE.  The copy compares everything, unblocks SIGUSR1 (its
 * handler must run exactly once), prints "WAITING USR2" and blocks in
 * read() on a pipe; the test sends SIGUSR2: the handler must run on the
 * altstack with its sa_mask, and read() must restart (SA_RESTART) and
 * return the byte the handler wrote.  Prints "RESTORED ok" (exit 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIBCKPT_SIG 63

static int bad;
#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); bad++; } while (0)

static volatile sig_atomic_t usr1_count, usr2_count, h63_count, usr2_onstack = -1,
	usr2_mask_ok = -1, usr2_code = -1;
static int pipefd[2] = { -1, -1 };
static char altstack[1 << 16];

static void h_usr1(int sig)
{
	usr1_count++;
}

static void h_63(int sig)
{
	h63_count++;
}

static void h_usr2(int sig, siginfo_t *si, void *ucv)
{
	char local;
	sigset_t cur;

	usr2_count++;
	usr2_code = si->si_code;
	usr2_onstack = (uintptr_t)&local >= (uintptr_t)altstack &&
		       (uintptr_t)&local < (uintptr_t)altstack + sizeof(altstack);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr2_mask_ok = sigismember(&cur, SIGQUIT) && sigismember(&cur, SIGWINCH) &&
		       sigismember(&cur, SIGUSR2);
	if (pipefd[1] >= 0)
		write(pipefd[1], "x", 1);
}

struct state {
	struct sigaction sa[65];
	sigset_t mask, pending;
	stack_t ss;
	char kernel[4][64];	/* SigBlk SigIgn SigCgt ShdPnd */
};

static void kernel_view(char out[4][64])
{
	static const char *const keys[4] = { "SigBlk:", "SigIgn:", "SigCgt:", "ShdPnd:" };
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	for (int i = 0; i < 4; i++)
		out[i][0] = 0;
	while (f && fgets(line, sizeof(line), f))
		for (int i = 0; i < 4; i++)
			if (!strncmp(line, keys[i], strlen(keys[i])))
				snprintf(out[i], 64, "%.60s", line);
	if (f)
		fclose(f);
}

static void capture(struct state *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 1; i <= 64; i++)
		if (i != SIGKILL && i != SIGSTOP)
			sigaction(i, NULL, &s->sa[i]);
	sigprocmask(SIG_BLOCK, NULL, &s->mask);
	sigpending(&s->pending);
	sigaltstack(NULL, &s->ss);
	kernel_view(s->kernel);
}

static void compare(const struct state *a, const struct state *b)
{
	for (int i = 1; i <= 64; i++) {
		const struct sigaction *x = &a->sa[i], *y = &b->sa[i];

		if (x->sa_handler != y->sa_handler || x->sa_flags != y->sa_flags ||
		    memcmp(&x->sa_mask, &y->sa_mask, 8))
			BAD("signal %d: handler %p flags %#x then, %p %#x now", i, (void *)x->sa_handler,
			    x->sa_flags, (void *)y->sa_handler, y->sa_flags);
	}
	for (int i = 1; i <= 64; i++) {
		if (sigismember(&a->mask, i) != sigismember(&b->mask, i))
			BAD("signal %d: blocked %d then, %d now", i, sigismember(&a->mask, i),
			    sigismember(&b->mask, i));
		if (sigismember(&a->pending, i) != sigismember(&b->pending, i))
			BAD("signal %d: pending %d then, %d now", i, sigismember(&a->pending, i),
			    sigismember(&b->pending, i));
	}
	if (a->ss.ss_sp != b->ss.ss_sp || a->ss.ss_size != b->ss.ss_size || a->ss.ss_flags != b->ss.ss_flags)
		BAD("sigaltstack %p+%zu flags %d then, %p+%zu flags %d now", a->ss.ss_sp, a->ss.ss_size,
		    a->ss.ss_flags, b->ss.ss_sp, b->ss.ss_size, b->ss.ss_flags);
	for (int i = 0; i < 4; i++)
		if (strcmp(a->kernel[i], b->kernel[i]))
			BAD("/proc/self/status: %.*s then, %.*s now", (int)strcspn(a->kernel[i], "\n"),
			    a->kernel[i], (int)strcspn(b->kernel[i], "\n"), b->kernel[i]);
}

int main(int argc, char **argv)
{
	static struct state before, after;
	struct sigaction sa, got;
	sigset_t set;
	stack_t ss;

	if (argc != 2)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);

	ss.ss_sp = altstack;
	ss.ss_size = sizeof(altstack);
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL))
		return 3;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = h_usr2;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGQUIT);
	sigaddset(&sa.sa_mask, SIGWINCH);
	if (sigaction(SIGUSR2, &sa, NULL))
		return 3;
	signal(SIGHUP, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);

	/* libckpt's signal: the application's own view */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h_63;
	sa.sa_flags = SA_RESTART;
	if (sigaction(LIBCKPT_SIG, &sa, NULL))
		BAD("sigaction(%d) refused: %s", LIBCKPT_SIG, strerror(errno));
	sigaction(LIBCKPT_SIG, NULL, &got);
	if (got.sa_handler != h_63)
		BAD("sigaction(%d) does not return the application's handler", LIBCKPT_SIG);

	sigfillset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	capture(&before);
	if (!sigismember(&before.mask, LIBCKPT_SIG))
		BAD("after blocking every signal, %d is not shown as blocked", LIBCKPT_SIG);
	if (!sigismember(&before.pending, SIGUSR1))
		BAD("setup: SIGUSR1 not pending");
	printf("READY\n");

	/* the checkpoint comes while we wait for GOFILE (restarted copy) */
	while (access(argv[1], F_OK)) {
		struct timespec t = { 0, 10000000 };

		nanosleep(&t, NULL);
	}
	capture(&after);
	compare(&before, &after);
	if (h63_count)
		BAD("the application's handler for %d ran %d times (libckpt's use leaked)",
		    LIBCKPT_SIG, (int)h63_count);
	if (usr1_count)
		BAD("SIGUSR1 delivered while blocked");

	/* the pending SIGUSR1 is delivered when unblocked; SIGINT stays blocked */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_SETMASK, &set, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (usr1_count != 1)
		BAD("pending SIGUSR1: handler ran %d times after unblocking, want 1", (int)usr1_count);
	sigprocmask(SIG_BLOCK, NULL, &set);
	if (!sigismember(&set, SIGINT))
		BAD("SIGINT not blocked");
	/* ignored signals stay ignored */
	raise(SIGHUP);
	raise(SIGTSTP);

	/* SIGUSR2 interrupts a blocking read(), which SA_RESTART resumes */
	if (pipe(pipefd))
		return 3;
	printf("WAITING USR2\n");
	char c;
	ssize_t n = read(pipefd[0], &c, 1);
	if (n != 1)
		BAD("read() interrupted by SIGUSR2 returned %zd (%s): SA_RESTART lost", n,
		    n < 0 ? strerror(errno) : "");
	if (usr2_count != 1)
		BAD("SIGUSR2 handler ran %d times", (int)usr2_count);
	if (usr2_code != SI_USER)
		BAD("SIGUSR2 si_code %d, want SI_USER (SA_SIGINFO lost?)", (int)usr2_code);
	if (usr2_onstack != 1)
		BAD("SIGUSR2 handler not on the altstack (SA_ONSTACK/sigaltstack lost)");
	if (usr2_mask_ok != 1)
		BAD("SIGUSR2 handler ran without its sa_mask {SIGQUIT, SIGWINCH}");
	if (h63_count)
		BAD("the application's handler for %d ran", LIBCKPT_SIG);
	printf("RESTORED %s\n", bad ? "BAD" : "ok");
	return bad ? 1 : 0;
}
