/*
 * shim_handler.c - the checkpoint signal handler and its twin, the
 * post-restore handler.
 *
 * Triggers, all arriving as a signal so that self and transparent
 * checkpoints share one path:
 *   ctl signal, SI_TKILL from ourselves    ckpt_save() (shim_self)
 *   ctl signal, SI_QUEUE, TREE si_value    an ancestor saves the tree we are in
 *                                          (tree_serve, ckpt_tree.h)
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
 * image is complete before anyone is told "saved"; one save at a time
 * (ckpt_save_begin, taken before any file is made: a trigger that finds a
 * save running makes nothing, touches nothing); the image file is made by
 * ckpt_tmpfile.c (O_TMPFILE, renamed into place when complete), so a
 * failed or killed save leaves the previous image as it was.
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
#include "libckpt/reg_attr.h"
#include "libckpt/ckpt_tmpfile.h"
#include "libckpt/ckpt_tree.h"
#include "shim/shim_int.h"
#include "wrappers/wrap.h"

__thread struct shim_self_req shim_self __attribute__((tls_model("initial-exec")));
/* errno of the interrupted code, per thread (every thread parks in here). */
static __thread int shim_saved_errno __attribute__((tls_model("initial-exec")));
/* How deep this thread is in shim_handler (ckpt_kstop.c must not stop it there). */
static __thread int shim_depth __attribute__((tls_model("initial-exec")));
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

/*
 * A thread the kernel-assist module stopped (ckpt_kstop.c), whose thread
 * pointer is fs_base: 1 if it is inside shim_handler (it blocks libckpt's
 * signal only until it leaves: it is to be asked to park then, not kept
 * stopped there); else 0, its errno saved where shim_post_restore takes
 * it back from in a restarted copy, as shim_handler would have.  Its
 * thread variables lie at the same offsets from its thread pointer as
 * ours from ours (initial-exec TLS, libc's errno too).
 */
static int shim_kstopped(uint64_t fs_base)
{
	uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
	const int *depth = (const int *)(uintptr_t)(fs_base + ((uintptr_t)&shim_depth - tp));
	int *saved = (int *)(uintptr_t)(fs_base + ((uintptr_t)&shim_saved_errno - tp));
	const int *err = (const int *)(uintptr_t)(fs_base + ((uintptr_t)&errno - tp));

	if (*depth)
		return 1;
	*saved = *err;
	return 0;
}

/* A checkpoint's context as every trigger sets it up (the caller adds what is its own). */
static void ctx_init(struct ckpt_ctx *c, int fd, const char *img_path, int ctl_fd, int sig,
		     siginfo_t *info, void *uc, unsigned hdr_flags, int how)
{
	c->img_fd = fd;
	c->img_path = img_path;
	c->ctl_fd = ctl_fd;
	c->sig = sig;
	c->ctl_sig_no = shim_cfg.ctl_sig;
	c->info = info;
	c->uc = uc;
	c->entry_rip = (uintptr_t)shim_post_restore;
	c->kstop_tls = shim_kstopped;
	/* IMG_F_INCREMENTAL from the caller asks; the engine decides (ckpt_incr.h) */
	c->incremental = (hdr_flags & IMG_F_INCREMENTAL) != 0;
	c->hdr_flags = (hdr_flags & ~IMG_F_INCREMENTAL) | shim_ns_flags;
	c->no_compress = shim_cfg.no_compress;
	c->threads = shim_cfg.threads;
	c->fdata_limit = shim_cfg.ghost_limit;
	c->fork_ok = (how & SHIM_SAVE_FORK) && !shim_cfg.no_fork;
	c->exit_after = (how & SHIM_SAVE_EXIT) != 0;
	c->progress = (how & SHIM_SAVE_PROGRESS) != 0;
	c->mem_advised = wrap_mem_advised;
	c->mem_mcl = wrap_mem_mcl;
	c->smaps_always = shim_cfg.smaps_always;
}

int shim_checkpoint_fd(int fd, const char *img_path, int ctl_fd, int sig, siginfo_t *info, void *uc,
		       unsigned hdr_flags, int how, int *forked, char *err, size_t errlen,
		       uint64_t *mem_bytes)
{
	/*
	 * On this thread's stack: two threads may be here at once (one will
	 * lead, ckpt_leader_enter refuses the other with EBUSY).
	 */
	struct ckpt_ctx c = { 0 };
	int r;

	ctx_init(&c, fd, img_path, ctl_fd, sig, info, uc, hdr_flags, how);
	/*
	 * The saved memory must show the interrupted code's errno, not
	 * whatever the handler left there.
	 */
	errno = shim_saved_errno;
	r = ckpt_run(&c);
	*forked = c.forked;
	/* the refusal, or on success what the user should know (inherited fds) */
	ckpt_fmt(err, errlen, "%s", r < 0 ? c.err : c.notes);
	if (mem_bytes)
		*mem_bytes = c.mem_bytes;
	return r;
}

/*
 * A tree request (ckpt_tree.h): an ancestor checkpoints the tree this
 * process is part of.  It saves itself into its section; the coordinator
 * hears how it went through the tree's protocol, so there is no reply to
 * make here, only a log line when it failed.
 */
