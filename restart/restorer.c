/*
 * restorer.c - the last steps of a restart, run from a copy of this code
 * in a mapping of its own after the restarter's memory is gone (the
 * sequence is in restorer.h).
 *
 * Rules for this file (tools/check-restorer.sh enforces the first two):
 *  - every function and datum is in section "ckpt_restorer", so the copy
 *    is complete; no string literals, no switch tables, no globals;
 *  - nothing from libc or any other object: raw system calls only;
 *  - memory is only touched through the argument block, the blob stack,
 *    and the addresses the image names.
 */
#include <asm/prctl.h>
#include <linux/mman.h>
#include <linux/ioctl.h>
#include <linux/userfaultfd.h>
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"
#include "restart/restorer.h"
#include "kernel-assist/module/ckpt_assist_uapi.h"

#define RST __attribute__((section("ckpt_restorer"), used))
#define RST_INLINE static inline __attribute__((always_inline))

#define PROT_READ_	0x1
#define PROT_WRITE_	0x2
#define MAP_SHARED_	0x01
#define MAP_PRIVATE_	0x02
#define MAP_FIXED_	0x10
#define MAP_ANON_	0x20
#define MAP_NORESERVE_	0x4000
#define MREMAP_MAYMOVE_	1
#define MREMAP_FIXED_	2
#define SA_RESTORER_	0x04000000
#define MADV_RANDOM_		1
#define MADV_SEQUENTIAL_	2
#define MADV_DONTFORK_		10
#define MADV_MERGEABLE_		12
#define MADV_HUGEPAGE_		14
#define MADV_NOHUGEPAGE_	15
#define MADV_DONTDUMP_		16
#define MADV_WIPEONFORK_	18
#define MADV_GUARD_INSTALL_	102
#define MLOCK_ONFAULT_		1
#define MCL_FUTURE_		2
#define MCL_ONFAULT_		4
#define ENOMEM_			12
#define SYS_mseal_		462
#define PROT_NONE_		0
#define TASK_TOP	0x7ffffffff000ULL
#define RSEQ_SIG_UNUSED	0

RST static void rst_copy(void *dst, const void *src, uint64_t n)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (uint64_t i = 0; i < n / 8; i++)
		d[i] = s[i];
}

RST static void rst_zero(void *dst, uint64_t n)
{
	volatile uint8_t *d = dst;

	for (uint64_t i = 0; i < n; i++)
		d[i] = 0;
}

RST static int rst_put_num(char *buf, int n, long v)
{
	char tmp[24];
	int t = 0;

	do {
		tmp[t++] = '0' + v % 10;
		v /= 10;
	} while (v > 0 && t < 20);
	while (t)
		buf[n++] = tmp[--t];
	return n;
}

RST static int rst_put_str(char *buf, int n, const char *s, int max)
{
	for (int i = 0; s[i] && i < max; i++)
		buf[n++] = s[i];
	return n;
}

/* Writes "<msg><step><msg_errno><e>\n" to ckpt-restart's stderr and exits. */
RST __attribute__((noreturn)) static void rst_fail(struct rst_args *a, long step, long err)
{
	char buf[200];
	int n = 0;

	n = rst_put_str(buf, n, a->msg, 100);
	n = rst_put_num(buf, n, step);
	n = rst_put_str(buf, n, a->msg_errno, 16);
	n = rst_put_num(buf, n, -err);
	buf[n++] = '\n';
	arch_sys3(SYS_write, a->err_fd, buf, n);
	if (a->tree_sync) {		/* the rest of the tree stops too */
		struct rst_tree_sync *y = (struct rst_tree_sync *)a->tree_sync;

		__atomic_store_n(&y->abort, 1, __ATOMIC_RELEASE);
		arch_sys3(SYS_futex, &y->ready, 1 /* FUTEX_WAKE, shared */, 0x7fffffff);
	}
	arch_sys1(SYS_exit_group, RST_EXIT_FAILED);
	for (;;)
		;
}

#define CHECK(a, step, expr) do {				\
		long r_ = (long)(expr);				\
		if (r_ < 0 && r_ > -4096)			\
			rst_fail((a), (step), r_);		\
	} while (0)

/* Step 1: unmap the gaps between the ranges to keep. */
RST static void rst_unmap_others(struct rst_args *a)
{
	uint64_t from = 0x1000;

	for (uint32_t i = 0; i <= a->nkeep; i++) {
		uint64_t to = i < a->nkeep ? a->keep[i].start : TASK_TOP;

		if (to > from)
			CHECK(a, 1, arch_sys2(SYS_munmap, from, to - from));
		if (i < a->nkeep && a->keep[i].end > from)
			from = a->keep[i].end;
	}
}

/*
 * Step 2: vdso and vvar to the image's addresses: straight there when no
 * target overlaps a place one of them still is (the usual case, with
 * ASLR), else via the parking spot.
 */
RST static void rst_move_vdso(struct rst_args *a)
{
	uint64_t park = a->park;
	int direct = 1;

	for (uint32_t i = 0; i < a->nmoves; i++)
		for (uint32_t k = 0; k < a->nmoves; k++)
			if (a->moves[i].to < a->moves[k].from + a->moves[k].len &&
			    a->moves[k].from < a->moves[i].to + a->moves[i].len)
				direct = 0;
	for (uint32_t i = 0; !direct && i < a->nmoves; i++) {
		struct rst_move *m = &a->moves[i];

		CHECK(a, 2, arch_sys5(SYS_mremap, m->from, m->len, m->len,
				      MREMAP_MAYMOVE_ | MREMAP_FIXED_, park));
		m->from = park;
		park += m->len;
	}
	for (uint32_t i = 0; i < a->nmoves; i++) {
		struct rst_move *m = &a->moves[i];

		CHECK(a, 3, arch_sys5(SYS_mremap, m->from, m->len, m->len,
				      MREMAP_MAYMOVE_ | MREMAP_FIXED_, m->to));
	}
}

/* Step 3: the image's mappings. */

/* Ops [i, j) map one file contiguously: ops[i] may map them all at once. */
RST static uint32_t rst_file_group(struct rst_args *a, uint32_t i)
{
	uint32_t j = i + 1;

	while (j < a->nops) {
		struct rst_op *p = &a->ops[j - 1], *o = &a->ops[j];

		if (o->kind != RST_FILE || o->fd != p->fd || o->mmap_flags != p->mmap_flags ||
		    o->start != p->end || o->pgoff != p->pgoff + (p->end - p->start))
			break;
		j++;
	}
	return j;
}

