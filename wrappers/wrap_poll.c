/*
 * wrap_poll.c - waits that a checkpoint does not cut short: poll, ppoll,
 * select, pselect, epoll_wait, epoll_pwait, epoll_pwait2, sigwaitinfo and
 * sigtimedwait (the fortified __poll_chk and __ppoll_chk too).
 *
 * A transparent checkpoint interrupts every thread with libckpt's signal.
 * These calls end with EINTR whenever a handler runs, SA_RESTART or not,
 * so without the wrappers a checkpoint shows: an event loop wakes with
 * EINTR and nothing ready.  Each wrapper hides that EINTR: when the call
 * failed with EINTR and this thread's checkpoint generation moved
 * (wrap_ckpt_gen) it waits again, for the time that was left when the
 * checkpoint came — in the original, and in a restarted copy, which
 * resumes from the checkpoint with the same time left (the time between
 * checkpoint and restart does not count, as for sleeps: wrap_time.c).
 *
 * What moves the generation (wrap_ckpt_interrupted, on entry to libckpt's
 * handler): the handler's context shows a system call that returned
 * -EINTR (rax, and the `syscall` instruction before rip), and no signal of
 * the application's with a handler is pending and unblocked there.  So an
 * application's handler keeps its EINTR exact: one that runs during the
 * wait alone gives EINTR (the generation did not move); one whose signal
 * came with the checkpoint's gives EINTR too — delivered first, libckpt's
 * handler interrupts the start of the application's handler, not the
 * system call; delivered after, it is pending when libckpt's handler
 * starts.  One that comes during the checkpoint (or, in a restarted copy,
 * before the thread leaves libckpt's handler) stays pending, blocked from
 * the moment the generation moved, and wrap_ckpt_finish (the handler's
 * last step, shim_handler and shim_post_restore) moves it back: its
 * handler runs as libckpt's returns, and the wait returns EINTR.  Left:
 * a signal arriving between that last look and the handler's return
 * (instructions), handled before the wait starts again.
 *
 * Time left: select's is the kernel's (Linux writes what was left into
 * its timeval, and glibc passes it on, EINTR included); every other
 * wrapper measures CLOCK_MONOTONIC_COARSE from its call to the checkpoint
 * (wrap_ckpt_at, noted in the original: in the image), a tick short, and
 * asks again for the rest, on the clock of whatever machine it now runs
 * on.  Cost: one coarse clock read (vDSO) for a wait with a limit.  A timeout
 * is read only after the real call accepted it (a bad pointer still
 * gives EFAULT, a bad value EINVAL).
 *
 * Invariant: return value and errno are the real call's, except for the
 * hidden EINTR (errno is put back as it was before the call).  Masks
 * (ppoll, pselect, epoll_pwait) lose the reserved signals first
 * (wrap_signal.c).  sigwait is not wrapped: glibc's retries on EINTR.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include "arch/x86_64/arch.h"
#include "shim/shim.h"
#include "wrappers/wrap.h"

#define WRAP_EXPORT __attribute__((visibility("default")))

__thread int64_t wrap_ckpt_at __attribute__((tls_model("initial-exec")));
/* wrap_ckpt_interrupted moved the generation; wrap_ckpt_finish has not looked yet */
static __thread int wrap_ckpt_cut __attribute__((tls_model("initial-exec")));

/* glibc's fortified polls (declared only under _FORTIFY_SOURCE). */
int __poll_chk(struct pollfd *fds, nfds_t nfds, int tmo, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo,
		const sigset_t *ss, size_t fdslen);

/*
 * The time a wait used before a checkpoint, on CLOCK_MONOTONIC_COARSE: a
 * read costs 20-30 ns here where CLOCK_MONOTONIC's costs 70-95 (a VM's
 * TSC), on every wait with a limit.  It is a tick coarse: the time used
 * is taken a tick short (coarse_ns), so a wait a checkpoint interrupted
 * lasts up to a tick (1-4 ms) more than asked, never less.
 */
