/*
 * wrap_mem.c - madvise(): notes advice that would make a forked
 * checkpoint unfaithful.
 *
 * A forked checkpoint writes the pages from a copy-on-write fork of the
 * process.  MADV_DONTFORK memory is absent from that copy and
 * MADV_WIPEONFORK memory is zero there, so a process with either is
 * written in place.  Only /proc/self/smaps shows those flags, and reading
 * it walks every page table (1 GiB of 4 KiB pages: 12-16 ms, inside the
 * application's pause).  So the checkpoint reads smaps only once the
 * process has asked for either advice through libc (wrap_fork_advised).
 * Advice given behind libc's back (a raw system call) is caught for
 * MADV_DONTFORK by the copy itself, where the mapping is missing
 * (ckpt_core.c), and not for MADV_WIPEONFORK (docs/SUPPORT.md).
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "wrappers/wrap.h"

#define WRAP_EXPORT __attribute__((visibility("default")))

volatile int wrap_fork_advised;

/* glibc's madvise is the bare system call: so is this, errno included. */
WRAP_EXPORT int madvise(void *addr, size_t len, int advice)
{
	/* Before the call: a checkpoint racing it errs on the safe side. */
	if (advice == MADV_DONTFORK || advice == MADV_WIPEONFORK)
		wrap_fork_advised = 1;
	return syscall(SYS_madvise, addr, len, advice);
}
