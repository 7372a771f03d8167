/*
 * fd_eventfd.c - eventfds (eventfd(2)): a 64-bit counter a write adds to
 * and a read takes (all of it, or 1 with EFD_SEMAPHORE).  Saved: the
 * counter and EFD_SEMAPHORE from fdinfo ("eventfd-count", hex, and
 * "eventfd-semaphore", Linux 6.6), O_NONBLOCK from the file's flags
 * (EFD_CLOEXEC is the fd's FD_CLOEXEC, in the FD record).  Made again by
 * eventfd(0, flags) and one write of the counter (eventfd() takes an
 * unsigned int, the counter may be larger).  "eventfd-id" is the kernel's
 * name for the object, not the program's: not kept.
 *
 * One open file description per eventfd (there is no path to open it
 * again), so an eventfd shared by dup() or fork(), in one process or
 * across a tree, is one FILE: the counter is one object again.
 *
 * Before Linux 6.6 fdinfo has no "eventfd-semaphore": the mode is found
 * by using the counter, in eventfd_check while the threads are parked
 * (the forked writer's copy could not: the process runs again by then):
 * raise the counter to at least 2 with a write, read once (a semaphore
 * gives 1, a plain eventfd all of it), then read or write what brings it
 * back to where it was, and see fdinfo say so.  Nothing of the process's
 * state changes; an edge-triggered epoll watcher of the fd may get one
 * more wakeup while the counter is above zero.  The result is kept per fd
 * number for eventfd_save (a fork child finds it in its copy).
 * Refused: a counter within 2 of its maximum (a write could block), a
 * counter another process changed meanwhile (shared outside the
 * checkpoint).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"

#define EVENTFD_OFLAGS	(O_ACCMODE | O_NONBLOCK)

static int eventfd_valid(const struct img_file *f, const char *path, const void *data,
			 char *err, size_t len)
{
	const struct img_file_eventfd *d = data;

	if (f->data_len != sizeof(*d) || d->reserved || (d->flags & ~IMG_EVENTFD_SEMAPHORE) ||
	    d->count == UINT64_MAX || (f->flags & ~(uint32_t)EVENTFD_OFLAGS) ||
	    (f->flags & O_ACCMODE) != O_RDWR) {
		snprintf(err, len, "%u bytes of kind data, flags %#o, eventfd flags %#x",
			 f->data_len, f->flags, f->data_len == sizeof(*d) ? d->flags : 0);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_eventfd_info = { IMG_FILE_EVENTFD, "eventfd", eventfd_valid };

#ifdef FD_SAVE
#include <sys/syscall.h>
#include "arch/x86_64/arch.h"
#include "fds/fd_ev.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_kfeat.h"

static int eventfd_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return !__builtin_strcmp(p->path, "anon_inode:[eventfd]");
}

/* The mode eventfd_check found by probing, per fd number (kernels before 6.6). */
static uint8_t probed_sem[CKPT_MAX_FDS / 8], probed_any[CKPT_MAX_FDS / 8];

static int ev_rw(int fd, int wr, uint64_t *v)
{
	long n;

	do
		n = arch_sys3(wr ? SYS_write : SYS_read, fd, (long)v, sizeof(*v));
	while (n == -EINTR);
	return n == sizeof(*v) ? 0 : -1;
}

/* EFD_SEMAPHORE of fd by using its counter (above): 1, 0, or -1 (no trace left). */
static int ev_probe_sem(int fd, uint64_t count)
{
	uint64_t add = count < 2 ? 2 - count : 0, got = 0, v;
	int sem;

	if (count > UINT64_MAX - 4)
		return -1;
	if (add && ev_rw(fd, 1, &add) < 0)
		return -1;
	if (ev_rw(fd, 0, &got) < 0)
		return -1;
	sem = got == 1;
	/* the counter is count + add - got now */
	if (count + add - got < count) {
		v = count - (count + add - got);
		return ev_rw(fd, 1, &v) < 0 ? -1 : sem;
	}
	for (uint64_t k = count + add - got; k > count; k--)
		if (ev_rw(fd, 0, &v) < 0)	/* only a semaphore gets here: 1 each */
			return -1;
	return sem;
}

