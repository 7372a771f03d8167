/*
 * shim_int.h - state shared by the shim's files (not by the wrappers).
 */
#ifndef CKPT_SHIM_INT_H
#define CKPT_SHIM_INT_H

#include <signal.h>
#include <stdint.h>
#include "shim/shim.h"

#define SHIM_PATH_MAX	4096

struct shim_config {
	int ctl_sig;			/* internal checkpoint signal */
	int user_sig;			/* CKPT_SIGNAL, 0 if unset */
	int on_term;			/* CKPT_ON_TERM set */
	uint64_t interval_ns;		/* CKPT_INTERVAL, 0 if unset */
	int tmp_named;			/* CKPT_TMPFILE=0: no O_TMPFILE (ckpt_tmpfile.h) */
	int log_level;			/* CKPT_LOG: 0 quiet, 1 error, 2 info, 3 debug */
	int no_compress;		/* CKPT_COMPRESS=none */
	int threads;			/* CKPT_THREADS: page data threads, 0 = every CPU */
	uint64_t ghost_limit;		/* CKPT_GHOST_LIMIT: bytes, 0 = the default */
	int no_fork;			/* CKPT_FORK=0: transparent checkpoints in place */
	int fork_always;		/* CKPT_FORK=1: forked even when small (shim_inplace.c) */
	int mappable;			/* CKPT_MAPPABLE=1: mappable images (triggers) */
	int smaps_always;		/* CKPT_SMAPS=1: always read the memory's VmFlags */
	int tree_root;			/* pid of the tree's root (CKPT_TREE_ROOT) */
	int member;			/* 1: not the root: no CKPT_INTERVAL,
					   CKPT_SIGNAL, CKPT_ON_TERM here */
	char image[SHIM_PATH_MAX];	/* CKPT_IMAGE (absolute) */
	char term_image[SHIM_PATH_MAX];	/* CKPT_ON_TERM (absolute) */
};

extern struct shim_config shim_cfg;

/*
 * The ckpt_save() call in flight in this thread.  Per thread: the handler
 * runs in the calling thread (tgkill to itself), several threads may call
 * at once (one wins, the others get EBUSY), and in a restarted process the
 * saving thread finds its own request again.  Initial-exec TLS: reading it
 * in a handler never allocates.
 */
struct shim_self_req {
	volatile int pending;
	volatile int leading;		/* its checkpoint is running: in the image,
					   only the thread whose save it is has it */
	int tid;			/* the calling thread */
	const char *path;
	unsigned flags;
	volatile int result;		/* CKPT_SAVED, CKPT_RESTORED or -errno */
	char err[512];
};
extern __thread struct shim_self_req shim_self __attribute__((tls_model("initial-exec")));

enum shim_log_level { SHIM_LOG_QUIET, SHIM_LOG_ERROR, SHIM_LOG_INFO, SHIM_LOG_DEBUG };
void shim_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Installs the handlers and the interval timer (constructor and post-restore). */
int shim_install(void);
int shim_arm_interval(void);
/*
 * This process is a member of the tree, not its root: the triggers only
 * the root acts on (CKPT_INTERVAL, CKPT_SIGNAL, CKPT_ON_TERM) are off from
 * now on, the interval timer forgotten (a fork child has none: POSIX
 * timers are not inherited).  Their handlers are the caller's to hand
 * back (shim_fork.c).  Async-signal-safe.
 */
void shim_leave_root(void);
/* 1 when info comes from the CKPT_INTERVAL timer. */
int shim_is_interval(const siginfo_t *info);

/* The handlers (shim_handler.c). */
void shim_handler(int sig, siginfo_t *info, void *uc);
void shim_post_restore(int sig, siginfo_t *info, void *uc);
/* CKPT_ON_TERM's end: terminate as the SIGTERM would have (never returns). */
void shim_term_now(void) __attribute__((noreturn));

/*
 * Checkpoint hooks (shim_hooks.c).  defer: in the handler, 1 when the
 * hook thread takes this trigger (the handler then does nothing more);
 * replay: the siginfo to act on (the deferred one, on the hook thread).
 * run: the hooks of one event in their order, 0 or -1 after a BEFORE
 * hook's veto (its message in msg).  gen: moved on by every restore
 * (restored, from shim_post_restore).  running: this thread is in a hook.
 * veto: the veto ckpt-save's request is refused with ("" when none).
 */
int shim_hooks_defer(int sig, const siginfo_t *info);
siginfo_t *shim_hooks_replay(int sig, siginfo_t *info);
int shim_hooks_run(int when, char *msg, size_t len);
unsigned shim_hooks_gen(void);
void shim_hooks_restored(void);
int shim_hooks_running(void);
void shim_hooks_forked(void);
extern char shim_hook_veto[256];

/*
 * Checkpoint into a path: a file with no name (ckpt_tmpfile.h), renamed
 * into place when complete.  0 or -errno (-EBUSY: another save runs, and
 * nothing was made).  With SHIM_SAVE_FORK in `how` the pages may be
 * written by a forked copy, which finishes (renames) and exits; the caller
 * then gets 0 at once.  SHIM_SAVE_EXIT: the caller ends the process after
 * a success (a tree's members are ended with it).  wait_ms: for
 * ckpt_save_begin (a previous forked writer).
 */
#define SHIM_SAVE_FORK		0x1
#define SHIM_SAVE_EXIT		0x2
#define SHIM_SAVE_PROGRESS	0x4	/* ckpt-save shows progress: ctl_fd is its socket */

/*
 * shim_inplace.c: a transparent checkpoint's `how` — SHIM_SAVE_FORK, or 0
 * (in place) for a process with at most SHIM_INPLACE_KIB of private memory
 * and SHIM_INPLACE_THREADS threads, unless CKPT_FORK is set.  The parser
 * and the rule apart, for the unit tests.  Async-signal-safe.
 */
#define SHIM_INPLACE_KIB	2048
#define SHIM_INPLACE_THREADS	4
int shim_save_how(void);
int shim_inplace_parse(const char *status, long *anon_kib, long *threads);
int shim_inplace_small(long anon_kib, long threads);
#define SHIM_WAIT_WRITER_MS	100	/* ckpt_save(), ckpt-save: one that just replied */
int shim_save_path(const char *path, unsigned flags, int how, int wait_ms, int sig,
		   siginfo_t *info, void *uc, char *err, size_t errlen);
/* Serve a ckpt-save request from process `pid`. */
void shim_ctl_serve(int pid, int sig, siginfo_t *info, void *uc);

/*
 * Checkpoint into an open fd (shim_handler.c); img_path: its final
 * absolute path, NULL if it is not a file (struct ckpt_ctx).
 */
int shim_checkpoint_fd(int fd, const char *img_path, int ctl_fd, int sig, siginfo_t *info, void *uc,
		       unsigned hdr_flags, int how, int *forked, char *err, size_t errlen,
		       uint64_t *mem_bytes);

#endif
