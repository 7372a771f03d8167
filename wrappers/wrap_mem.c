/*
 * wrap_mem.c - madvise(), posix_madvise() and the mlock family: notes
 * that the process gave memory an attribute /proc/self/maps does not show.
 *
 * Those attributes (madvise flags, locks, guard regions) show only in the
 * VmFlags of /proc/self/smaps, and reading smaps walks every page table
 * (1 GiB of 4 KiB pages: 8-16 ms, inside the application's pause).  So
 * the checkpoint reads it only when the process may have such attributes
 * (libckpt/ckpt_memattr.c): among other signs, when it has asked for one
 * through libc, which these wrappers record (wrap_mem_advised).  They also
 * keep the mlockall() flags, which nothing in /proc shows exactly
 * (wrap_mem_mcl).  Advice given behind libc's back (a raw system call)
 * is found by the other signs or not at all (docs/SUPPORT.md).
 *
 * glibc's versions of all of these are the bare system call (mlock2 with
 * an ENOSYS fallback no kernel this runs on needs): so are these, errno
 * and return values included.
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt_kfeat.h"
#include "wrappers/wrap.h"

#define WRAP_EXPORT __attribute__((visibility("default")))

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#define MADV_GUARD_REMOVE	103
#endif

volatile int wrap_mem_advised;
volatile int wrap_mem_mcl = -1;

/* Advice that sets or clears a VMA flag (shown in VmFlags), or a guard. */
static int advice_marks(int advice)
{
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
	case MADV_WIPEONFORK:
	case MADV_KEEPONFORK:
	case MADV_GUARD_INSTALL:
	case MADV_GUARD_REMOVE:
		return 1;
	default:
		return 0;
	}
}

/* Before the call: a checkpoint racing it errs on the safe side. */
WRAP_EXPORT int madvise(void *addr, size_t len, int advice)
{
	/* the test library acting as a kernel without guard regions (ckpt_kfeat.h) */
	if ((advice == MADV_GUARD_INSTALL || advice == MADV_GUARD_REMOVE) &&
	    ckpt_kfeat_off(CKPT_KF_GUARD)) {
		errno = EINVAL;
		return -1;
	}
	if (advice_marks(advice))
		wrap_mem_advised = 1;
	return syscall(SYS_madvise, addr, len, advice);
}

/* glibc: DONTNEED is a no-op, the rest madvise(); the error is returned, errno untouched. */
WRAP_EXPORT int posix_madvise(void *addr, size_t len, int advice)
{
	long r;

	if (advice == POSIX_MADV_DONTNEED)
		return 0;
	if (advice_marks(advice))
		wrap_mem_advised = 1;
	r = arch_sys3(SYS_madvise, addr, len, advice);
	return r < 0 ? (int)-r : 0;
}

WRAP_EXPORT int mlock(const void *addr, size_t len)
{
	wrap_mem_advised = 1;
	return syscall(SYS_mlock, addr, len);
}

WRAP_EXPORT int mlock2(const void *addr, size_t len, unsigned int flags)
{
	wrap_mem_advised = 1;
	return syscall(SYS_mlock2, addr, len, flags);
}

WRAP_EXPORT int munlock(const void *addr, size_t len)
{
	wrap_mem_advised = 1;
	return syscall(SYS_munlock, addr, len);
}

/*
 * mlockall(MCL_FUTURE) changes what every later mapping gets, the
 * checkpoint's own included (libckpt/ckpt_memattr.c): keep the flags.
 */
WRAP_EXPORT int mlockall(int flags)
{
	int r;

	wrap_mem_advised = 1;
	r = syscall(SYS_mlockall, flags);
	if (r == 0)
		wrap_mem_mcl = flags & MCL_FUTURE ? flags & (MCL_FUTURE | MCL_ONFAULT) : 0;
	return r;
}

WRAP_EXPORT int munlockall(void)
{
	int r;

	wrap_mem_advised = 1;
	r = syscall(SYS_munlockall);
	if (r == 0)
		wrap_mem_mcl = 0;
	return r;
}