static int64_t coarse_ns = 4000000;

/* ---- the real functions (see wrap_fd.c for the scheme) ---- */

#define WRAP_POLL_FUNCS(X)						\
	X(poll) X(__poll_chk) X(ppoll) X(__ppoll_chk) X(select) X(pselect)	\
	X(epoll_wait) X(epoll_pwait) X(epoll_pwait2) X(sigwaitinfo) X(sigtimedwait)

#define WRAP_POLL_SLOT(name) static void *real_##name;
WRAP_POLL_FUNCS(WRAP_POLL_SLOT)

__attribute__((noinline)) static void *wrap_poll_resolve(void **slot, const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	__atomic_store_n(slot, p, __ATOMIC_RELAXED);
	return p;
}

static inline void *wrap_poll_real(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_RELAXED);

	return __builtin_expect(p != NULL, 1) ? p : wrap_poll_resolve(slot, name);
}

#define REAL(name) ((__typeof__(&name))wrap_poll_real(&real_##name, #name))

__attribute__((constructor)) static void wrap_poll_init(void)
{
	struct timespec res;

#define WRAP_POLL_RESOLVE(name) wrap_poll_resolve(&real_##name, #name);
	WRAP_POLL_FUNCS(WRAP_POLL_RESOLVE)
	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0)
		coarse_ns = (int64_t)res.tv_sec * 1000000000 + res.tv_nsec;
}

