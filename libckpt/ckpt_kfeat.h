/*
 * ckpt_kfeat.h - kernel features libckpt probes for and does without
 * (docs/SUPPORT.md, "Older kernels (6.1)").  Each probe runs once and is
 * cached by its caller; ckpt_kfeat_off() lets a TEST build pretend a
 * feature is missing, so the fallback paths run on a kernel that has it.
 *
 * Production builds: ckpt_kfeat_off() is always 0 (no switch exists).
 * The test library (build/tests/kfeat/libckpt.so, the same objects with
 * ckpt_kfeat.c built -DCKPT_KFEAT_TEST) reads CKPT_TEST_KFEAT_OFF, a
 * comma-separated list of the names below, once.
 */
#ifndef CKPT_KFEAT_H
#define CKPT_KFEAT_H

enum ckpt_kfeat {
	CKPT_KF_PAGEMAP_SCAN = 1 << 0,	/* "pagemap_scan": ioctl PAGEMAP_SCAN, Linux 6.7 */
	CKPT_KF_WP_ASYNC = 1 << 1,	/* "wp_async": UFFD_FEATURE_WP_ASYNC, 6.7 */
	CKPT_KF_SOFT_DIRTY = 1 << 2,	/* "soft_dirty": CONFIG_MEM_SOFT_DIRTY */
	CKPT_KF_EVENTFD_SEM = 1 << 3,	/* "eventfd_semaphore": fdinfo's field, 6.6 */
	/*
	 * "guard_regions": MADV_GUARD_INSTALL, 6.13.  The program's madvise()
	 * through libc (wrappers/wrap_mem.c) fails with EINVAL, as there.
	 * Implied by "pagemap_scan": a kernel without PAGEMAP_SCAN (before
	 * 6.7) has no guard regions.  Raw system calls still make them: the
	 * fallback of ckpt_memattr_guards finds them then.
	 */
	CKPT_KF_GUARD = 1 << 4,
	/*
	 * "mincore": not a kernel feature but a condition: the walk without
	 * PAGEMAP_SCAN acts as if swap were on, and reads pagemap page by
	 * page (ckpt_pmscan.c: mincore does not see swapped pages).
	 */
	CKPT_KF_MINCORE = 1 << 5,
};

/* 1 when the test build was told to act as if the kernel lacked f. */
int ckpt_kfeat_off(enum ckpt_kfeat f);

#endif