/*
 * A file op whose range is already mapped from its file (by its group's
 * first op, read-only): its modified pages are copied in (made writable
 * for that, so each becomes the private copy it was), then it gets its
 * own prot.
 */
RST static void rst_file_fill(struct rst_args *a, struct rst_op *op)
{
	uint64_t len = op->end - op->start;

	if (op->run_count) {
		CHECK(a, 7, arch_sys3(SYS_mprotect, op->start, len, op->prot | PROT_WRITE_));
		for (uint32_t r = 0; r < op->run_count; r++) {
			struct rst_run *run = &a->runs[op->run_first + r];

			rst_copy((void *)(op->start + run->off),
				 (void *)(op->staging + run->off), run->len);
		}
	}
	if (op->run_count || op->prot != PROT_READ_)
		CHECK(a, 7, arch_sys3(SYS_mprotect, op->start, len, op->prot));
}

/*
 * SysV attaches from op i on: the ops of one attach (one segment, one
 * set of shmat flags, adjacent, each going on at the next offset) are
 * made by one shmat(), where the kernel chooses (a placeholder holds the
 * target so that it does not choose there), moved to the target whole
 * (mremap) and cut to the part the process had; then each op its own
 * protection.  The kernel never merges pieces of an attach again (its
 * vm_ops close), so each op is made a mapping of its own, as the
 * process's were (each counts in the segment's nattch): PROT_NONE first,
 * then its protection.  The segment exists: ckpt-restart made it, and
 * keeps one removed with IPC_RMID alive with its own attach (shm_drop).
 */
RST static uint32_t rst_shm_ops(struct rst_args *a, uint32_t i)
{
	struct rst_op *op = &a->ops[i];
	uint32_t j = i + 1;
	uint64_t span, rest;
	long tmp;

	while (j < a->nops) {
		struct rst_op *p = &a->ops[j - 1], *o = &a->ops[j];

		if (o->kind != RST_SHM || o->fd != p->fd || o->mmap_flags != p->mmap_flags ||
		    o->start != p->end || o->pgoff != p->pgoff + (p->end - p->start))
			break;
		j++;
	}
	span = a->ops[j - 1].end - op->start;
	CHECK(a, 33, arch_sys6(SYS_mmap, op->start, span, PROT_NONE_,
			       MAP_PRIVATE_ | MAP_ANON_ | MAP_FIXED_, -1, 0));
	tmp = arch_sys3(SYS_shmat, op->fd, 0, op->mmap_flags);
	CHECK(a, 33, tmp);
	CHECK(a, 33, arch_sys5(SYS_mremap, tmp + op->pgoff, span, span,
			       MREMAP_MAYMOVE_ | MREMAP_FIXED_, op->start));
	if (op->pgoff)
		CHECK(a, 33, arch_sys2(SYS_munmap, tmp, op->pgoff));
	rest = op->staging - op->pgoff - span;
	if (op->staging > op->pgoff + span)
		CHECK(a, 33, arch_sys2(SYS_munmap, tmp + op->pgoff + span, rest));
	for (uint32_t k = i; k < j; k++) {
		struct rst_op *o = &a->ops[k];

		if (j - i > 1)
			CHECK(a, 33, arch_sys3(SYS_mprotect, o->start, o->end - o->start, PROT_NONE_));
		CHECK(a, 33, arch_sys3(SYS_mprotect, o->start, o->end - o->start, o->prot));
	}
	return j;
}

/*
 * Ops from i on (one op, or a group of file ops, which a library's
 * segments are: one mmap and a few mprotects instead of an mmap each).
 * Returns the next op to do.
 */
RST static uint32_t rst_map_ops(struct rst_args *a, uint32_t i)
{
	struct rst_op *op = &a->ops[i];
	uint64_t len = op->end - op->start;

	if (op->kind == RST_MOVE) {
		CHECK(a, 4, arch_sys5(SYS_mremap, op->staging, len, len,
				      MREMAP_MAYMOVE_ | MREMAP_FIXED_, op->start));
		/* staging is read-write already */
		if (op->prot != (PROT_READ_ | PROT_WRITE_))
			CHECK(a, 7, arch_sys3(SYS_mprotect, op->start, len, op->prot));
		return i + 1;
	}
	if (op->kind == RST_ANON) {
		CHECK(a, 5, arch_sys6(SYS_mmap, op->start, len, op->prot,
				      op->mmap_flags | MAP_ANON_ | MAP_FIXED_, -1, 0));
		return i + 1;
	}
	if (op->kind == RST_SHM)
		return rst_shm_ops(a, i);
	uint32_t j = rst_file_group(a, i);

	CHECK(a, 6, arch_sys6(SYS_mmap, op->start, a->ops[j - 1].end - op->start, PROT_READ_,
			      op->mmap_flags | MAP_FIXED_, op->fd, op->pgoff));
	for (uint32_t k = i; k < j; k++)
		rst_file_fill(a, &a->ops[k]);
	return j;
}

/* One madvise() over the op's mapping when it had `bit`. */
RST_INLINE void rst_advise(struct rst_args *a, const struct rst_op *op, uint32_t bit, int advice)
{
	if (op->attrs & bit)
		CHECK(a, 29, arch_sys3(SYS_madvise, op->start, op->end - op->start, advice));
}

/*
 * Step 28-30: each mapping's attributes, once its pages are in place.
 * Guards first: the kernel refuses MADV_GUARD_INSTALL in locked memory,
 * and mlock() of memory with guards locks it but then fails to fault in
 * the guard pages (ENOMEM), as it did in the original.
 */
RST static void rst_attrs(struct rst_args *a)
{
	for (uint32_t i = 0; i < a->nops; i++) {
		const struct rst_op *op = &a->ops[i];

		for (uint32_t g = 0; g < op->guard_count; g++) {
			const struct rst_range *r = &a->guards[op->guard_first + g];

			CHECK(a, 28, arch_sys3(SYS_madvise, r->start, r->end - r->start,
					       MADV_GUARD_INSTALL_));
		}
		rst_advise(a, op, IMG_VMA_ATTR_DONTFORK, MADV_DONTFORK_);
		rst_advise(a, op, IMG_VMA_ATTR_DONTDUMP, MADV_DONTDUMP_);
		rst_advise(a, op, IMG_VMA_ATTR_HUGEPAGE, MADV_HUGEPAGE_);
		rst_advise(a, op, IMG_VMA_ATTR_NOHUGEPAGE, MADV_NOHUGEPAGE_);
		rst_advise(a, op, IMG_VMA_ATTR_WIPEONFORK, MADV_WIPEONFORK_);
		rst_advise(a, op, IMG_VMA_ATTR_MERGEABLE, MADV_MERGEABLE_);
		rst_advise(a, op, IMG_VMA_ATTR_SEQUENTIAL, MADV_SEQUENTIAL_);
		rst_advise(a, op, IMG_VMA_ATTR_RANDOM, MADV_RANDOM_);
		if (op->attrs & IMG_VMA_ATTR_LOCKED) {
			long r = arch_sys3(SYS_mlock2, op->start, op->end - op->start,
					   op->attrs & IMG_VMA_ATTR_LOCKONFAULT ? MLOCK_ONFAULT_ : 0);

			if (!(r == -ENOMEM_ && op->guard_count))
				CHECK(a, 30, r);
		}
	}
}

