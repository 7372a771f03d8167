/*
 * shim_handler.c - the checkpoint signal handler and its twin, the
 * post-restore handler.
 *
 * Triggers, all arriving as a signal so that self and transparent
 * checkpoints share one path:
 *   ctl signal, SI_TKILL from ourselves    ckpt_save() (shim_self)
 *   ctl signal, SI_QUEUE from another pid  ckpt-save (shim_ctl.c); si_pid
 *                                          is 0 when it is outside our pid
 *                                          namespace (ckpt-run --pidns)
 *   ctl signal, SI_TIMER with our cookie   CKPT_INTERVAL
 *   CKPT_SIGNAL                            checkpoint to CKPT_IMAGE
 *   SIGTERM with CKPT_ON_TERM              checkpoint, then terminate
 * Anything else on the ctl signal is ignored (logged at debug level).
 *
 * Invariants: the handler keeps errno; it never returns into the
 * application with another checkpoint signal unblocked (sa_mask); the
 * image is complete before anyone is told "saved".
 *
 * After a restart the process does not resume in shim_handler: the
 * restorer delivers the checkpoint signal anew to shim_post_restore, on
 * the stack just below the frame of the interrupted context, so when that
 * returns the application continues exactly where the checkpoint took it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "ckpt.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_incr.h"
#include "shim/shim_int.h"
#include "wrappers/wrap.h"

__thread struct shim_self_req shim_self __attribute__((tls_model("initial-exec")));
/* errno of the interrupted code, per thread (every thread parks in here). */
static __thread int shim_saved_errno __attribute__((tls_model("initial-exec")));
/*
 * IMG_F_PIDNS when ckpt-run --pidns started us (CKPT_PIDNS=1) as pid 2 of
 * our own user+pid namespace: every image says so, and ckpt-restart makes
 * such a namespace again.  Read once at load (the handler cannot call
 * getenv()), and kept across restarts with the rest of our memory.
 */
static unsigned shim_ns_flags;

__attribute__((constructor)) static void shim_read_pidns(void)
{
	const char *v = getenv("CKPT_PIDNS");

	if (v && !strcmp(v, "1"))
		shim_ns_flags = IMG_F_PIDNS;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int shim_checkpoint_fd(int fd, int ctl_fd, int sig, siginfo_t *info, void *uc, unsigned hdr_flags,
		       int fork_ok, int *forked, char *err, size_t errlen, uint64_t *mem_bytes)
{
	/*
	 * On this thread's stack: two threads may be here at once (one will
	 * lead, ckpt_leader_enter refuses the other with EBUSY).
	 */
	struct ckpt_ctx c = { 0 };
	int r;

	c.img_fd = fd;
	c.ctl_fd = ctl_fd;
	c.sig = sig;
	c.ctl_sig_no = shim_cfg.ctl_sig;
	c.info = info;
	c.uc = uc;
	c.entry_rip = (uintptr_t)shim_post_restore;
	/* IMG_F_INCREMENTAL from the caller asks; the engine decides (ckpt_incr.h) */
	c.incremental = (hdr_flags & IMG_F_INCREMENTAL) != 0;
	c.hdr_flags = (hdr_flags & ~IMG_F_INCREMENTAL) | shim_ns_flags;
	c.no_compress = shim_cfg.no_compress;
	c.threads = shim_cfg.threads;
	c.fork_ok = fork_ok && !shim_cfg.no_fork;
	c.mem_advised = wrap_mem_advised;
	c.mem_mcl = wrap_mem_mcl;
	c.smaps_always = shim_cfg.smaps_always;
	/*
	 * The saved memory must show the interrupted code's errno, not
	 * whatever the handler left there.
	 */
	errno = shim_saved_errno;
	r = ckpt_run(&c);
	*forked = c.forked;
	if (r < 0)
		ckpt_fmt(err, errlen, "%s", c.err);
	if (mem_bytes)
		*mem_bytes = c.mem_bytes;
	return r;
}

int shim_save_path(const char *path, unsigned flags, int fork_ok, int sig, siginfo_t *info,
		   void *uc, char *err, size_t errlen)
{
	char tmp[SHIM_PATH_MAX + 32];
	uint64_t t0 = now_ns(), mem = 0;
	int fd, r, forked;

	/* Never a half image under the user's name: write aside, rename. */
	ckpt_fmt(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = ckpt_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		ckpt_fmt(err, errlen, "cannot create %s (errno %d)", tmp, -r);
		return r;
	}
	r = shim_checkpoint_fd(fd, -1, sig, info, uc,
			       (info->si_code == SI_TKILL ? IMG_F_SELF : 0) |
			       ((flags & CKPT_OPT_MAPPABLE) ? IMG_F_MAPPABLE : 0) |
			       ((flags & CKPT_OPT_INCREMENTAL) ? IMG_F_INCREMENTAL : 0), fork_ok, &forked,
			       err, errlen, &mem);
	if (forked == CKPT_FORKED_PARENT) {
		ckpt_close(fd);			/* the copy finishes, and renames */
		return 0;
	}
	if (r == 0 && (flags & CKPT_OPT_FSYNC) && fsync(fd) < 0) {
		r = -errno;
		ckpt_fmt(err, errlen, "fsync of %s failed (errno %d)", tmp, -r);
	}
	if (ckpt_close(fd) < 0 && r == 0) {
		r = -errno;
		ckpt_fmt(err, errlen, "writing %s failed (errno %d)", tmp, -r);
	}
	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
		ckpt_fmt(err, errlen, "cannot rename %s to %s (errno %d)", tmp, path, -r);
	}
	if (r < 0)
		unlink(tmp);
	else
		shim_log(SHIM_LOG_INFO, "saved %s: %lu bytes of memory in %lu us", path,
			 (unsigned long)mem, (unsigned long)((now_ns() - t0) / 1000));
	if (forked == CKPT_FORKED_CHILD) {
		if (r < 0)
			shim_log(SHIM_LOG_ERROR, "checkpoint to %s failed: %s", path, err);
		_exit(r < 0);			/* the copy is done */
	}
	return r;
}