static void tree_serve(int sig, siginfo_t *info, void *uc)
{
	struct ckpt_ctx c = { 0 };
	char err[CKPT_ERR_LEN];
	int r;

	ctx_init(&c, -1, NULL, -1, sig, info, uc, 0, SHIM_SAVE_FORK);
	if ((r = ckpt_tree_member(&c, info)) < 0) {
		shim_log(SHIM_LOG_ERROR, "tree checkpoint request from pid %d not served: %s",
			 (int)info->si_pid, c.err[0] ? c.err : ckpt_strerror(r));
		ckpt_tree_end(&c);
		return;
	}
	if ((r = ckpt_save_begin(SHIM_WAIT_WRITER_MS, err, sizeof(err))) < 0) {
		ckpt_tree_refuse(&c, r, err);
		return;
	}
	errno = shim_saved_errno;
	r = ckpt_run(&c);
	ckpt_tree_end(&c);		/* if ckpt_run returned before its end */
	if (c.forked == CKPT_FORKED_CHILD) {
		if (r < 0)
			shim_log(SHIM_LOG_ERROR, "writing this process's part of the tree's image "
				 "failed: %s", c.err);
		_exit(r < 0);		/* the copy is done */
	}
	if (r < 0)
		shim_log(SHIM_LOG_INFO, "tree checkpoint failed: %s", c.err);
	ckpt_save_end();
}

int shim_save_path(const char *path, unsigned flags, int how, int wait_ms, int sig,
		   siginfo_t *info, void *uc, char *err, size_t errlen)
{
	struct ckpt_tmpfile t;
	char final[SHIM_PATH_MAX];
	uint64_t t0 = now_ns(), mem = 0;
	int r, forked = CKPT_FORKED_NO;

	/* Busy: refused before a file exists, so nothing is touched. */
	r = ckpt_save_begin(wait_ms, err, errlen);
	if (r < 0)
		return r;
	/* Never a half image under the user's name: a file with no name, renamed. */
	r = ckpt_tmp_open_dir(&t, path, err, errlen);
	if (r == 0)
		r = ckpt_tmp_create(&t, shim_cfg.tmp_named ? CKPT_TMP_NAMED : 0, err, errlen);
	if (r < 0) {
		ckpt_tmp_abort(&t);
		ckpt_save_end();
		return r;
	}
	/* the directory's fd is libckpt's, not the application's: ctl_fd */
	r = shim_checkpoint_fd(t.fd, ckpt_tmp_final_path(&t, final, sizeof(final)) > 0 ? final : NULL,
			       t.dirfd, sig, info, uc,
			       (info->si_code == SI_TKILL ? IMG_F_SELF : 0) |
			       ((flags & CKPT_OPT_MAPPABLE) ? IMG_F_MAPPABLE : 0) |
			       ((flags & CKPT_OPT_INCREMENTAL) ? IMG_F_INCREMENTAL : 0), how, &forked,
			       err, errlen, &mem);
	if (forked == CKPT_FORKED_PARENT) {
		ckpt_tmp_release(&t);		/* the copy finishes, and renames */
		ckpt_save_end();		/* it is busy until reaped (ckpt_save_begin) */
		return 0;
	}
	if (r == 0 && (flags & CKPT_OPT_FSYNC) && fsync(t.fd) < 0) {
		r = -errno;
		ckpt_fmt(err, errlen, "fsync of the image %s failed: %s", path, ckpt_strerror(r));
	}
	if (r == 0)
		r = ckpt_tmp_commit(&t, !!(flags & CKPT_OPT_FSYNC), err, errlen);
	if (r < 0)
		ckpt_tmp_abort(&t);		/* a named file goes; an O_TMPFILE was never seen */
	else
		ckpt_tmp_release(&t);
	if (r == 0)
		shim_log(SHIM_LOG_INFO, "saved %s: %lu bytes of memory in %lu us%s%s", path,
			 (unsigned long)mem, (unsigned long)((now_ns() - t0) / 1000),
			 err[0] ? "; note: " : "", err);
	if (forked == CKPT_FORKED_CHILD) {
		if (r < 0)
			shim_log(SHIM_LOG_ERROR, "checkpoint to %s failed: %s", path, err);
		_exit(r < 0);			/* the copy is done */
	}
	ckpt_save_end();
	return r;
}

static void save_self(int sig, siginfo_t *info, void *uc)
{
	int r;

	shim_self.err[0] = '\0';
	shim_self.leading = 1;
	r = shim_save_path(shim_self.path, shim_self.flags,
			   (shim_self.flags & CKPT_OPT_FORK) ? SHIM_SAVE_FORK : 0,
			   SHIM_WAIT_WRITER_MS, sig, info, uc,
			   shim_self.err, sizeof(shim_self.err));
	shim_self.leading = 0;
	shim_self.result = r < 0 ? r : CKPT_SAVED;
}