static int eventfd_check(struct ckpt_ctx *c, const struct fd_probe *p)
{
	char path[64], info[1024];
	uint64_t count, after;
	int sem, s2;

	if (fd_ev_eventfd(p->info, &count, &sem) < 0)
		return ckpt_fail(c, -EINVAL, "fd %d: an eventfd whose fdinfo shows no counter "
				 "(\"eventfd-count\"); it cannot be saved%s", p->fd, p->origin);
	if (ckpt_kfeat_off(CKPT_KF_EVENTFD_SEM))
		sem = -1;
	if (sem >= 0 || p->fd < 0 || p->fd >= CKPT_MAX_FDS)
		return 0;
	/* before 6.6: probe (above) */
	ckpt_fmt(path, sizeof(path), "/proc/self/fdinfo/%d", p->fd);
	sem = ev_probe_sem(p->fd, count);
	if (sem < 0 || ckpt_read_file(path, info, sizeof(info)) <= 0 ||
	    fd_ev_eventfd(info, &after, &s2) < 0 || after != count)
		return ckpt_fail(c, -EBUSY, "fd %d: an eventfd; this kernel does not show whether "
				 "it counts as a semaphore (fdinfo \"eventfd-semaphore\", Linux "
				 "6.6), and using its counter (%llu) to find out %s%s", p->fd,
				 (unsigned long long)count, sem < 0 ? "failed (a counter near its "
				 "maximum?)" : "did not leave it as it was (another process "
				 "uses it?)", p->origin);
	probed_any[p->fd / 8] |= 1 << (p->fd % 8);
	if (sem)
		probed_sem[p->fd / 8] |= 1 << (p->fd % 8);
	else
		probed_sem[p->fd / 8] &= ~(1 << (p->fd % 8));
	return 0;
}

static int eventfd_save(struct ckpt_ctx *c, const struct fd_probe *p, struct img_file *f,
			void *data, size_t cap)
{
	struct img_file_eventfd d = { 0 };
	int sem;

	if (fd_ev_eventfd(p->info, &d.count, &sem) < 0)
		return eventfd_check(c, p);
	if (ckpt_kfeat_off(CKPT_KF_EVENTFD_SEM))
		sem = -1;
	if (sem < 0 && p->fd >= 0 && p->fd < CKPT_MAX_FDS &&
	    (probed_any[p->fd / 8] & (1 << (p->fd % 8))))
		sem = !!(probed_sem[p->fd / 8] & (1 << (p->fd % 8)));
	if (sem < 0)
		return ckpt_fail(c, -EIO, "fd %d: an eventfd that was not probed for "
				 "EFD_SEMAPHORE before it was saved%s", p->fd, p->origin);
	d.flags = sem ? IMG_EVENTFD_SEMAPHORE : 0;
	f->flags = (p->flags & O_NONBLOCK) | O_RDWR;
	__builtin_memcpy(data, &d, sizeof(d));
	return sizeof(d);
}

const struct fd_save_ops fd_eventfd_save = { .kind = IMG_FILE_EVENTFD, .match = eventfd_match,
					     .check = eventfd_check, .save = eventfd_save };
#endif

#ifdef FD_RESTORE
#include <sys/eventfd.h>
#include <unistd.h>
#include "restart/rst.h"

static int eventfd_open(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_eventfd *d = f->data;
	int flags = EFD_CLOEXEC | ((f->f.flags & O_NONBLOCK) ? EFD_NONBLOCK : 0) |
		    ((d->flags & IMG_EVENTFD_SEMAPHORE) ? EFD_SEMAPHORE : 0);
	int fd = eventfd(0, flags);

	if (fd < 0) {
		rst_error(s, "fd %d: cannot make the eventfd again: %s", f->first_fd,
			  strerror(errno));
		return -1;
	}
	/* the counter is below 2^64 - 1 (checked): one write, which cannot block */
	if (d->count && write(fd, &d->count, sizeof(d->count)) != sizeof(d->count)) {
		rst_error(s, "fd %d: cannot set the eventfd's counter to %llu: %s", f->first_fd,
			  (unsigned long long)d->count, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

const struct fd_restore_ops fd_eventfd_restore = { .kind = IMG_FILE_EVENTFD,
						   .open = eventfd_open };
#endif
