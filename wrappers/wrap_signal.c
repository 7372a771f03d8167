/*
 * wrap_signal.c - keeps libckpt's reserved signals out of the
 * application's reach while showing it its own view of them.
 *
 * libckpt owns a few signals (shim_reserved_signal(): the internal
 * checkpoint signal, the CKPT_SIGNAL trigger if set, and SIGTERM under
 * CKPT_ON_TERM).  A program that
 * blocks everything (a common idiom before pthread_create, or before
 * sigwait or signalfd) or installs a handler for every signal would
 * otherwise switch checkpointing off without knowing it.
 *
 * Invariants
 *   1. The kernel never sees an application request that blocks, catches
 *      or ignores a reserved signal: the wrappers take the reserved
 *      signals out of every mask the application hands the kernel
 *      (sigprocmask, pthread_sigmask, sigsuspend, pselect, ppoll,
 *      epoll_pwait, a handler's sa_mask), and dispositions of reserved
 *      signals go to a shadow table (sig_act) instead of the kernel.
 *   2. The application sees what it asked for: sigaction on a reserved
 *      signal returns the shadow action; a returned mask shows a
 *      reserved signal blocked iff this thread's shadow (sig_blocked)
 *      says the application blocked it; a handler's sa_mask shows the
 *      reserved signals it was given (sig_mask_rsv).
 *   3. Return values and errno are the real calls': every request that
 *      can fail goes to the real function first, and shadows change only
 *      after it succeeded.  Requests on reserved signals cannot fail
 *      (a reserved signal is a valid, catchable signal), so they return
 *      0 without a system call.  Like glibc, a sigaction or mask
 *      pointer is read in user space, so a bad one faults (glibc itself
 *      reads act and set; for sigsuspend/pselect/ppoll/epoll_pwait the
 *      kernel would have said EFAULT).
 *
 * Masks are handled as glibc's first sigset_t word: the kernel's sigset
 * on x86_64 is 64 bits, signal n is bit n-1.
 *
 * Cost: a masked call asks shim_reserved_signal() about each signal in
 * the application's set and in the returned old set (up to 64 calls of a
 * comparison: blocking everything and restoring it costs 100 ns more
 * per pair, next to 600 ns of system calls, where this was measured).  Caching the reserved
 * set was not taken: it changes when the shim's constructor reads the
 * environment (a cache filled before that would be wrong forever) and in
 * a fork child (shim/shim_fork.c).
 *
 * New threads inherit their creator's shadow (wrap_thread.c), as they
 * inherit its kernel mask.  A fork child, which is not the tree's root,
 * stops reserving CKPT_SIGNAL and SIGTERM: wrap_sig_unreserve() hands the
 * kernel the application's own action and blocked state for them.  A
 * program started with a reserved signal blocked (posix_spawn's sigmask
 * goes to the kernel unfiltered) unblocks it at load and shows it blocked
 * (wrap_sig_adopt).  Not covered: the BSD sigblock/sigsetmask/
 * sigpause(mask) and pthread_attr_setsigmask_np go to the kernel
 * unfiltered; sigwait and friends are left alone (a reserved signal is
 * never pending for them, since it is never blocked).  pselect, ppoll
 * and epoll_pwait(2) are wrapped in wrap_poll.c (a checkpoint does not
 * cut them short), which strips their masks through wrap_sig_strip; so
 * is sigsuspend here: a checkpoint's EINTR (wrap_ckpt_gen moved) suspends
 * it again, an application handler's returns.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include "shim/shim.h"
#include "wrappers/wrap.h"

#define WRAP_EXPORT __attribute__((visibility("default")))
#define SIG_MAX 64		/* kernel signals on x86_64: 1..64 */

/* Not declared by glibc's headers any more, still exported. */
sighandler_t bsd_signal(int sig, sighandler_t h);

/*
 * sigset, sighold, sigrelse, sigignore and siginterrupt are deprecated:
 * programs still call them, so they are wrapped, and naming them here is
 * intended.
 */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* ---- the real functions (see wrap_fd.c for the scheme) ---- */

#define WRAP_SIG_FUNCS(X)						\
	X(sigaction) X(signal) X(sysv_signal) X(bsd_signal) X(sigset)	\
	X(sighold) X(sigrelse) X(sigignore) X(siginterrupt)		\
	X(sigprocmask) X(pthread_sigmask) X(sigsuspend)

