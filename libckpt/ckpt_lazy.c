/*
 * ckpt_lazy.c - a checkpoint of a process restarted with `ckpt-restart
 * --lazy` whose memory has not all arrived yet.
 *
 * Pages that the page server has not installed yet are missing from the
 * page tables, so /proc/self/pagemap reports them as never touched: saved
 * as they are, they would be holes (zeros) in the new image.  A forked
 * writer would not see them either: without UFFD_FEATURE_EVENT_FORK a
 * fork drops the userfaultfd registration, and missing pages read as
 * zeros in the copy.  So the checkpoint waits until the server is done:
 * it closes the userfaultfd when every page is in, which unregisters the
 * ranges ("um" disappears from VmFlags in /proc/self/smaps).
 *
 * Cost: nothing unless the restorer marked this process as restored
 * lazily (ckpt_restore_info.lazy); then one read of /proc/self/smaps per
 * 2 ms of waiting, until the first time every range is clear.
 * A process that registers memory with its own userfaultfd cannot be
 * checkpointed either way: after CKPT_LAZY_WAIT_S it is refused, with the
 * range named.
 */
#include <errno.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"

#define CKPT_LAZY_WAIT_S	60

/* Notes each mapping's start in *arg; 1 at one registered for missing faults ("um"). */
static int lazy_registered(uint64_t start, uint64_t end, const char *flags, void *arg)
{
	*(uint64_t *)arg = start;
	return ckpt_vmflag(flags, "um");
}

int ckpt_lazy_settle(struct ckpt_ctx *c)
{
	uint64_t at = 0;

	if (!ckpt_restore_info.lazy)
		return 0;
	for (long waited_ms = 0;; waited_ms += 2) {
		struct timespec ms = { 0, 2000000 };
		int busy = ckpt_smaps_each(c, lazy_registered, &at);

		if (busy < 0)
			return ckpt_fail(c, busy, "cannot read /proc/self/smaps");
		if (!busy)
			break;
		if (waited_ms >= CKPT_LAZY_WAIT_S * 1000L)
			return ckpt_fail(c, -EBUSY, "memory at %lx is still registered with "
					 "userfaultfd after %d s (a lazy restart that does not "
					 "finish, or the program's own userfaultfd)",
					 (unsigned long)at, CKPT_LAZY_WAIT_S);
		/* not nanosleep(): inside libckpt that is its own wrapper */
		arch_sys2(SYS_nanosleep, &ms, NULL);
	}
	ckpt_restore_info.lazy = 0;
	return 0;
}