static int64_t mono_ns(void)
{
	struct timespec t;

	arch_sys2(SYS_clock_gettime, CLOCK_MONOTONIC_COARSE, (long)&t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- the handler's side (async-signal-safe: raw system calls) ---- */

struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

/* Whether a signal of the application's with a handler is pending and not blocked by mask. */
static int app_signal_due(uint64_t mask)
{
	uint64_t pend = 0;

	if (arch_sys2(SYS_rt_sigpending, (long)&pend, 8) < 0)
		return 0;
	pend &= ~mask;
	for (int sig = 1; sig <= 64 && pend; sig++) {
		struct k_sigaction a;

		if (!(pend & (1ull << (sig - 1))) || shim_reserved_signal(sig))
			continue;
		if (arch_sys4(SYS_rt_sigaction, sig, 0, (long)&a, 8) == 0 &&
		    a.handler != SIG_DFL && a.handler != SIG_IGN)
			return 1;
	}
	return 0;
}

void wrap_ckpt_interrupted(const void *ucv)
{
	const ucontext_t *uc = ucv;
	const unsigned char *ip;
	uint64_t block;

	if (!uc || uc->uc_mcontext.gregs[REG_RAX] != -EINTR)
		return;			/* not a system call cut short (a restarted one, code) */
	ip = (const unsigned char *)uc->uc_mcontext.gregs[REG_RIP];
	/* `syscall` is 0f 05; its bytes are read only within rip's own page */
	if (((uintptr_t)ip & 0xfff) >= 2 && (ip[-2] != 0x0f || ip[-1] != 0x05))
		return;
	if (app_signal_due(*(const uint64_t *)&uc->uc_sigmask))
		return;			/* the application's handler runs next: its EINTR */
	wrap_ckpt_at = mono_ns();
	wrap_ckpt_gen++;
	/*
	 * Until wrap_ckpt_finish, the application's signals wait (blocked:
	 * all but libckpt's own and those a fault raises): one that comes
	 * during the checkpoint, or after a restart before the thread leaves
	 * libckpt's handler, is then pending, and its EINTR kept.
	 */
	block = ~0ull;
	for (int sig = 1; sig <= 64; sig++)
		if (shim_reserved_signal(sig) || sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
		    sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS)
			block &= ~(1ull << (sig - 1));
	arch_sys4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&block, 0, 8);
	wrap_ckpt_cut = 1;
}

void wrap_ckpt_finish(const void *ucv)
{
	const ucontext_t *uc = ucv;

	if (!wrap_ckpt_cut)
		return;
	wrap_ckpt_cut = 0;
	/* an application signal came meanwhile: its handler runs when this one returns */
	if (uc && app_signal_due(*(const uint64_t *)&uc->uc_sigmask))
		wrap_ckpt_gen--;
}

/* ---- the waiting side ---- */

struct wait {
	unsigned gen;
	int err;			/* errno before the call */
	int64_t start;			/* CLOCK_MONOTONIC_COARSE when the call (or its rest) began */
	int64_t left;			/* ns left; -1: no limit; -2: not read yet */
};

/* The clock is read (vDSO) only for a wait with a limit: nothing else needs it. */
static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void wait_begin(struct wait *w, int64_t left)
{
	w->gen = wrap_ckpt_gen;
	w->err = errno;
	w->left = left;
	w->start = left > 0 || left == -2 ? now_ns() : 0;
}

/*
 * After the real call returned r: 1 when it was a checkpoint's EINTR, to
 * be asked again for w->left (errno put back); 0: its result is the
 * caller's.
 */
static int wait_again(struct wait *w, long r)
{
	int64_t used;

	if (r != -1 || errno != EINTR || w->gen == wrap_ckpt_gen)
		return 0;
	w->gen = wrap_ckpt_gen;
	used = wrap_ckpt_at - w->start - coarse_ns;
	if (w->left >= 0)
		w->left = used <= 0 ? w->left : used >= w->left ? 0 : w->left - used;
	w->start = w->left > 0 ? now_ns() : 0;
	errno = w->err;
	return 1;
}

static int64_t ts_ns(const struct timespec *t)
{
	return t ? (int64_t)t->tv_sec * 1000000000 + t->tv_nsec : -1;
}

static int64_t ms_ns(int ms)
{
	return ms < 0 ? -1 : (int64_t)ms * 1000000;
}

/* Milliseconds for w->left, rounded up (a wait never ends early). */
static int left_ms(const struct wait *w)
{
	int64_t ms;

	if (w->left < 0)
		return -1;
	ms = (w->left + 999999) / 1000000;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static const struct timespec *left_ts(const struct wait *w, struct timespec *buf)
{
	if (w->left < 0)
		return NULL;
	buf->tv_sec = w->left / 1000000000;
	buf->tv_nsec = w->left % 1000000000;
	return buf;
}

/*
 * The timespec variants: the first call gets the caller's pointer as it
 * is (left -2); its timeout is read once that call accepted it, at the
 * first checkpoint.
 */
static int wait_again_ts(struct wait *w, long r, const struct timespec *tmo)
{
	if (r != -1 || errno != EINTR || w->gen == wrap_ckpt_gen)
		return 0;
	if (w->left == -2)
		w->left = ts_ns(tmo);
	return wait_again(w, r);
}

WRAP_EXPORT int poll(struct pollfd *fds, nfds_t n, int tmo)
{
	struct wait w;
	int r;

	wait_begin(&w, ms_ns(tmo));
	r = REAL(poll)(fds, n, tmo);
	while (wait_again(&w, r))
		r = REAL(poll)(fds, n, left_ms(&w));
	return r;
}

WRAP_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int tmo, size_t fdslen)
{
	struct wait w;
	int r;

	if (!REAL(__poll_chk)) {
		errno = ENOSYS;
		return -1;
	}
	wait_begin(&w, ms_ns(tmo));
	r = REAL(__poll_chk)(fds, n, tmo, fdslen);
	while (wait_again(&w, r))
		r = REAL(__poll_chk)(fds, n, left_ms(&w), fdslen);
	return r;
}

WRAP_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		      const sigset_t *mask)
{
	struct timespec buf;
	sigset_t mbuf;
	struct wait w;
	int r;

	wrap_sig_strip(&mask, &mbuf);
	wait_begin(&w, tmo ? -2 : -1);
	r = REAL(ppoll)(fds, n, tmo, mask);
	while (wait_again_ts(&w, r, tmo))
		r = REAL(ppoll)(fds, n, left_ts(&w, &buf), mask);
	return r;
}