/* Step 31-32: what must come after every other change to the mappings. */
RST static void rst_attrs_last(struct rst_args *a)
{
	if (a->mcl & IMG_MCL_FUTURE)
		CHECK(a, 31, arch_sys1(SYS_mlockall, MCL_FUTURE_ |
				       (a->mcl & IMG_MCL_ONFAULT ? MCL_ONFAULT_ : 0)));
	for (uint32_t i = 0; i < a->nops; i++) {
		const struct rst_op *op = &a->ops[i];

		if (op->attrs & IMG_VMA_ATTR_SEALED)
			CHECK(a, 32, arch_sys3(SYS_mseal_, op->start, op->end - op->start, 0));
	}
}

/*
 * --lazy: the lazy ranges are mapped, empty; a userfaultfd registered on
 * them goes to the page server (restart/restart_lazy.c) before anything
 * touches them.  From here on a first touch waits for the server, from
 * user mode or inside a system call alike (no UFFD_USER_MODE_ONLY).
 */
RST static void rst_lazy_attach(struct rst_args *a)
{
	struct uffdio_api api = { UFFD_API, a->uffd_features, 0 };
	struct uffdio_register reg;
	struct { uint64_t len; int32_t level, type, fd, pad; } cm = { 20, 1, 1, 0, 0 };
	char byte = 0;
	struct { void *base; uint64_t len; } iov = { &byte, 1 };
	struct {
		void *name; uint32_t namelen, pad0; void *iov; uint64_t iovlen;
		void *control; uint64_t controllen; int32_t flags, pad1;
	} mh = { 0, 0, 0, &iov, 1, &cm, 24, 0, 0 };
	long fd = arch_sys1(SYS_userfaultfd, 02000000 | 04000);	/* O_CLOEXEC | O_NONBLOCK */

	CHECK(a, 20, fd);
	CHECK(a, 21, arch_sys3(SYS_ioctl, fd, UFFDIO_API, &api));
	for (uint32_t i = 0; i < a->nlazy; i++) {
		reg.range.start = a->lazy[i].start;
		reg.range.len = a->lazy[i].end - a->lazy[i].start;
		reg.mode = UFFDIO_REGISTER_MODE_MISSING;
		reg.ioctls = 0;
		CHECK(a, 22, arch_sys3(SYS_ioctl, fd, UFFDIO_REGISTER, &reg));
	}
	cm.fd = (int32_t)fd;
	CHECK(a, 23, arch_sys3(SYS_sendmsg, a->lazy_fd, &mh, 0x4000 /* MSG_NOSIGNAL */));
	arch_sys1(SYS_close, fd);
	arch_sys1(SYS_close, a->lazy_fd);
}

/*
 * A POSIX lock the restorer could not take again: someone took it in the
 * moment between the close that dropped it and now.  The message names
 * the file and range (prepared by ckpt-restart), then the holder: F_GETLK
 * says its pid (-1 for an OFD lock), /proc/PID/comm its name.
 */
RST __attribute__((noreturn)) static void rst_relock_fail(struct rst_args *a,
							  struct rst_relock *k, long err)
{
	struct rst_flock fl = { k->type, 0, 0, k->start, k->len, 0, 0 };
	char buf[RST_RELOCK_MSG + 160], path[48];
	int n = rst_put_str(buf, 0, k->msg, RST_RELOCK_MSG);

	if (arch_sys3(SYS_fcntl, k->fd, 5 /* F_GETLK */, &fl) == 0 && fl.type != 2 && fl.pid > 0) {
		int p = rst_put_str(path, 0, a->lk_text[3], 16);
		long cfd, got;

		p = rst_put_num(path, p, fl.pid);
		p = rst_put_str(path, p, a->lk_text[4], 16);
		path[p] = 0;
		n = rst_put_num(buf, n, fl.pid);
		n = rst_put_str(buf, n, a->lk_text[0], 8);
		cfd = arch_sys2(SYS_open, path, 0 /* O_RDONLY */);
		if (cfd >= 0) {
			got = arch_sys3(SYS_read, cfd, buf + n, 16);
			arch_sys1(SYS_close, cfd);
			for (long i = 0; i < got && buf[n] != '\n'; i++)
				n++;
		}
		n = rst_put_str(buf, n, a->lk_text[1], 60);
	} else if (fl.type != 2 && fl.pid < 0) {
		n = rst_put_str(buf, n, a->lk_text[2], 60);
		n = rst_put_str(buf, n, a->lk_text[1], 60);
	} else {
		n = rst_put_str(buf, n, a->lk_text[2], 7);	/* "unknown" */
		n = rst_put_str(buf, n, a->msg_errno, 16);
		n = rst_put_num(buf, n, -err);
	}
	buf[n++] = '\n';
	arch_sys3(SYS_write, a->err_fd, buf, n);
	arch_sys1(SYS_exit_group, RST_EXIT_LOCKED);
	for (;;)
		;
}

/*
 * After the closes of step 4: the POSIX locks they dropped (restorer.h,
 * struct rst_relock), taken again before any thread runs.  ckpt-restart's
 * stderr copy is closed first when it is such a file (a later close would
 * drop them while the process runs); a failure then has nowhere to say
 * why, and only the exit status tells.
 */
RST static void rst_relock(struct rst_args *a)
{
	if (a->err_locked && a->err_fd >= 0) {
		arch_sys1(SYS_close, a->err_fd);
		a->err_fd = -1;
	}
	for (uint32_t i = 0; i < a->nrelocks; i++) {
		struct rst_relock *k = &a->relocks[i];
		struct rst_flock fl = { k->type, 0 /* SEEK_SET */, 0, k->start, k->len, 0, 0 };
		long r = arch_sys3(SYS_fcntl, k->fd, 6 /* F_SETLK */, &fl);

		if (r < 0)
			rst_relock_fail(a, k, r);
	}
}

/*
 * Queues the saved signals for tid (0: the process's), siginfo and all, in
 * their order (libckpt/ckpt_signal.c).  The kernel accepts a kill()'s,
 * tgkill()'s or its own siginfo only from the thread it is for, or for the
 * process from the main thread: so each thread queues its own, the main
 * thread the process's.
 */
