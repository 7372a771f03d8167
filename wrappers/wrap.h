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

/* This thread's view of the reserved signals it blocked (wrap_signal.c). */
uint64_t wrap_sig_view(void);
void wrap_sig_inherit(uint64_t view);

/*
 * Set once the process has asked for MADV_DONTFORK or MADV_WIPEONFORK
 * through libc (wrap_mem.c): only then may a fork of it be unfaithful.
 */
extern volatile int wrap_fork_advised;

#endif