static void save_self(int sig, siginfo_t *info, void *uc)
{
	int r;

	shim_self.err[0] = '\0';
	shim_self.leading = 1;
	r = shim_save_path(shim_self.path, shim_self.flags, !!(shim_self.flags & CKPT_OPT_FORK),
			   sig, info, uc,
			   shim_self.err, sizeof(shim_self.err));
	shim_self.leading = 0;
	shim_self.result = r < 0 ? r : CKPT_SAVED;
}

static void save_to(const char *path, int sig, siginfo_t *info, void *uc)
{
	char err[512];

	if (shim_save_path(path, shim_cfg.mappable ? CKPT_OPT_MAPPABLE : 0, 1, sig, info, uc,
			   err, sizeof(err)) < 0)
		shim_log(SHIM_LOG_ERROR, "checkpoint to %s failed: %s", path, err);
}

void shim_handler(int sig, siginfo_t *info, void *uc)
{
	shim_saved_errno = errno;
	wrap_ckpt_gen++;		/* a sleep this cut short goes on (wrap_time.c) */

	if (sig == shim_cfg.ctl_sig) {
		if (ckpt_park_request(info))
			ckpt_park_self(info, uc);
		else if (info->si_code == SI_TKILL && info->si_pid == getpid() &&
			 shim_self.pending && shim_self.tid == syscall(SYS_gettid))
			save_self(sig, info, uc);
		else if (info->si_code == SI_QUEUE && info->si_pid != getpid())
			shim_ctl_serve(info->si_pid, sig, info, uc);
		else if (shim_is_interval(info))
			save_to(shim_cfg.image, sig, info, uc);
		else
			shim_log(SHIM_LOG_DEBUG, "ignored signal %d (code %d) from pid %d",
				 sig, info->si_code, info->si_pid);
	} else if (shim_cfg.on_term && sig == SIGTERM) {
		char err[512];

		if (shim_save_path(shim_cfg.term_image, shim_cfg.mappable ? CKPT_OPT_MAPPABLE : 0, 0,
				   sig, info, uc, err, sizeof(err)) < 0)
			shim_log(SHIM_LOG_ERROR, "checkpoint on SIGTERM to %s failed: %s",
				 shim_cfg.term_image, err);
		/* Preemption: terminate as SIGTERM would have. */
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigset_t term;

		wrap_real_sigaction(SIGTERM, &dfl, NULL);
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		wrap_real_sigmask(SIG_UNBLOCK, &term, NULL);
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGTERM);
		_exit(128 + SIGTERM);
	} else if (shim_cfg.user_sig && sig == shim_cfg.user_sig) {
		save_to(shim_cfg.image, sig, info, uc);
	}
	errno = shim_saved_errno;
}

/*
 * Entered by the restorer, in the restarted process, as if the kernel had
 * just delivered `sig`: uc is the frame of the interrupted context.
 */
void shim_post_restore(int sig, siginfo_t *info, void *uc)
{
	struct ckpt_restore_info *ri = &ckpt_restore_info;

	/*
	 * The last thread off the restorer's mapping unmaps it, and ends the
	 * checkpoint the saved memory was in the middle of: until then a new
	 * checkpoint is refused as busy.
	 */
	if (ri->blob_len && __atomic_sub_fetch(&ri->threads_left, 1, __ATOMIC_ACQ_REL) == 0) {
		munmap((void *)ri->blob, ri->blob_len);
		ri->blob = ri->blob_len = 0;
		ckpt_park_reset();
		ckpt_dirty_reset();	/* the tracker was not restored: next image is full */
	}
	/*
	 * The thread whose ckpt_save() made this image returns CKPT_RESTORED.
	 * Another thread caught inside its own ckpt_save() (parked before its
	 * request ran) makes that request again: it is still pending.
	 */
	if (shim_self.leading) {
		shim_self.leading = 0;
		shim_self.result = CKPT_RESTORED;
	}
	if (syscall(SYS_gettid) == getpid())
		shim_arm_interval();
	shim_log(SHIM_LOG_INFO, "restored");
	errno = shim_saved_errno;
}
