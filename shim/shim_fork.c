/*
 * shim_fork.c - a child with a copy of this process's memory starts
 * without the parent's checkpoint state, as a member of the tree.
 *
 * fork() (and daemon(), which forks) copies libckpt's memory as it was in
 * the parent, possibly in the middle of another thread's checkpoint: the
 * save slot taken, threads being parked, a forked writer's pid to reap.
 * None of it is the child's.  The pthread_atfork child handler, and
 * wrappers/wrap_exec.c's clone() for a child without CLONE_VM (which
 * runs no atfork handler), call shim_forked_child() first:
 *
 *   state (where)                      in the child
 *   park generation, parked threads,   ckpt_park_reset(): no checkpoint
 *   queued signals (ckpt_park.c,       runs here
 *   ckpt_signal.c)
 *   save slot, forked writer's pid     ckpt_save_reset(): free, no writer
 *   (ckpt_core.c)                      (that copy is the parent's child)
 *   shim_self of the forking thread    nothing pending (a ckpt_save() in
 *   (shim_handler.c)                   flight is the parent's)
 *   wrap_signal.c's shadow lock        free (its holder is not here)
 *   the hook thread (shim_hooks.c)     none: triggers save without hooks
 *                                      until the child adds a hook
 *   CKPT_INTERVAL timer (shim_config)  forgotten: POSIX timers are not
 *                                      inherited, and only the root has
 *                                      one (shim_leave_root)
 *   CKPT_SIGNAL, CKPT_ON_TERM          off, only the root acts on them:
 *                                      the application's own action and
 *                                      mask for them go to the kernel
 *                                      (wrap_sig_unreserve)
 * Left as they are, because they already tell a child from its parent:
 * the incremental tracker (ckpt_dirty.c: a userfaultfd opened by another
 * pid is dropped, and the next image is full), CPU-clock offsets
 * (reg_cpuclock.c: by pid), the fd registry (reg_fd.c, its own atfork
 * handlers).  vfork() and posix_spawn() children share the parent's
 * memory and only exec or _exit: nothing is reset for them (it would be
 * the parent's state), and no atfork handler runs for them.
 *
 * Async-signal-safe (the child of a multithreaded fork may call nothing
 * else): atomic stores and raw signal calls, every signal blocked
 * meanwhile so that no handler sees a half-changed configuration.
 */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "shim/shim_int.h"
#include "wrappers/wrap.h"

void shim_forked_child(void)
{
	int usr = shim_cfg.user_sig, term = shim_cfg.on_term;
	sigset_t all, old;

	sigfillset(&all);
	wrap_real_sigmask(SIG_BLOCK, &all, &old);
	wrap_sig_forked();
	ckpt_park_reset();
	ckpt_save_reset();
	shim_self.pending = 0;
	shim_self.leading = 0;
	shim_hooks_forked();		/* the hook thread is the parent's */
	ckpt_excl_forked();		/* its lock may have been held by another thread */
	shim_leave_root();		/* shim_reserved_signal() no longer names them */
	if (usr)
		wrap_sig_unreserve(usr, &old);
	if (term)
		wrap_sig_unreserve(SIGTERM, &old);
	wrap_real_sigmask(SIG_SETMASK, &old, NULL);
	shim_log(SHIM_LOG_DEBUG, "forked by %d: a member of the tree of process %d",
		 (int)getppid(), shim_cfg.tree_root);
}

__attribute__((constructor)) static void shim_fork_init(void)
{
	pthread_atfork(NULL, NULL, shim_forked_child);
}
