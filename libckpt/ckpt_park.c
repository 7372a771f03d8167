/*
 * ckpt_park.c - stopping every other thread while the leader checkpoints.
 *
 * The leader (the thread whose handler runs the checkpoint) sends each
 * other thread the checkpoint signal with rt_tgsigqueueinfo, marked as a
 * park request of generation G.  A thread's handler then captures its own
 * state into a slot, publishes it, and waits on a futex until the leader
 * releases generation G.  The signal cannot be blocked or replaced by the
 * application (wrappers/wrap_signal.c), so every thread parks at whatever
 * instruction it was: inside malloc, holding a lock, in a system call —
 * the checkpoint never needs a lock the application may hold.
 *
 * Invariants:
 *  1. One leader at a time (park_busy).  A trigger arriving while another
 *     checkpoint runs is refused with EBUSY; its thread then parks for the
 *     running one as soon as its handler returns (the request waits,
 *     blocked, meanwhile).
 *  2. Between ckpt_park_all() and ckpt_release_all() no thread of the
 *     process runs application code: park_all rescans /proc/self/task
 *     until every listed thread is parked, so a thread created meanwhile
 *     is parked too.
 *  3. A parked thread only touches its own slot, the futex words and,
 *     asked to, its own entries of the signal queue (ckpt_signal.c); its
 *     stack (with the kernel's frame of its interrupted context) is part
 *     of the memory the leader saves.
 *  4. A park request of an older generation is ignored (stale).
 *  5. The release knows every thread that parked: it stops parking
 *     (park_gen 0) and waits until each slot handed out is published, so
 *     a thread that parked late, after the leader gave up waiting, still
 *     puts back the signals it took (ckpt_signal.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/reg_attr.h"
#include "kernel-assist/module/ckpt_assist_uapi.h"

#define PARK_MAGIC		0x504b0000u	/* "PK" in the high half */
#define PARK_TIMEOUT_NS		(10ull * 1000000000)

struct ckpt_thread_state ckpt_parked[CKPT_MAX_THREADS];
int ckpt_nparked;

static int park_busy;			/* tid of the leader, 0 if none */
static int park_gen;			/* generation being parked, 0 if none */
static int park_slots;			/* slots handed out */
static int park_ready;			/* futex: slots published */
static int park_release;		/* futex: last generation released */

