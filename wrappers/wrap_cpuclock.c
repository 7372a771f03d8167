/*
 * wrap_cpuclock.c - CPU-time clocks as the program saw them before a
 * restart: clock_gettime() of a CPU clock, getrusage(), times() and
 * clock() add the offsets of libckpt/reg_cpuclock.c (0 until the process
 * is restarted).  clock_nanosleep() on an absolute CPU time is in
 * wrap_time.c.
 *
 * Every other clock goes straight to libc's clock_gettime (the vDSO):
 * one compare more.  The vDSO never serves CPU clocks anyway, so those
 * were a system call already.  Return values and errno are the real
 * calls'.
 */
#include <dlfcn.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/reg_attr.h"

#define WRAP_EXPORT __attribute__((visibility("default")))

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
static clock_gettime_fn real_clock_gettime;

__attribute__((constructor)) static void wrap_cpuclock_init(void)
{
	real_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
}

static int is_cpu_clock(clockid_t clk)
{
	return clk < 0 || clk == CLOCK_PROCESS_CPUTIME_ID || clk == CLOCK_THREAD_CPUTIME_ID;
}

static void ts_add(struct timespec *ts, int64_t ns)
{
	int64_t v = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + ns;

	if (v < 0)
		v = 0;
	ts->tv_sec = v / 1000000000;
	ts->tv_nsec = v % 1000000000;
}

WRAP_EXPORT int clock_gettime(clockid_t clk, struct timespec *ts)
{
	clock_gettime_fn f = __atomic_load_n(&real_clock_gettime, __ATOMIC_RELAXED);
	int r;

	if (f) {
		r = f(clk, ts);
	} else {		/* before our constructor: the system call */
		long k = arch_sys2(SYS_clock_gettime, clk, ts);

		if (k < 0) {
			errno = (int)-k;
			return -1;
		}
		r = 0;
	}
	if (r == 0 && is_cpu_clock(clk)) {
		int64_t off = reg_cpuclock_offset(clk);

		if (off)
			ts_add(ts, off);
	}
	return r;
}

WRAP_EXPORT int getrusage(int who, struct rusage *ru)
{
	long r = arch_sys2(SYS_getrusage, who, ru);

	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	reg_cpuclock_rusage(who, ru);
	return 0;
}

/* ns to clock ticks, never below 0 */
static clock_t ticks_add(clock_t t, int64_t ns, long hz)
{
	int64_t v = (int64_t)t + ns / (1000000000 / hz);

	return v < 0 ? 0 : (clock_t)v;
}

WRAP_EXPORT clock_t times(struct tms *t)
{
	long r = arch_sys1(SYS_times, t);
	long hz = sysconf(_SC_CLK_TCK);
	int64_t ut, st;

	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return (clock_t)-1;
	}
	if (t && hz > 0 && hz <= 1000000000) {
		reg_cpuclock_offsets(RUSAGE_SELF, &ut, &st);
		t->tms_utime = ticks_add(t->tms_utime, ut, hz);
		t->tms_stime = ticks_add(t->tms_stime, st, hz);
		reg_cpuclock_offsets(RUSAGE_CHILDREN, &ut, &st);
		t->tms_cutime = ticks_add(t->tms_cutime, ut, hz);
		t->tms_cstime = ticks_add(t->tms_cstime, st, hz);
	}
	return (clock_t)r;
}

/* glibc's clock(): the process's CPU time in CLOCKS_PER_SEC units. */
WRAP_EXPORT clock_t clock(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return (clock_t)-1;
	return (clock_t)(ts.tv_sec * CLOCKS_PER_SEC + ts.tv_nsec / (1000000000 / CLOCKS_PER_SEC));
}
