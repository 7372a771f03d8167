// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt_assist_timer.c - TIMER_ID: the next timer_create() of the calling
 * process gets the id asked for (what PR_TIMER_CREATE_RESTORE_IDS gives
 * from Linux 6.16).
 *
 * Before 6.16 the kernel hands out a process's POSIX timer ids from a
 * counter in its signal_struct (the first free id from it, then the
 * counter moves past it): setting the counter is enough.  The id must
 * not be taken: the process's timers are on signal->posix_timers, under
 * its siglock.  A timer_create() of another thread running at the same
 * moment may still take the id first; the kernel then gives the next
 * free one, never a duplicate, and the caller sees it (libckpt compares).
 * The counter is called next_posix_timer_id in later 6.1 stable releases
 * (posix_timer_id before): Kbuild tells which.
 */
#include <linux/posix-timers.h>
#include <linux/sched/signal.h>
#include "ckpt_assist.h"

#ifdef CKPT_ASSIST_NEXT_TIMER_ID
#define ckpt_timer_counter(sig)	((sig)->next_posix_timer_id)
#else
#define ckpt_timer_counter(sig)	((sig)->posix_timer_id)
#endif

long ckpt_assist_timer_id(void __user *uarg)
{
	struct ckpt_assist_timer_id t = { 0 };
	struct signal_struct *sig = current->signal;
	struct k_itimer *k;
	long r;

	r = ckpt_assist_copy_in(&t, sizeof(t), CKPT_ASSIST_TIMER_ID_SIZE0, uarg);
	if (r < 0)
		return r;
	if (t.reserved || t.id < 0 || t.id > INT_MAX)
		return -EINVAL;
	r = 0;
	spin_lock_irq(&current->sighand->siglock);
	list_for_each_entry(k, &sig->posix_timers, list) {
		if (k->it_id == t.id) {
			r = -EEXIST;
			break;
		}
	}
	if (!r)
		WRITE_ONCE(ckpt_timer_counter(sig), t.id);
	spin_unlock_irq(&current->sighand->siglock);
	return r;
}
