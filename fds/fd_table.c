/*
 * fd_table.c - the kinds of open file libckpt knows (fd_kind.h), listed
 * once.  The checkpoint asks them in this order, so order matters where
 * two could match: O_PATH first (an O_PATH fd on a regular file is not a
 * file to reopen for reading), the fd 0-2 fallback last (pipe and fifo
 * take fds 0-2 only when the image holds both ends).  reg, ghost and
 * memfd exclude each other by their paths (deleted, "/memfd:"), pipe and
 * fifo too ("pipe:[...]", a path); a POSIX message queue (mqueue) and a
 * POSIX shared memory object (pshm: a file of /dev/shm's tmpfs, not
 * deleted) look like regular files, so they come before them.  unix
 * before inherit: a unix socket at fd 0-2 whose peer is outside the image
 * is not unix's (its match says no) and is inherited, as before.  epoll
 * after unix: its end (the items, written once every FILE has its id)
 * runs after unix's, which writes the FILEs of fds in flight.  The event
 * fds (eventfd, timerfd, signalfd, inotify) are known by their anon_inode
 * link alone.  tty before inherit: a terminal at fds 0-2 is a terminal's
 * description (fd_tty.c), made on ckpt-restart's terminal with its
 * settings.
 */
#include <stddef.h>
#include "fds/fd_kind.h"

#define FD_KINDS(X) X(opath) X(mqueue) X(pshm) X(reg) X(dir) X(chr) X(ghost) X(memfd) X(pidfd) \
			X(hugetlb) X(pipe) X(fifo) X(unix) X(epoll) X(eventfd) X(timerfd) \
			X(signalfd) X(inotify) X(tty) X(inet) X(netlink) X(inherit)

#define DECLARE_INFO(k) extern const struct fd_kind_info fd_##k##_info;
#define LIST_INFO(k) &fd_##k##_info,
FD_KINDS(DECLARE_INFO)
static const struct fd_kind_info *const infos[] = { FD_KINDS(LIST_INFO) };

const struct fd_kind_info *fd_kind_info(uint32_t kind)
{
	for (size_t i = 0; i < sizeof(infos) / sizeof(infos[0]); i++)
		if (infos[i]->kind == kind)
			return infos[i];
	return NULL;
}

uint32_t fd_same_as(const struct img_file *f, const void *data)
{
	uint32_t v = 0;

	switch (f->kind) {
	case IMG_FILE_GHOST:
	case IMG_FILE_MEMFD:
	case IMG_FILE_MQUEUE:
	case IMG_FILE_PIPE:
	case IMG_FILE_FIFO:
		if (data && f->data_len >= sizeof(v))
			__builtin_memcpy(&v, data, sizeof(v));
		return v;
	default:
		return 0;
	}
}

#ifdef FD_SAVE
#define DECLARE_SAVE(k) extern const struct fd_save_ops fd_##k##_save;
#define LIST_SAVE(k) &fd_##k##_save,
FD_KINDS(DECLARE_SAVE)
static const struct fd_save_ops *const saves[] = { FD_KINDS(LIST_SAVE) };

const struct fd_save_ops *fd_save_find(struct ckpt_ctx *c, const struct fd_probe *p)
{
	for (size_t i = 0; i < sizeof(saves) / sizeof(saves[0]); i++)
		if (saves[i]->match(c, p))
			return saves[i];
	return NULL;
}

int fd_save_begin(struct ckpt_ctx *c, int pass)
{
	for (size_t i = 0; i < sizeof(saves) / sizeof(saves[0]); i++)
		if (saves[i]->begin && saves[i]->begin(c, pass) < 0)
			return -1;
	return 0;
}

int fd_save_own(struct ckpt_ctx *c, int fd)
{
	for (size_t i = 0; i < sizeof(saves) / sizeof(saves[0]); i++)
		if (saves[i]->own && saves[i]->own(c, fd))
			return 1;
	return 0;
}

/* Every kind's end is called, even after one fails (each releases what it took). */
int fd_save_end(struct ckpt_ctx *c, int pass, int ok)
{
	int r = 0;

	for (size_t i = 0; i < sizeof(saves) / sizeof(saves[0]); i++)
		if (saves[i]->end && saves[i]->end(c, pass, ok && !r) < 0)
			r = -1;
	return r;
}
#endif

#ifdef FD_RESTORE
#define DECLARE_RESTORE(k) extern const struct fd_restore_ops fd_##k##_restore;
#define LIST_RESTORE(k) &fd_##k##_restore,
FD_KINDS(DECLARE_RESTORE)
static const struct fd_restore_ops *const restores[] = { FD_KINDS(LIST_RESTORE) };

const struct fd_restore_ops *fd_restore_find(uint32_t kind)
{
	for (size_t i = 0; i < sizeof(restores) / sizeof(restores[0]); i++)
		if (restores[i]->kind == kind)
			return restores[i];
	return NULL;
}
#endif
