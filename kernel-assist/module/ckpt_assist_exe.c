// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt_assist_exe.c - EXE_LINK: the caller's /proc/self/exe becomes the
 * file at fd, for a caller the CLONE policy allows (ckpt_assist_policy.c).
 *
 * The kernel's PR_SET_MM_MAP sets it only for a caller with
 * CAP_CHECKPOINT_RESTORE, because the link is what others (audit, LSMs,
 * /proc readers) take the process to be running.  The module lets the
 * users its administrator listed (who may already choose pids) set it to
 * a file they may execute, the checks prctl_set_mm_exe_file() makes:
 * a regular file, on a mount that allows exec, with execute permission.
 * replace_mm_exe_file() (not exported: found through a kprobe, as
 * kernel_clone is) refuses while the old executable is still mapped.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/sched/mm.h>
#include "ckpt_assist.h"

static int (*ckpt_replace_mm_exe_file)(struct mm_struct *mm, struct file *f);

int ckpt_assist_exe_init(void)
{
	struct kprobe kp = { .symbol_name = "replace_mm_exe_file" };
	int r = register_kprobe(&kp);

	if (r < 0) {
		pr_err(CKPT_ASSIST_NAME ": cannot find replace_mm_exe_file (kprobe: %d)\n", r);
		return r;
	}
	ckpt_replace_mm_exe_file = (void *)kp.addr;
	unregister_kprobe(&kp);
	return 0;
}

/* path_noexec(), which is not exported */
static bool ckpt_assist_noexec(const struct path *path)
{
	return (path->mnt->mnt_flags & MNT_NOEXEC) ||
	       (path->mnt->mnt_sb->s_iflags & SB_I_NOEXEC);
}

long ckpt_assist_exe_link(void __user *uarg)
{
	struct ckpt_assist_exe_link e = { 0 };
	struct fd f;
	long r;

	r = ckpt_assist_copy_in(&e, sizeof(e), CKPT_ASSIST_EXE_LINK_SIZE0, uarg);
	if (r < 0)
		return r;
	if (e.flags)
		return -EINVAL;
	if (!ckpt_assist_may_clone())
		return -EPERM;
	if (!current->mm)
		return -EINVAL;
	f = fdget(e.fd);
	if (!f.file)
		return -EBADF;
	r = -EACCES;
	if (S_ISREG(file_inode(f.file)->i_mode) && !ckpt_assist_noexec(&f.file->f_path))
		r = file_permission(f.file, MAY_EXEC);
	if (!r)
		r = ckpt_replace_mm_exe_file(current->mm, f.file);
	fdput(f);
	return r;
}
