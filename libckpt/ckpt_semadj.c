/*
 * ckpt_semadj.c - measuring the process's SEM_UNDO adjustments.
 *
 * A semop() with SEM_UNDO adds -sem_op to the process's adjustment of
 * that semaphore (semadj), which the kernel applies when the process
 * exits.  Nothing shows it: not /proc, not semctl (the Linux-CR patches
 * had to give up on it).  But semop() tells whether an adjustment would
 * leave [-32768, 32767] (ERANGE), and a semop() call is atomic, applied
 * whole or not at all.  So one call that moves the adjustment by a known
 * amount d and back again, with operations without SEM_UNDO that keep
 * the value where it was, succeeds exactly when adj - d >= -32768 (or,
 * the other way, adj + d <= 32767): a comparison of adj with a constant,
 * which leaves value and adjustment as they were.  Sixteen of them find
 * adj by bisection; two (adj >= 1? adj <= -1?) say it is 0, the usual
 * case, and fail, which changes nothing at all.
 *
 * One probe, "adj >= t" (t in -32767..32767, d = t + 32768):
 *     value - v  (to 0)                     no UNDO
 *     +c, -c     for each chunk c of d      +c with UNDO: adj -= c
 *     +c, -c     back, for each chunk        -c with UNDO: adj += c
 *     value + v                              no UNDO
 * chunks of at most 32767 keep the value in 0..32767 (SEMVMX) throughout;
 * "adj <= t" mirrors it from the value 32767 down.  The kernel checks
 * each operation in turn (several on one semaphore take its sequential
 * path, perform_atomic_semop_slow) and undoes all on the first failure.
 * A probe that succeeds sets the semaphore's sempid to this process and
 * its otime to now, as any semop does: only for semaphores whose
 * adjustment is not 0.  A semaphore the process may not alter cannot
 * carry an adjustment it made since; it is not probed (0).
 *
 * Race: another process changing the value between the GETVAL and the
 * probe makes the probe fail with EAGAIN (tried again) or mislead it; the
 * value is read right before each probe.  Inside a tree under --ipcns
 * nothing else runs.  Cost: 2 semop + 2 semctl per semaphore when its
 * adjustment is 0, about 17 of each otherwise.
 */
#include <errno.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

#define VMX	IMG_SEM_VMX

/* 1 if the adjustment of semaphore num passes, 0 if not, or -errno. */
static int semadj_probe(int id, unsigned num, int high, int d)
{
	struct sembuf ops[16];
	int chunk[3], nc = 0, n = 0;
	long val, r;

	for (int left = d; left > 0; left -= chunk[nc++])
		chunk[nc] = left > VMX ? VMX : left;
	for (int tries = 0; tries < 5; tries++) {
		int shift;

		if ((val = arch_sys4(SYS_semctl, id, num, GETVAL, 0)) < 0)
			return (int)val;
		shift = high ? VMX - (int)val : -(int)val;	/* to 32767 or to 0 */
		n = 0;
		if (shift)
			ops[n++] = (struct sembuf){ num, (short)shift, IPC_NOWAIT };
		for (int i = 0; i < nc; i++) {
			short c = (short)(high ? -chunk[i] : chunk[i]);

			ops[n++] = (struct sembuf){ num, c, SEM_UNDO | IPC_NOWAIT };
			ops[n++] = (struct sembuf){ num, (short)-c, IPC_NOWAIT };
		}
		for (int i = nc - 1; i >= 0; i--) {
			short c = (short)(high ? -chunk[i] : chunk[i]);

			ops[n++] = (struct sembuf){ num, c, IPC_NOWAIT };
			ops[n++] = (struct sembuf){ num, (short)-c, SEM_UNDO | IPC_NOWAIT };
		}
		if (shift)
			ops[n++] = (struct sembuf){ num, (short)-shift, IPC_NOWAIT };
		r = arch_sys3(SYS_semop, id, ops, n);
		if (r == 0)
			return 1;
		if (r == -ERANGE)
			return 0;
		if (r != -EAGAIN)
			return (int)r;
	}
	return -EAGAIN;
}

/* adj >= t, for t in -32767..32767 */
static int adj_ge(int id, unsigned num, int t)
{
	return semadj_probe(id, num, 0, t + VMX + 1);
}

/* adj <= t, for t in -32768..32766 */
static int adj_le(int id, unsigned num, int t)
{
	return semadj_probe(id, num, 1, VMX - t);
}

/* The adjustment of semaphore num into *adj: 0, or -errno. */
static int semadj_measure(int id, unsigned num, int *adj)
{
	int lo, hi, r;

	if ((r = adj_ge(id, num, 1)) < 0)
		return r;
	if (r) {				/* 1 <= adj <= 32767 */
		for (lo = 1, hi = VMX; lo < hi; ) {
			int mid = lo + (hi - lo + 1) / 2;

			if ((r = adj_ge(id, num, mid)) < 0)
				return r;
			if (r)
				lo = mid;
			else
				hi = mid - 1;
		}
		*adj = lo;
		return 0;
	}
	if ((r = adj_le(id, num, -1)) < 0)
		return r;
	if (!r) {
		*adj = 0;
		return 0;
	}
	for (lo = -VMX - 1, hi = -1; lo < hi; ) {	/* -32768 <= adj <= -1 */
		int mid = lo + (hi - lo) / 2;

		if ((r = adj_le(id, num, mid)) < 0)
			return r;
		if (r)
			hi = mid;
		else
			lo = mid + 1;
	}
	*adj = lo;
	return 0;
}

int ckpt_semadj_write(struct ckpt_ctx *c, int id, uint32_t nsems)
{
	struct img_sysv_sem m = { .kind = IMG_SEM_UNDO, .perm = { .id = id } };
	struct img_semadj *out = (struct img_semadj *)(c->mbuf + (1u << 20));
	uint32_t n = 0;

	for (uint32_t i = 0; i < nsems; i++) {
		int adj = 0, r = semadj_measure(id, i, &adj);

		if (r == -EACCES && i == 0)
			return 0;		/* may not alter it: no adjustment made since */
		if (r < 0)
			return ckpt_fail(c, r, "SysV semaphore set %d: cannot measure this process's "
					 "SEM_UNDO adjustment of semaphore %u (semop: %s); another "
					 "process changing it during the checkpoint?", id, i,
					 ckpt_strerror(-r));
		if (adj)
			out[n++] = (struct img_semadj){ .num = (uint16_t)i, .adj = (int16_t)adj };
	}
	if (!n)
		return 0;
	m.nsems = n;
	return img_write_record(&c->w, IMG_REC_SYSV_SEM, &m, sizeof(m), out, n * sizeof(*out)) < 0 ?
	       c->w.error : 0;
}