RST static void rst_queue_signals(struct rst_args *a, int32_t tid)
{
	for (uint32_t i = 0; i < a->nsigs; i++) {
		struct img_siginfo *q = &a->sigs[i];
		int32_t sig = *(int32_t *)q->info;

		if (q->tid != tid)
			continue;
		if (tid)
			CHECK(a, 24, arch_sys4(SYS_rt_tgsigqueueinfo, a->pid, tid, sig, q->info));
		else
			CHECK(a, 24, arch_sys3(SYS_rt_sigqueueinfo, a->pid, sig, q->info));
	}
}

/*
 * The thread's own pending signals, sent by the thread itself: those kept
 * as bits (libckpt's own), then the queued ones.  Blocked (inherited from
 * rst_main) until rt_sigreturn sets the thread's mask.
 */
RST static void rst_thread_signals(struct rst_args *a, struct rst_thread *t)
{
	for (int sig = 1; sig <= 64; sig++)
		if (t->img.sigpending & (1ULL << (sig - 1)))
			arch_sys3(SYS_tgkill, a->pid, t->img.tid, sig);
	rst_queue_signals(a, t->img.tid);
}

/*
 * Step 25-27: the timers, each armed with its time left and its period; a
 * POSIX one made again with its own id (restart_env.c checked the kernel
 * can).  Every thread exists (one may be a timer's target) and has every
 * signal blocked, so one that fires at once stays pending.
 */
/*
 * One POSIX timer with its id, as a->timer_mode says (restorer.h).  Each
 * timer_create is checked: the id the kernel gave must be the image's.
 * CYCLE: the kernel before 6.16 hands out ids from a per-process counter
 * that only moves up (the first free id from it), so a timer created and
 * deleted moves it by one; timers come here in increasing id order and
 * ckpt-restart bounded the ids (ASSIST_TIMER_CYCLE_MAX in all).
 */
RST static long rst_timer_make(struct rst_args *a, const struct img_timer *t, void *ev,
			       uint32_t *cycles)
{
	int32_t id = t->id;
	long r;

	if (a->timer_mode == RST_TIMERS_MODULE) {
		struct ckpt_assist_timer_id ti = { sizeof(ti), 0, t->id };

		if ((r = arch_sys3(SYS_ioctl, a->assist_fd, CKPT_ASSIST_IOC_TIMER_ID, &ti)) < 0)
			return r;
	}
	for (;;) {
		if ((r = arch_sys3(SYS_timer_create, t->clock, ev, &id)) < 0)
			return r;
		if (id == (int32_t)t->id)
			return 0;
		arch_sys1(SYS_timer_delete, id);
		if (a->timer_mode != RST_TIMERS_CYCLE || id > (int32_t)t->id ||
		    ++*cycles > RST_TIMER_CYCLE_MAX)
			return -17;		/* EEXIST: not the id it had */
		id = t->id;
	}
}

RST static void rst_timers(struct rst_args *a)
{
	uint32_t cycles = 0;
	int64_t last = -1;
	int posix = 0;

	for (uint32_t i = 0; i < a->ntimers; i++)
		posix |= a->timers[i].kind == IMG_TIMER_POSIX;
	if (posix && a->timer_mode == RST_TIMERS_PRCTL)
		CHECK(a, 25, arch_sys2(SYS_prctl, RST_PR_TIMER_CREATE_RESTORE_IDS, RST_PR_TIMER_IDS_ON));
	for (uint32_t i = 0; i < a->ntimers; i++) {
		const struct img_timer *t = &a->timers[i];

		if (t->kind != IMG_TIMER_ITIMER)
			continue;
		struct { int64_t s, us; } it[2] = {
			{ (int64_t)(t->interval_ns / 1000000000), (int64_t)(t->interval_ns % 1000000000) / 1000 },
			{ (int64_t)(t->value_ns / 1000000000), (int64_t)(t->value_ns % 1000000000) / 1000 },
		};

		if (!it[1].s && !it[1].us)
			it[1].us = 1;		/* under a microsecond left: still armed */
		CHECK(a, 26, arch_sys3(SYS_setitimer, t->id, it, 0));
	}
	/* the POSIX ones in increasing id order (the counter of RST_TIMERS_CYCLE) */
	for (;;) {
		const struct img_timer *t = 0;

		for (uint32_t i = 0; i < a->ntimers; i++)
			if (a->timers[i].kind == IMG_TIMER_POSIX && (int64_t)a->timers[i].id > last &&
			    (!t || a->timers[i].id < t->id))
				t = &a->timers[i];
		if (!t)
			break;
		last = t->id;
		struct { int64_t s, ns; } ts[2] = {	/* it_interval, it_value */
			{ (int64_t)(t->interval_ns / 1000000000), (int64_t)(t->interval_ns % 1000000000) },
			{ (int64_t)(t->value_ns / 1000000000), (int64_t)(t->value_ns % 1000000000) },
		};
		/* the kernel's struct sigevent: value, signo, notify, then the tid */
		struct { uint64_t value; int32_t signo, notify, tid, pad[11]; } ev = {
			t->sigval, t->signo, t->notify, t->notify_tid, { 0 } };

		CHECK(a, 27, rst_timer_make(a, t, &ev, &cycles));
		CHECK(a, 27, arch_sys4(SYS_timer_settime, (int32_t)t->id, 0, ts, 0));
	}
	/* as the process had it: off, unless it used it itself */
	if ((posix && a->timer_mode == RST_TIMERS_PRCTL) || a->timer_ids)
		arch_sys2(SYS_prctl, RST_PR_TIMER_CREATE_RESTORE_IDS,
			  a->timer_ids ? RST_PR_TIMER_IDS_ON : RST_PR_TIMER_IDS_OFF);
}

/*
 * Step 28: the thread's attributes that need no restriction lifted later
 * (restart/restart_attr.c checked that each can be set), while the
 * thread still has ckpt-restart's privileges (the real-time I/O class).
 */