#define WRAP_SIG_SLOT(name) static void *real_##name;
WRAP_SIG_FUNCS(WRAP_SIG_SLOT)

__attribute__((noinline)) static void *wrap_sig_resolve(void **slot, const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	__atomic_store_n(slot, p, __ATOMIC_RELAXED);
	return p;
}

static inline void *wrap_sig_real(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_RELAXED);

	return __builtin_expect(p != NULL, 1) ? p : wrap_sig_resolve(slot, name);
}

#define REAL(name) ((__typeof__(&name))wrap_sig_real(&real_##name, #name))

__attribute__((constructor)) static void wrap_sig_init(void)
{
#define WRAP_SIG_RESOLVE(name) wrap_sig_resolve(&real_##name, #name);
	WRAP_SIG_FUNCS(WRAP_SIG_RESOLVE)
}

/* ---- shadows ---- */

/* Reserved signals this thread's application code believes blocked. */
static __thread uint64_t sig_blocked __attribute__((tls_model("initial-exec")));

/* For wrap_thread.c: a new thread inherits its creator's view. */
uint64_t wrap_sig_view(void)
{
	return sig_blocked;
}

void wrap_sig_inherit(uint64_t view)
{
	sig_blocked = view;
}

/* The application's actions for reserved signals; guarded by sig_act_lock. */
static struct sigaction sig_act[SIG_MAX + 1];
static int sig_act_lock;

/* Per signal: the reserved signals the application put in its sa_mask. */
static uint64_t sig_mask_rsv[SIG_MAX + 1];

static inline uint64_t sig_bit(int sig)
{
	return UINT64_C(1) << (sig - 1);
}

static inline int sig_reserved(int sig)
{
	return sig >= 1 && sig <= SIG_MAX && shim_reserved_signal(sig);
}

/* The reserved signals among the bits of w. */
static uint64_t sig_reserved_in(uint64_t w)
{
	uint64_t r = 0;

	for (; w; w &= w - 1) {
		int sig = __builtin_ctzll(w) + 1;

		if (shim_reserved_signal(sig))
			r |= sig_bit(sig);
	}
	return r;
}

static inline uint64_t *sig_word(sigset_t *s)
{
	return (uint64_t *)&s->__val[0];
}

static inline uint64_t sig_word_c(const sigset_t *s)
{
	return s->__val[0];
}

/*
 * Points *set at a copy without the reserved signals when it holds any.
 * Returns the reserved signals it held.
 */
static uint64_t sig_strip(const sigset_t **set, sigset_t *buf)
{
	uint64_t r;

	if (!*set)
		return 0;
	r = sig_reserved_in(sig_word_c(*set));
	if (r) {
		*buf = **set;
		*sig_word(buf) &= ~r;
		*set = buf;
	}
	return r;
}

/* An old mask as the application should see it (invariant 2). */
static void sig_show(sigset_t *old, uint64_t shadow)
{
	uint64_t *w = sig_word(old);

	*w = (*w & ~sig_reserved_in(*w)) | shadow;
}

/*
 * Swaps the shadow action of a reserved signal.  All signals, reserved
 * ones included, are blocked around the lock, so neither a handler on
 * this thread nor a checkpoint can find it held by the code it
 * interrupted; the section is a struct copy long.
 */
