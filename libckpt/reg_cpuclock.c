/*
 * reg_cpuclock.c - CPU-time clocks that do not go back across a restart.
 *
 * The kernel's CPU clocks of a restarted process (CLOCK_PROCESS_CPUTIME_ID,
 * each thread's CLOCK_THREAD_CPUTIME_ID, getrusage's and times()'s user
 * and system time) start from what ckpt-restart and the restorer used,
 * a few milliseconds.  A program that measures CPU time across the
 * checkpoint would see it run backwards.  So libckpt shows the program
 * kernel value + offset, where offsets are 0 until a restart, and are set
 * at a restart so that each clock goes on from what the program saw at
 * the checkpoint:
 *
 *   at the checkpoint  every thread records, in its handler, the value the
 *                      program saw (kernel + its offset) in cap[]; the
 *                      leader the process's and its children's;
 *   in the copy        the first thread out of the restorer (state 0 -> 1)
 *                      sets every offset to "recorded - kernel now" and
 *                      publishes them (state 2); every thread waits for
 *                      that before it returns to the program, then takes
 *                      its own offsets into TLS (getrusage(RUSAGE_THREAD)
 *                      offsets only the thread itself can compute);
 *   the wrappers       (wrappers/wrap_cpuclock.c) add them.
 *
 * Invariants: (1) no application code of a restarted copy runs before the
 * offsets are set (every thread waits for state 2 in the post-restore
 * handler); (2) each offset is computed once per restart, so two threads
 * never see one clock with two offsets; (3) the original process's offsets
 * are never changed by a checkpoint (cap[] is apart from offs[]).
 *
 * Not covered (docs/SUPPORT.md): the clocks read by a raw system call or
 * from /proc/PID/stat, CPUCLOCK_PROF/VIRT clock ids, and absolute
 * timer_settime on a CPU clock.  Cost: clock_gettime of any clock pays
 * one compare; a CPU clock of another thread one search of offs[].
 */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/reg_attr.h"

struct cpu_off {
	int64_t cpu, ut, st;
};

struct cap_ent {
	int32_t tid, pad;
	uint64_t cpu, ut, st;			/* what the program saw */
};

struct off_ent {
	int32_t tid, pad;
	int64_t cpu;
};

static struct cap_ent cap[CKPT_MAX_THREADS];
static int ncap;
static struct reg_cpu_times cap_self, cap_children;

static struct off_ent offs[CKPT_MAX_THREADS];
static int noffs;
static struct cpu_off off_self, off_children;
static __thread struct cpu_off off_tls __attribute__((tls_model("initial-exec")));
static int restore_state;			/* 0, 1 computing, 2 done */
static int off_pid;				/* the process the offsets are for */

#define CPUCLOCK_SCHED		2
#define CPUCLOCK_PERTHREAD	4

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000 + (uint64_t)ts->tv_nsec;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000 + (uint64_t)tv->tv_usec * 1000;
}

/* The kernel's value of clk (raw: clock_gettime itself is the wrapper). */
static int64_t kclock(clockid_t clk)
{
	struct timespec ts;

	if (arch_sys2(SYS_clock_gettime, clk, &ts) < 0)
		return -1;
	return (int64_t)ts_ns(&ts);
}

static void krusage(int who, uint64_t *ut, uint64_t *st)
{
	struct rusage ru;

	*ut = *st = 0;
	if (arch_sys2(SYS_getrusage, who, &ru) == 0) {
		*ut = tv_ns(&ru.ru_utime);
		*st = tv_ns(&ru.ru_stime);
	}
}

int reg_cpuclock_decode(clockid_t clk, int *perthread, int *id)
{
	if (clk == CLOCK_PROCESS_CPUTIME_ID || clk == CLOCK_THREAD_CPUTIME_ID) {
		*perthread = clk == CLOCK_THREAD_CPUTIME_ID;
		*id = 0;
		return 1;
	}
	if (clk >= 0 || (clk & 3) != CPUCLOCK_SCHED)
		return 0;
	*perthread = !!(clk & CPUCLOCK_PERTHREAD);
	*id = (int)~(clk >> 3);
	return 1;
}