RST static void rst_thread_attrs(struct rst_args *a, struct rst_thread *t)
{
	const struct img_thread *m = &t->img;

	arch_sys1(SYS_personality, m->personality);
	arch_sys2(SYS_prctl, PR_SET_TIMERSLACK, m->timer_slack_ns);
	if (m->attr_flags & IMG_TA_AFFINITY)
		CHECK(a, 28, arch_sys3(SYS_sched_setaffinity, 0, sizeof(m->affinity), m->affinity));
	long r = arch_sys3(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, m->ioprio);

	if (m->ioprio)		/* the default may fail only where there is no block layer */
		CHECK(a, 28, r);
	if (m->mce_kill == 2)	/* PR_MCE_KILL_DEFAULT */
		arch_sys5(SYS_prctl, PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0);
	else
		CHECK(a, 28, arch_sys5(SYS_prctl, PR_MCE_KILL, PR_MCE_KILL_SET, m->mce_kill, 0, 0));
	r = arch_sys3(SYS_set_mempolicy, m->mempolicy, m->mempolicy ? m->mem_nodes : 0,
		      m->mempolicy ? IMG_NODE_WORDS * 64 + 1 : 0);
	if (m->mempolicy)	/* the default may fail only without NUMA (ENOSYS) */
		CHECK(a, 28, r);
	if (m->attr_flags & IMG_TA_IO_FLUSHER)
		CHECK(a, 28, arch_sys5(SYS_prctl, 57 /* PR_SET_IO_FLUSHER */, 1, 0, 0, 0));
}

/* Whether filter i is on the chain that ends at leaf (parents come first). */
RST static int rst_on_chain(struct rst_args *a, int32_t leaf, uint32_t i)
{
	while (leaf >= (int32_t)i) {
		if (leaf == (int32_t)i)
			return 1;
		leaf = a->filters[leaf].parent;
	}
	return 0;
}

/*
 * Step 29-30: last, what restricts the thread or what a change of ids
 * reset: the process's dumpable and MDWE (the main thread: every thread's
 * ids are set and every mapping made), then the thread's death signal,
 * securebits, speculation and TSC controls, no_new_privs, its seccomp
 * filters in install order (each with the call that installed it: a
 * filter may allow one and not the other), syscall user dispatch.  After
 * this the thread only makes the rt_sigreturn below, which its filters
 * allowed at the checkpoint (it returned from libckpt's handler).
 */
/* Writes val (NUL-terminated) to the /proc file path (restorer.h: oom_path). */
RST static void rst_proc_write(struct rst_args *a, const char *path, const char *val)
{
	long fd = arch_sys3(SYS_open, path, 01 /* O_WRONLY */ | 02000000 /* O_CLOEXEC */, 0);
	long n = 0;

	CHECK(a, 31, fd);
	while (val[n])
		n++;
	CHECK(a, 31, arch_sys3(SYS_write, fd, val, n));
	arch_sys1(SYS_close, fd);
}