WRAP_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
			    const sigset_t *mask, size_t fdslen)
{
	struct timespec buf;
	sigset_t mbuf;
	struct wait w;
	int r;

	if (!REAL(__ppoll_chk)) {
		errno = ENOSYS;
		return -1;
	}
	wrap_sig_strip(&mask, &mbuf);
	wait_begin(&w, tmo ? -2 : -1);
	r = REAL(__ppoll_chk)(fds, n, tmo, mask, fdslen);
	while (wait_again_ts(&w, r, tmo))
		r = REAL(__ppoll_chk)(fds, n, left_ts(&w, &buf), mask, fdslen);
	return r;
}

/* select: Linux writes the time left into tmo (EINTR too): asked again with it. */
WRAP_EXPORT int select(int n, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tmo)
{
	struct wait w;
	int r;

	wait_begin(&w, -1);
	r = REAL(select)(n, rd, wr, ex, tmo);
	while (wait_again(&w, r))
		r = REAL(select)(n, rd, wr, ex, tmo);
	return r;
}

WRAP_EXPORT int pselect(int n, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *tmo,
			const sigset_t *mask)
{
	struct timespec buf;
	sigset_t mbuf;
	struct wait w;
	int r;

	wrap_sig_strip(&mask, &mbuf);
	wait_begin(&w, tmo ? -2 : -1);
	r = REAL(pselect)(n, rd, wr, ex, tmo, mask);
	while (wait_again_ts(&w, r, tmo))
		r = REAL(pselect)(n, rd, wr, ex, left_ts(&w, &buf), mask);
	return r;
}

WRAP_EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max, int tmo)
{
	struct wait w;
	int r;

	wait_begin(&w, ms_ns(tmo));
	r = REAL(epoll_wait)(ep, ev, max, tmo);
	while (wait_again(&w, r))
		r = REAL(epoll_wait)(ep, ev, max, left_ms(&w));
	return r;
}

WRAP_EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max, int tmo,
			    const sigset_t *mask)
{
	sigset_t mbuf;
	struct wait w;
	int r;

	wrap_sig_strip(&mask, &mbuf);
	wait_begin(&w, ms_ns(tmo));
	r = REAL(epoll_pwait)(ep, ev, max, tmo, mask);
	while (wait_again(&w, r))
		r = REAL(epoll_pwait)(ep, ev, max, left_ms(&w), mask);
	return r;
}

WRAP_EXPORT int epoll_pwait2(int ep, struct epoll_event *ev, int max, const struct timespec *tmo,
			     const sigset_t *mask)
{
	struct timespec buf;
	sigset_t mbuf;
	struct wait w;
	int r;

	if (!REAL(epoll_pwait2)) {
		errno = ENOSYS;
		return -1;
	}
	wrap_sig_strip(&mask, &mbuf);
	wait_begin(&w, tmo ? -2 : -1);
	r = REAL(epoll_pwait2)(ep, ev, max, tmo, mask);
	while (wait_again_ts(&w, r, tmo))
		r = REAL(epoll_pwait2)(ep, ev, max, left_ts(&w, &buf), mask);
	return r;
}

WRAP_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	struct wait w;
	int r;

	wait_begin(&w, -1);
	r = REAL(sigwaitinfo)(set, info);
	while (wait_again(&w, r))
		r = REAL(sigwaitinfo)(set, info);
	return r;
}

WRAP_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *tmo)
{
	struct timespec buf;
	struct wait w;
	int r;

	wait_begin(&w, tmo ? -2 : -1);
	r = REAL(sigtimedwait)(set, info, tmo);
	while (wait_again_ts(&w, r, tmo))
		r = REAL(sigtimedwait)(set, info, left_ts(&w, &buf));
	return r;
}
