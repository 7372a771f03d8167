/*
 * ckpt_signal.c - pending signals with their siginfo: taken off the
 * kernel's queues while the threads are parked, written as SIGINFO
 * records, and put back in the same order before the process goes on.
 *
 * From inside a process a pending signal cannot be read without taking
 * it (CRIU reads them from outside, with PTRACE_PEEKSIGINFO): a thread
 * dequeues with rt_sigtimedwait, its own queue first, then the
 * process's.  So:
 *  - every thread, in its handler, takes its own queue: a signal pending
 *    only there until none is left; one pending in its queue and in the
 *    process's too, one instance at a time while SigPnd still shows it
 *    (a standard signal has a single instance);
 *  - the leader, last (every other thread is parked), takes its own
 *    queue and then the process's: its own is empty by then, so what
 *    rt_sigtimedwait returns is the process's.
 * libckpt's own signal is left pending (its bit stays in the image): a
 * thread parked with its own ckpt_save() request makes it again.
 *
 * Putting back uses rt_tgsigqueueinfo / rt_sigqueueinfo with the saved
 * siginfo.  The kernel lets a thread queue an si_code >= 0 (kill(), the
 * kernel's own codes) or SI_TKILL only to itself, or to its process when
 * it is the main thread (tid == pid).  So each thread puts back its own
 * queue, and the main thread the process's, all before any of them runs
 * application code again: the leader puts back its part, asks the parked
 * threads that owe theirs to do it (ckpt_park.c: park_release = -gen),
 * waits until they have, and only then releases them.  When the main
 * thread is not parked (it exited), the leader puts the process's queue
 * back, and such signals go plainly, without their siginfo.  A restarted
 * copy gets them from the SIGINFO records, queued the same way by the
 * restorer's threads (restart/restorer.c).
 *
 * Invariants:
 *  1. One thread's entries, and the process's, are in dequeue order: each
 *     thread appends its own in order, slots come from an atomic counter.
 *  2. Every signal taken is put back once, whatever becomes of the
 *     checkpoint.  When the queue is full the rest is not taken (the
 *     checkpoint fails, nothing is lost).
 *  3. No thread runs application code before every signal is back:
 *     sigq_owed counts the parked threads that still owe theirs, and the
 *     leader releases nobody until it is 0.
 *
 * Everything here runs in signal handlers: raw system calls only.
 */
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"

#define SIGQ_MAX	1024

struct sigq_entry {
	int32_t tid;		/* 0: the process's queue */
	siginfo_t info;
};

/* 136 KiB of bss, never touched by a process without pending signals. */
static struct sigq_entry sigq[SIGQ_MAX];
static int sigq_n;		/* slots handed out (may exceed SIGQ_MAX) */
static int sigq_full;		/* a signal was left in the kernel: no room */
static int sigq_owed;		/* futex: parked threads that still owe their put-back */

_Static_assert(sizeof(siginfo_t) == IMG_SIGINFO_SIZE, "the kernel's siginfo is 128 bytes");

static int take_one(int sig, siginfo_t *si)
{
	uint64_t set = 1ULL << (sig - 1);
	struct timespec zero = { 0, 0 };

	return (int)arch_sys4(SYS_rt_sigtimedwait, &set, si, &zero, sizeof(set));
}

/* Queues one taken signal again, to thread tid (0: the process). */
static void put_one(int tid, siginfo_t *si)
{
	int pid = (int)arch_sys0(SYS_getpid), sig = si->si_signo;
	long r = tid ? arch_sys4(SYS_rt_tgsigqueueinfo, pid, tid, sig, si)
		     : arch_sys3(SYS_rt_sigqueueinfo, pid, sig, si);

	if (r == -EPERM && tid)		/* not the main thread: no forged sender */
		arch_sys3(SYS_tgkill, pid, tid, sig);
	else if (r == -EPERM || r == -ESRCH)
		arch_sys2(SYS_kill, pid, sig);
}

/* The thread's own pending set (SigPnd), 0 if unreadable. */
static uint64_t own_pending(void)
{
	char buf[2048];
	const char *s;

	if (ckpt_read_file("/proc/thread-self/status", buf, sizeof(buf)) < 0 ||
	    !(s = __builtin_strstr(buf, "\nSigPnd:\t")))
		return 0;
	s += 9;
	return ckpt_parse_hex(&s);
}

/*
 * Takes one instance of sig into the next slot, for tid: 1, 0 if none
 * was pending, -1 if the queue is full (then nothing stays taken).
 */
static int take_into(int tid, int sig)
{
	siginfo_t si;
	int slot;

	if (__atomic_load_n(&sigq_n, __ATOMIC_ACQUIRE) >= SIGQ_MAX) {
		__atomic_store_n(&sigq_full, 1, __ATOMIC_RELEASE);
		return -1;
	}
	if (take_one(sig, &si) != sig)
		return 0;
	slot = __atomic_fetch_add(&sigq_n, 1, __ATOMIC_ACQ_REL);
	if (slot >= SIGQ_MAX) {
		/* filled by another thread meanwhile: straight back (the
		 * checkpoint fails; this instance may lose its place) */
		__atomic_store_n(&sigq_full, 1, __ATOMIC_RELEASE);
		put_one(tid, &si);
		return -1;
	}
	sigq[slot].tid = tid;
	sigq[slot].info = si;
	return 1;
}

