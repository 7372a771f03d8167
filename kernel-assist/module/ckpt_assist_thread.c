// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt_assist_thread.c - THREAD_STOP and THREAD_RESUME: stop a thread of
 * the caller's own process that libckpt's signal cannot reach (it blocks
 * every signal: glibc's helper thread for SIGEV_THREAD timers and
 * mq_notify, or a thread that blocked them with a raw rt_sigprocmask),
 * and hand its user registers, XSAVE state and blocked mask to the
 * caller.  See ckpt_assist_uapi.h for the interface, docs/INTERNALS.md
 * "Threads that block every signal" for why this is safe.
 *
 * How a thread is stopped.  task_work_add(TWA_SIGNAL) sets
 * TIF_NOTIFY_SIGNAL on the target and wakes it from an interruptible
 * wait (signal_pending() is true for it whatever the target blocks); on
 * its way back to user mode the target calls get_signal(), whose first
 * act is task_work_run(): our callback runs in the target, with no lock
 * held, its user registers in task_pt_regs.  It records them and its FPU
 * state, tells the caller, and sleeps (killable) until the caller
 * resumes it or the fd that stopped it is released.  Then get_signal()
 * goes on as before: nothing to deliver (or what was pending anyway),
 * and the kernel restarts an interrupted system call itself — the
 * target continues exactly as if it had never stopped.
 *
 * System call restart.  The callback runs before arch_do_signal_or_restart
 * fixes up an interrupted call, so regs->ax may still be -ERESTART*.  The
 * registers handed out are those the thread would have when a handler
 * with SA_RESTART ran (x86's handle_signal): -ERESTARTSYS and
 * -ERESTARTNOINTR restart the call (ax = orig_ax, ip back over the
 * 2-byte syscall instruction), -ERESTARTNOHAND and -ERESTART_RESTARTBLOCK
 * return -EINTR (their restart needs the kernel's restart_block, which a
 * restarted process does not have).  That is what a thread that libckpt
 * parks with its signal would resume with.
 *
 * Invariants:
 *  1. Only threads of the caller's own thread group, never the caller,
 *     never an io_uring worker (no user context): the caller could ptrace
 *     each of them (ptrace_may_access allows its own thread group).
 *  2. A stop belongs to the fd that made it (struct thr_file.stops).
 *     Releasing the fd resumes every thread it stopped, and abandons every
 *     stop not reached yet: a checkpoint that dies never leaves a thread
 *     stopped.  The target's wait is killable: SIGKILL or exit_group ends
 *     it too.
 *  3. A queued callback holds a reference on its struct thr_stop and on
 *     the module; task_work_cancel is not exported, so a stop that times
 *     out is only marked abandoned, and its callback (run later by the
 *     target, at the latest when it exits) returns at once.
 *  4. A thread is stopped through one fd at most once at a time (EBUSY);
 *     two fds stopping the same thread are served one after the other
 *     (task works run in turn).
 */
#include <linux/elf.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/refcount.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <asm/fsgsbase.h>
#include <asm/user.h>
#include "ckpt_assist.h"

/* How long THREAD_STOP waits for the target to reach its callback. */
#define THR_STOP_TIMEOUT	(2 * HZ)
/* The largest XSAVE area accepted from a regset (AMX is ~11 KiB). */
#define THR_XSAVE_MAX		(64 * 1024)

enum thr_state {
	THR_QUEUED,	/* callback queued, not run yet */
	THR_STOPPED,	/* target waits in its callback; state recorded */
	THR_RUN,	/* resumed (or released): the target goes on */
	THR_ABANDONED,	/* the caller gave up before the target stopped */
	THR_GONE,	/* the target was exiting when the callback ran */
};

struct thr_stop {
	struct callback_head work;
	struct list_head node;		/* on thr_file.stops, under its lock */
	refcount_t ref;			/* the fd's list, the queued callback */
	spinlock_t lock;		/* state */
	enum thr_state state;
	wait_queue_head_t wq;		/* state changes */
	pid_t tid;			/* in the caller's pid namespace */
	const struct user_regset *gen, *fp;	/* regsets read by the target */
	/* recorded by the target in its callback */
	struct user_regs_struct regs;
	void *xsave;
	unsigned int xsave_cap, xsave_len;
	u64 sigmask;
	u64 clear_child_tid, ss_sp, ss_size;
	u32 ss_flags;
};

struct thr_file {
	struct mutex lock;
	struct list_head stops;
};

static void thr_put(struct thr_stop *s)
{
	if (refcount_dec_and_test(&s->ref)) {
		kfree(s->xsave);
		kfree(s);
	}
}

static bool thr_set(struct thr_stop *s, enum thr_state from, enum thr_state to)
{
	bool done = false;

	spin_lock(&s->lock);
	if (s->state == from) {
		s->state = to;
		done = true;
	}
	spin_unlock(&s->lock);
	if (done)
		wake_up_all(&s->wq);
	return done;
}

static enum thr_state thr_get(struct thr_stop *s)
{
	enum thr_state st;

	spin_lock(&s->lock);
	st = s->state;
	spin_unlock(&s->lock);
	return st;
}

/* The regs a handler with SA_RESTART would return to (x86 handle_signal). */
static void thr_restart(struct user_regs_struct *r)
{
	if ((long)r->orig_ax == -1)		/* not in a system call */
		return;
	switch ((long)r->ax) {
	case -ERESTART_RESTARTBLOCK:
	case -ERESTARTNOHAND:
		r->ax = -EINTR;
		break;
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
		r->ax = r->orig_ax;
		r->ip -= 2;
		break;
	}
}

/* In the target: what it would resume with, read while it is current. */
static void thr_record(struct thr_stop *s)
{
	int n;

	memset(&s->regs, 0, sizeof(s->regs));
	regset_get(current, s->gen, sizeof(s->regs), &s->regs);
	/* thread.fsbase is only saved at a switch: the live one is the CPU's */
	preempt_disable();
	s->regs.fs_base = x86_fsbase_read_cpu();
	preempt_enable();
	thr_restart(&s->regs);
	n = regset_get(current, s->fp, s->xsave_cap, s->xsave);	/* syncs the live FPU */
	s->xsave_len = n > 0 ? n : 0;
	/* inside sigsuspend/ppoll/pselect/epoll_pwait: the mask it goes back to */
	if (test_restore_sigmask())
		s->sigmask = current->saved_sigmask.sig[0];
	else
		s->sigmask = current->blocked.sig[0];
	s->clear_child_tid = (unsigned long)current->clear_child_tid;
	s->ss_sp = current->sas_ss_sp;
	s->ss_size = current->sas_ss_size;
	s->ss_flags = current->sas_ss_flags;
}

/* Runs in the target, in get_signal(), on its way back to user mode. */
static void thr_work(struct callback_head *cb)
{
	struct thr_stop *s = container_of(cb, struct thr_stop, work);

	if (current->flags & PF_EXITING) {
		thr_set(s, THR_QUEUED, THR_GONE);
		goto out;
	}
	if (thr_get(s) != THR_QUEUED)
		goto out;			/* abandoned meanwhile */
	thr_record(s);
	if (!thr_set(s, THR_QUEUED, THR_STOPPED))
		goto out;
	/* Invariant 2: THR_RUN comes from RESUME or the fd's release. */
	wait_event_killable(s->wq, thr_get(s) != THR_STOPPED);
	if (thr_get(s) == THR_STOPPED)	/* killed: nobody waits for us */
		thr_set(s, THR_STOPPED, THR_RUN);
out:
	thr_put(s);
	module_put(THIS_MODULE);
}

static const struct user_regset *thr_regset(struct task_struct *t, unsigned int note)
{
	const struct user_regset_view *v = task_user_regset_view(t);
	unsigned int i;

	for (i = 0; i < v->n; i++)
		if (v->regsets[i].core_note_type == note)
			return &v->regsets[i];
	return NULL;
}

/* The thread tid of the caller's own thread group, not the caller (Invariant 1). */
static struct task_struct *thr_task(pid_t tid)
{
	struct task_struct *t;

	if (tid <= 0)
		return ERR_PTR(-ESRCH);
	rcu_read_lock();
	t = pid_task(find_vpid(tid), PIDTYPE_PID);
	if (t)
		get_task_struct(t);
	rcu_read_unlock();
	if (!t)
		return ERR_PTR(-ESRCH);
	if (t == current || !same_thread_group(t, current)) {
		put_task_struct(t);
		return ERR_PTR(-ESRCH);
	}
	if (t->flags & (PF_IO_WORKER | PF_KTHREAD)) {
		put_task_struct(t);
		return ERR_PTR(-EINVAL);
	}
	return t;
}

static struct thr_stop *thr_find(struct thr_file *tf, pid_t tid)
{
	struct thr_stop *s;

	list_for_each_entry(s, &tf->stops, node)
		if (s->tid == tid)
			return s;
	return NULL;
}

/* Waits for the target to stop; EAGAIN (abandoned) if it does not in time. */
static long thr_wait_stopped(struct thr_stop *s)
{
	long w = wait_event_interruptible_timeout(s->wq, thr_get(s) != THR_QUEUED,
						  THR_STOP_TIMEOUT);

	if (thr_set(s, THR_QUEUED, THR_ABANDONED))
		return w < 0 ? -EINTR : -EAGAIN;
	return thr_get(s) == THR_STOPPED ? 0 : -ESRCH;	/* GONE: it was exiting */
}

static long thr_copy_out(struct thr_stop *s, struct ckpt_assist_thread_stop *a,
			 void __user *uarg, long usize)
{
	if (copy_to_user(u64_to_user_ptr(a->regs), &s->regs, sizeof(s->regs)) ||
	    copy_to_user(u64_to_user_ptr(a->xsave), s->xsave, s->xsave_len))
		return -EFAULT;
	a->xsave_size = s->xsave_len;
	a->sigmask = s->sigmask;
	a->clear_child_tid = s->clear_child_tid;
	a->ss_sp = s->ss_sp;
	a->ss_size = s->ss_size;
	a->ss_flags = s->ss_flags;
	if (copy_to_user(uarg, a, min_t(size_t, usize, sizeof(*a))))
		return -EFAULT;
	return 0;
}

static long thr_stop(struct thr_file *tf, void __user *uarg)
{
	struct ckpt_assist_thread_stop a = { 0 };
	long usize = ckpt_assist_copy_in(&a, sizeof(a), CKPT_ASSIST_THREAD_STOP_SIZE0, uarg);
	const struct user_regset *gen, *fp;
	struct task_struct *t;
	struct thr_stop *s;
	unsigned int need;
	long r;

	if (usize < 0)
		return usize;
	if (a.flags || a.reserved || a.reserved2)
		return -EINVAL;
	if (!a.regs || !a.xsave)
		return -EFAULT;
	t = thr_task(a.tid);
	if (IS_ERR(t))
		return PTR_ERR(t);
	gen = thr_regset(t, NT_PRSTATUS);
	fp = thr_regset(t, NT_X86_XSTATE);
	if (!fp || !fp->active || fp->n * fp->size == 0)
		fp = thr_regset(t, NT_PRFPREG);	/* no XSAVE: the legacy 512 bytes */
	r = -EOPNOTSUPP;
	if (!gen || !fp || gen->n * gen->size != sizeof(struct user_regs_struct))
		goto out_task;
	need = fp->n * fp->size;
	r = -EOPNOTSUPP;
	if (need > THR_XSAVE_MAX)
		goto out_task;
	if (a.xsave_size < need) {
		a.xsave_size = need;
		r = -EFAULT;
		if (put_user(need, &((struct ckpt_assist_thread_stop __user *)uarg)->xsave_size))
			goto out_task;
		r = -ENOSPC;
		goto out_task;
	}
	r = -ENOMEM;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		goto out_task;
	s->xsave = kzalloc(need, GFP_KERNEL);
	if (!s->xsave) {
		kfree(s);
		goto out_task;
	}
	s->xsave_cap = need;
	s->gen = gen;
	s->fp = fp;
	s->tid = a.tid;
	spin_lock_init(&s->lock);
	init_waitqueue_head(&s->wq);
	s->state = THR_QUEUED;
	refcount_set(&s->ref, 2);		/* the list's, the callback's */
	init_task_work(&s->work, thr_work);

	mutex_lock(&tf->lock);
	r = -EBUSY;
	if (thr_find(tf, a.tid))
		goto out_unlock;
	__module_get(THIS_MODULE);		/* Invariant 3 */
	r = task_work_add(t, &s->work, TWA_SIGNAL);
	if (r) {
		module_put(THIS_MODULE);
		r = -ESRCH;			/* past exit_task_work */
		goto out_unlock;
	}
	list_add(&s->node, &tf->stops);
	mutex_unlock(&tf->lock);
	put_task_struct(t);

	r = thr_wait_stopped(s);
	if (!r)
		r = thr_copy_out(s, &a, uarg, usize);
	if (r) {				/* nothing stays stopped after an error */
		mutex_lock(&tf->lock);
		list_del(&s->node);
		mutex_unlock(&tf->lock);
		thr_set(s, THR_STOPPED, THR_RUN);
		thr_put(s);
	}
	return r;

out_unlock:
	mutex_unlock(&tf->lock);
	kfree(s->xsave);
	kfree(s);
out_task:
	put_task_struct(t);
	return r;
}

static long thr_resume(struct thr_file *tf, void __user *uarg)
{
	struct ckpt_assist_thread_resume a = { 0 };
	long usize = ckpt_assist_copy_in(&a, sizeof(a), CKPT_ASSIST_THREAD_RESUME_SIZE0, uarg);
	struct thr_stop *s;

	if (usize < 0)
		return usize;
	if (a.flags)
		return -EINVAL;
	mutex_lock(&tf->lock);
	s = a.tid > 0 ? thr_find(tf, a.tid) : NULL;
	if (s)
		list_del(&s->node);
	mutex_unlock(&tf->lock);
	if (!s)
		return -ESRCH;			/* not stopped through this fd */
	thr_set(s, THR_STOPPED, THR_RUN);
	thr_put(s);
	return 0;
}

int ckpt_assist_thread_open(struct file *f)
{
	struct thr_file *tf = kzalloc(sizeof(*tf), GFP_KERNEL);

	if (!tf)
		return -ENOMEM;
	mutex_init(&tf->lock);
	INIT_LIST_HEAD(&tf->stops);
	f->private_data = tf;
	return 0;
}

/* Invariant 2: every thread this fd stopped goes on; pending stops are abandoned. */
void ckpt_assist_thread_release(struct file *f)
{
	struct thr_file *tf = f->private_data;
	struct thr_stop *s, *n;

	if (!tf)
		return;
	list_for_each_entry_safe(s, n, &tf->stops, node) {
		list_del(&s->node);
		if (!thr_set(s, THR_STOPPED, THR_RUN))
			thr_set(s, THR_QUEUED, THR_ABANDONED);
		thr_put(s);
	}
	f->private_data = NULL;
	kfree(tf);
}

long ckpt_assist_thread_ioctl(struct file *f, unsigned int cmd, void __user *uarg)
{
	struct thr_file *tf = f->private_data;

	if (!tf)
		return -EBADF;
	switch (cmd) {
	case CKPT_ASSIST_IOC_THREAD_STOP:
		return thr_stop(tf, uarg);
	case CKPT_ASSIST_IOC_THREAD_RESUME:
		return thr_resume(tf, uarg);
	}
	return -ENOTTY;
}

u64 ckpt_assist_thread_ops(void)
{
	return CKPT_ASSIST_OP_THREAD_STOP | CKPT_ASSIST_OP_THREAD_RESUME;
}

int ckpt_assist_thread_init(void)
{
	return 0;
}

/*
 * Nothing to wait for: the module cannot go while an fd is open (the
 * device's owner) or a callback is queued (Invariant 3).
 */
void ckpt_assist_thread_exit(void)
{
}