/*
 * A periodic trigger (CKPT_INTERVAL tick, CKPT_SIGNAL) that finds a save
 * still running is skipped: waiting would stop the application, queueing
 * would only save later what the next tick saves anyway.  Said once per
 * trigger for the process's life, at error level (the interval is shorter
 * than a save, which the user should know), and at debug level each time.
 */
static int skip_said[2];

static void save_to(const char *path, int which, int sig, siginfo_t *info, void *uc)
{
	static const char *const what[2] = { "CKPT_INTERVAL", "CKPT_SIGNAL" };
	char err[512];
	int r = shim_save_path(path, shim_cfg.mappable ? CKPT_OPT_MAPPABLE : 0, shim_save_how(), 0,
			       sig, info, uc, err, sizeof(err));

	if (r == -EBUSY) {
		if (!__atomic_exchange_n(&skip_said[which], 1, __ATOMIC_ACQ_REL))
			shim_log(SHIM_LOG_ERROR, "%s: a checkpoint to %s was due while another was "
				 "still running (%s): skipped, and so is every such checkpoint from "
				 "now on (this is said once)", what[which], path, err);
		shim_log(SHIM_LOG_DEBUG, "%s: checkpoint skipped: %s", what[which], err);
	} else if (r < 0)
		shim_log(SHIM_LOG_ERROR, "checkpoint to %s failed: %s", path, err);
}

void shim_term_now(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t term;

	wrap_real_sigaction(SIGTERM, &dfl, NULL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	wrap_real_sigmask(SIG_UNBLOCK, &term, NULL);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGTERM);
	_exit(128 + SIGTERM);
}

static void handler_body(int sig, siginfo_t *info, void *uc);

void shim_handler(int sig, siginfo_t *info, void *uc)
{
	int err = errno;

	__atomic_add_fetch(&shim_depth, 1, __ATOMIC_SEQ_CST);
	errno = err;
	handler_body(sig, info, uc);
	err = errno;
	__atomic_sub_fetch(&shim_depth, 1, __ATOMIC_SEQ_CST);
	errno = err;
}

static void handler_body(int sig, siginfo_t *info, void *uc)
{
	shim_saved_errno = errno;
	wrap_ckpt_interrupted(uc);	/* a wait this cut short goes on (wrap_poll.c) */

	/* with checkpoint hooks, their thread runs them first, then this trigger */
	if (shim_hooks_defer(sig, info)) {
		wrap_ckpt_finish(uc);
		errno = shim_saved_errno;
		return;
	}
	info = shim_hooks_replay(sig, info);
	if (sig == shim_cfg.ctl_sig) {
		if (ckpt_park_request(info))
			ckpt_park_self(info, uc);
		else if (ckpt_tree_request(info))
			tree_serve(sig, info, uc);
		else if (info->si_code == SI_TKILL && info->si_pid == getpid() &&
			 shim_self.pending && shim_self.tid == syscall(SYS_gettid))
			save_self(sig, info, uc);
		else if (info->si_code == SI_QUEUE && info->si_pid != getpid())
			shim_ctl_serve(info->si_pid, sig, info, uc);
		else if (shim_is_interval(info))
			save_to(shim_cfg.image, 0, sig, info, uc);
		else
			shim_log(SHIM_LOG_DEBUG, "ignored signal %d (code %d) from pid %d",
				 sig, info->si_code, info->si_pid);
	} else if (shim_cfg.on_term && sig == SIGTERM) {
		char err[512];

		/* the last image: a forked writer still running is waited for */
		if (shim_save_path(shim_cfg.term_image, shim_cfg.mappable ? CKPT_OPT_MAPPABLE : 0,
				   SHIM_SAVE_EXIT, -1, sig, info, uc, err, sizeof(err)) < 0)
			shim_log(SHIM_LOG_ERROR, "checkpoint on SIGTERM to %s failed: %s",
				 shim_cfg.term_image, err);
		shim_term_now();	/* preemption: terminate as SIGTERM would have */
	} else if (shim_cfg.user_sig && sig == shim_cfg.user_sig) {
		save_to(shim_cfg.image, 1, sig, info, uc);
	}
	wrap_ckpt_finish(uc);		/* an application signal meanwhile: its EINTR */
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
	 * CPU-time clocks go on from what the program saw at the checkpoint:
	 * every thread waits here until the offsets are set (reg_cpuclock.c).
	 */
	reg_cpuclock_restored();
	/*
	 * The last thread off the restorer's mapping unmaps it, and ends the
	 * checkpoint the saved memory was in the middle of: until then a new
	 * checkpoint is refused as busy.
	 */
	if (ri->blob_len && __atomic_sub_fetch(&ri->threads_left, 1, __ATOMIC_ACQ_REL) == 0) {
		munmap((void *)ri->blob, ri->blob_len);
		ri->blob = ri->blob_len = 0;
		ckpt_park_reset();
		ckpt_save_reset();	/* the save that made the image is not running here */
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
	shim_hooks_restored();		/* a hook thread inside its trigger runs RESTART hooks */
	shim_log(SHIM_LOG_INFO, "restored");
	wrap_ckpt_finish(uc);
	errno = shim_saved_errno;
}
