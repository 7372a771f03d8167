// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt_assist_clone.c - CLONE: clone3() with one set_tid entry for a
 * caller the policy allows (ckpt_assist_policy.c), in its own pid
 * namespace.
 *
 * How: the kernel's own clone3 path, kernel_clone(), with set_tid, under
 * override_creds() of a copy of the caller's credentials that adds
 * CAP_CHECKPOINT_RESTORE to the effective set (alloc_pid asks for it
 * over the pid namespace's user namespace, which must be the caller's).
 * kernel_clone is not exported: its address is found once, at load,
 * through a kprobe registered and removed at once (the usual out-of-tree
 * way since kallsyms_lookup_name is no longer exported either; the
 * module is built for one kernel, whose vermagic it carries, so the
 * prototype is that kernel's).
 *
 * The child must not keep the capability: copy_creds() copies the
 * overriding (subjective) credentials into the child.  So the child is
 * started like a kernel "user worker" (kernel_clone_args.fn): before its
 * first return to user mode it runs ckpt_assist_child_start(), which
 * commits credentials with the caller's own effective set, puts back the
 * instruction and stack pointers (copy_thread() clears them for such a
 * child), sets its TLS, and then returns to user mode with 0 in rax, as
 * a clone child does.  One difference with clone3: the child's FPU/SSE
 * state starts in its initial state (fpu_clone() copies nothing for such
 * a child): MXCSR and the x87 control word are their defaults, the
 * vector registers zero.  libckpt's restorer does not care (every thread
 * takes its registers from its signal frame).
 *
 * Refused (EPERM) for a caller under a seccomp filter: the module would
 * otherwise give it a clone its filter may forbid.
 */
#include <linux/cred.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/seccomp.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fsgsbase.h>
#include <asm/segment.h>
#include "ckpt_assist.h"

#define CKPT_ASSIST_CLONE_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | \
	CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | \
	CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PARENT)

static pid_t (*ckpt_kernel_clone)(struct kernel_clone_args *args);

/* What the child needs from its parent's call; the child frees it. */
struct ckpt_assist_start {
	unsigned long ip, sp, tls;
	bool settls;
	kernel_cap_t cap_effective;	/* the caller's own */
};

int ckpt_assist_clone_init(void)
{
	struct kprobe kp = { .symbol_name = "kernel_clone" };
	int r = register_kprobe(&kp);

	if (r < 0) {
		pr_err(CKPT_ASSIST_NAME ": cannot find kernel_clone (kprobe: %d)\n", r);
		return r;
	}
	ckpt_kernel_clone = (void *)kp.addr;
	unregister_kprobe(&kp);
	return 0;
}

void ckpt_assist_clone_exit(void)
{
	/* nothing: each child still starting holds a module reference */
}

/* The child's first code, in the kernel, before it returns to user mode. */
static int ckpt_assist_child_start(void *arg)
{
	struct ckpt_assist_start *s = arg;
	struct pt_regs *regs = current_pt_regs();
	struct cred *c = prepare_creds();

	if (c) {
		c->cap_effective = s->cap_effective;
		commit_creds(c);
	} else {
		/* never return to user mode with the capability */
		force_sig(SIGKILL);
	}
	regs->ip = s->ip;
	regs->sp = s->sp;
	if (s->settls) {
		/* as arch_prctl(ARCH_SET_FS) does for the current task */
		preempt_disable();
		loadsegment(fs, 0);
		x86_fsbase_write_cpu(s->tls);
		current->thread.fsindex = 0;
		current->thread.fsbase = s->tls;
		preempt_enable();
	}
	kfree(s);
	/* the last use of module code but the return itself (see module_put_and_kthread_exit) */
	module_put(THIS_MODULE);
	return 0;
}

static long ckpt_assist_clone_check(const struct ckpt_assist_clone *a)
{
	if (a->reserved || (a->flags & ~(u64)CKPT_ASSIST_CLONE_FLAGS))
		return -EINVAL;
	if (a->exit_signal & ~(u64)CSIGNAL || !valid_signal(a->exit_signal))
		return -EINVAL;
	if ((a->flags & (CLONE_THREAD | CLONE_PARENT)) && a->exit_signal)
		return -EINVAL;
	if ((a->flags & CLONE_THREAD) && !(a->flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((a->flags & CLONE_SIGHAND) && !(a->flags & CLONE_VM))
		return -EINVAL;
	if (a->pid < 1 || a->pid > INT_MAX)
		return -EINVAL;
	if (!a->stack != !a->stack_size)
		return -EINVAL;
	if (a->stack && (a->stack + a->stack_size < a->stack ||
			 !access_ok(u64_to_user_ptr(a->stack), a->stack_size)))
		return -EINVAL;
	if ((a->flags & CLONE_SETTLS) && a->tls >= TASK_SIZE_MAX)
		return -EPERM;		/* as arch_prctl(ARCH_SET_FS) */
	return 0;
}

long ckpt_assist_clone(void __user *uarg)
{
	struct ckpt_assist_clone a = { 0 };
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct pt_regs *regs = current_pt_regs();
	struct ckpt_assist_start *s;
	struct kernel_clone_args k;
	const struct cred *old;
	struct cred *c;
	pid_t tid;
	long r;

	r = ckpt_assist_copy_in(&a, sizeof(a), CKPT_ASSIST_CLONE_SIZE0, uarg);
	if (r < 0)
		return r;
	r = ckpt_assist_clone_check(&a);
	if (r)
		return r;
	/* its own pid namespace, owned by its own user namespace */
	if (current->nsproxy->pid_ns_for_children != ns)
		return -EINVAL;
	if (current_user_ns() != ns->user_ns)
		return -EPERM;
	if (!ckpt_assist_may_clone() || !ckpt_assist_pid_allowed(a.pid))
		return -EPERM;
	if (current->seccomp.mode != SECCOMP_MODE_DISABLED)
		return -EPERM;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	c = prepare_creds();
	if (!c) {
		kfree(s);
		return -ENOMEM;
	}
	s->ip = regs->ip;
	s->sp = a.stack ? a.stack + a.stack_size : regs->sp;
	s->tls = a.tls;
	s->settls = !!(a.flags & CLONE_SETTLS);
	s->cap_effective = current_cred()->cap_effective;
	cap_raise(c->cap_effective, CAP_CHECKPOINT_RESTORE);

	tid = a.pid;
	memset(&k, 0, sizeof(k));
	k.flags = a.flags & ~(u64)CLONE_SETTLS;	/* the child sets its own */
	k.child_tid = u64_to_user_ptr(a.child_tid);
	k.parent_tid = u64_to_user_ptr(a.parent_tid);
	k.exit_signal = a.exit_signal;
	k.stack = s->sp;
	k.set_tid = &tid;
	k.set_tid_size = 1;
	k.fn = ckpt_assist_child_start;
	k.fn_arg = s;

	__module_get(THIS_MODULE);		/* dropped by the child */
	old = override_creds(c);
	r = ckpt_kernel_clone(&k);
	revert_creds(old);
	put_cred(c);
	if (r < 0) {
		module_put(THIS_MODULE);
		kfree(s);
	}
	return r;
}