static void sig_act_swap(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction prev;
	sigset_t all, mask;

	sigfillset(&all);
	wrap_real_sigmask(SIG_BLOCK, &all, &mask);
	while (__atomic_exchange_n(&sig_act_lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	prev = sig_act[sig];
	if (act)
		sig_act[sig] = *act;
	__atomic_store_n(&sig_act_lock, 0, __ATOMIC_RELEASE);
	wrap_real_sigmask(SIG_SETMASK, &mask, NULL);
	if (old)
		*old = prev;
}

/* ---- a mask the program was started with (shim/shim_config.c) ---- */

/*
 * At load, in the main thread: a reserved signal the program was started
 * with blocked (a posix_spawn with POSIX_SPAWN_SETSIGMASK, an exec from a
 * thread that blocked it by a raw system call or without libckpt) would
 * keep every checkpoint of this process waiting for it.  It is unblocked
 * in the kernel and stays blocked in the application's view, as the
 * program was given it.
 */
void wrap_sig_adopt(void)
{
	sigset_t cur, un;
	uint64_t rsv;

	if (REAL(pthread_sigmask)(SIG_BLOCK, NULL, &cur) != 0)
		return;
	rsv = sig_reserved_in(sig_word_c(&cur));
	if (!rsv)
		return;
	sigemptyset(&un);
	*sig_word(&un) = rsv;
	if (REAL(pthread_sigmask)(SIG_UNBLOCK, &un, NULL) == 0)
		sig_blocked |= rsv;
}

/* ---- a fork child leaves the tree's root triggers (shim/shim_fork.c) ---- */

/*
 * fork() may have copied the lock held by a thread that does not exist
 * in the child: its first sigaction on a reserved signal would spin for
 * ever.  A shadow action half-copied by that thread is what it is.
 */
void wrap_sig_forked(void)
{
	__atomic_store_n(&sig_act_lock, 0, __ATOMIC_RELEASE);
}

void wrap_sig_unreserve(int sig, sigset_t *mask)
{
	uint64_t bit = sig_bit(sig);
	struct sigaction a = sig_act[sig], k;
	uint64_t rsv = sig_reserved_in(sig_word_c(&a.sa_mask));

	/* its own action: the shadow, less the signals still reserved */
	*sig_word(&a.sa_mask) &= ~rsv;
	if (REAL(sigaction)(sig, &a, NULL) == 0)
		__atomic_store_n(&sig_mask_rsv[sig], rsv, __ATOMIC_RELAXED);
	/* handlers the application gave it in their sa_mask block it again */
	for (int s = 1; s <= SIG_MAX; s++) {
		if (!(__atomic_load_n(&sig_mask_rsv[s], __ATOMIC_RELAXED) & bit) || sig_reserved(s))
			continue;
		if (REAL(sigaction)(s, NULL, &k) == 0) {
			sigaddset(&k.sa_mask, sig);
			REAL(sigaction)(s, &k, NULL);
		}
		__atomic_and_fetch(&sig_mask_rsv[s], ~bit, __ATOMIC_RELAXED);
	}
	/* blocked as the application believed it was (this thread is the only one) */
	if (sig_blocked & bit)
		sigaddset(mask, sig);
	sig_blocked &= ~bit;
}

/* ---- dispositions ---- */

int wrap_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return REAL(sigaction)(sig, act, old);
}

WRAP_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction a;
	uint64_t rsv = 0, prev;
	int r;

	if (sig_reserved(sig)) {
		sig_act_swap(sig, act, old);
		return 0;
	}
	if (act) {
		rsv = sig_reserved_in(sig_word_c(&act->sa_mask));
		if (rsv) {
			a = *act;
			*sig_word(&a.sa_mask) &= ~rsv;
			act = &a;
		}
	}
	r = REAL(sigaction)(sig, act, old);
	if (r != 0)
		return r;	/* so 1 <= sig <= SIG_MAX from here */
	if (act)
		prev = __atomic_exchange_n(&sig_mask_rsv[sig], rsv, __ATOMIC_RELAXED);
	else
		prev = __atomic_load_n(&sig_mask_rsv[sig], __ATOMIC_RELAXED);
	if (old)
		*sig_word(&old->sa_mask) |= prev;
	return 0;
}

/*
 * signal() and friends on a reserved signal: what glibc's versions ask of
 * sigaction (sysdeps/posix/signal.c, sysv_signal.c), against the shadow.
 */
static sighandler_t sig_shadow_handler(int sig, sighandler_t h, int flags, int self_mask)
{
	struct sigaction act = { .sa_flags = flags }, old;

	if (h == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	act.sa_handler = h;
	sigemptyset(&act.sa_mask);
	if (self_mask)
		sigaddset(&act.sa_mask, sig);
	sig_act_swap(sig, &act, &old);
	return old.sa_handler;
}

WRAP_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	if (sig_reserved(sig))
		return sig_shadow_handler(sig, h, SA_RESTART, 1);
	return REAL(signal)(sig, h);
}

WRAP_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	if (sig_reserved(sig))
		return sig_shadow_handler(sig, h, SA_RESTART, 1);
	return REAL(bsd_signal)(sig, h);
}

