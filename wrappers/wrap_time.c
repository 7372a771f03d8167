/*
 * wrap_time.c - sleeps that a checkpoint does not cut short.
 *
 * A transparent checkpoint interrupts every thread with libckpt's signal.
 * For most blocking calls SA_RESTART makes that invisible, but the kernel
 * ends nanosleep and clock_nanosleep with EINTR whenever a handler runs
 * (and glibc's sleep() and usleep() sit on them).  The application did
 * not get a signal, so these wrappers hide the EINTR: when the call was
 * interrupted by a checkpoint of this thread (wrap_ckpt_gen moved), they
 * sleep again for the time that was left — in the original, and in a
 * restarted copy, where the call resumes with the time left at the
 * checkpoint (not the full time: the DMTCP sleep bug, dmtcp#246).
 *
 * The generation moves only when libckpt's handler cut a system call
 * short and no application handler is due (wrap_ckpt_interrupted,
 * wrap_poll.c), so an application signal's EINTR reaches the program even
 * when it comes with a checkpoint.  poll, select, epoll_wait and
 * sigtimedwait go on waiting the same way (wrap_poll.c).
 *
 * Invariant: return value and errno are the real call's, except for the
 * hidden EINTR.  The request is never read by the wrapper before the real
 * call has accepted it, so a bad pointer still gives EFAULT.
 */
#include <dlfcn.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include "libckpt/reg_attr.h"
#include "wrappers/wrap.h"

#define WRAP_EXPORT __attribute__((visibility("default")))

__thread unsigned wrap_ckpt_gen __attribute__((tls_model("initial-exec")));

typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);
static clock_nanosleep_fn real_clock_nanosleep;

__attribute__((constructor)) static void wrap_time_init(void)
{
	real_clock_nanosleep = (clock_nanosleep_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
}

static int sleep_real(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
	clock_nanosleep_fn f = __atomic_load_n(&real_clock_nanosleep, __ATOMIC_RELAXED);

	if (!f) {
		f = (clock_nanosleep_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
		__atomic_store_n(&real_clock_nanosleep, f, __ATOMIC_RELAXED);
	}
	return f(clk, flags, req, rem);
}

/*
 * clock_nanosleep's contract (returns an error number, errno untouched),
 * with a checkpoint's EINTR hidden.  An absolute sleep is simply asked
 * again; a relative one for what was left.
 */
static int sleep_through(clockid_t clk, int flags, const struct timespec *req,
			 struct timespec *rem)
{
	struct timespec left, abs_k;
	unsigned gen = wrap_ckpt_gen;
	int64_t off = (flags & TIMER_ABSTIME) ? reg_cpuclock_offset(clk) : 0;
	int r;

	/*
	 * An absolute CPU time is the program's (libckpt/reg_cpuclock.c): the
	 * kernel's is that less the offset.  Only then is the request read
	 * before the call (a bad pointer faults here instead of EFAULT).
	 */
	if (off && req) {
		int64_t v = (int64_t)req->tv_sec * 1000000000 + req->tv_nsec - off;

		if (v < 0)
			v = 0;
		abs_k.tv_sec = v / 1000000000;
		abs_k.tv_nsec = v % 1000000000;
		req = &abs_k;
	}
	r = sleep_real(clk, flags, req, &left);

	while (r == EINTR && gen != wrap_ckpt_gen) {
		gen = wrap_ckpt_gen;
		r = (flags & TIMER_ABSTIME) ? sleep_real(clk, flags, req, &left)
					    : sleep_real(clk, flags, &left, &left);
	}
	if (r == EINTR && rem && !(flags & TIMER_ABSTIME))
		*rem = left;
	return r;
}

WRAP_EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
				struct timespec *rem)
{
	return sleep_through(clk, flags, req, rem);
}

WRAP_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	int r = sleep_through(CLOCK_REALTIME, 0, req, rem);

	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

WRAP_EXPORT int usleep(useconds_t us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	return nanosleep(&ts, NULL);
}

WRAP_EXPORT unsigned int sleep(unsigned int s)
{
	struct timespec ts = { s, 0 }, rem;
	int saved = errno;

	if (sleep_through(CLOCK_REALTIME, 0, &ts, &rem) == EINTR)
		return rem.tv_sec + (rem.tv_nsec > 0);	/* glibc rounds up too */
	errno = saved;
	return 0;
}
