// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt_assist_policy.c - who may create a process or thread with a chosen
 * pid through the module: the administrator's policy, as module
 * parameters (insmod/modprobe options, or root writing
 * /sys/module/ckpt_assist/parameters/<name> at any time):
 *   clone_uids=U1,U2,...  users (uids of the initial user namespace)
 *   clone_gids=G1,G2,...  groups: a caller with one of them as effective
 *                         or supplementary group
 *   pid_min=, pid_max=    the pids (in the caller's pid namespace) such a
 *                         caller may ask for; defaults 300 (the kernel's
 *                         own floor after a wrap) and 4194304
 * Default: nobody is listed.  A caller that already has
 * CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) over its pid namespace is
 * allowed whatever the lists say, in the kernel's whole pid range: the
 * module gives it nothing it lacks.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pid_namespace.h>
#include <linux/threads.h>
#include "ckpt_assist.h"

#define CKPT_ASSIST_MAX_IDS	32

static unsigned int clone_uids[CKPT_ASSIST_MAX_IDS];
static unsigned int n_clone_uids;
module_param_array(clone_uids, uint, &n_clone_uids, 0644);
MODULE_PARM_DESC(clone_uids, "uids that may create a process or thread with a chosen pid (default: none)");

static unsigned int clone_gids[CKPT_ASSIST_MAX_IDS];
static unsigned int n_clone_gids;
module_param_array(clone_gids, uint, &n_clone_gids, 0644);
MODULE_PARM_DESC(clone_gids, "gids whose members may create a process or thread with a chosen pid (default: none)");

static int policy_pid_min = 300;
module_param_named(pid_min, policy_pid_min, int, 0644);
MODULE_PARM_DESC(pid_min, "lowest pid a listed caller may choose (default 300)");

static int policy_pid_max = PID_MAX_LIMIT;	/* the kernel has its own pid_max */
module_param_named(pid_max, policy_pid_max, int, 0644);
MODULE_PARM_DESC(pid_max, "highest pid a listed caller may choose (default 4194304)");

/* The capability the kernel's own clone3 set_tid asks for, over the pid ns. */
static bool ckpt_assist_privileged(void)
{
	struct user_namespace *ns = task_active_pid_ns(current)->user_ns;

	return ns_capable_noaudit(ns, CAP_CHECKPOINT_RESTORE) ||
	       ns_capable_noaudit(ns, CAP_SYS_ADMIN);
}

static bool ckpt_assist_listed(void)
{
	kuid_t euid = current_euid();
	bool ok = false;
	unsigned int i;

	/* sysfs writes of the arrays take the same lock */
	kernel_param_lock(THIS_MODULE);
	for (i = 0; i < n_clone_uids && !ok; i++)
		ok = uid_eq(euid, make_kuid(&init_user_ns, clone_uids[i]));
	for (i = 0; i < n_clone_gids && !ok; i++) {
		kgid_t g = make_kgid(&init_user_ns, clone_gids[i]);

		ok = gid_valid(g) && in_egroup_p(g);
	}
	kernel_param_unlock(THIS_MODULE);
	return ok;
}

bool ckpt_assist_may_clone(void)
{
	return ckpt_assist_privileged() || ckpt_assist_listed();
}

bool ckpt_assist_pid_allowed(pid_t pid)
{
	bool ok;

	if (ckpt_assist_privileged())
		return true;
	kernel_param_lock(THIS_MODULE);
	ok = pid >= policy_pid_min && pid <= policy_pid_max;
	kernel_param_unlock(THIS_MODULE);
	return ok;
}
