/*
 * reg.h - the resource registry: what the wrappers learned about each fd.
 *
 * The kernel tells the checkpoint most things about an fd (/proc/self/fd,
 * fdinfo); what it cannot tell is who made it.  The wrappers record, per
 * fd, the call that created it and the caller's return address, so a
 * refusal can say "fd 5: socket (socket() called from app+0x1234)".
 *
 * Concurrency: writers are the wrappers (any thread); the reader is the
 * checkpoint, in signal context.  Readers are lock-free (liburcu): the
 * table is an RCU-published array of one-word slots, grown by copy and
 * publish, the old array freed after a grace period.  A slot is one
 * 64-bit word (kind in the top 8 bits, caller address below), so a
 * reader never sees half an update.
 */
#ifndef CKPT_REG_H
#define CKPT_REG_H

#include <stdint.h>

enum reg_kind {
	REG_NONE = 0,
	REG_OPEN, REG_CREAT, REG_DUP, REG_PIPE, REG_SOCKET, REG_SOCKETPAIR,
	REG_ACCEPT, REG_EVENTFD, REG_EPOLL, REG_SIGNALFD, REG_TIMERFD,
	REG_INOTIFY, REG_MEMFD,
	REG_KIND_MAX
};

/* Wrapper side: record fd as made by `kind` from `caller`. */
void reg_fd_set(int fd, enum reg_kind kind, const void *caller);
void reg_fd_clear(int fd);

/* Checkpoint side (async-signal-safe): 0 and *kind, *caller; or -1. */
int reg_fd_get(int fd, enum reg_kind *kind, uintptr_t *caller);

/* The libc name of the call that makes `kind` ("socket", "pipe"...). */
const char *reg_kind_name(enum reg_kind kind);

#endif