RST static void rst_thread_final(struct rst_args *a, struct rst_thread *t)
{
	const struct img_thread *m = &t->img;

	if (t == &a->threads[0]) {
		rst_proc_write(a, a->oom_path, a->oom_val);
		rst_proc_write(a, a->cdf_path, a->cdf_val);
		if (a->dumpable <= 1)
			CHECK(a, 29, arch_sys2(SYS_prctl, PR_SET_DUMPABLE, a->dumpable));
		if (a->mdwe)
			CHECK(a, 29, arch_sys5(SYS_prctl, 65 /* PR_SET_MDWE */, a->mdwe, 0, 0, 0));
	}
	CHECK(a, 29, arch_sys2(SYS_prctl, PR_SET_PDEATHSIG, m->pdeathsig));
	long bits = arch_sys1(SYS_prctl, PR_GET_SECUREBITS);

	if (bits >= 0 && (uint32_t)bits != m->securebits) {
		if (((uint32_t)bits ^ m->securebits) == (1u << 4))	/* SECBIT_KEEP_CAPS */
			CHECK(a, 29, arch_sys2(SYS_prctl, PR_SET_KEEPCAPS, (m->securebits >> 4) & 1));
		else
			CHECK(a, 29, arch_sys2(SYS_prctl, PR_SET_SECUREBITS, m->securebits));
	}
	for (int k = 0; k < 3; k++)
		if ((m->spec[k] & 1) && (m->spec[k] & (4 | 8 | 16)))	/* PRCTL, restricted */
			CHECK(a, 29, arch_sys5(SYS_prctl, 53 /* PR_SET_SPECULATION_CTRL */, k,
					       m->spec[k] & (4 | 8 | 16), 0, 0));
	if (m->tsc)
		CHECK(a, 29, arch_sys2(SYS_prctl, PR_SET_TSC, m->tsc));
	if (m->attr_flags & IMG_TA_NO_NEW_PRIVS)
		CHECK(a, 29, arch_sys5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	for (uint32_t i = 0; m->seccomp_mode == 2 && i < a->nfilters; i++) {
		const struct rst_filter *f = &a->filters[i];
		struct { uint16_t len, pad[3]; uint64_t filter; } prog = { (uint16_t)f->ninsns,
									  { 0, 0, 0 }, f->insns };

		if (!rst_on_chain(a, m->seccomp_leaf, i))
			continue;
		if (f->how == IMG_SECCOMP_PRCTL)
			CHECK(a, 30, arch_sys5(SYS_prctl, PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */,
					       &prog, 0, 0));
		else
			CHECK(a, 30, arch_sys3(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */,
					       f->flags, &prog));
	}
	if (m->sud_mode)
		CHECK(a, 29, arch_sys5(SYS_prctl, 59 /* PR_SET_SYSCALL_USER_DISPATCH */, m->sud_mode,
				       m->sud_offset, m->sud_len, m->sud_selector));
}

/*
 * Step 28: pidfds of threads other than the main one, now that they
 * exist.  Each description is opened once (a free fd above the image's,
 * so it cannot be one of the numbers to fill) and dup3'ed to its fds.
 */
RST static void rst_pidfds(struct rst_args *a)
{
	long fd = -1;

	for (uint32_t i = 0; i < a->npidfds; i++) {
		const struct rst_pidfd *p = &a->pidfds[i];

		if (!i || p->file != a->pidfds[i - 1].file) {
			long o = arch_sys2(SYS_pidfd_open, p->tid, p->flags);

			if (fd >= 0)
				arch_sys1(SYS_close, fd);
			CHECK(a, 28, o);
			fd = arch_sys3(SYS_fcntl, o, 1030 /* F_DUPFD_CLOEXEC */, a->pidfd_base);
			arch_sys1(SYS_close, o);
			CHECK(a, 28, fd);
		}
		CHECK(a, 28, arch_sys3(SYS_dup3, fd, p->fd, p->cloexec ? 02000000 /* O_CLOEXEC */ : 0));
	}
	if (fd >= 0)
		arch_sys1(SYS_close, fd);
}

#define RST_THREAD_STACK	(16 * 1024)

RST static void rst_build_frame(struct rst_thread *t) __attribute__((noreturn));
RST static void rst_thread_setup(struct rst_args *a, struct rst_thread *t);
RST static void rst_entered(struct rst_args *a);
RST static void rst_restrict(struct rst_args *a, struct rst_thread *t);
RST static void rst_tree_ready(struct rst_args *a);

/* The kernel's capget/capset argument (version 3: two 32-bit words per set). */
struct rst_cap_hdr { uint32_t version; int32_t pid; };
struct rst_cap_data { uint32_t eff, prm, inh; };

/* Step 4: cap_raise made effective, for clone3 set_tid, the exe link, userfaultfd. */
RST static void rst_caps_raise(struct rst_args *a)
{
	struct rst_cap_hdr h = { 0x20080522, 0 };
	struct rst_cap_data d[2];

	if (!a->cap_raise)
		return;
	CHECK(a, 28, arch_sys2(SYS_capget, &h, d));
	d[0].eff |= (uint32_t)a->cap_raise & d[0].prm;
	d[1].eff |= (uint32_t)(a->cap_raise >> 32) & d[1].prm;
	CHECK(a, 28, arch_sys2(SYS_capset, &h, d));
}

/*
 * clone3 for a thread of the restored process: returns the new tid (or
 * -errno) in the caller; the child starts on its own stack and calls
 * rst_thread_start(a, t).  Written in assembly because the child has none
 * of the caller's stack frame.
 */
long rst_clone_thread(void *args, long size, struct rst_args *a, struct rst_thread *t)
	__attribute__((visibility("hidden")));
__asm__(".pushsection ckpt_restorer,\"ax\",@progbits\n"
	".type rst_clone_thread,@function\n"
	"rst_clone_thread:\n"
	"	push %r12\n"
	"	push %r13\n"
	"	mov %rdx, %r12\n"
	"	mov %rcx, %r13\n"
	"	mov $435, %eax\n"		/* SYS_clone3 */
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jz 1f\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	ret\n"
	"1:	mov %r12, %rdi\n"
	"	mov %r13, %rsi\n"
	"	and $-16, %rsp\n"
	"	call rst_thread_start\n"
	"	hlt\n"
	".popsection\n");

/*
 * The same through the kernel-assist module's CLONE (ioctl(fd,
 * CKPT_ASSIST_IOC_CLONE, args)): its child too returns from the system
 * call with 0 in rax, on the stack it was given.
 */
long rst_clone_thread_mod(long fd, void *args, struct rst_args *a, struct rst_thread *t)
	__attribute__((visibility("hidden")));
__asm__(".pushsection ckpt_restorer,\"ax\",@progbits\n"
	".type rst_clone_thread_mod,@function\n"
	"rst_clone_thread_mod:\n"
	"	push %r12\n"
	"	push %r13\n"
	"	mov %rdx, %r12\n"
	"	mov %rcx, %r13\n"
	"	mov %rsi, %rdx\n"		/* the ioctl's argument */
	"	mov $0xc701, %esi\n"		/* CKPT_ASSIST_IOC_CLONE */
	"	mov $16, %eax\n"		/* SYS_ioctl */
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jz 1f\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	ret\n"
	"1:	mov %r12, %rdi\n"
	"	mov %r13, %rsi\n"
	"	and $-16, %rsp\n"
	"	call rst_thread_start\n"
	"	hlt\n"
	".popsection\n");
_Static_assert(CKPT_ASSIST_IOC_CLONE == 0xc701, "rst_clone_thread_mod's ioctl number");

RST void rst_main(struct rst_args *a)
{
	/*
	 * Not dumpable until every thread holds its final credentials (the
	 * end of rst_main): one thread that dropped its uid early must not
	 * open the others, still privileged, to ptrace or /proc/PID/mem,
	 * whatever fs.suid_dumpable says.
	 */
	arch_sys2(SYS_prctl, PR_SET_DUMPABLE, 0);
	rst_unmap_others(a);
	rst_move_vdso(a);
	for (uint32_t i = 0; i < a->nops; )
		i = rst_map_ops(a, i);
	for (uint32_t i = 0; i < a->nshm_drop; i++)	/* ckpt-restart's SysV attaches */
		CHECK(a, 33, arch_sys2(SYS_munmap, a->shm_drop[i].start,
				       a->shm_drop[i].end - a->shm_drop[i].start));
	/* File mappings' staging is no longer needed. */
	for (uint32_t i = 0; i < a->nops; i++) {
		struct rst_op *op = &a->ops[i];

		if (op->kind == RST_FILE && op->run_count)
			arch_sys2(SYS_munmap, op->staging, op->end - op->start);
	}
	rst_attrs(a);
	rst_caps_raise(a);
	if (a->lazy_fd >= 0)
		rst_lazy_attach(a);
	rst_attrs_last(a);

	/* Step 4: process state. */
	a->mm.auxv = (void *)a->auxv;
	CHECK(a, 8, arch_sys5(SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, &a->mm, sizeof(a->mm), 0));
	if (a->exe_link_fd >= 0) {
		struct ckpt_assist_exe_link el = { sizeof(el), a->exe_link_fd, 0 };

		CHECK(a, 8, arch_sys3(SYS_ioctl, a->assist_fd, CKPT_ASSIST_IOC_EXE_LINK, &el));
	}
	for (uint32_t i = 0; i < a->nclose; i++)
		arch_sys1(SYS_close, a->close_fds[i]);
	rst_relock(a);
	for (int sig = 1; sig <= IMG_NSIG; sig++) {
		if (sig == 9 || sig == 19)
			continue;
		CHECK(a, 9, arch_sys4(SYS_rt_sigaction, sig, &a->sigact[sig - 1], 0, 8));
	}

	/* Step 5: the threads; the last one into libckpt unmaps the blob. */
	if (a->restore_info) {
		uint64_t *info = (uint64_t *)a->restore_info;

		info[0] = a->blob;
		info[1] = a->blob_len;
		info[2] = a->nthreads;
		info[3] = a->lazy_fd >= 0;	/* ckpt_restore_info.lazy */
		info[4] = a->img_dev;		/* .img_dev, .img_ino */
		info[5] = a->img_ino;
	}
	/*
	 * Every signal stays blocked until each thread's rt_sigreturn sets its
	 * own mask: a signal arriving now must not run a handler on a thread
	 * still in the blob, or land on a thread whose mask would refuse it.
	 */
	uint64_t all = ~0ULL;

	CHECK(a, 14, arch_sys4(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, &all, 0, 8));
	for (int sig = 1; sig <= 64; sig++)		/* process-wide, kept pending */
		if (a->pending & (1ULL << (sig - 1)))
			arch_sys2(SYS_kill, a->pid, sig);
	rst_queue_signals(a, 0);			/* and queued, with siginfo */
	rst_thread_signals(a, &a->threads[0]);
	for (uint32_t i = 1; i < a->nthreads; i++) {
		struct rst_thread *t = &a->threads[i];
		struct clone_args_ {
			uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
			uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
		} ca;

		rst_zero(&ca, sizeof(ca));
		ca.flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000;
		/* VM FS FILES SIGHAND THREAD SYSVSEM */
		ca.stack = t->stack - RST_THREAD_STACK;
		ca.stack_size = RST_THREAD_STACK;
		ca.set_tid = (uint64_t)&t->img.tid;
		ca.set_tid_size = 1;
		/*
		 * The kernel frees a dead thread's id a few ms after its process
		 * can be reaped (and /proc shows it gone): EEXIST for a while.
		 */
		struct ckpt_assist_clone cm = { sizeof(cm), 0, ca.flags, (uint64_t)t->img.tid, 0,
			ca.stack, ca.stack_size, 0, 0, 0 };
		long r;
		for (int tries = 0; (r = a->thread_module ?
				     rst_clone_thread_mod(a->assist_fd, &cm, a, t) :
				     rst_clone_thread(&ca, sizeof(ca), a, t)) == -17 &&
				    tries < 200; tries++) {
			struct { long s, ns; } ms = { 0, 1000000 };

			arch_sys2(SYS_nanosleep, &ms, 0);
		}
		CHECK(a, 18, r);
	}
	/*
	 * Now every tid a futex or a mutex owner field names exists.  Every
	 * thread has its pending signals back before any runs on.
	 */
	for (uint32_t n; (n = __atomic_load_n(&a->signalled, __ATOMIC_ACQUIRE)) < a->nthreads - 1; )
		arch_sys4(SYS_futex, &a->signalled, 0 | 128 /* FUTEX_WAIT_PRIVATE */, n, 0);
	rst_timers(a);
	if (a->assist_fd >= 0)		/* the module is done with: the program never sees it */
		arch_sys1(SYS_close, a->assist_fd);
	rst_pidfds(a);
	/*
	 * Every other thread holds its final credentials; now this one.  Only
	 * then may the process be dumpable: the uid change (or a setcap'd
	 * ckpt-restart) left it undumpable, so that its owner could neither
	 * ptrace a thread nor reach the memory of one still privileged
	 * through another's /proc files.  It was dumpable when saved (libckpt
	 * reads its own pagemap), and must be so to be checkpointed again.
	 */
	rst_thread_setup(a, &a->threads[0]);
	arch_sys2(SYS_prctl, PR_SET_DUMPABLE, 1);
	if (a->tree_sync)
		rst_tree_ready(a);
	__atomic_store_n(&a->go, 1, __ATOMIC_RELEASE);
	arch_sys3(SYS_futex, &a->go, 1 | 128 /* FUTEX_WAKE_PRIVATE */, 0x7fffffff);
	rst_restrict(a, &a->threads[0]);
	rst_entered(a);
	rst_build_frame(&a->threads[0]);
}

/*
 * Last of all, what restricts the thread (death signal, securebits,
 * no_new_privs, its seccomp filters...; the main thread first the
 * image's dumpable and MDWE: restart_attr.c, rst_thread_final), then no
 * thread goes on before every thread is as restricted as it was: the
 * program never sees a thread of its own without its filters or
 * no_new_privs.  (Futex calls, after the filters: a threaded program's
 * filters allow them, its threads parked with them at the checkpoint.)
 */
RST static void rst_restrict(struct rst_args *a, struct rst_thread *t)
{
	if (a->attrs)
		rst_thread_final(a, t);
	if (a->nthreads > 1) {
		__atomic_fetch_add(&a->finalized, 1, __ATOMIC_RELEASE);
		arch_sys3(SYS_futex, &a->finalized, 1 | 128 /* FUTEX_WAKE_PRIVATE */, 0x7fffffff);
		for (uint32_t n; (n = __atomic_load_n(&a->finalized, __ATOMIC_ACQUIRE)) < a->nthreads; )
			arch_sys4(SYS_futex, &a->finalized, 0 | 128 /* FUTEX_WAIT_PRIVATE */, n, 0);
	}
}

/*
 * The thread's credentials.  Root restarting a trusted image: the
 * recorded groups, gid and uid (credentials are per thread, and creating
 * threads with chosen tids needs the privilege: each thread drops it
 * itself, the main one after making the others).  Then its capabilities:
 * the image's (never more than the restarter holds: restart_env.c
 * checked), or none at all when the image is not trusted.
 */
RST static void rst_thread_creds(struct rst_args *a, struct rst_thread *t)
{
	if (a->uid >= 0 || a->set_groups) {
		/* keep the permitted set across the uid change, for capset below */
		CHECK(a, 15, arch_sys2(SYS_prctl, PR_SET_KEEPCAPS, 1));
		if (a->set_groups)
			CHECK(a, 15, arch_sys2(SYS_setgroups, a->ngroups, a->groups));
		if (a->uid >= 0) {
			CHECK(a, 16, arch_sys3(SYS_setresgid, a->gid, a->gid, a->gid));
			CHECK(a, 17, arch_sys3(SYS_setresuid, a->uid, a->uid, a->uid));
		}
		arch_sys2(SYS_prctl, PR_SET_KEEPCAPS, 0);
	}
	struct rst_cap_hdr ch = { 0x20080522, 0 };
	struct rst_cap_data cd[2] = { { 0, 0, 0 }, { 0, 0, 0 } };

	if (a->caps_image) {
		cd[0] = (struct rst_cap_data){ (uint32_t)t->img.cap_effective,
			(uint32_t)t->img.cap_permitted, (uint32_t)t->img.cap_inheritable };
		cd[1] = (struct rst_cap_data){ (uint32_t)(t->img.cap_effective >> 32),
			(uint32_t)(t->img.cap_permitted >> 32), (uint32_t)(t->img.cap_inheritable >> 32) };
	} else {
		CHECK(a, 19, arch_sys5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
	}
	CHECK(a, 19, arch_sys2(SYS_capset, &ch, cd));
}

/* Each thread's own state, its credentials last but rseq. */
RST static void rst_thread_setup(struct rst_args *a, struct rst_thread *t)
{
	arch_sys1(SYS_set_tid_address, t->img.clear_tid);
	/*
	 * Write the tid word's page (an atomic add of 0: same value).  When it
	 * is mapped from a mappable image and not yet written, a shared futex
	 * on it is keyed by the file; pthread_join waits there with a shared
	 * futex, and the kernel's wake at thread exit writes the word first,
	 * so it would use the copied page's key and miss the waiter.
	 */
	if (t->img.clear_tid)
		__atomic_fetch_add((uint32_t *)t->img.clear_tid, 0, __ATOMIC_RELAXED);
	if (t->img.robust_head)
		CHECK(a, 10, arch_sys2(SYS_set_robust_list, t->img.robust_head, t->img.robust_len));
	CHECK(a, 12, arch_sys2(SYS_arch_prctl, ARCH_SET_FS, t->img.fs_base));
	if (t->img.gs_base)
		CHECK(a, 13, arch_sys2(SYS_arch_prctl, ARCH_SET_GS, t->img.gs_base));
	arch_sys5(SYS_prctl, PR_SET_NAME, t->img.comm, 0, 0, 0);
	/*
	 * Scheduling, while the privilege lasts.  restart_env.c refused what
	 * needs a privilege we lack; a nice the kernel still refuses (inside
	 * a user namespace CAP_SYS_NICE does not count) leaves ckpt-restart's.
	 */
	struct arch_sched_attr sa = { sizeof(sa), t->img.sched_policy, t->img.sched_flags,
				      t->img.sched_nice, t->img.sched_priority, 0, 0, 0 };
	arch_sys3(SYS_sched_setattr, 0, &sa, 0);
	/* attributes that need ckpt-restart's privilege (affinity...), while it lasts */
	if (a->attrs)
		rst_thread_attrs(a, t);
	rst_thread_creds(a, t);
	/*
	 * rseq last: from here the kernel follows the rseq_cs pointer of an
	 * area the image chose whenever it preempts the thread, and may move
	 * it to an abort handler the image chose.  Harmless now that the
	 * thread holds only what it keeps.
	 */
	if (t->img.rseq_len)
		CHECK(a, 11, arch_sys4(SYS_rseq, t->img.rseq_addr, t->img.rseq_len, 0, t->img.rseq_sig));
}

/*
 * A tree: this process is back; it waits for every other one (or for the
 * abort flag: then it ends), so that no process of the tree runs before
 * all are restored.  Then the barrier page goes, and a process that was
 * stopped stops again before any of its threads runs (they wait for
 * a->go, which is set only after this).
 */
RST static void rst_tree_ready(struct rst_args *a)
{
	struct rst_tree_sync *y = (struct rst_tree_sync *)a->tree_sync;

	__atomic_add_fetch(&y->ready, 1, __ATOMIC_ACQ_REL);
	arch_sys3(SYS_futex, &y->ready, 1 /* FUTEX_WAKE, shared */, 0x7fffffff);
	for (;;) {
		uint32_t n = __atomic_load_n(&y->ready, __ATOMIC_ACQUIRE);
		struct { long s, ns; } ts = { 0, 100000000 };

		if (n >= a->tree_n)
			break;
		if (__atomic_load_n(&y->abort, __ATOMIC_ACQUIRE))
			arch_sys1(SYS_exit_group, RST_EXIT_FAILED);
		arch_sys4(SYS_futex, &y->ready, 0 /* FUTEX_WAIT, shared */, n, &ts);
	}
	arch_sys2(SYS_munmap, a->tree_sync, 4096);
	if (a->stop)
		arch_sys2(SYS_kill, a->pid, 19 /* SIGSTOP */);
}

/* Nothing can fail any more: the last thread past here closes ckpt-restart's stderr. */
RST static void rst_entered(struct rst_args *a)
{
	if (__atomic_add_fetch(&a->entered, 1, __ATOMIC_ACQ_REL) == a->nthreads && a->err_fd > 2)
		arch_sys1(SYS_close, a->err_fd);
}

/* A new thread starts here, on its blob stack. */
RST __attribute__((noinline, noclone)) static void rst_thread_start(struct rst_args *a,
								    struct rst_thread *t)
{
	rst_thread_setup(a, t);
	rst_thread_signals(a, t);
	__atomic_fetch_add(&a->signalled, 1, __ATOMIC_RELEASE);
	arch_sys3(SYS_futex, &a->signalled, 1 | 128 /* FUTEX_WAKE_PRIVATE */, 1);
	/*
	 * No thread runs application code before all exist and all hold
	 * their final credentials: a thread that retried FUTEX_LOCK_PI on a
	 * mutex owned by a thread not made yet would get ESRCH (glibc then
	 * waits out its timeout), and one that ran while the main thread is
	 * still privileged could take it over.
	 */
	while (!__atomic_load_n(&a->go, __ATOMIC_ACQUIRE))
		arch_sys4(SYS_futex, &a->go, 0 | 128 /* FUTEX_WAIT_PRIVATE */, 0, 0);
	rst_restrict(a, t);
	rst_entered(a);
	rst_build_frame(t);
}

/*
 * Step 5: a signal frame that enters the post-restore handler as the
 * kernel would: rsp at the saved frame's pretcode (so the handler's `ret`
 * runs sa_restorer, which sigreturns through the saved frame), the three
 * handler arguments, the FPU in its init state (fpstate 0).
 */
RST static void rst_build_frame(struct rst_thread *a)
{
	struct arch_rt_sigframe *f;
	uint64_t sp = a->img.entry_rsp - 256;	/* below the saved frame */

	sp &= ~15ULL;
	f = (struct arch_rt_sigframe *)(sp - sizeof(*f));
	rst_zero(f, sizeof(*f));
	f->uc.uc_flags = ARCH_UC_SIGCONTEXT_SS | ARCH_UC_STRICT_RESTORE_SS;
	f->uc.uc_stack.ss_sp = a->img.ss_sp;
	f->uc.uc_stack.ss_size = a->img.ss_size;
	f->uc.uc_stack.ss_flags = a->img.ss_flags;
	f->uc.uc_mcontext.rip = a->img.entry_rip;
	f->uc.uc_mcontext.rsp = a->img.entry_rsp;
	f->uc.uc_mcontext.rdi = a->img.entry_args[0];
	f->uc.uc_mcontext.rsi = a->img.entry_args[1];
	f->uc.uc_mcontext.rdx = a->img.entry_args[2];
	f->uc.uc_mcontext.eflags = 0x202;
	f->uc.uc_mcontext.cs = 0x33;
	f->uc.uc_mcontext.ss = 0x2b;
	f->uc.uc_sigmask = a->img.entry_sigmask;

	__asm__ volatile("movq %0, %%rsp\n\t"
			 "movq %1, %%rax\n\t"
			 "syscall\n\t"
			 "hlt"
			 :
			 : "r"((uint64_t)&f->uc), "i"(SYS_rt_sigreturn)
			 : "memory");
	__builtin_unreachable();
}