WRAP_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	if (sig_reserved(sig))
		return sig_shadow_handler(sig, h,
					  SA_RESETHAND | SA_NODEFER | SA_INTERRUPT, 0);
	return REAL(sysv_signal)(sig, h);
}

WRAP_EXPORT int sigignore(int sig)
{
	struct sigaction act = { .sa_handler = SIG_IGN };

	if (!sig_reserved(sig))
		return REAL(sigignore)(sig);
	sig_act_swap(sig, &act, NULL);
	return 0;
}

WRAP_EXPORT int siginterrupt(int sig, int interrupt)
{
	struct sigaction act;

	if (!sig_reserved(sig))
		return REAL(siginterrupt)(sig, interrupt);
	sig_act_swap(sig, NULL, &act);
	if (interrupt)
		act.sa_flags &= ~SA_RESTART;
	else
		act.sa_flags |= SA_RESTART;
	sig_act_swap(sig, &act, NULL);
	return 0;
}

/* ---- masks ---- */

/*
 * The body of sigprocmask and pthread_sigmask: `real` is either, and its
 * return convention (-1/errno or an error number) passes through.
 */
static int sig_mask(int (*real)(int, const sigset_t *, sigset_t *),
		    int how, const sigset_t *set, sigset_t *old)
{
	sigset_t buf;
	uint64_t rsv = sig_strip(&set, &buf), prev;
	int r = real(how, set, old);

	if (r != 0)
		return r;
	prev = sig_blocked;
	if (old)
		sig_show(old, prev);
	if (set) {
		switch (how) {
		case SIG_BLOCK:
			sig_blocked = prev | rsv;
			break;
		case SIG_UNBLOCK:
			sig_blocked = prev & ~rsv;
			break;
		case SIG_SETMASK:
			sig_blocked = rsv;
			break;
		}
	}
	return 0;
}

int wrap_real_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return REAL(pthread_sigmask)(how, set, old);
}

WRAP_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return sig_mask(REAL(pthread_sigmask), how, set, old);
}

WRAP_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return sig_mask(REAL(sigprocmask), how, set, old);
}

/* glibc's sighold/sigrelse/sigset: sigprocmask on a one-signal set. */
static int sig_mask_one(int how, int sig, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sig_mask(REAL(sigprocmask), how, &set, old);
}

WRAP_EXPORT int sighold(int sig)
{
	if (!sig_reserved(sig))
		return REAL(sighold)(sig);
	return sig_mask_one(SIG_BLOCK, sig, NULL);
}

WRAP_EXPORT int sigrelse(int sig)
{
	if (!sig_reserved(sig))
		return REAL(sigrelse)(sig);
	return sig_mask_one(SIG_UNBLOCK, sig, NULL);
}

/* glibc's sigset (sysdeps/posix/sigset.c), against the shadows. */
WRAP_EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
	struct sigaction act = { .sa_handler = disp }, old;
	sigset_t oset;

	if (!sig_reserved(sig))
		return REAL(sigset)(sig, disp);
	if (disp == SIG_HOLD) {
		if (sig_mask_one(SIG_BLOCK, sig, &oset) < 0)
			return SIG_ERR;
		if (sigismember(&oset, sig))
			return SIG_HOLD;
		sig_act_swap(sig, NULL, &old);
		return old.sa_handler;
	}
	sigemptyset(&act.sa_mask);
	sig_act_swap(sig, &act, &old);
	if (sig_mask_one(SIG_UNBLOCK, sig, &oset) < 0)
		return SIG_ERR;
	return sigismember(&oset, sig) ? SIG_HOLD : old.sa_handler;
}

/* ---- waiting with a temporary mask ---- */

WRAP_EXPORT int sigsuspend(const sigset_t *mask)
{
	sigset_t buf;

	/* The header says nonnull; keep NULL going to the kernel (EFAULT). */
	__asm__("" : "+r"(mask));
	sig_strip(&mask, &buf);
	for (;;) {
		unsigned gen = wrap_ckpt_gen;
		int saved = errno, r = REAL(sigsuspend)(mask);

		if (r == 0 || errno != EINTR || gen == wrap_ckpt_gen)
			return r;
		errno = saved;
	}
}

/* The waits with a mask of their own (wrap_poll.c) strip it like sigsuspend. */
void wrap_sig_strip(const sigset_t **mask, sigset_t *buf)
{
	sig_strip(mask, buf);
}
