// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt_assist_policy.c - who may create a process or thread with a chosen
 * pid through the module: the administrator's policy, as module
 * parameters (insmod/modprobe options, or root writing
 * /sys/module/ckpt_assist/parameters/<name> at any time):
 *   clone_uids=U1,U2,...  users (uids of the initial user namespace); ""
 *                         for none
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
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/threads.h>
#include "ckpt_assist.h"

#define CKPT_ASSIST_MAX_IDS	32

/*
 * A list of ids: "1000,1001" (at most CKPT_ASSIST_MAX_IDS), or "" for
 * none (module_param_array refuses an empty write: a list could never be
 * emptied again).  Read and written under kernel_param_lock.
 */
struct ckpt_assist_ids {
	unsigned int n;
	u32 id[CKPT_ASSIST_MAX_IDS];
};

static int ckpt_assist_ids_set(const char *val, const struct kernel_param *kp)
{
	struct ckpt_assist_ids *ids = kp->arg, new = { 0 };
	char *buf, *p, *tok;
	int r = 0;

	buf = kstrdup(val, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	p = strim(buf);
	while (p && *p) {
		tok = strsep(&p, ",");
		tok = strim(tok);
		if (new.n == CKPT_ASSIST_MAX_IDS || kstrtou32(tok, 10, &new.id[new.n]) ||
		    new.id[new.n] == (u32)-1) {
			r = -EINVAL;
			break;
		}
		new.n++;
	}
	kfree(buf);
	if (!r)
		*ids = new;
	return r;
}

static int ckpt_assist_ids_get(char *buf, const struct kernel_param *kp)
{
	const struct ckpt_assist_ids *ids = kp->arg;
	int len = 0;
	unsigned int i;

	for (i = 0; i < ids->n; i++)
		len += scnprintf(buf + len, PAGE_SIZE - len, "%s%u", i ? "," : "", ids->id[i]);
	len += scnprintf(buf + len, PAGE_SIZE - len, "\n");
	return len;
}

static const struct kernel_param_ops ckpt_assist_ids_ops = {
	.set = ckpt_assist_ids_set,
	.get = ckpt_assist_ids_get,
};

static struct ckpt_assist_ids clone_uids, clone_gids;
module_param_cb(clone_uids, &ckpt_assist_ids_ops, &clone_uids, 0644);
MODULE_PARM_DESC(clone_uids, "uids that may create a process or thread with a chosen pid, comma separated (default: none)");
module_param_cb(clone_gids, &ckpt_assist_ids_ops, &clone_gids, 0644);
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
	for (i = 0; i < clone_uids.n && !ok; i++)
		ok = uid_eq(euid, make_kuid(&init_user_ns, clone_uids.id[i]));
	for (i = 0; i < clone_gids.n && !ok; i++) {
		kgid_t g = make_kgid(&init_user_ns, clone_gids.id[i]);

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
