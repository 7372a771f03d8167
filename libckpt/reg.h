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

#include <stddef.h>
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

/*
 * reg_ipc.c: the SysV IPC objects and POSIX queue notifications the
 * wrappers saw (wrappers/wrap_ipc.c).
 *
 * Ids: every id a semget/msgget/shmget returned, or a sem*, msg*, shm*
 * call used successfully, kept in a fixed open-addressing table of
 * REG_IPC_MAX words (type << 32 | id; 0 empty) filled with compare-and-
 * swap, never emptied (an id whose object is gone is skipped by the
 * checkpoint).  Lock-free for any thread and the signal handler alike.
 * reg_ipc_each calls fn for each id (async-signal-safe) and returns the
 * first nonzero result; reg_ipc_full says ids were dropped (the table
 * filled: the checkpoint refuses rather than lose one).
 *
 * Notifications: the sigevent of each mq_notify() that succeeded, per
 * queue (st_dev, st_ino of its fd); NULL clears it.  get: 0 and the
 * fields, or -1 when none was recorded (or one is being written).
 */
enum reg_ipc_type { REG_IPC_SEM = 1, REG_IPC_MSG = 2, REG_IPC_SHM = 3 };
#define REG_IPC_MAX	4096

void reg_ipc_add(enum reg_ipc_type t, int id);
int reg_ipc_each(int (*fn)(enum reg_ipc_type t, int id, void *arg), void *arg);
int reg_ipc_full(void);
void reg_mq_notify_set(uint64_t dev, uint64_t ino, int notify, int signo, uint64_t value,
		       int clear);
int reg_mq_notify_get(uint64_t dev, uint64_t ino, int *notify, int *signo, uint64_t *value);

/*
 * reg_inotify.c: the path each inotify watch was added by
 * (wrappers/wrap_inotify.c).  begin, before inotify_add_watch(fd, path):
 * records path (made absolute) as pending, returns a slot or -1 (not
 * recorded); end, after it: the watch's wd, or the slot freed when the
 * call failed (wd < 0).  rm: inotify_rm_watch(fd, wd) succeeded.  get
 * (async-signal-safe, the checkpoint): slot i's fd, wd (0: pending) and
 * path into path (cap bytes): 1, 0 for a slot free or being written, -1
 * past the last slot ever used.  errno is kept.
 */
#define REG_INO_SLOTS		4096
#define REG_INO_PATH_MAX	(4096 - 20)

int reg_inotify_begin(int fd, const char *path);
void reg_inotify_end(int slot, int fd, int wd);
void reg_inotify_rm(int fd, int wd);
int reg_inotify_get(uint32_t i, int *fd, int *wd, char *path, size_t cap);

#endif