void ckpt_cpuclock_begin(void)
{
	__atomic_store_n(&ncap, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&restore_state, 0, __ATOMIC_RELEASE);
}

void ckpt_cpuclock_capture_thread(uint64_t *cpu_ns)
{
	int64_t k = kclock(CLOCK_THREAD_CPUTIME_ID);
	uint64_t ut, st;
	int i;

	krusage(RUSAGE_THREAD, &ut, &st);
	*cpu_ns = k < 0 ? 0 : (uint64_t)(k + off_tls.cpu);
	i = __atomic_fetch_add(&ncap, 1, __ATOMIC_RELAXED);
	if (i >= CKPT_MAX_THREADS)
		return;
	cap[i].tid = (int32_t)arch_sys0(SYS_gettid);
	cap[i].cpu = *cpu_ns;
	cap[i].ut = ut + off_tls.ut;
	cap[i].st = st + off_tls.st;
}

/*
 * Another thread's: its clock by tid, its offset in its own thread
 * variables (the same offset from its thread pointer as ours from ours:
 * initial-exec TLS), its user and system times from /proc (clock ticks).
 */
void ckpt_cpuclock_capture_tid(int tid, uint64_t fs_base, uint64_t *cpu_ns)
{
	const struct cpu_off *off = (const struct cpu_off *)(uintptr_t)
		(fs_base + ((uintptr_t)&off_tls - (uintptr_t)__builtin_thread_pointer()));
	int64_t k = kclock((clockid_t)(~(unsigned)tid << 3 | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED));
	uint64_t ut = 0, st = 0;
	char path[64], buf[1024];
	const char *s;
	int i;

	*cpu_ns = k < 0 ? 0 : (uint64_t)(k + off->cpu);
	ckpt_fmt(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (ckpt_read_file(path, buf, sizeof(buf)) > 0 && (s = __builtin_strrchr(buf, ')'))) {
		for (i = 0; i < 12 && *s; s++)	/* to field 14, utime */
			i += *s == ' ';
		ut = ckpt_parse_dec(&s) * 10000000ull;	/* USER_HZ 100 */
		s++;
		st = ckpt_parse_dec(&s) * 10000000ull;
	}
	i = __atomic_fetch_add(&ncap, 1, __ATOMIC_RELAXED);
	if (i >= CKPT_MAX_THREADS)
		return;
	cap[i].tid = tid;
	cap[i].cpu = *cpu_ns;
	cap[i].ut = ut + off->ut;
	cap[i].st = st + off->st;
}

void ckpt_cpuclock_capture_proc(struct reg_cpu_times *self, struct reg_cpu_times *children)
{
	int64_t k = kclock(CLOCK_PROCESS_CPUTIME_ID);

	krusage(RUSAGE_SELF, &self->utime_ns, &self->stime_ns);
	krusage(RUSAGE_CHILDREN, &children->utime_ns, &children->stime_ns);
	self->cpu_ns = k < 0 ? 0 : (uint64_t)(k + off_self.cpu);
	self->utime_ns += off_self.ut;
	self->stime_ns += off_self.st;
	children->cpu_ns = 0;
	children->utime_ns += off_children.ut;
	children->stime_ns += off_children.st;
	cap_self = *self;
	cap_children = *children;
}

/* The first thread of a restarted copy: every offset but the per-thread rusage ones. */
static void compute_offsets(void)
{
	uint64_t ut, st;
	int n = __atomic_load_n(&ncap, __ATOMIC_RELAXED);

	if (n > CKPT_MAX_THREADS)
		n = CKPT_MAX_THREADS;
	off_self.cpu = (int64_t)cap_self.cpu_ns - kclock(CLOCK_PROCESS_CPUTIME_ID);
	krusage(RUSAGE_SELF, &ut, &st);
	off_self.ut = (int64_t)(cap_self.utime_ns - ut);
	off_self.st = (int64_t)(cap_self.stime_ns - st);
	krusage(RUSAGE_CHILDREN, &ut, &st);
	off_children.ut = (int64_t)(cap_children.utime_ns - ut);
	off_children.st = (int64_t)(cap_children.stime_ns - st);
	for (int i = 0; i < n; i++) {
		clockid_t clk = (clockid_t)((~(unsigned)cap[i].tid << 3) | CPUCLOCK_PERTHREAD |
					    CPUCLOCK_SCHED);
		int64_t k = kclock(clk);

		offs[i].tid = cap[i].tid;
		offs[i].cpu = k < 0 ? 0 : (int64_t)cap[i].cpu - k;
	}
	__atomic_store_n(&noffs, n, __ATOMIC_RELEASE);
}

void reg_cpuclock_restored(void)
{
	int zero = 0, tid = (int)arch_sys0(SYS_gettid);
	uint64_t ut, st;

	if (__atomic_compare_exchange_n(&restore_state, &zero, 1, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		compute_offsets();
		off_pid = (int)arch_sys0(SYS_getpid);
		__atomic_store_n(&restore_state, 2, __ATOMIC_RELEASE);
	}
	while (__atomic_load_n(&restore_state, __ATOMIC_ACQUIRE) != 2)
		arch_sys0(SYS_sched_yield);
	off_tls = (struct cpu_off){ 0 };
	krusage(RUSAGE_THREAD, &ut, &st);
	for (int i = 0; i < noffs; i++) {
		if (offs[i].tid != tid)
			continue;
		off_tls.cpu = offs[i].cpu;
		off_tls.ut = (int64_t)(cap[i].ut - ut);
		off_tls.st = (int64_t)(cap[i].st - st);
		break;
	}
}

void reg_cpuclock_forget(int tid)
{
	int n = __atomic_load_n(&noffs, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++)
		if (offs[i].tid == tid)
			offs[i].tid = 0;
}

/*
 * Offsets belong to the restarted process: a child it forks (by any
 * means) has clocks of its own that start at 0, and inherits the
 * offsets in its copy of the memory.  Only the process itself uses them.
 */
static int own_offsets(void)
{
	return off_pid && off_pid == (int)arch_sys0(SYS_getpid);
}

int64_t reg_cpuclock_offset(clockid_t clk)
{
	int perthread, id, n;

	if (!reg_cpuclock_decode(clk, &perthread, &id) || !own_offsets())
		return 0;
	if (!perthread)
		return id == 0 || id == off_pid ? off_self.cpu : 0;
	if (id == 0 || id == (int)arch_sys0(SYS_gettid))
		return off_tls.cpu;
	n = __atomic_load_n(&noffs, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (offs[i].tid == id)
			return offs[i].cpu;
	return 0;
}

static void tv_add(struct timeval *tv, int64_t ns)
{
	int64_t us = (int64_t)tv->tv_sec * 1000000 + tv->tv_usec + ns / 1000;

	if (us < 0)
		us = 0;
	tv->tv_sec = us / 1000000;
	tv->tv_usec = us % 1000000;
}

void reg_cpuclock_offsets(int who, int64_t *ut, int64_t *st)
{
	const struct cpu_off *o = !own_offsets() ? NULL :
				  who == RUSAGE_THREAD ? &off_tls :
				  who == RUSAGE_CHILDREN ? &off_children :
				  who == RUSAGE_SELF ? &off_self : NULL;

	*ut = o ? o->ut : 0;
	*st = o ? o->st : 0;
}

void reg_cpuclock_rusage(int who, struct rusage *ru)
{
	int64_t ut, st;

	reg_cpuclock_offsets(who, &ut, &st);
	tv_add(&ru->ru_utime, ut);
	tv_add(&ru->ru_stime, st);
}
