/*
 * shim_api.c - the public entry points of include/ckpt.h.
 *
 * ckpt_save() raises the checkpoint signal at the calling thread, so a
 * self checkpoint takes the same path as a transparent one; the handler
 * runs before tgkill returns (the signal is unblocked for the call).  The
 * result is left in the thread's shim_self: CKPT_SAVED by the handler in the original,
 * CKPT_RESTORED by the post-restore handler in a restarted copy.  The
 * checkpoint hooks (shim_hooks.c) run here, in the caller's thread:
 * BEFORE first (a veto: ECANCELED, nothing raised), then AFTER in the
 * original (also after a failure) or RESTART in a restarted copy.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ckpt.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "shim/shim_int.h"
#include "wrappers/wrap.h"

#define API __attribute__((visibility("default")))

static int fail(int err, const char *msg)
{
	ckpt_fmt(shim_self.err, sizeof(shim_self.err), "%s", msg);
	errno = err;
	return -1;
}

API int ckpt_save_v1(const char *path, const struct ckpt_options *opts)
{
	char msg[256], msg2[256];
	sigset_t set, old;
	unsigned gen;
	int r;

	if (!path || !*path)
		return fail(EINVAL, "ckpt_save: no image path given");
	if (!strcmp(path, "-"))
		return fail(EINVAL, "ckpt_save: \"-\" is not a path; use ckpt-save to write to a pipe");
	if (opts && (opts->flags & ~(CKPT_OPT_FSYNC | CKPT_OPT_MAPPABLE | CKPT_OPT_INCREMENTAL |
				     CKPT_OPT_FORK)))
		return fail(EINVAL, "ckpt_save: unknown option flags");
	if (shim_self.pending)
		return fail(EBUSY, "ckpt_save: called again from its own callback");
	if (shim_hooks_running())
		return fail(EBUSY, "ckpt_save: called from a checkpoint hook");

	gen = shim_hooks_gen();
	if (shim_hooks_run(CKPT_HOOK_BEFORE, msg, sizeof(msg)) < 0) {
		shim_hooks_run(CKPT_HOOK_AFTER, msg2, sizeof(msg2));
		ckpt_fmt(shim_self.err, sizeof(shim_self.err), "ckpt_save: vetoed by a checkpoint "
			 "hook: %s", msg);
		errno = ECANCELED;
		return -1;
	}

	shim_self.tid = syscall(SYS_gettid);
	shim_self.path = path;
	shim_self.flags = opts ? opts->flags : 0;
	shim_self.result = -EINTR;
	shim_self.err[0] = '\0';
	shim_self.pending = 1;
	sigemptyset(&set);
	sigaddset(&set, shim_cfg.ctl_sig);
	wrap_real_sigmask(SIG_UNBLOCK, &set, &old);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), shim_cfg.ctl_sig);
	wrap_real_sigmask(SIG_SETMASK, &old, NULL);
	shim_self.pending = 0;

	r = shim_self.result;
	/* in a restarted copy gen moved on (shim_post_restore) and r is RESTORED */
	shim_hooks_run(shim_hooks_gen() != gen ? CKPT_HOOK_RESTART : CKPT_HOOK_AFTER, msg2,
		       sizeof(msg2));
	if (r == CKPT_SAVED || r == CKPT_RESTORED) {
		shim_self.err[0] = '\0';
		return r;
	}
	if (!shim_self.err[0])
		ckpt_fmt(shim_self.err, sizeof(shim_self.err), "checkpoint failed: %s",
			 ckpt_strerror(r));
	errno = -r;
	return -1;
}

/* Like errno, per thread: the last ckpt_save() failure of this thread. */
API const char *ckpt_last_error_v1(void)
{
	return shim_self.err[0] ? shim_self.err : "no error";
}

/* ckpt_exclude (exclude 1) and ckpt_include (0): libckpt/ckpt_excl.c keeps the set. */
API int ckpt_exclude_v1(void *addr, size_t len, int exclude)
{
	int r = ckpt_excl_set((uint64_t)(uintptr_t)addr, len, !!exclude);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}
