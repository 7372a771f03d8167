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

/* The real sigaction(), bypassing the shadowing of reserved signals. */
int wrap_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* The real pthread_sigmask(), bypassing the filtering of reserved signals. */
int wrap_real_sigmask(int how, const sigset_t *set, sigset_t *old);

#endif
