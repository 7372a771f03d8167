/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ckpt_assist.h - what the module's files share (not userspace: that is
 * ckpt_assist_uapi.h).
 *
 * ckpt_assist_main.c owns the device and the dispatch: it reads each
 * call's struct with ckpt_assist_copy_in() (the uapi's size rules) and
 * hands it to the call's own file.  Every call checks its own policy.
 */
#ifndef CKPT_ASSIST_H
#define CKPT_ASSIST_H

#include <linux/fs.h>
#include <linux/types.h>
#include "ckpt_assist_uapi.h"

#define CKPT_ASSIST_NAME	"ckpt_assist"

/*
 * Reads the user struct at uarg into k (ksize bytes): its first __u32 is
 * the caller's size; below size0 -EINVAL, above ksize -E2BIG unless the
 * unknown tail is zero, above a page -E2BIG; missing fields read as zero.
 * Returns the caller's size (>= size0) or -errno.
 */
long ckpt_assist_copy_in(void *k, size_t ksize, size_t size0, void __user *uarg);

/* ckpt_assist_policy.c: the administrator's policy (module parameters) */
bool ckpt_assist_may_clone(void);		/* the caller is listed (or privileged) */
bool ckpt_assist_pid_allowed(pid_t pid);	/* pid lies in the allowed range */

/* ckpt_assist_clone.c */
int ckpt_assist_clone_init(void);		/* finds kernel_clone */
long ckpt_assist_clone(void __user *uarg);
void ckpt_assist_clone_exit(void);		/* waits for children still starting */

/* ckpt_assist_timer.c */
long ckpt_assist_timer_id(void __user *uarg);

/*
 * ckpt_assist_thread.c (THREAD_STOP/RESUME), optional: Kbuild defines
 * CKPT_ASSIST_HAVE_THREAD when the file is there.  open/release give it
 * the fd's own state (a thread stopped through an fd is resumed when
 * that fd is closed); ioctl gets THREAD_STOP and THREAD_RESUME.
 */
#ifdef CKPT_ASSIST_HAVE_THREAD
int ckpt_assist_thread_init(void);
void ckpt_assist_thread_exit(void);
u64 ckpt_assist_thread_ops(void);		/* CKPT_ASSIST_OP_THREAD_* it serves */
int ckpt_assist_thread_open(struct file *f);
void ckpt_assist_thread_release(struct file *f);
long ckpt_assist_thread_ioctl(struct file *f, unsigned int cmd, void __user *uarg);
#else
static inline int ckpt_assist_thread_init(void) { return 0; }
static inline void ckpt_assist_thread_exit(void) { }
static inline u64 ckpt_assist_thread_ops(void) { return 0; }
static inline int ckpt_assist_thread_open(struct file *f) { return 0; }
static inline void ckpt_assist_thread_release(struct file *f) { }
static inline long ckpt_assist_thread_ioctl(struct file *f, unsigned int cmd,
					    void __user *uarg)
{
	return -ENOTTY;
}
#endif

#endif
