/*
 * wrap.h - what the wrappers offer the rest of libckpt.
 *
 * Each wrappers/ file interposes one family of libc calls: it calls the
 * real function (found with dlsym(RTLD_NEXT) on first use), records what
 * the checkpoint will need in the registry (libckpt/reg.h), and returns
 * the real function's result with its errno untouched.
 */
#ifndef CKPT_WRAP_H
#define CKPT_WRAP_H

#include <signal.h>
#include <stdint.h>

/* The real sigaction(), bypassing the shadowing of reserved signals. */
int wrap_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* The real pthread_sigmask(), bypassing the filtering of reserved signals. */
int wrap_real_sigmask(int how, const sigset_t *set, sigset_t *old);

/*
 * Moved by libckpt's handler in every thread a checkpoint interrupts (the
 * leader and each parked thread, and again after a restart): a wrapper
 * whose call failed with EINTR while it moved knows the checkpoint, not
 * the application, cut it short (wrap_time.c).
 */
extern __thread unsigned wrap_ckpt_gen __attribute__((tls_model("initial-exec")));

/*
 * libckpt's handler, on entry (shim_handler.c), with its ucontext: moves
 * wrap_ckpt_gen, and notes when (CLOCK_MONOTONIC, wrap_ckpt_at), only
 * when the signal cut a system call short with EINTR and no handler of
 * the application is about to run too (wrap_poll.c): a waiting wrapper
 * that sees EINTR and the generation moved waits again, for the time that
 * was left when the checkpoint came.
 */
void wrap_ckpt_interrupted(const void *uc);
/*
 * The handler's last step (shim_handler, and shim_post_restore in a
 * restarted copy), with the interrupted context: when the generation
 * moved, the application's signals were blocked meanwhile; one now
 * pending and due in uc moves it back (its handler runs next: EINTR).
 */
void wrap_ckpt_finish(const void *uc);
extern __thread int64_t wrap_ckpt_at __attribute__((tls_model("initial-exec")));

/* wrap_signal.c: points *mask at a copy without the reserved signals when it holds any. */
void wrap_sig_strip(const sigset_t **mask, sigset_t *buf);

/* This thread's view of the reserved signals it blocked (wrap_signal.c). */
uint64_t wrap_sig_view(void);
void wrap_sig_inherit(uint64_t view);

/*
 * At load (the shim's constructor, once its handlers are installed): a
 * reserved signal blocked in the kernel since exec is unblocked there and
 * shown blocked to the application (wrap_signal.c).
 */
void wrap_sig_adopt(void);

/*
 * In a child after fork(), with every signal blocked (shim/shim_fork.c).
 * wrap_sig_forked(): the only thread there is holds no lock of
 * wrap_signal.c, whatever the memory copied from the parent says.
 * wrap_sig_unreserve(sig, mask): sig, which the shim has just stopped
 * reserving (shim_reserved_signal() says 0 now), gets the application's
 * own action from the shadow, and every handler whose sa_mask the
 * application gave it blocks it again; when the application believed it
 * blocked, it is added to *mask, the mask the caller restores.
 */
void wrap_sig_forked(void);
void wrap_sig_unreserve(int sig, sigset_t *mask);

/*
 * wrap_exec.c: found at load (called by the shim's constructor once
 * CKPT_TREE_ROOT is set): the real exec functions, libckpt's own path and
 * the CKPT_* variables the process started with, which the exec wrappers
 * add back to an environment that lacks them.  wrap_exec_lib(): that
 * path, NULL when libckpt is linked into the program itself.
 */
void wrap_exec_init(void);
const char *wrap_exec_lib(void);

/*
 * wrap_mem.c: set once the process has given memory an attribute through
 * libc (madvise advice that shows in smaps VmFlags, a guard region, an
 * mlock call); and its mlockall() flags (MCL_FUTURE|MCL_ONFAULT; 0 none;
 * -1 mlockall was never called through libc).
 */
extern volatile int wrap_mem_advised;
extern volatile int wrap_mem_mcl;

/*
 * wrap_wait.c: the zombie children a tree's checkpoint saved, with their
 * status and rusage as the kernel reported them: noted before the
 * process's memory is saved, forgotten in the process that goes on after
 * the release; the restarted copy's wait() calls give them back.
 */
struct tree_zombie;
void wrap_zombies_note(struct tree_zombie *z, int n);
void wrap_zombies_forget(void);

#endif