static long futex(int *uaddr, int op, int val, const struct timespec *ts)
{
	return arch_sys4(SYS_futex, uaddr, op | FUTEX_PRIVATE_FLAG, val, ts);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ckpt_park_request(const siginfo_t *info)
{
	return info->si_code == SI_QUEUE && info->si_pid == getpid() &&
	       ((unsigned)info->si_value.sival_int & 0xffff0000u) == PARK_MAGIC;
}

void ckpt_park_self(siginfo_t *info, ucontext_t *uc)
{
	int gen = info->si_value.sival_int & 0xffff;
	int slot;

	if (gen != __atomic_load_n(&park_gen, __ATOMIC_SEQ_CST))
		return;				/* stale request */
	slot = __atomic_fetch_add(&park_slots, 1, __ATOMIC_SEQ_CST);
	if (slot < CKPT_MAX_THREADS) {
		struct ckpt_thread_state *t = &ckpt_parked[slot];

		/*
		 * Invariant 5: the leader stops parking (park_gen 0) and then
		 * counts the slots; a thread that got its slot after that sees
		 * park_gen 0 here and stays out, holding nothing.
		 */
		if (gen != __atomic_load_n(&park_gen, __ATOMIC_SEQ_CST)) {
			t->img.tid = 0;
			t->sig_owed = 0;
			__atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
			__atomic_fetch_add(&park_ready, 1, __ATOMIC_RELEASE);
			futex(&park_ready, FUTEX_WAKE, 1, NULL);
			return;
		}
		ckpt_thread_capture(t, info, uc);
		ckpt_sig_take(t, info->si_signo, 0);
		__atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
	}
	__atomic_fetch_add(&park_ready, 1, __ATOMIC_RELEASE);
	futex(&park_ready, FUTEX_WAKE, 1, NULL);
	for (;;) {
		int rel = __atomic_load_n(&park_release, __ATOMIC_ACQUIRE);

		if (rel == gen)
			break;
		if (rel == -gen && slot < CKPT_MAX_THREADS)	/* put your signals back */
			ckpt_sig_put_own(&ckpt_parked[slot]);
		futex(&park_release, FUTEX_WAIT, rel, NULL);
	}
}

int ckpt_leader_enter(struct ckpt_ctx *c)
{
	int zero = 0, tid = arch_sys0(SYS_gettid);

	if (!__atomic_compare_exchange_n(&park_busy, &zero, tid, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return ckpt_fail(c, -EBUSY, "another checkpoint of this process is in progress");
	return 0;
}

static int is_parked(int tid)
{
	int n = __atomic_load_n(&park_slots, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n && i < CKPT_MAX_THREADS; i++)
		if (__atomic_load_n(&ckpt_parked[i].ready, __ATOMIC_ACQUIRE) &&
		    ckpt_parked[i].img.tid == tid)
			return 1;
	return 0;
}

static const char blocked_hint[] =
	": it blocks libckpt's signal (glibc's thread for SIGEV_THREAD timers and mq_notify "
	"blocks every signal); with the kernel-assist module loaded (" CKPT_ASSIST_DEV ") "
	"libckpt stops such a thread itself";

/* Whether thread tid has libckpt's signal blocked (SigBlk), as a stuck one may. */
static int blocks_ours(struct ckpt_ctx *c, int tid)
{
	char path[64], *buf = (char *)c->bounce;
	const char *s;

	ckpt_fmt(path, sizeof(path), "/proc/self/task/%d/status", tid);
	if (ckpt_read_file(path, buf, 4096) < 0 || !(s = __builtin_strstr(buf, "\nSigBlk:\t")))
		return 0;
	s += 9;
	return ckpt_parse_hex(&s) >> (c->ctl_sig_no - 1) & 1;
}

struct park_walk {
	struct ckpt_ctx *c;
	int self, pid, waiting, straggler, strict;
	int kstop_after;		/* 0 none yet; 1 unasked blockers; 2 asked ones too */
	uint8_t *asked;
};

/*
 * Invariant 6: a thread that blocks libckpt's signal is stopped through the
 * kernel-assist module (ckpt_kstop.c), when there is one, in place of
 * parking.  Not at the first pass: a thread may block every signal for an
 * instant (glibc does around clone) and park a moment later, capturing
 * what only it can read.  One it was never asked is stopped from
 * KSTOP_UNASKED_NS on (it is never sent a request it would hold pending),
 * one asked before it blocked from KSTOP_ASKED_NS on.  Both count from
 * when this thread was first seen blocking (blk_first): a thread made
 * meanwhile starts with every signal blocked (glibc's pthread_create) and
 * must be let finish its start (rseq, its mask) before it may be stopped.
 */
#define KSTOP_UNASKED_NS	(50ull * 1000000)
#define KSTOP_ASKED_NS		(1000ull * 1000000)
#define BLK_SLOTS		256

static struct { int tid; uint64_t ns; } blk_seen[BLK_SLOTS];	/* this checkpoint's */
static int blk_n;

/* Since when tid has been seen blocking libckpt's signal (now, the first time). */
static uint64_t blk_first(int tid, uint64_t now)
{
	for (int i = 0; i < blk_n; i++)
		if (blk_seen[i].tid == tid)
			return blk_seen[i].ns;
	if (blk_n < BLK_SLOTS) {
		blk_seen[blk_n].tid = tid;
		blk_seen[blk_n++].ns = now;
		return now;
	}
	return 0;			/* table full: counted from the park's start */
}

/*
 * Takes a slot for tid and has the module stop it; the slot is published
 * whatever happens.  0 stopped (or gone), 1 not now (inside libckpt's
 * handler), -errno.
 */
static int kstop_one(struct ckpt_ctx *c, int tid)
{
	int slot = __atomic_fetch_add(&park_slots, 1, __ATOMIC_SEQ_CST), r;
	struct ckpt_thread_state *t;

	if (slot >= CKPT_MAX_THREADS)
		return 0;			/* ckpt_park_all refuses: too many */
	t = &ckpt_parked[slot];
	t->kstopped = 0;
	r = ckpt_kstop_thread(c, tid, t);
	if (r == -ESRCH || r == -EINPROGRESS)
		t->img.tid = 0;			/* an empty slot */
	__atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&park_ready, 1, __ATOMIC_RELEASE);
	return r == -ESRCH ? 0 : r == -EINPROGRESS ? 1 : r;
}

/*
 * A thread in seccomp strict mode is killed, with its process, by the
 * first system call of its handler: it must not be asked to park.  Looked
 * for only once the process entered strict mode through libc (reg_attr.h):
 * it costs a /proc read per thread.
 */
static int in_strict_mode(int tid)
{
	char path[64], buf[2048];
	int64_t mode;

	if (!reg_seccomp_strict_seen())
		return 0;
	ckpt_fmt(path, sizeof(path), "/proc/self/task/%d/status", tid);
	return ckpt_read_file(path, buf, sizeof(buf)) > 0 &&
	       ckpt_status_field(buf, "Seccomp", &mode) == 0 && mode == 1;
}

/*
 * Asks one thread to park, unless it is us, parked, or already asked; or
 * has the module stop it (Invariant 6).
 */
static int park_one(int tid, int dirfd, void *arg)
{
	struct park_walk *w = arg;
	siginfo_t si = { 0 };
	int asked, r;

	if (tid == w->self || is_parked(tid))
		return 0;
	w->waiting++;
	w->straggler = tid;
	if (tid >= (1 << 22))
		return 0;
	asked = (w->asked[tid / 8] & (1 << (tid % 8))) != 0;
	if (asked && w->kstop_after < 2)
		return 0;
	if (in_strict_mode(tid)) {
		w->strict = tid;
		return -ENOTSUP;
	}
	if (blocks_ours(w->c, tid) && ckpt_kstop_available()) {
		uint64_t now = now_ns(), since = now - blk_first(tid, now);

		if (w->kstop_after < 1 + asked ||
		    since < (asked ? KSTOP_ASKED_NS : KSTOP_UNASKED_NS))
			return 0;		/* not yet; never asked meanwhile */
		if ((r = kstop_one(w->c, tid)) == 0)
			w->waiting--;
		return r;
	}
	if (asked)
		return 0;
	si.si_signo = w->c->ctl_sig_no;
	si.si_code = SI_QUEUE;
	si.si_pid = w->pid;
	si.si_uid = getuid();
	si.si_value.sival_int = PARK_MAGIC | park_gen;
	if (arch_sys4(SYS_rt_tgsigqueueinfo, w->pid, tid, w->c->ctl_sig_no, &si) == 0)
		w->asked[tid / 8] |= 1 << (tid % 8);
	else
		w->waiting--;			/* gone meanwhile */
	return 0;
}

/*
 * One pass over /proc/self/task: asks every thread not parked yet (and not
 * asked in this generation) to park.  Returns how many threads are still
 * not parked, or -errno.
 */
static int park_pass(struct ckpt_ctx *c, int self, uint8_t *asked, int *straggler,
		     int kstop_after)
{
	struct park_walk w = { c, self, getpid(), 0, 0, 0, kstop_after, asked };
	int r = ckpt_proc_each("/proc/self/task", park_one, &w);

	if (w.straggler)
		*straggler = w.straggler;
	if (r < 0 && c->error)
		return r;			/* a thread the module could not stop: said */
	if (w.strict)
		return ckpt_fail(c, -ENOTSUP, "thread %d is in seccomp strict mode "
				 "(SECCOMP_MODE_STRICT), which cannot be restored (and whose "
				 "first system call for the checkpoint would kill the process)",
				 w.strict);
	return r < 0 ? r : w.waiting;
}

struct blocker_walk {
	struct ckpt_ctx *c;
	int self, found;
};

static int blocker_one(int tid, int dirfd, void *arg)
{
	struct blocker_walk *b = arg;

	(void)dirfd;
	if (tid != b->self && !is_parked(tid) && blocks_ours(b->c, tid)) {
		b->found = tid;
		return 1;
	}
	return 0;
}

/* A thread not parked that blocks libckpt's signal (the one to name), or 0. */
static int find_blocker(struct ckpt_ctx *c, int self)
{
	struct blocker_walk b = { c, self, 0 };

	ckpt_proc_each("/proc/self/task", blocker_one, &b);
	return b.found;
}

int ckpt_park_all(struct ckpt_ctx *c)
{
	static int gen;
	int self = arch_sys0(SYS_gettid), straggler = 0, left;
	uint8_t *asked = c->asked;		/* fresh scratch: all zero */
	uint64_t start = now_ns(), deadline = start + PARK_TIMEOUT_NS;

	blk_n = 0;

	gen = (gen % 0xfffe) + 1;
	/*
	 * Slots the last generation used may say "ready" with a stale tid:
	 * clear them (not all CKPT_MAX_THREADS: that would touch, and keep
	 * resident, the whole array at every checkpoint).
	 */
	int used = __atomic_exchange_n(&park_slots, 0, __ATOMIC_ACQ_REL);

	__atomic_store_n(&park_ready, 0, __ATOMIC_RELEASE);
	for (int i = 0; i < used && i < CKPT_MAX_THREADS; i++)
		ckpt_parked[i].ready = 0;
	__atomic_store_n(&park_gen, gen, __ATOMIC_RELEASE);

	/*
	 * park_ready is read before each pass: a thread that parks after that
	 * read changes it, so the wait below returns at once.  (Read after the
	 * pass, a thread that parked in between would be counted in `seen` yet
	 * missed by the pass, and the leader would sleep the whole timeout.)
	 */
	for (;;) {
		int seen = __atomic_load_n(&park_ready, __ATOMIC_ACQUIRE);
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		uint64_t t = now_ns() - start;

		if ((left = park_pass(c, self, asked, &straggler, t >= KSTOP_ASKED_NS ? 2 :
				      t >= KSTOP_UNASKED_NS)) <= 0)
			break;
		if (now_ns() > deadline) {
			int b = find_blocker(c, self);

			return ckpt_fail(c, -ETIMEDOUT, "thread %d did not stop for the checkpoint "
					 "within %llu s%s", b ? b : straggler,
					 (unsigned long long)(PARK_TIMEOUT_NS / 1000000000),
					 b ? blocked_hint : "");
		}
		futex(&park_ready, FUTEX_WAIT, seen, &ts);
	}
	if (left < 0)
		return ckpt_fail(c, left, "cannot list the process's threads");	/* first cause wins */
	ckpt_nparked = __atomic_load_n(&park_slots, __ATOMIC_ACQUIRE);
	if (ckpt_nparked > CKPT_MAX_THREADS)
		return ckpt_fail(c, -E2BIG, "the process has more than %d threads", CKPT_MAX_THREADS);
	return 0;
}

void ckpt_park_reset(void)
{
	ckpt_sig_reset();
	ckpt_kstop_reset();
	__atomic_store_n(&park_gen, 0, __ATOMIC_RELEASE);
	ckpt_nparked = 0;
	__atomic_store_n(&park_busy, 0, __ATOMIC_RELEASE);
}

/* Invariant 5: no more parking; every slot handed out is published. */
static int park_close(void)
{
	int n;

	__atomic_store_n(&park_gen, 0, __ATOMIC_SEQ_CST);
	n = __atomic_load_n(&park_slots, __ATOMIC_SEQ_CST);
	if (n > CKPT_MAX_THREADS)
		n = CKPT_MAX_THREADS;
	for (int i = 0; i < n; i++) {
		while (!__atomic_load_n(&ckpt_parked[i].ready, __ATOMIC_ACQUIRE)) {
			int seen = __atomic_load_n(&park_ready, __ATOMIC_ACQUIRE);
			struct timespec ms = { 0, 1000000 };

			if (!__atomic_load_n(&ckpt_parked[i].ready, __ATOMIC_ACQUIRE))
				futex(&park_ready, FUTEX_WAIT, seen, &ms);
		}
	}
	return n;
}

void ckpt_release_all(struct ckpt_ctx *c)
{
	int gen = __atomic_load_n(&park_gen, __ATOMIC_ACQUIRE);
	int nslots = gen ? park_close() : 0;

	/*
	 * Pending signals taken for the image go back first, each thread its
	 * own (ckpt_signal.c): the parked ones are asked with -gen, and none
	 * runs on before all are back.
	 */
	if (ckpt_sig_release(arch_sys0(SYS_gettid), nslots) > 0) {
		__atomic_store_n(&park_release, -gen, __ATOMIC_RELEASE);
		futex(&park_release, FUTEX_WAKE, 0x7fffffff, NULL);
		ckpt_sig_wait_back();
	}
	ckpt_kstop_release(nslots);	/* Invariant 6: the ones the module stopped */
	if (gen) {
		__atomic_store_n(&park_release, gen, __ATOMIC_RELEASE);
		futex(&park_release, FUTEX_WAKE, 0x7fffffff, NULL);
	}
	ckpt_nparked = 0;
	__atomic_store_n(&park_busy, 0, __ATOMIC_RELEASE);
}