/* Takes sig's instances; `alone`: pending only where rt_sigtimedwait looks first. */
static void take_sig(int tid, int sig, int alone)
{
	if (alone) {
		while (take_into(tid, sig) > 0)
			;
	} else if (sig < 32) {		/* one instance in each queue */
		take_into(tid, sig);
	} else {
		/* own instances first: stop when the thread's own bit clears */
		while (take_into(tid, sig) > 0 && (own_pending() >> (sig - 1) & 1))
			;
	}
}

void ckpt_sig_take(struct ckpt_thread_state *t, int keep, int leader)
{
	uint64_t skip = 1ULL << (SIGKILL - 1) | 1ULL << (SIGSTOP - 1) |
			(keep > 0 ? 1ULL << (keep - 1) : 0);
	uint64_t own = t->img.sigpending & ~skip, shared = t->shdpending & ~skip;

	for (int sig = 1; sig <= 64; sig++)
		if (own >> (sig - 1) & 1)
			take_sig(t->img.tid, sig, !(shared >> (sig - 1) & 1));
	t->img.sigpending &= ~own;
	if (!leader)
		return;
	for (int sig = 1; sig <= 64; sig++)
		if (shared >> (sig - 1) & 1)
			take_sig(0, sig, 1);
	t->shdpending &= ~shared;
}

int ckpt_sig_write(struct ckpt_ctx *c)
{
	int n = __atomic_load_n(&sigq_n, __ATOMIC_ACQUIRE);
	struct img_siginfo q = { 0 };

	if (__atomic_load_n(&sigq_full, __ATOMIC_ACQUIRE))
		return ckpt_fail(c, -E2BIG, "more than %d signals are queued (pending real-time "
				 "signals): the image cannot hold them", SIGQ_MAX);
	for (int i = 0; i < n; i++) {
		q.tid = sigq[i].tid;
		__builtin_memcpy(q.info, &sigq[i].info, sizeof(q.info));
		img_write_record(&c->w, IMG_REC_SIGINFO, &q, sizeof(q), NULL, 0);
	}
	return c->w.error;
}

/* Puts back the entries for tid (0: the process's), marking them done. */
static void put_back(int tid)
{
	int n = __atomic_load_n(&sigq_n, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n && i < SIGQ_MAX; i++) {
		if (sigq[i].tid == tid) {
			put_one(tid, &sigq[i].info);
			sigq[i].tid = -1;
		}
	}
}

static int has_entries(int tid)
{
	int n = __atomic_load_n(&sigq_n, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n && i < SIGQ_MAX; i++)
		if (sigq[i].tid == tid)
			return 1;
	return 0;
}

/* Whether thread tid is parked in one of the first nslots slots. */
static int parked(int tid, int nslots)
{
	for (int i = 0; i < nslots; i++)
		if (ckpt_parked[i].ready && !ckpt_parked[i].kstopped && ckpt_parked[i].img.tid == tid)
			return 1;
	return 0;
}

static void queue_done(void)
{
	__atomic_store_n(&sigq_n, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&sigq_full, 0, __ATOMIC_RELEASE);
}

int ckpt_sig_release(int self, int nslots)
{
	int pid = (int)arch_sys0(SYS_getpid), n = __atomic_load_n(&sigq_n, __ATOMIC_ACQUIRE);
	int owed = 0;

	if (!n)
		return 0;
	/* what no parked thread can put back: the leader's own, maybe the process's */
	for (int i = 0; i < n && i < SIGQ_MAX; i++) {
		int tid = sigq[i].tid;

		if (tid == self || (tid == 0 && (self == pid || !parked(pid, nslots))) ||
		    (tid > 0 && !parked(tid, nslots))) {
			put_one(tid, &sigq[i].info);
			sigq[i].tid = -1;
		}
	}
	for (int i = 0; i < nslots; i++) {
		struct ckpt_thread_state *t = &ckpt_parked[i];

		t->sig_owed = t->ready && !t->kstopped && t->img.tid > 0 &&
			      (has_entries(t->img.tid) || (t->img.tid == pid && has_entries(0)));
		owed += t->sig_owed;
	}
	__atomic_store_n(&sigq_owed, owed, __ATOMIC_RELEASE);
	if (!owed)
		queue_done();
	return owed;
}

void ckpt_sig_put_own(struct ckpt_thread_state *t)
{
	if (!t->sig_owed)
		return;
	t->sig_owed = 0;
	put_back(t->img.tid);
	if (t->img.tid == arch_sys0(SYS_getpid))
		put_back(0);
	if (__atomic_sub_fetch(&sigq_owed, 1, __ATOMIC_ACQ_REL) == 0)
		arch_sys3(SYS_futex, &sigq_owed, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1);
}

void ckpt_sig_wait_back(void)
{
	int v;

	while ((v = __atomic_load_n(&sigq_owed, __ATOMIC_ACQUIRE)) != 0)
		arch_sys4(SYS_futex, &sigq_owed, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, v, NULL);
	queue_done();
}

void ckpt_sig_reset(void)
{
	queue_done();
	__atomic_store_n(&sigq_owed, 0, __ATOMIC_RELEASE);
}
