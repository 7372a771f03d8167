// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt_assist_main.c - the kernel-assist module: the misc device
 * /dev/ckpt-assist, its ioctl dispatch, VERSION.
 *
 * The device is mode 0666: opening it grants nothing.  Every call checks
 * its own policy against the caller (ckpt_assist_policy.c) and acts only
 * on the caller itself or a child it creates; the interface and its
 * versioning rules are in ckpt_assist_uapi.h.
 */
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include "ckpt_assist.h"

long ckpt_assist_copy_in(void *k, size_t ksize, size_t size0, void __user *uarg)
{
	u32 usize;
	int r;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < size0)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	r = copy_struct_from_user(k, ksize, uarg, usize);
	if (r)
		return r;
	return usize;
}

static u64 ckpt_assist_ops(void)
{
	return CKPT_ASSIST_OP_CLONE | CKPT_ASSIST_OP_TIMER_ID | CKPT_ASSIST_OP_EXE_LINK |
	       ckpt_assist_thread_ops();
}

static long ckpt_assist_version(void __user *uarg)
{
	struct ckpt_assist_version v = { 0 };
	long usize = ckpt_assist_copy_in(&v, sizeof(v), CKPT_ASSIST_VERSION_SIZE0, uarg);

	if (usize < 0)
		return usize;
	v.abi = CKPT_ASSIST_ABI;
	v.ops = ckpt_assist_ops();
	v.policy = ckpt_assist_may_clone() ? CKPT_ASSIST_POL_CLONE : 0;
	/* the caller's size: a larger struct's unknown tail is zero already */
	if (copy_to_user(uarg, &v, min_t(size_t, usize, sizeof(v))))
		return -EFAULT;
	return 0;
}

static long ckpt_assist_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case CKPT_ASSIST_IOC_VERSION:
		return ckpt_assist_version(uarg);
	case CKPT_ASSIST_IOC_CLONE:
		return ckpt_assist_clone(uarg);
	case CKPT_ASSIST_IOC_TIMER_ID:
		return ckpt_assist_timer_id(uarg);
	case CKPT_ASSIST_IOC_EXE_LINK:
		return ckpt_assist_exe_link(uarg);
	case CKPT_ASSIST_IOC_THREAD_STOP:
	case CKPT_ASSIST_IOC_THREAD_RESUME:
		return ckpt_assist_thread_ioctl(f, cmd, uarg);
	default:
		return -ENOTTY;
	}
}

static int ckpt_assist_open(struct inode *inode, struct file *f)
{
	return ckpt_assist_thread_open(f);
}

static int ckpt_assist_release(struct inode *inode, struct file *f)
{
	ckpt_assist_thread_release(f);
	return 0;
}

static const struct file_operations ckpt_assist_fops = {
	.owner		= THIS_MODULE,
	.open		= ckpt_assist_open,
	.release	= ckpt_assist_release,
	.unlocked_ioctl	= ckpt_assist_ioctl,
	/* no compat_ioctl: a 32-bit caller has another layout of nothing here,
	 * but the module serves x86-64 processes only */
	.llseek		= noop_llseek,
};

static struct miscdevice ckpt_assist_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "ckpt-assist",
	.fops	= &ckpt_assist_fops,
	.mode	= 0666,
};

static int __init ckpt_assist_init(void)
{
	int r;

	r = ckpt_assist_clone_init();
	if (r)
		return r;
	r = ckpt_assist_exe_init();
	if (r)
		goto out_clone;
	r = ckpt_assist_thread_init();
	if (r)
		goto out_clone;
	r = misc_register(&ckpt_assist_dev);
	if (r)
		goto out_thread;
	pr_info(CKPT_ASSIST_NAME ": /dev/ckpt-assist, abi %d, ops 0x%llx\n",
		CKPT_ASSIST_ABI, ckpt_assist_ops());
	return 0;
out_thread:
	ckpt_assist_thread_exit();
out_clone:
	ckpt_assist_clone_exit();
	return r;
}

static void __exit ckpt_assist_cleanup(void)
{
	misc_deregister(&ckpt_assist_dev);
	ckpt_assist_thread_exit();
	ckpt_assist_clone_exit();
}

module_init(ckpt_assist_init);
module_exit(ckpt_assist_cleanup);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("libckpt kernel assist: chosen pids and the executable link under a policy, POSIX timer ids");
MODULE_VERSION("1");
